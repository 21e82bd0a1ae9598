"""Training pairs as the lecture's get_sample draws them, and operand bits.

Candidates are drawn from the generator in fixed chunks of ``CHUNK`` pairs and
the accepted ones queue up in a ``pending`` buffer that belongs to the model's
state. The sample stream therefore depends only on the seed and on how many
samples were consumed, never on how training was split into calls.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

CHUNK = 4096  # part of the saved format: changing it changes every stream

Pairs = NDArray[np.int64]  # shape (m, 2): columns a, b


def draw(
    rng: np.random.Generator, pending: Pairs, bits: int, count: int
) -> tuple[Pairs, Pairs]:
    """Take ``count`` pairs (a, b) with a, b < 2**bits - 1 and a + b <= 2**bits - 1.

    Returns (taken, new_pending); advances ``rng`` by whole chunks only.
    """
    largest = (1 << bits) - 1
    parts = [pending]
    have = len(pending)
    while have < count:
        cand = rng.integers(0, largest, size=(CHUNK, 2), dtype=np.int64)
        kept = cand[cand[:, 0] + cand[:, 1] <= largest]
        parts.append(kept)
        have += len(kept)
    pool = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return pool[:count], pool[count:]


def empty_pairs() -> Pairs:
    return np.zeros((0, 2), dtype=np.int64)


def all_pairs(bits: int, start: int, stop: int) -> tuple[Pairs, Pairs]:
    """Every pair (a, b) with a + b < 2**bits and start <= a < stop."""
    top = 1 << bits
    a_vals = np.arange(start, stop, dtype=np.int64)
    counts = top - a_vals  # b runs over 0 .. top - 1 - a
    a = np.repeat(a_vals, counts)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    b = np.arange(len(a), dtype=np.int64) - offsets
    return a, b


def random_pairs(bits: int, count: int, seed: int) -> tuple[Pairs, Pairs]:
    """``count`` uniform pairs with a + b < 2**bits (rejection sampling)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    top = 1 << bits
    out: list[Pairs] = []
    have = 0
    while have < count:
        cand = rng.integers(0, top, size=(max(count, 1024), 2), dtype=np.int64)
        kept = cand[cand[:, 0] < top - cand[:, 1]]
        out.append(kept)
        have += len(kept)
    pairs = np.concatenate(out)[:count]
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def all_operands(bits: int, start: int, stop: int) -> tuple[Pairs, Pairs]:
    """Every pair (a, b) with a, b < 2**bits and start <= a < stop."""
    top = 1 << bits
    a = np.repeat(np.arange(start, stop, dtype=np.int64), top)
    b = np.tile(np.arange(top, dtype=np.int64), stop - start)
    return a, b


def random_operands(bits: int, count: int, seed: int) -> tuple[Pairs, Pairs]:
    """``count`` uniform pairs with a, b < 2**bits (a + b may carry out)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    pairs = rng.integers(0, 1 << bits, size=(count, 2), dtype=np.int64)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def to_bits(value: int, length: int) -> NDArray[np.int64]:
    """The ``length`` lowest bits of a non-negative int, least significant first."""
    raw = np.frombuffer(value.to_bytes((length + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:length].astype(np.int64)


def from_bits(bits: NDArray[np.bool_]) -> int:
    """The int whose bits, least significant first, are ``bits``."""
    return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")
