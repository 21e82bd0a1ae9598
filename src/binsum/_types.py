"""The public types: what a type checker uses to catch misspelt keys and names.

``Weights`` (the ``weights`` property and ``loss_and_gradients``),
``WeightsUpdate`` (what ``weights = ...`` accepts), ``Backend`` (the
``backend`` arguments and attributes) and ``SweepRecord`` (what
``binsum.sweep`` returns). At run time they are plain dicts and strings.
"""

from __future__ import annotations

from typing import Literal, TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Backend", "SweepRecord", "Weights", "WeightsUpdate"]

#: A kernel's name: ``"cython"`` (the compiled kernel) or ``"python"`` (its twin).
Backend = Literal["cython", "python"]


class Weights(TypedDict):
    """A network's weight matrices, float64 arrays for hidden size H."""

    wi: NDArray[np.float64]
    """Input to hidden, shape (2, H)."""
    wh: NDArray[np.float64]
    """Hidden to hidden, shape (H, H)."""
    wo: NDArray[np.float64]
    """Hidden to output, shape (H, 1)."""


class WeightsUpdate(TypedDict, total=False):
    """Some or all weights to set (``model.weights = {...}``); any array-like."""

    wi: ArrayLike
    wh: ArrayLike
    wo: ArrayLike


class SweepRecord(TypedDict):
    """One trained configuration of ``binsum.sweep``: plain Python values."""

    hidden_size: int
    bits: int
    learning_rate: float
    clip: float
    seed: int
    backend: Backend | None
    """The backend asked for (None: the default)."""
    iterations: int
    score: float
    """The final ``score()``."""
    solved_at: int | None
    """The first checkpoint where every pair was exact, or None."""
    final_loss: float | None
    """The mean loss of the last ``check_every`` iterations (None if none)."""
    counterexample: list[int] | None
    """``[a, b]``, the smallest pair found that the trained network adds
    wrong (``counterexample(hard_bits)``), or None: none found, or the search
    was skipped (``hard_bits=0``)."""
    proven: bool | None
    """``certify().proven`` when the sweep was asked to certify
    (``certify=True``): True, the network is proven to add every pair of any
    length exactly; False, not proven (a counterexample, or no proof found).
    None when not asked."""
