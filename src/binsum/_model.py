"""BinarySumRNN: configuration, validation, sampling and persistence.

Arithmetic lives in the kernel (``_core`` or its twin ``_pycore``); this module
checks every input, feeds the kernel arrays of known shape and keeps the
model's state consistent. The state is one immutable snapshot (``_State``,
its arrays read-only) replaced in a single assignment after each training
block: an interrupt, an error or a concurrent ``predict`` never sees torn
weights, and concurrent ``fit`` calls on one model are serialised by a lock.
A block is sized by work (about the default network's 8,192 samples), so
readers see new states, and Ctrl-C lands, as often at every size.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TextIO

import numpy as np
from numpy.typing import ArrayLike, NDArray

from binsum import _backend, _modelfile, _pretrained, _sampling, _validate

__all__ = ["BinarySumRNN"]

BLOCK = 8192  # most samples per kernel call
# Multiply-adds of one block (about bits * (H**2 + 4H) per sample): the
# default network's BLOCK samples, ~15 ms. Larger networks get fewer samples
# a block (at least one), so a block takes about as long at every size.
BLOCK_WORK = BLOCK * 8 * (16 * 16 + 4 * 16)
PREDICT_CHUNK = 1 << 16  # pairs per kernel call in predict: bounds extra memory
SCORE_EXHAUSTIVE_BITS = 12  # up to here score() checks every pair
SCORE_SAMPLE = 100_000

Callback = Callable[["BinarySumRNN", int, float], Any]
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class _State:
    """Everything that changes with training; never mutated once published
    (its arrays are made read-only, so no reference can change them)."""

    wi: NDArray[np.float64]
    wh: NDArray[np.float64]
    wo: NDArray[np.float64]
    rng_state: Mapping[str, Any]
    pending: NDArray[np.int64]
    history: NDArray[np.float64]  # one loss per iteration
    iterations: int

    def __post_init__(self) -> None:
        for arr in (self.wi, self.wh, self.wo, self.pending, self.history):
            arr.flags.writeable = False


def _views(view: NDArray[Any], buffer: NDArray[Any]) -> bool:
    return view.base is buffer


def block_size(hidden_size: int, bits: int) -> int:
    """Samples per kernel call: BLOCK_WORK multiply-adds, 1..BLOCK samples."""
    per_sample = bits * (hidden_size * hidden_size + 4 * hidden_size)
    return max(1, min(BLOCK, BLOCK_WORK // per_sample))


def _pack_rng(state: Mapping[str, Any]) -> NDArray[np.uint64]:
    s, inc = state["state"]["state"], state["state"]["inc"]
    words = [s >> 64, s & _MASK64, inc >> 64, inc & _MASK64]
    words += [state["has_uint32"], state["uinteger"]]
    return np.array(words, dtype=np.uint64)


def _unpack_rng(words: NDArray[np.uint64]) -> dict[str, Any]:
    w = [int(x) for x in words]
    return {
        "bit_generator": "PCG64",
        "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3]},
        "has_uint32": w[4],
        "uinteger": w[5],
    }


def _generator(rng_state: Mapping[str, Any]) -> np.random.Generator:
    bitgen = np.random.PCG64()
    bitgen.state = dict(rng_state)  # type: ignore[assignment]
    return np.random.Generator(bitgen)


def _flat_operand(arr: NDArray[np.integer[Any]], shape: tuple[int, ...]) -> Any:
    """A flat view of ``arr`` broadcast to ``shape``, or, where that would need
    a copy, the broadcast array's ``flat`` iterator (sliced per chunk)."""
    if arr.shape == shape and arr.flags.c_contiguous:
        return arr.reshape(-1)
    return np.broadcast_to(arr, shape).flat


def _check_path(path: Any) -> None:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"path must be a str or os.PathLike, got {type(path).__name__}"
        )


def _fmt_bits(value: int, bits: int) -> str:
    return "[" + " ".join(format(value, f"0{bits}b")) + "]"


