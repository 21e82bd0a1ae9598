"""A model's state: one immutable snapshot of everything training changes.

``fit`` publishes a new ``State`` in a single assignment after each block, so
a reader (``predict``, ``weights``, pickling) never sees torn weights. The
random generator's state is packed into six uint64 words for the model file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from binsum import _sampling
from binsum._config import Config

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
