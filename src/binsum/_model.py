"""BinarySumRNN: the public model, over a kernel (``_core`` or its twin ``_pycore``).

Arithmetic lives in the kernel; this module checks every input and feeds
the kernel arrays of known shape. The configuration is one validated
``Config``; the state is one immutable snapshot (``_state.State``), which
the model's ``_trainer.Trainer`` publishes and replaces: after each training
block, in a single assignment, so an interrupt, an error or a concurrent
``predict`` never sees torn weights, and concurrent ``fit`` calls on one
model run one after the other. A block is sized by work (about the default
network's 8,192 samples), so readers see new states, and Ctrl-C lands, as
often at every size.
"""

from __future__ import annotations

import _thread
import contextlib
import numbers
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
from numpy.typing import ArrayLike, NDArray

from binsum import (
    _automaton,
    _backend,
    _bptt,
    _certificate,
    _hardcases,
    _modelfile,
    _notebook,
    _pretrained,
    _report,
    _sampling,
    _state,
)
from binsum import _validate as check
from binsum._automaton import CarryMachine
from binsum._backend import Kernel
from binsum._bptt import BPTT
from binsum._certificate import Certificate
from binsum._config import (
    BITS,
    CLIP,
    HIDDEN_SIZE,
    ITERATIONS,
    LEARNING_RATE,
    Config,
    fresh_seed,
)
from binsum._readonly import readonly
from binsum._rules import (
    Automaton,
    Counterexample,
    Fit,
    HiddenStates,
    Logits,
    Predict,
    Save,
    Score,
)
from binsum._scoring import ScorePairs
from binsum._state import State
from binsum._trainer import Trainer
from binsum._types import Backend, Weights, WeightsUpdate

__all__ = ["BinarySumRNN"]

BLOCK = 8192  # most samples per kernel call
# Multiply-adds of one block (about bits * (H**2 + 4H) per sample): the
# default network's BLOCK samples, ~15 ms. Larger networks get fewer samples
# a block (at least one), so a block takes about as long at every size.
BLOCK_WORK = BLOCK * 8 * (16 * 16 + 4 * 16)
# predict's kernel calls (chunks) are sized the same way: about PREDICT_WORK
# multiply-adds each (a few ms), so that work spreads evenly over threads at
# every size, and at most PREDICT_CHUNK pairs, which bounds the operand copies.
PREDICT_WORK = 1 << 24
PREDICT_CHUNK = 1 << 16
_WAKE = 0.05  # seconds: how often a thread waiting for workers wakes (Ctrl-C)
LOSS_WINDOW = 1000  # fit's bar shows the mean loss of this many iterations

Callback = Callable[["BinarySumRNN", int, float], Any]


