"""A model's state machine: its published ``State`` and the only ways it changes.

Readers (``predict``, ``weights``, ``save``, pickling) take ``state`` once and
use that snapshot: it is replaced whole, in one assignment, never changed, so
they never see torn weights. Writers (``fit``, ``set_weights``, a live
model's ``__setstate__``) hold ``writing()``: its lock runs them one after
the other, and the writer's thread id turns a change from inside the model's
own fit (a callback, the log's file), where waiting for the lock would
deadlock, into an error. fit's loss buffer and kernel scratch are kept here
for the next fit; only a writer touches them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from binsum import _sampling
from binsum._config import Config
from binsum._state import State

if TYPE_CHECKING:
    from binsum._backend import Kernel

# Elements a piece of the per-block weight copy and finiteness check (4 MB,
# about a millisecond): Python handles signals between pieces.
COPY_PIECE = 1 << 19


class Trainer:
    """The published state of one model, its writers' lock, and fit's buffers."""

    def __init__(self, state: State) -> None:
        self.state = state  # one immutable snapshot, replaced whole
        self._lock = threading.Lock()
        self._writer: int | None = None  # the thread inside writing(), if any
        self.history_buffer: NDArray[np.float64] | None = None  # fit's losses
        self._work: NDArray[np.float64] | None = None  # fit's kernel scratch

    @contextlib.contextmanager
    def writing(self, what: str) -> Iterator[None]:
        """Hold the lock to change the state; from inside the model's own fit
        (a callback, the log's file), where waiting would deadlock, raise."""
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

    def restart(self, state: State) -> None:
        """Publish another model's state (a writer only): fit's buffers, sized
        for the old one, go."""
        self.history_buffer = None
        self._work = None
        self.state = state

    def train_block(
        self,
        kernel: Kernel,
        config: Config,
        pairs: _sampling.Pairs,
        rng: np.random.Generator,
        pending: _sampling.Pairs,
    ) -> None:
        """Train one block on copies of the weights (a writer only), then
        publish the new state at once (or raise, keeping the last finite
        state)."""
        st = self.state
        end = st.iterations + len(pairs)
        kept = len(st.history)  # the losses of the last ``kept`` iterations
        wi, wh, wo = _copy(st.wi), _copy(st.wh), _copy(st.wo)
        history = self._history_room(st, kept + len(pairs))
        work = self._scratch(kernel, config)
        kernel.train(
            wi, wh, wo,
            np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]),
            config.bits, config.learning_rate, config.clip,
            history[kept : kept + len(pairs)], work,
        )  # fmt: skip
        if not all(_finite(w) for w in (wi, wh, wo)):
            raise FloatingPointError(
                f"training diverged within iterations {st.iterations}..{end}: "
                "weights became non-finite; lower learning_rate or clip (the "
                "model keeps its last finite state)"
            )
        self.state = State(
            wi=wi,
            wh=wh,
            wo=wo,
            rng_state=rng.bit_generator.state,
            pending=pending,
            history=history[: kept + len(pairs)],
            iterations=end,
        )

    def _scratch(self, kernel: Kernel, config: Config) -> NDArray[np.float64]:
        """fit's kernel scratch (2 * H**2 doubles and a little more), kept for
        the next fit. Not zeroed: the kernel writes every part before reading
        it."""
        if self._work is None:
            self._work = np.empty(kernel.work_size(config.hidden_size, config.bits))
        return self._work

    def _history_room(self, st: State, need: int) -> NDArray[np.float64]:
        """A writable loss buffer holding st's history and room up to ``need``.

        It grows geometrically with what has been trained (many small fits
        stay linear in time), never to a whole call's length up front:
        fit(2**40) starts at once. Entries past a state's iterations belong to
        no state.
        """
        buf = self.history_buffer
        if buf is None or len(buf) < need or not _views(st.history, buf):
            buf = np.empty(max(need, 2 * len(st.history)))
            buf[: len(st.history)] = st.history
            self.history_buffer = buf
        return buf


def _views(view: NDArray[Any], buffer: NDArray[Any]) -> bool:
    # Whether ``view`` is a slice of fit's buffer (a function, not an inline
    # ``is``: mypy would narrow the buffer's type to the view's base).
    return view.base is buffer


def _pieces(arr: NDArray[np.float64]) -> Iterator[slice]:
    """Row slices of ``arr`` of about COPY_PIECE elements (at least a row)."""
    rows = max(1, COPY_PIECE // max(1, arr[0].size))
    return (slice(r, r + rows) for r in range(0, len(arr), rows))


def _copy(arr: NDArray[np.float64]) -> NDArray[np.float64]:
    """A writable copy made a piece at a time (Ctrl-C lands between pieces)."""
    out = np.empty_like(arr)
    for rows in _pieces(arr):
        out[rows] = arr[rows]
    return out


def _finite(arr: NDArray[np.float64]) -> bool:
    """Whether every element is finite, checked a piece at a time."""
    return all(bool(np.isfinite(arr[rows]).all()) for rows in _pieces(arr))