class BinarySumRNN:
    """An Elman RNN (sigmoid units, no biases) that learns binary addition.

    Trained one sample at a time with backpropagation through time, clipped
    hidden deltas and plain SGD, as in the lecture (with its two wrong update
    lines corrected). docs/algorithm.md has the equations.
    """

    _writer: int | None = None  # the thread inside fit/set_weights, if any
    _history_buffer: NDArray[np.float64] | None = None  # fit's loss buffer

    def __init__(
        self,
        hidden_size: int = 16,
        bits: int = 8,
        learning_rate: float = 0.1,
        clip: float = 5.0,
        seed: int | None = None,
        backend: str | None = None,
    ) -> None:
        self._hidden_size = _validate.integer(
            "hidden_size", hidden_size, 1, _validate.MAX_HIDDEN
        )
        self._bits = _validate.integer("bits", bits, 1, _validate.MAX_BITS)
        self._learning_rate = _validate.positive_float("learning_rate", learning_rate)
        self._clip = _validate.positive_float("clip", clip)
        seed = _validate.seed(seed)
        self._backend_request = backend
        self._backend, self._kernel = _backend.kernel(backend)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
        self._seed: int = seed
        self._lock = threading.Lock()

        rng = np.random.Generator(np.random.PCG64(seed))
        h = self._hidden_size
        wi = 2 * rng.random((2, h)) - 1
        wh = 2 * rng.random((h, h)) - 1
        wo = 2 * rng.random((h, 1)) - 1
        self._state = _State(
            wi=wi,
            wh=wh,
            wo=wo,
            rng_state=rng.bit_generator.state,
            pending=_sampling.empty_pairs(),
            history=np.zeros(0),
            iterations=0,
        )

    # ----------------------------------------------------------- properties
    @property
    def hidden_size(self) -> int:
        return self._hidden_size

    @property
    def bits(self) -> int:
        return self._bits

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @property
    def clip(self) -> float:
        return self._clip

    @property
    def seed(self) -> int:
        """The seed of the random generator (drawn from the OS if none was given)."""
        return self._seed

    @property
    def backend(self) -> str:
        """The kernel in use: "cython" (compiled) or "python" (the twin)."""
        return self._backend

    @property
    def iterations(self) -> int:
        """Samples trained so far, across all calls to fit."""
        return self._state.iterations

    @property
    def history(self) -> NDArray[np.float64]:
        """Per-iteration loss sum_t (y_hat_t - y_t)**2, one entry per iteration."""
        st = self._state
        return st.history[: st.iterations].copy()

    @property
    def weights(self) -> dict[str, NDArray[np.float64]]:
        """Copies of the weights: wi (2, H), wh (H, H), wo (H, 1)."""
        st = self._state
        return {"wi": st.wi.copy(), "wh": st.wh.copy(), "wo": st.wo.copy()}

    @weights.setter
    def weights(self, new: Mapping[str, ArrayLike]) -> None:
        self.set_weights(**new)

    def set_weights(
        self,
        wi: ArrayLike | None = None,
        wh: ArrayLike | None = None,
        wo: ArrayLike | None = None,
    ) -> None:
        """Replace some or all weights (validated: shape, finite real values)."""
        h = self._hidden_size
        with self._writing("set_weights"):
            st = self._state
            self._state = replace(
                st,
                wi=st.wi if wi is None else _validate.weight_array("wi", wi, (2, h)),
                wh=st.wh if wh is None else _validate.weight_array("wh", wh, (h, h)),
                wo=st.wo if wo is None else _validate.weight_array("wo", wo, (h, 1)),
            )

    def __repr__(self) -> str:
        return (
            f"BinarySumRNN(hidden_size={self._hidden_size}, bits={self._bits}, "
            f"learning_rate={self._learning_rate!r}, clip={self._clip!r}, "
            f"seed={self._seed}, backend={self._backend!r}) "
            f"# {self.iterations} iterations trained"
        )

    # ------------------------------------------------------------- training
    def fit(
        self,
        iterations: int = 10_000,
        *,
        verbose: bool = False,
        log_every: int = 1000,
        callback: Callback | None = None,
        file: TextIO | None = None,
    ) -> BinarySumRNN:
        """Train on ``iterations`` fresh samples, one SGD step each.

        verbose prints the lecture's log (to ``file``, default stdout) every
        ``log_every`` iterations. ``callback(model, iteration, loss)`` is called
        after every ``log_every`` iterations of this call with the mean loss of
        those iterations; returning False stops training there.
        """
        total = _validate.integer("iterations", iterations, 0, _validate.MAX_ITERATIONS)
        log_every = _validate.integer("log_every", log_every, 1)
        if not isinstance(verbose, bool | np.bool_):
            raise TypeError(f"verbose must be True or False, got {verbose!r}")
        if callback is not None and not callable(callback):
            raise TypeError(
                f"callback must be callable or None, got {type(callback).__name__}"
            )
        if file is not None and not callable(getattr(file, "write", None)):
            raise TypeError(f"file must have a write method, got {type(file).__name__}")
        out = sys.stdout if file is None else file
        kernel, bits = self._kernel, self._bits
        block = block_size(self._hidden_size, bits)
        with self._writing("fit"):
            st = self._state
            start = st.iterations
            rng = _generator(st.rng_state)
            pending = st.pending
            work = np.empty(kernel.work_size(self._hidden_size, bits))
            done = 0
            while done < total:
                step = min(total - done, block)
                if verbose or callback is not None:
                    step = min(step, log_every - done % log_every)
                pairs, pending = _sampling.draw(rng, pending, bits, step)
                a = np.ascontiguousarray(pairs[:, 0])
                b = np.ascontiguousarray(pairs[:, 1])
                wi, wh, wo = st.wi.copy(), st.wh.copy(), st.wo.copy()
                if verbose and done % log_every == 0:
                    self._log(out, st, done, total, int(a[0]), int(b[0]))
                history = self._history_room(st, start + done + step)
                losses = history[start + done : start + done + step]
                kernel.train(
                    wi, wh, wo, a, b, bits, self._learning_rate, self._clip,
                    losses, work,
                )
                if not (
                    np.isfinite(wi).all()
                    and np.isfinite(wh).all()
                    and np.isfinite(wo).all()
                ):
                    raise FloatingPointError(
                        f"training diverged within iterations {st.iterations}.."
                        f"{st.iterations + step}: weights became non-finite; "
                        "lower learning_rate or clip (the model keeps its last "
                        "finite state)"
                    )
                done += step
                st = _State(
                    wi=wi,
                    wh=wh,
                    wo=wo,
                    rng_state=rng.bit_generator.state,
                    pending=pending,
                    history=history[: start + done],
                    iterations=start + done,
                )
                self._state = st  # publish the whole block at once
                if callback is not None and done % log_every == 0:
                    recent = history[start + done - log_every : start + done]
                    mean = float(recent.mean())
                    if callback(self, done, mean) is False:
                        break
        return self

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """Hold the model's lock to change it; from inside its own fit (a
        callback, the log's file), where waiting would deadlock, raise."""
        me = threading.get_ident()
        if self._writer == me:
            raise RuntimeError(
                f"{what} was called on this model from inside its own fit "
                "(a callback or the log's file.write); reading calls such as "
                "predict, score, save and pickling work there, changing the "
                "model does not"
            )
        with self._lock:
            self._writer = me
            try:
                yield
            finally:
                self._writer = None

    def _history_room(self, st: _State, need: int) -> NDArray[np.float64]:
        """A writable loss buffer holding st's history and room up to ``need``.

        It grows geometrically with what has been trained (many small fits stay
        linear in time), never to a whole call's length up front: fit(2**40)
        starts at once. Entries past a state's iterations belong to no state.
        """
        buf = self._history_buffer
        if buf is None or len(buf) < need or not _views(st.history, buf):
            buf = np.empty(max(need, 2 * len(st.history)))
            buf[: st.iterations] = st.history
            self._history_buffer = buf
        return buf

    def _log(self, out: TextIO, st: _State, i: int, total: int, a: int, b: int) -> None:
        """The lecture's progress lines for the sample about to be trained."""
        n = self._bits
        c = a + b
        logits = self._logits(st, a, b, n)
        kernel = self._kernel
        error = 0.0
        for t, o in enumerate(logits.tolist()):
            error += abs(2.0 * (kernel.sigmoid(o) - ((c >> t) & 1)))
        pred = _sampling.from_bits(logits > 0.0)
        print(f"[{i}|{total}] Error: {error:.6f}", file=out)
        print(
            f"\tTrue: {_fmt_bits(c, n)} = {_fmt_bits(a, n)} + {_fmt_bits(b, n)}",
            file=out,
        )
        print(f"\tPred: {_fmt_bits(pred, n)}", file=out)

    # ------------------------------------------------------------ inference
    def _logits(self, st: _State, a: int, b: int, steps: int) -> NDArray[np.float64]:
        xa = _sampling.to_bits(a, steps)
        xb = _sampling.to_bits(b, steps)
        logits = np.empty(steps)
        self._kernel.forward_logits(st.wi, st.wh, st.wo, xa, xb, logits)
        return logits

    def predict(
        self, a: ArrayLike, b: ArrayLike, *, threads: int = 1
    ) -> NDArray[np.int64]:
        """The sums the network computes for array-likes of operands < 2**62.

        a and b broadcast together; each pair runs as many steps as its larger
        operand has bits, plus one for the carry. Returns an int64 ndarray of
        the broadcast shape. ``threads`` > 1 splits the batch over that many
        threads (the compiled kernel runs without the GIL); the result is the
        same. Beyond the output, memory use does not grow with the batch: the
        operands are copied and checked a chunk at a time.
        """
        av = _validate.operand_array("a", a)
        bv = _validate.operand_array("b", b)
        threads = _validate.integer("threads", threads, 1, _validate.MAX_THREADS)
        try:
            shape = np.broadcast_shapes(av.shape, bv.shape)
        except ValueError:
            raise ValueError(
                f"a and b must broadcast together, got shapes {av.shape} and {bv.shape}"
            ) from None
        out = np.empty(shape, dtype=np.int64)
        flat_out = out.reshape(-1)
        total = flat_out.shape[0]
        if total == 0:  # nothing to compute, but bad operands are still errors
            _validate.operand_chunk("a", av.reshape(-1))
            _validate.operand_chunk("b", bv.reshape(-1))
            return out
        a_flat = _flat_operand(av, shape)
        b_flat = _flat_operand(bv, shape)
        st = self._state  # one snapshot: never torn by a concurrent fit
        kernel = self._kernel

        def run(start: int) -> None:
            stop = min(total, start + PREDICT_CHUNK)
            kernel.predict(
                st.wi, st.wh, st.wo,
                _validate.operand_chunk("a", a_flat[start:stop]),
                _validate.operand_chunk("b", b_flat[start:stop]),
                flat_out[start:stop],
            )

        starts = range(0, total, PREDICT_CHUNK)
        if threads == 1 or len(starts) == 1:
            for start in starts:
                run(start)
        else:
            with ThreadPoolExecutor(min(threads, len(starts))) as pool:
                for _ in pool.map(run, starts):
                    pass
        return out

    def add(self, a: int, b: int) -> int:
        """The network's sum of two non-negative ints of any size, bit by bit."""
        return _sampling.from_bits(self.logits(a, b) > 0.0)

    def logits(self, a: int, b: int) -> NDArray[np.float64]:
        """The output logits o_t of ``add(a, b)``, least significant bit first.

        One per step: as many as the larger operand has bits, plus one for the
        carry. sigmoid(o_t) is the network's probability that bit t is 1.
        """
        a = _validate.big_operand("a", a)
        b = _validate.big_operand("b", b)
        steps = max(a.bit_length(), b.bit_length()) + 1
        return self._logits(self._state, a, b, steps)

    def score(
        self,
        bits: int | None = None,
        *,
        sample: int | None = None,
        seed: int = 0,
        threads: int = 1,
    ) -> float:
        """Fraction of exact sums over all pairs with a + b < 2**bits.

        bits defaults to the model's. Up to 12 bits every pair is checked;
        beyond, or when ``sample`` is given, ``sample`` uniform random pairs
        (default 100,000, drawn with ``seed``) estimate it. ``threads`` is
        passed to predict().
        """
        bits = self._bits if bits is None else _validate.integer(
            "bits", bits, 1, _validate.MAX_BITS
        )
        seed = _validate.integer("seed", seed, 0)
        threads = _validate.integer("threads", threads, 1, _validate.MAX_THREADS)
        if sample is None and bits <= SCORE_EXHAUSTIVE_BITS:
            top = 1 << bits
            correct = 0
            start = 0
            while start < top:  # chunks of about 2**21 pairs
                stop = min(top, start + max(1, (1 << 21) // top))
                a, b = _sampling.all_pairs(bits, start, stop)
                correct += int(
                    np.count_nonzero(self.predict(a, b, threads=threads) == a + b)
                )
                start = stop
            return correct / (top * (top + 1) // 2)
        count = SCORE_SAMPLE if sample is None else _validate.integer(
            "sample", sample, 1, _validate.MAX_SAMPLE
        )
        a, b = _sampling.random_pairs(bits, count, seed)
        exact = self.predict(a, b, threads=threads) == a + b
        return int(np.count_nonzero(exact)) / count

    def loss_and_gradients(
        self, a: int, b: int
    ) -> tuple[float, dict[str, NDArray[np.float64]]]:
        """Loss and BPTT gradients (with the model's clip) for one pair.

        The pair is a training sample: a + b < 2**bits, run over ``bits`` steps.
        """
        largest = (1 << self._bits) - 1
        a = _validate.integer("a", a, 0, largest)
        b = _validate.integer("b", b, 0, largest)
        if a + b > largest:
            raise ValueError(
                f"a + b must be in 0..{largest} (2**bits - 1), got {a + b}"
            )
        st = self._state
        h = self._hidden_size
        grads = {"wi": np.zeros((2, h)), "wh": np.zeros((h, h)), "wo": np.zeros((h, 1))}
        loss = self._kernel.loss_and_gradients(
            st.wi, st.wh, st.wo, a, b, self._bits, self._clip,
            grads["wi"], grads["wh"], grads["wo"],
        )
        return float(loss), grads

    # ---------------------------------------------------------- persistence
    def _fields(self, copy: bool = False) -> dict[str, Any]:
        """The model's fields (see _modelfile.FIELDS) from one state snapshot;
        the arrays are the state's own unless ``copy``."""
        st = self._state

        def own(arr: NDArray[Any]) -> NDArray[Any]:
            return arr.copy() if copy else arr

        return {
            "hidden_size": np.int64(self._hidden_size),
            "bits": np.int64(self._bits),
            "learning_rate": np.float64(self._learning_rate),
            "clip": np.float64(self._clip),
            "iterations": np.int64(st.iterations),
            "seed": np.array(str(self._seed), dtype="<U64"),
            "wi": own(st.wi),
            "wh": own(st.wh),
            "wo": own(st.wo),
            "history": own(st.history[: st.iterations]),
            "pending": own(st.pending),
            "rng_state": _pack_rng(st.rng_state),
        }

    @classmethod
    def _from_fields(cls, f: _modelfile.Fields, backend: str | None) -> BinarySumRNN:
        """A model from fields that passed _modelfile.check_fields (the only
        maker of Fields): nothing unchecked reaches the kernel."""
        if not isinstance(f, _modelfile.Fields):
            raise TypeError(f"expected checked Fields, got {type(f).__name__}")
        model = cls.__new__(cls)
        model._hidden_size = f.hidden_size
        model._bits = f.bits
        model._learning_rate = f.learning_rate
        model._clip = f.clip
        model._seed = f.seed
        model._backend_request = backend
        model._backend, model._kernel = _backend.kernel(backend)
        model._lock = threading.Lock()
        # The arrays are check_fields' own (fresh copies or just read): the
        # state may keep them as they are.
        model._state = _State(
            wi=f.wi,
            wh=f.wh,
            wo=f.wo,
            rng_state=_unpack_rng(f.rng_state),
            pending=f.pending,
            history=f.history,
            iterations=f.iterations,
        )
        return model

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to one .npz file, atomically (never pickled).

        A symlink is followed (the file it points to is replaced, the link
        stays); an existing target keeps its permission bits; a target that
        exists and is not a regular file (a directory, FIFO, device, socket)
        is refused with an OSError and left untouched.
        """
        _check_path(path)
        _modelfile.save(path, self._fields())

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], backend: str | None = None
    ) -> BinarySumRNN:
        """Read a model written by save(); training resumes exactly.

        Only a regular file is read: anything else (a FIFO, device, socket,
        directory) raises ModelFileError, as does any invalid content.
        """
        _check_path(path)
        return cls._from_fields(_modelfile.load(path), backend)

    @classmethod
    def pretrained(cls, backend: str | None = None) -> BinarySumRNN:
        """The network shipped inside binsum: ``binsum train`` with its defaults.

        Its settings are recorded in ``binsum._pretrained.SETTINGS``; a fresh
        copy is loaded on every call, so training it never changes the file.
        """
        with _pretrained.path() as file:
            return cls.load(file, backend)

    def __getstate__(self) -> dict[str, Any]:
        # Copies: the pickled state shares no array with the live model.
        return {"fields": self._fields(copy=True), "backend": self._backend_request}

    def __setstate__(self, state: Any) -> None:
        # A pickle is data from outside: checked exactly as a model file is,
        # never copied into the kernel unchecked.
        if not isinstance(state, dict):
            raise TypeError(
                f"BinarySumRNN state must be a dict, got {type(state).__name__}"
            )
        if set(state) != {"fields", "backend"}:
            got = ", ".join(sorted(repr(k) for k in state))
            raise ValueError(
                f"BinarySumRNN state must have the keys 'fields' and 'backend', "
                f"got {got}"
            )
        fields = _modelfile.check_fields(state["fields"], source="pickled model")
        other = self._from_fields(fields, state["backend"])
        if "_lock" not in self.__dict__:  # unpickling: a fresh object
            self.__dict__.update(other.__dict__)
            return
        with self._writing("__setstate__"):  # replacing a live model's state
            del other.__dict__["_lock"]
            self.__dict__.update(other.__dict__)
