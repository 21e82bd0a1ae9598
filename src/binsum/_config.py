"""A network's configuration: one frozen, validated object.

The model, the command (its argument types), sweeps, the model file and
unpickling all check a network's settings here, so an error reads the same
wherever a setting comes from, and the lecture's settings are the defaults
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from binsum._validate import MAX_BITS, Integer, PositiveReal

# The lecture's settings: the defaults of the model, the command and sweeps.
HIDDEN_SIZE = 16
BITS = 8
LEARNING_RATE = 0.1
CLIP = 5.0
ITERATIONS = 10_000  # of a fit, and of the network shipped inside binsum

MAX_HIDDEN = 4096  # wh alone is then 128 MiB; larger is surely a mistake
MAX_SEED = 2**128 - 1  # SeedSequence entropy's size; fits the file's <U64 field

CHECK_HIDDEN_SIZE = Integer("hidden_size", 1, MAX_HIDDEN)
CHECK_BITS = Integer("bits", 1, MAX_BITS)
CHECK_LEARNING_RATE = PositiveReal("learning_rate")
CHECK_CLIP = PositiveReal("clip")
CHECK_SEED = Integer("seed", 0, MAX_SEED)
#: Each setting's check, in the order they are checked.
CHECKS: dict[str, Integer | PositiveReal] = {
    "hidden_size": CHECK_HIDDEN_SIZE,
    "bits": CHECK_BITS,
    "learning_rate": CHECK_LEARNING_RATE,
    "clip": CHECK_CLIP,
    "seed": CHECK_SEED,
}
KEYS = tuple(CHECKS)


def fresh_seed() -> int:
    """A seed drawn from the operating system's entropy (128 bits)."""
    return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Config:
    """hidden_size, bits, learning_rate, clip and seed, each checked.

    Built from any values the API accepts (numpy scalars too), it holds plain
    ints and floats. ``Config()`` is the lecture's configuration with seed 0
    (the network shipped inside binsum).
    """

    hidden_size: int = HIDDEN_SIZE
    bits: int = BITS
    learning_rate: float = LEARNING_RATE
    clip: float = CLIP
    seed: int = 0

    def __post_init__(self) -> None:
        for key, check in CHECKS.items():
            object.__setattr__(self, key, check(getattr(self, key)))