def block_size(hidden_size: int, bits: int) -> int:
    """Samples per kernel call: BLOCK_WORK multiply-adds, 1..BLOCK samples."""
    per_sample = bits * (hidden_size * hidden_size + 4 * hidden_size)
    return max(1, min(BLOCK, BLOCK_WORK // per_sample))


def predict_chunk(hidden_size: int, steps: int, depth: int) -> int:
    """Pairs per kernel call in predict, for pairs of at most ``steps`` steps
    (the first ``depth`` from the prefix table): PREDICT_WORK multiply-adds,
    1..PREDICT_CHUNK pairs."""
    per_pair = max(1, steps - depth) * hidden_size * (hidden_size + 4)
    return max(1, min(PREDICT_CHUNK, PREDICT_WORK // per_pair))


def _most_steps(*operands: NDArray[np.integer[Any]]) -> int:
    """Steps of the longest pair of these operands, 1..63. It only sizes
    chunks: the values are checked as each chunk is copied."""
    top = max(int(x.max()) if x.size else 0 for x in operands)
    return min(max(top, 0).bit_length(), check.MAX_BITS) + 1


def _blocks(total: int, block: int, pause: int | None) -> Iterator[tuple[int, int]]:
    """(done, step) for each kernel call of a fit of ``total`` samples: at most
    ``block`` samples, and a call ends at every multiple of ``pause``."""
    done = 0
    while done < total:
        step = min(total - done, block)
        if pause is not None:
            step = min(step, pause - done % pause)
        yield done, step
        done += step


class _Flat:
    """``arr`` broadcast to ``shape``, read in flat (C) order a slice at a time
    without a copy of the whole. Only immutable views are kept: every slice
    makes its own ``flat`` iterator (one iterator shared between threads
    would move under them, and give a pair another pair's operands)."""

    def __init__(self, arr: NDArray[np.integer[Any]], shape: tuple[int, ...]) -> None:
        self._view = np.broadcast_to(arr, shape)  # read-only

    def __getitem__(self, where: slice) -> NDArray[np.integer[Any]]:
        return self._view.flat[where]


def _flat_operand(
    arr: NDArray[np.integer[Any]], shape: tuple[int, ...]
) -> NDArray[np.integer[Any]] | _Flat:
    """``arr`` broadcast to ``shape``, sliceable in flat order: a view where
    that needs no copy, else a _Flat."""
    if arr.shape == shape and arr.flags.c_contiguous:
        return arr.reshape(-1)
    return _Flat(arr, shape)


def _in_threads(
    run: Callable[[int, NDArray[np.uint8]], None], starts: range, threads: int
) -> None:
    """run(start, stop) for every start, on ``threads`` threads (thread k
    takes every k-th start, so they share no counter). If any of them fails,
    or this thread is interrupted (Ctrl-C), the others see ``stop`` set and
    return at their next signal check; then the error is raised.

    Threads from ``_thread``, each releasing its own lock when it ends, and
    waited for with timed lock acquires, whose Ctrl-C leaves every lock as it
    was: ``Thread.start`` and ``Thread.join`` wait in ``threading.Condition``,
    where a KeyboardInterrupt between its steps releases a lock it does not
    hold (RuntimeError, seen on 3.13t), and a KeyboardInterrupt inside
    ``concurrent.futures.wait`` can leave the futures' locks held for ever.
    Each worker writes only its own slot of ``errors``."""
    stop = np.zeros(1, dtype=np.uint8)  # set once, never cleared
    errors: list[BaseException | None] = [None] * threads
    begun = [False] * threads
    ended = [False] * threads
    running = [_thread.allocate_lock() for _ in range(threads)]
    for lock in running:
        lock.acquire()  # released by its worker as it ends

    def worker(k: int) -> None:
        begun[k] = True  # before the first look at stop
        try:
            for start in starts[k::threads]:
                if stop[0]:
                    return
                run(start, stop)
        except BaseException as exc:
            errors[k] = exc
            stop[0] = 1
        finally:
            ended[k] = True
            running[k].release()

    try:
        for k in range(threads):
            _thread.start_new_thread(worker, (k,))
        for lock in running:
            while not lock.acquire(timeout=_WAKE):  # timed: Ctrl-C is seen
                pass
    except BaseException:
        stop[0] = 1
        # A worker not begun by now sees stop before any work; wait for the rest
        # (by their flags: this thread may already hold an ended worker's lock).
        for k, lock in enumerate(running):
            while begun[k] and not ended[k]:
                lock.acquire(timeout=_WAKE)
        raise
    for error in errors:
        if error is not None:
            raise error  # the first worker's error


def _check_path(path: Any) -> None:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")


def _check_fit_options(callback: Any, file: Any) -> TextIO:
    """fit's callback and file checked; the stream the log goes to."""
    if callback is not None and not callable(callback):
        raise TypeError(
            f"callback must be callable or None, got {type(callback).__name__}"
        )
    if file is not None and not callable(getattr(file, "write", None)):
        raise TypeError(f"file must have a write method, got {type(file).__name__}")
    out: TextIO = sys.stdout if file is None else file
    return out


def _recent_loss(trainer: Trainer, done: int) -> float:
    """fit's bar's loss: the mean of the last LOSS_WINDOW iterations of the
    ``done`` (>= 1) this call has trained."""
    return float(trainer.state.history[-min(done, LOSS_WINDOW) :].mean())


class BinarySumRNN:
    """An Elman RNN (sigmoid units, no biases) that learns binary addition.

    Trained one sample at a time with backpropagation through time, clipped
    hidden deltas and plain SGD, as in the lecture (with its two wrong update
    lines corrected). The equations are in the documentation's "Algorithm"
    page, https://binsum.readthedocs.io/.

    Parameters
    ----------
    hidden_size : int, default 16
        Hidden units H, 1..4096.
    bits : int, default 8
        Width of the training sums: samples are pairs with
        ``a + b < 2**bits``, trained over ``bits`` steps; 1..62.
    learning_rate : float, default 0.1
        SGD step size; finite and > 0.
    clip : float, default 5.0
        Hidden deltas are clipped to ``[-clip, clip]``; finite and > 0.
    seed : int or None, default None
        Seeds the initial weights and the training samples, ``0..2**128-1``.
        With None a seed is drawn from the operating system, so every model
        differs: pass a seed (the examples use 0) to be reproducible. The seed
        used is the ``seed`` property.
    backend : {"cython", "python"} or None, default None
        The kernel: ``"cython"`` (compiled) or ``"python"`` (the
        pure-Python twin, same bits, much slower); None uses
        ``binsum.backend``.

    Raises
    ------
    ValueError
        If a setting is outside its range, or ``backend`` is unknown.
    TypeError
        If a setting has the wrong type (a float hidden size, a bool, ...).
    ImportError
        If ``backend="cython"`` and the compiled kernel is not available.

    Notes
    -----
    A model depends only on its settings, seed and iterations trained:
    ``fit(1000)`` ten times equals ``fit(10000)`` once, bit for bit, and
    save/load, pickling and copying resume exactly. One model may be shared
    between threads (concurrent ``fit`` calls run one after the other).

    Examples
    --------
    >>> from binsum import BinarySumRNN
    >>> model = BinarySumRNN(seed=0).fit(10_000)
    >>> model.add(12345, 67890)
    80235
    >>> model.score()
    1.0
    """

    if TYPE_CHECKING:  # instance attributes, set by _set_up (not in help())
        _config: Config
        _backend_request: Backend | None  # as asked: None follows the default
        _backend: Backend
        _kernel: Kernel
        _trainer: Trainer  # the published state and the only ways it changes

    def __init__(
        self,
        hidden_size: int = HIDDEN_SIZE,
        bits: int = BITS,
        learning_rate: float = LEARNING_RATE,
        clip: float = CLIP,
        seed: int | None = None,
        backend: Backend | None = None,
    ) -> None:
        if seed is None:
            seed = fresh_seed()
        config = Config(hidden_size, bits, learning_rate, clip, seed)
        self._set_up(config, backend, _state.initial(config))

    def _set_up(self, config: Config, backend: Backend | None, state: State) -> None:
        """Set up a model (new, loaded or unpickled) from checked parts."""
        self._config = config
        self._backend_request = backend
        self._backend, module = _backend.kernel(backend)
        self._kernel = Kernel(module)
        self._trainer = Trainer(state)

    @classmethod
    def _from_fields(
        cls, f: _modelfile.Fields, backend: Backend | None
    ) -> BinarySumRNN:
        """A model from fields that passed _modelfile.check_fields."""
        model = cls.__new__(cls)
        model._set_up(f.config, backend, _state.from_fields(f))
        return model

    @property
    def hidden_size(self) -> int:
        """Hidden units H (the constructor's ``hidden_size``)."""
        return self._config.hidden_size

    @property
    def bits(self) -> int:
        """Width of the training sums: ``a + b < 2**bits``, ``bits`` steps."""
        return self._config.bits

    @property
    def learning_rate(self) -> float:
        """The SGD step size."""
        return self._config.learning_rate

    @property
    def clip(self) -> float:
        """Hidden deltas are clipped to ``[-clip, clip]`` during training."""
        return self._config.clip

    @property
    def seed(self) -> int:
        """The seed of the weights and samples (drawn from the OS if none was
        given to the constructor)."""
        return self._config.seed

    @property
    def backend(self) -> Backend:
        """The kernel in use: ``"cython"`` (compiled) or ``"python"`` (the twin)."""
        return self._backend

    @property
    def iterations(self) -> int:
        """Samples trained so far, across all calls to ``fit`` (and before a
        save/load or pickling)."""
        return self._trainer.state.iterations

    @property
    def history(self) -> NDArray[np.float64]:
        """The loss ``sum_t (y_hat_t - y_t)**2`` of each trained iteration,
        read-only (``.copy()`` it to change it; training never changes it).

        One entry per iteration trained by this model and by those it was
        saved or pickled from, except that a file saved with
        ``save(path, history=False)`` holds no history: a model loaded from it
        starts with an empty history and appends from there, so it may have
        fewer entries than ``iterations``. The lecture's printed "Error"
        (``fit(verbose=True)``) is another quantity, not this loss.
        """
        return readonly(self._trainer.state.history)

    def snapshot(self) -> tuple[int, NDArray[np.float64]]:
        """``(iterations, history)`` read together, of the same training block.

        While another thread trains the model (a progress display following
        a ``fit``), reading ``iterations`` and then ``history`` may see two
        different blocks; these two are always of one.

        Returns
        -------
        iterations : int
            Samples trained so far, as the ``iterations`` property.
        history : numpy.ndarray of float64
            The loss history at that point, read-only, as the ``history``
            property.

        Examples
        --------
        >>> iterations, history = BinarySumRNN(seed=0).fit(100).snapshot()
        >>> iterations, history.shape
        (100, (100,))
        """
        st = self._trainer.state  # one snapshot
        return st.iterations, readonly(st.history)

    @property
    def weights(self) -> Weights:
        """The weights ``wi`` (2, H), ``wh`` (H, H), ``wo`` (H, 1), read-only:
        those of one training block, which training never changes (it
        publishes new ones). ``.copy()`` one to change it.

        Assigning a dict (``model.weights = {"wo": ...}``) replaces the weights
        it names, as ``set_weights`` does.
        """
        st = self._trainer.state
        return {
            "wi": readonly(st.wi),
            "wh": readonly(st.wh),
            "wo": readonly(st.wo),
        }

    @weights.setter
    def weights(self, new: WeightsUpdate) -> None:
        self.set_weights(**new)

    def set_weights(
        self,
        wi: ArrayLike | None = None,
        wh: ArrayLike | None = None,
        wo: ArrayLike | None = None,
    ) -> None:
        """Replace some or all weights.

        Parameters
        ----------
        wi, wh, wo : array_like or None, default None
            New input (2, H), recurrent (H, H) and output (H, 1) weights,
            converted to float64; None keeps that matrix.

        Raises
        ------
        ValueError
            If a shape is wrong or a value is not finite.
        TypeError
            If a value is not real numbers.
        RuntimeError
            If called from inside this model's own ``fit`` (a callback).
        """
        h = self.hidden_size
        trainer = self._trainer
        with trainer.writing("set_weights"):
            st = trainer.state
            trainer.state = replace(
                st,
                wi=st.wi if wi is None else check.weight_array("wi", wi, (2, h)),
                wh=st.wh if wh is None else check.weight_array("wh", wh, (h, h)),
                wo=st.wo if wo is None else check.weight_array("wo", wo, (h, 1)),
            )

    def __repr__(self) -> str:
        c = self._config
        return (
            f"BinarySumRNN(hidden_size={c.hidden_size}, bits={c.bits}, "
            f"learning_rate={c.learning_rate!r}, clip={c.clip!r}, "
            f"seed={c.seed}, backend={self._backend!r}) "
            f"# {self.iterations} iterations trained"
        )

    def _repr_html_(self) -> str:
        """The notebook's view: a table of the settings, iterations, recent
        loss and (when it takes milliseconds) the score."""
        return _notebook.html_table(self)

    def fit(
        self,
        iterations: int = ITERATIONS,
        *,
        verbose: bool | int = False,
        log_every: int = 1000,
        callback: Callback | None = None,
        file: TextIO | None = None,
        progress: bool = False,
    ) -> BinarySumRNN:
        """Train on ``iterations`` fresh samples, one SGD step each.

        Parameters
        ----------
        iterations : int, default 10000
            Samples to train, ``0..2**40``, and not so many that the model
            would pass ``2**63-1`` in all (what a model file holds).
        verbose : bool or int, default False
            Print the lecture's log every ``log_every`` iterations: True or
            an integer >= 1 (the levels scikit-learn and Keras users pass;
            every level above 0 prints the same log), False or 0 for none.
        log_every : int, default 1000
            Iterations between log lines and callback calls, >= 1.
        callback : callable or None, default None
            ``callback(model, iteration, loss)``, called after every
            ``log_every`` iterations of this call with the mean loss of those
            iterations (``iteration`` counts this call's samples). Returning
            ``False`` stops training there.
        file : object with a ``write`` method, or None, default None
            Where the log goes; None is ``sys.stdout``.
        progress : bool, default False
            Show a progress bar with the mean loss of the last 1,000
            iterations (``tqdm.auto``: a widget in Jupyter, text on
            ``sys.stderr`` elsewhere); the log scrolls above it. The bar is
            closed however fit ends (an interrupt, an error).

        Returns
        -------
        BinarySumRNN
            This model, trained.

        Raises
        ------
        ValueError
            If an argument is out of range, or ``iterations`` would take the
            model past ``2**63-1`` in all (checked before any training).
        FloatingPointError
            If training diverges (the weights overflow): the model keeps its
            last finite state.
        RuntimeError
            If called from inside this model's own ``fit`` (a callback).

        Notes
        -----
        The log's "Error" is the lecture's ``sum_t |2 (y_hat_t - y_t)|`` of the
        one sample it prints, not the loss that ``history`` and the callback
        hold. An interrupt (Ctrl-C) or an exception from the callback leaves
        the model consistent, at a block boundary.
        """
        total = Fit.iterations(iterations)
        log_every = Fit.log_every(log_every)
        verbose = Fit.verbose(verbose) > 0
        out = _check_fit_options(callback, file)
        progress = Fit.progress(progress)
        pause = log_every if verbose or callback is not None else None
        block = block_size(self.hidden_size, self.bits)
        trainer = self._trainer
        with trainer.writing("fit"), contextlib.ExitStack() as closing:
            check.more_iterations(trainer.state.iterations, total)
            rng = _state.generator(trainer.state.rng_state)
            bar = None
            if progress:  # tqdm imported only now: ``import binsum`` stays lean
                from binsum._progress import FitBar

                bar = FitBar(total, out, lambda done: _recent_loss(trainer, done))
                closing.enter_context(bar)  # closed however fit ends
            log = out if bar is None else bar.log
            for done, step in _blocks(total, block, pause):
                pairs, pending = _sampling.draw(
                    rng, trainer.state.pending, self.bits, step
                )
                if verbose and done % log_every == 0:
                    a, b = int(pairs[0, 0]), int(pairs[0, 1])
                    reading = _read(self._kernel, trainer.state, a, b, self.bits)
                    log.write(_report.lecture_log(reading, done, total))
                trainer.train_block(self._kernel, self._config, pairs, rng, pending)
                trained = done + step
                if bar is not None:
                    bar.show(trained, trained == total)
                if callback is not None and trained % log_every == 0:
                    # the mean loss of this call's last log_every iterations
                    loss = float(trainer.state.history[-log_every:].mean())
                    if callback(self, trained, loss) is False:
                        break
        return self

    def predict(
        self, a: ArrayLike, b: ArrayLike, *, threads: int = 1
    ) -> NDArray[np.int64]:
        """The sums the network computes, for arrays of operands.

        Parameters
        ----------
        a, b : array_like of int
            Non-negative integers below ``2**62`` (any integer dtype, shape or
            layout; bools and floats are refused); they broadcast together.
        threads : int, default 1
            Split the batch over this many threads, 1..1024 (the compiled
            kernel runs without the GIL); the result is the same.

        Returns
        -------
        numpy.ndarray of int64
            The network's sums, of the broadcast shape.

        Raises
        ------
        ValueError
            If an operand is negative or too large, or the shapes do not
            broadcast.
        TypeError
            If the operands are not integers.

        Notes
        -----
        Each pair runs as many steps as its larger operand has bits, plus one
        for the carry. Beyond the output, memory use does not grow with the
        batch: each thread copies and checks the operands a chunk at a time
        (at most 65,536 pairs: 1 MiB as int64), and all the calls and
        threads that read the same weights share one table of first steps,
        built once, at most 8.5 MiB (2 MiB more while it is built). So k
        concurrent calls of one thread each need about 9 MiB + k MiB besides
        their outputs (64 calls of 131,072 pairs on the shipped network:
        17 MiB). Ctrl-C stops a call on any number of threads: the other
        threads stop at their next check, at most 2**24 multiply-adds later.

        Examples
        --------
        >>> model = BinarySumRNN.pretrained()
        >>> model.predict([1, 2, 3], 10).tolist()
        [11, 12, 13]
        """
        av = check.operand_array("a", a)
        bv = check.operand_array("b", b)
        threads = Predict.threads(threads)
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
            check.operand_chunk("a", av.reshape(-1))
            check.operand_chunk("b", bv.reshape(-1))
            return out
        a_flat = _flat_operand(av, shape)
        b_flat = _flat_operand(bv, shape)
        st = self._trainer.state  # one snapshot: never torn by a concurrent fit
        kernel = self._kernel
        # The first steps of every pair come from the state's prefix table,
        # shared (read-only) by every chunk, thread and call on these weights.
        depth = kernel.prefix_depth(self.hidden_size, total)
        table = st.prefix.get(kernel, st, depth)
        chunk = predict_chunk(self.hidden_size, _most_steps(av, bv), table.depth)

        def run(start: int, *stop: NDArray[np.uint8]) -> None:
            # Each call copies its own chunk of the operands; it writes only
            # its own slice of the output.
            end = min(total, start + chunk)
            kernel.predict(
                st.wi,
                st.wh,
                st.wo,
                check.operand_chunk("a", a_flat[start:end]),
                check.operand_chunk("b", b_flat[start:end]),
                flat_out[start:end],
                table.states,
                table.masks,
                *stop,
            )

        starts = range(0, total, chunk)
        if threads == 1 or len(starts) == 1:
            for start in starts:  # signals reach the kernel in this thread
                run(start)
        else:
            _in_threads(run, starts, min(threads, len(starts)))
        return out

    def add(self, a: int, b: int) -> int:
        """The network's sum of two non-negative integers of any size.

        Parameters
        ----------
        a, b : int
            Non-negative integers, of any number of bits.

        Returns
        -------
        int
            The sum the network computes, bit by bit (as many steps as the
            larger operand has bits, plus one for the carry).

        Examples
        --------
        >>> BinarySumRNN.pretrained().add(2**100 + 1, 2**100 - 1) == 2**101
        True
        """
        return _sampling.from_bits(self.logits(a, b) > 0.0)

    def logits(self, a: int, b: int) -> NDArray[np.float64]:
        """The output logits ``o_t`` of ``add(a, b)``, least significant bit first.

        Parameters
        ----------
        a, b : int
            Non-negative integers, of any number of bits.

        Returns
        -------
        numpy.ndarray of float64
            One logit per step: as many as the larger operand has bits, plus
            one for the carry. ``sigmoid(o_t)`` is the network's probability
            that bit t is 1 (``o_t > 0`` predicts 1).
        """
        a = Logits.a(a)
        b = Logits.b(b)
        steps = _pair_steps(a, b)
        return _read(self._kernel, self._trainer.state, a, b, steps).logits

    def hidden_states(
        self, a: int | ArrayLike, b: int | ArrayLike, *, steps: int | None = None
    ) -> NDArray[np.float64]:
        """The hidden states ``h_0 .. h_T`` of ``add(a, b)``'s forward pass.

        The same pass as ``predict`` and ``logits``, on the model's backend:
        ``o_t``, summed as ``h_t[0] * wo[0] + h_t[1] * wo[1] + ...`` from 0.0,
        is ``logits(a, b)[t - 1]`` bit for bit.

        Parameters
        ----------
        a, b : int, or sequences of int of equal length
            Non-negative integers, of any number of bits. Sequences give the
            states of every pair ``(a[i], b[i])``.
        steps : int or None, default None
            Steps to run, ``>= 1``, feeding zero bits past the operands. None:
            the steps of ``logits(a, b)`` (the larger bit length plus one for
            the carry); for sequences, the most steps of any pair. The
            states returned may hold at most ``2**28`` values (2 GiB).

        Returns
        -------
        numpy.ndarray of float64
            Shape (T + 1, H) for one pair, (n, T + 1, H) for n pairs: row 0
            is h_0 = 0, row t the state after bit t - 1 (T = ``steps``).

        Examples
        --------
        >>> model = BinarySumRNN.pretrained()
        >>> model.hidden_states(5, 3).shape
        (5, 16)
        """
        st = self._trainer.state  # one snapshot for every pair
        if steps is not None:
            steps = HiddenStates.steps(steps)
        if _is_integer(a) or _is_integer(b):  # one pair: both must be ints
            x, y = HiddenStates.a(a), HiddenStates.b(b)
            n = _pair_steps(x, y) if steps is None else steps
            check.state_values(1, n, self.hidden_size)
            return _states(self._kernel, st, x, y, n)[0]
        xs, ys = _integer_list("a", a), _integer_list("b", b)
        if len(xs) != len(ys):
            raise ValueError(
                f"a and b must have equal lengths, got {len(xs)} and {len(ys)}"
            )
        if steps is None:
            pairs = zip(xs, ys, strict=True)
            steps = max((_pair_steps(x, y) for x, y in pairs), default=1)
        check.state_values(len(xs), steps, self.hidden_size)
        out = np.empty((len(xs), steps + 1, self.hidden_size))
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            out[i] = _states(self._kernel, st, x, y, steps)[0]
        return out

    def bptt(self, a: int, b: int) -> BPTT:
        """Backpropagation through time for one training pair, step by step.

        What ``loss_and_gradients(a, b)`` computes, with every intermediate
        kept: the output deltas ``delta_o_t``, the hidden deltas ``delta_a_t``
        before and after the clip, where the clip bound, and each step's terms
        of the gradients. The arithmetic is the kernel's, in its order:
        ``result.gradients()`` and ``result.loss`` equal
        ``loss_and_gradients(a, b)`` bit for bit.

        Parameters
        ----------
        a, b : int
            A training sample: non-negative, ``a + b < 2**bits``; run over
            ``bits`` steps.

        Returns
        -------
        BPTT
            The per-step views (see ``binsum.BPTT``).

        Raises
        ------
        ValueError
            If ``a + b`` does not fit in ``bits`` bits.

        Examples
        --------
        >>> model = BinarySumRNN.pretrained()
        >>> steps = model.bptt(127, 1)
        >>> steps.delta_a.shape
        (8, 16)
        >>> bool(steps.clipped.any())
        False
        """
        a, b = self._training_pair(a, b)
        st = self._trainer.state
        states, logits = _states(self._kernel, st, a, b, self.bits)
        return _bptt.backward(
            st.wh, st.wo, a, b, self.bits, self.clip, states, logits,
            self._kernel.sigmoid,
        )  # fmt: skip

    def _training_pair(self, a: int, b: int) -> tuple[int, int]:
        """(a, b) checked as a training sample: a + b < 2**bits."""
        largest = (1 << self.bits) - 1
        a = check.Integer("a", 0, largest)(a)
        b = check.Integer("b", 0, largest)(b)
        if a + b > largest:
            raise ValueError(
                f"a + b must be in 0..{largest} (2**bits - 1), got {a + b}"
            )
        return a, b

    def certify(self) -> Certificate:
        """Prove that the network adds every pair exactly, or say why not.

        Looks for a counterexample first (``counterexample()``), then for an
        invariant: sets of hidden states, one per carry and last few inputs,
        that every step provably maps into each other while every output bit
        is provably right, for the arithmetic binsum runs (IEEE doubles
        without fused multiply-add, the kernel's own exponential, its fixed
        order of sums). The documentation's Certificate page explains the
        method.

        Returns
        -------
        Certificate
            ``proven`` True: for every pair of non-negative integers of any
            length the output is the exact sum, final carry included. False:
            ``reason`` says why and ``counterexample`` holds a wrong pair if
            one was found (not proven does not mean wrong). ``check(model)``
            re-checks a proof without the search; ``save``/``load`` and
            pickling keep it.

        Examples
        --------
        >>> cert = BinarySumRNN.pretrained().certify()  # doctest: +SKIP
        >>> cert.proven  # doctest: +SKIP
        True
        """
        return _certificate.certify(self)

    def automaton(
        self, *, depth: int = 6, run: int = 64, max_clusters: int = 24
    ) -> CarryMachine:
        """The finite-state machine in the hidden states, against the full adder's.

        Runs the network's step (bit for bit the kernel's) from h_0 = 0 over
        every input word of up to ``depth`` inputs and over long carry-keeping
        runs, knows the true carry of every state it reaches, groups the
        states into clusters (k-means from a fixed seed, as few clusters as
        keep the carries apart), reads the transitions each input causes
        between clusters with the network's output bit, and merges the
        clusters into the smallest machine that behaves the same. The
        gallery's "What the hidden state remembers" shows it.

        Parameters
        ----------
        depth : int, default 6
            Every word of up to ``depth`` inputs is run, 1..8 (4**depth
            words of the longest length).
        run : int, default 64
            Length of the carry-keeping runs (one input repeated, or 10 and
            01 alternating) started after every word of up to 2 inputs and
            left by every input, 0..4096: where long carry chains fail, the
            states drift and the outputs go wrong.
        max_clusters : int, default 24
            The most clusters tried, 2..64.

        Returns
        -------
        CarryMachine
            ``is_full_adder``, the ``explanation`` (also ``str()``), the
            hidden units holding the carry (``carry_units``), the linear
            read-out of the carry and its ``readout_margin``, the states,
            clusters and transitions. A verdict on the sampled states, not a
            proof (``certify()`` proves).

        Examples
        --------
        >>> machine = BinarySumRNN.pretrained().automaton()
        >>> machine.is_full_adder
        True
        """
        return _automaton.read(
            self,
            Automaton.depth(depth),
            Automaton.run(run),
            Automaton.max_clusters(max_clusters),
        )

    def score(
        self,
        bits: int | None = None,
        *,
        sample: int | None = None,
        seed: int = 0,
        threads: int = 1,
    ) -> float:
        """Fraction of exact sums over the pairs with ``a + b < 2**bits``.

        Parameters
        ----------
        bits : int or None, default None
            Width of the sums checked, 1..62; None is the model's ``bits``.
        sample : int or None, default None
            Estimate from this many uniform random pairs, ``1..10**8``. None
            checks every pair up to 12 bits and samples 100,000 beyond.
        seed : int, default 0
            Seed of the sampled pairs.
        threads : int, default 1
            Passed to ``predict``.

        Returns
        -------
        float
            Exact sums divided by pairs checked, in [0, 1].
        """
        bits = self.bits if bits is None else Score.bits(bits)
        sample = None if sample is None else Score.sample(sample)
        seed = Score.seed(seed)
        threads = Score.threads(threads)
        pairs = ScorePairs.choose(bits, sample, seed)
        correct = pairs.count_exact(lambda a, b: self.predict(a, b, threads=threads))
        return correct / pairs.count

    def counterexample(self, max_bits: int = 4096) -> tuple[int, int] | None:
        """The smallest pair found that the network adds wrong, or None.

        A systematic search of the hard cases, the long carry chains that
        random pairs almost never contain: every pair with a, b < 2**8
        (carry-out included), then pairs read as a short prefix, a long run
        of one input (or of an alternating pair of inputs) and an exit, with
        runs of every length while the operands fit in 62 bits and on a
        geometric ladder (about 2**(1/2) apart) up to ``max_bits`` bits.
        They include ``2**n - 1 + 1``, all ones plus all ones, ``2**n + 2**n``
        and 0101... + 1010... at every length searched. A pair returned was
        checked with ``add`` against the exact integer sum.

        Parameters
        ----------
        max_bits : int, default 4096
            The longest operands searched, in bits, ``1..2**16`` (the time
            grows about linearly with it: well under a second at 4096 bits
            for hidden sizes up to 64 on the compiled kernel).

        Returns
        -------
        tuple of int or None
            The smallest failing pair ``(a, b)`` found: fewest operand bits
            ``max(a.bit_length(), b.bit_length())``, then the smaller ``a``,
            then the smaller ``b``; None when no candidate is wrong. None is
            a search's verdict, not a proof that every pair is exact.

        Notes
        -----
        The search runs on the compiled kernel when it is installed, whatever
        the model's backend (both give the same bits); the pair found is then
        confirmed with this model's own ``add``.

        Examples
        --------
        >>> BinarySumRNN.pretrained().counterexample() is None
        True
        """
        max_bits = Counterexample.max_bits(max_bits)
        return _hardcases.find(self, max_bits)

    def loss_and_gradients(self, a: int, b: int) -> tuple[float, Weights]:
        """Loss and backpropagation-through-time gradients for one pair.

        Parameters
        ----------
        a, b : int
            A training sample: non-negative, ``a + b < 2**bits``; run over
            ``bits`` steps.

        Returns
        -------
        loss : float
            ``sum_t (y_hat_t - y_t)**2`` of the pair.
        gradients : Weights
            The gradients of the loss for ``wi``, ``wh`` and ``wo`` (with the
            model's ``clip`` applied to the hidden deltas, as in training).

        Raises
        ------
        ValueError
            If ``a + b`` does not fit in ``bits`` bits.
        """
        a, b = self._training_pair(a, b)
        st = self._trainer.state
        h = self.hidden_size
        grads: Weights = {
            "wi": np.zeros((2, h)),
            "wh": np.zeros((h, h)),
            "wo": np.zeros((h, 1)),
        }
        loss = self._kernel.loss_and_gradients(
            st.wi, st.wh, st.wo, a, b, self.bits, self.clip,
            grads["wi"], grads["wh"], grads["wo"],
        )  # fmt: skip
        return float(loss), grads

    def save(self, path: str | os.PathLike[str], *, history: bool = True) -> None:
        """Write the model to one ``.npz`` file, atomically (never pickled).

        Parameters
        ----------
        path : str or os.PathLike
            The file to write. A symlink is followed (the file it points to
            is replaced, the link stays); an existing file keeps its
            permission bits.
        history : bool, default True
            Whether to keep the loss history, 8 bytes per trained iteration
            (16 MB after 2 million). Without it the file holds the weights,
            settings and random state only: the loaded model has an empty
            ``history`` (``iterations`` still counts every sample) and trains
            on to exactly the same weights.

        Raises
        ------
        OSError
            If the file cannot be written, or the target exists and is not a
            regular file (a directory, FIFO, device, socket; left untouched).
            Refused before anything is written, too: a path that names no
            file (empty, or ending in a separator, ``.`` or ``..``) and one
            too long for the system (a name over NAME_MAX, 255 bytes on
            most systems, or a path over PATH_MAX), so every path saved to
            loads back as given.
        """
        _check_path(path)
        history = Save.history(history)
        fields = _state.fields(self._config, self._trainer.state)
        if not history:
            fields["history"] = np.zeros(0)
        _modelfile.save(path, fields)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], backend: Backend | None = None
    ) -> BinarySumRNN:
        """Read a model written by ``save``; training resumes exactly.

        Parameters
        ----------
        path : str or os.PathLike
            The model file (binsum's ``.npz`` layout; never unpickled).
        backend : {"cython", "python"} or None, default None
            The kernel of the loaded model; None uses ``binsum.backend``.

        Returns
        -------
        BinarySumRNN
            The saved model: settings, weights, random state and iterations
            (and its loss history, unless saved with ``history=False``).

        Raises
        ------
        ModelFileError
            If the path is not a regular file (a FIFO, device, socket,
            directory) or its content is not a valid binsum model.
        OSError
            If the file cannot be opened.
        """
        _check_path(path)
        return cls._from_fields(_modelfile.load(path), backend)

    @classmethod
    def pretrained(cls, backend: Backend | None = None) -> BinarySumRNN:
        """The network shipped inside binsum: ``binsum train`` with its defaults.

        The lecture's settings, seed 0, trained 10,000 iterations. A fresh
        copy is loaded on every call, so training it changes nothing shared.

        Parameters
        ----------
        backend : {"cython", "python"} or None, default None
            The kernel of the model; None uses ``binsum.backend``.

        Returns
        -------
        BinarySumRNN
            A trained model.
        """
        with _pretrained.path() as file:
            return cls.load(file, backend)

    def __getstate__(self) -> dict[str, Any]:
        # Copies: the pickled state shares no array with the live model.
        fields = _state.fields(self._config, self._trainer.state, copy=True)
        return {"fields": fields, "backend": self._backend_request}

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
        other = type(self)._from_fields(fields, state["backend"])
        if "_trainer" not in self.__dict__:  # unpickling: a fresh object
            self.__dict__.update(other.__dict__)
            return
        # Replacing a live model's state: its trainer stays (a fit waiting
        # for its lock then trains the new state), which publishes the new
        # state after the settings it goes with.
        trainer = self._trainer
        with trainer.writing("__setstate__"):
            state = other.__dict__.pop("_trainer").state
            self.__dict__.update(other.__dict__)
            trainer.restart(state)


def _read(kernel: Kernel, st: State, a: int, b: int, steps: int) -> _report.Reading:
    """The output logits of a + b over ``steps`` steps."""
    logits = np.empty(steps)
    kernel.forward_logits(
        st.wi, st.wh, st.wo,
        _sampling.to_bits(a, steps), _sampling.to_bits(b, steps), logits,
    )  # fmt: skip
    return _report.Reading(a, b, logits)


def _states(
    kernel: Kernel, st: State, a: int, b: int, steps: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The hidden states (steps + 1, H) and logits (steps,) of a + b."""
    states = np.empty((steps + 1, st.wh.shape[0]))
    logits = np.empty(steps)
    low = (1 << steps) - 1  # steps may stop before the operands' top bits
    a, b = a & low, b & low
    kernel.hidden_states(
        st.wi, st.wh, st.wo,
        _sampling.to_bits(a, steps), _sampling.to_bits(b, steps), states, logits,
    )  # fmt: skip
    return states, logits


def _pair_steps(a: int, b: int) -> int:
    """Steps ``add(a, b)`` runs: the larger bit length, plus one for the carry."""
    return max(a.bit_length(), b.bit_length()) + 1


def _is_integer(value: Any) -> bool:
    # numpy integer scalars too (and bools, which check.Integer refuses)
    return isinstance(value, numbers.Integral)


def _integer_list(name: str, values: Any) -> list[int]:
    """A sequence of non-negative integers, each checked as ``name``."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(
            f"{name} must be an integer or a sequence of integers, "
            f"got {type(values).__name__}"
        )
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    item = check.Integer(name, 0)
    return [item(v) for v in arr.tolist()]
