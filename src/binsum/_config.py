"""A network's configuration: one frozen, validated object.

The model, the command, sweeps, the model file and unpickling all check a
network's settings here, with the constructor's rules (``_rules``), so an
error reads the same wherever a setting comes from, and the lecture's
settings are the defaults everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from binsum._rules import TABLE

# The lecture's settings: the defaults of the model, the command and sweeps.
HIDDEN_SIZE = 16
BITS = 8
LEARNING_RATE = 0.1
CLIP = 5.0
ITERATIONS = 10_000  # of a fit, and of the network shipped inside binsum

#: Each setting's rule (the constructor's), in the order they are checked.
CHECKS = TABLE["BinarySumRNN"]
KEYS = tuple(CHECKS)  # the settings' names, Config's fields


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
