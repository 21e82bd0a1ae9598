"""A model's state: one immutable snapshot of everything training changes.

``fit`` publishes a new ``State`` in a single assignment after each block, so
a reader (``predict``, ``weights``, pickling) never sees torn weights. Each
state keeps one prefix table of its weights (``PrefixCache``), shared by
every ``predict`` that reads them. ``fields`` and ``from_fields`` convert a
state (and its configuration) to and from the model file's fields, where the
random generator's state is packed into six uint64 words.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from binsum import _modelfile, _sampling
from binsum._config import Config

if TYPE_CHECKING:
    from binsum._backend import Kernel


@dataclass(frozen=True)
class PrefixTable:
    """A finished, read-only prefix table of ``depth`` steps (kernel.prefix_table)."""

    depth: int
    states: NDArray[np.float64]  # (4**depth, H)
    masks: NDArray[np.int64]  # (4**depth,)


class PrefixCache:
    """The prefix table of one state's weights, built once and then only read.

    A deeper table gives the same sums (it computes the same first steps
    once), so the deepest table built so far serves every call that asks for
    no more; a call that asks for more builds the deeper one behind the lock,
    once, and it replaces the old one (calls still reading that keep it until
    they return). A state thus holds one table, however many calls and
    threads read it, and a call of a few pairs never builds a large one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._table: PrefixTable | None = None  # replaced whole, never changed

    def get(self, kernel: Kernel, st: State, depth: int) -> PrefixTable:
        """A table of ``st``'s weights at least ``depth`` steps deep."""
        table = self._table  # one read: None or a finished table
        if table is None or table.depth < depth:
            with self._lock:
                table = self._table
                if table is None or table.depth < depth:
                    table = _build_table(kernel, st, depth)
                    self._table = table
        return table


def _build_table(kernel: Kernel, st: State, depth: int) -> PrefixTable:
    states = np.empty((4**depth, st.wh.shape[0]))
    masks = np.empty(4**depth, dtype=np.int64)
    kernel.prefix_table(st.wi, st.wh, st.wo, states, masks)
    states.flags.writeable = False
    masks.flags.writeable = False
    return PrefixTable(depth, states, masks)


_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class State:
    """Weights, sampler and loss history at ``iterations``; never mutated once
    published (its arrays are made read-only, so no reference can change them)."""

    wi: NDArray[np.float64]
    wh: NDArray[np.float64]
    wo: NDArray[np.float64]
    rng_state: Mapping[str, Any]
    pending: NDArray[np.int64]  # pairs drawn but not yet trained (_sampling)
    history: NDArray[np.float64]  # one loss per iteration
    iterations: int
    # Derived from the weights; a new state (also one made by replace())
    # starts without a table.
    prefix: PrefixCache = field(
        default_factory=PrefixCache, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for arr in (self.wi, self.wh, self.wo, self.pending, self.history):
            arr.flags.writeable = False


def initial(config: Config) -> State:
    """The lecture's init_nn: wi, wh, wo uniform in [-1, 1), in that order,
    from PCG64(seed); sampling continues from the same generator."""
    rng = np.random.Generator(np.random.PCG64(config.seed))
    h = config.hidden_size
    wi = 2 * rng.random((2, h)) - 1
    wh = 2 * rng.random((h, h)) - 1
    wo = 2 * rng.random((h, 1)) - 1
    return State(
        wi=wi,
        wh=wh,
        wo=wo,
        rng_state=rng.bit_generator.state,
        pending=_sampling.empty_pairs(),
        history=np.zeros(0),
        iterations=0,
    )


def generator(rng_state: Mapping[str, Any]) -> np.random.Generator:
    """A PCG64 generator that continues from ``rng_state``."""
    bitgen = np.random.PCG64()
    bitgen.state = dict(rng_state)  # type: ignore[assignment]
    return np.random.Generator(bitgen)


def pack_rng(state: Mapping[str, Any]) -> NDArray[np.uint64]:
    """PCG64's state as six words: state and increment (128 bits each, high
    word first), then has_uint32 and uinteger."""
    s, inc = state["state"]["state"], state["state"]["inc"]
    words = [s >> 64, s & _MASK64, inc >> 64, inc & _MASK64]
    words += [state["has_uint32"], state["uinteger"]]
    return np.array(words, dtype=np.uint64)


def unpack_rng(words: NDArray[np.uint64]) -> dict[str, Any]:
    w = [int(x) for x in words]
    return {
        "bit_generator": "PCG64",
        "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3]},
        "has_uint32": w[4],
        "uinteger": w[5],
    }


def fields(config: Config, st: State, copy: bool = False) -> dict[str, Any]:
    """The model file's fields (see _modelfile.FIELDS) of ``config`` and
    ``st``; the arrays are the state's own unless ``copy``."""

    def own(arr: NDArray[Any]) -> NDArray[Any]:
        return arr.copy() if copy else arr

    return {
        "hidden_size": np.int64(config.hidden_size),
        "bits": np.int64(config.bits),
        "learning_rate": np.float64(config.learning_rate),
        "clip": np.float64(config.clip),
        "iterations": np.int64(st.iterations),
        "seed": np.array(str(config.seed), dtype="<U64"),
        "wi": own(st.wi),
        "wh": own(st.wh),
        "wo": own(st.wo),
        "history": own(st.history),
        "pending": own(st.pending),
        "rng_state": pack_rng(st.rng_state),
    }


def from_fields(f: _modelfile.Fields) -> State:
    """The state of fields that passed _modelfile.check_fields (the only
    maker of Fields): nothing unchecked reaches the kernel."""
    if not isinstance(f, _modelfile.Fields):
        raise TypeError(f"expected checked Fields, got {type(f).__name__}")
    # The arrays are check_fields' own (fresh copies or just read): the
    # state may keep them as they are.
    return State(
        wi=f.wi,
        wh=f.wh,
        wo=f.wo,
        rng_state=unpack_rng(f.rng_state),
        pending=f.pending,
        history=f.history,
        iterations=f.iterations,
    )
