"""Which pairs a score checks, decided once for the model, the command and sweeps.

Up to EXHAUSTIVE_BITS every pair with a + b < 2**bits is checked; beyond, or
when a sample size is given, that many uniform random pairs estimate it.
With ``carry_out`` the pairs are every a, b < 2**bits instead (``binsum
eval``'s second line): the sums that carry out into bit ``bits`` too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from binsum import _sampling
from binsum._sampling import Pairs

EXHAUSTIVE_BITS = 12  # 8,390,656 pairs: a few seconds on the kernel
DEFAULT_SAMPLE = 100_000
_CHUNK = 1 << 21  # pairs per predict call when checking every pair


@dataclass(frozen=True)
class ScorePairs:
    """The pairs of one score: every pair (sample None) or a random sample."""

    bits: int
    sample: int | None
    seed: int
    carry_out: bool = False  # every a, b < 2**bits, not only a + b < 2**bits

    @classmethod
    def choose(
        cls,
        bits: int,
        sample: int | None = None,
        seed: int = 0,
        carry_out: bool = False,
    ) -> ScorePairs:
        """The one decision: every pair up to EXHAUSTIVE_BITS unless a sample
        is asked for; beyond, DEFAULT_SAMPLE random pairs by default."""
        if sample is None and bits > EXHAUSTIVE_BITS:
            sample = DEFAULT_SAMPLE
        return cls(bits, sample, seed, carry_out)

    @property
    def count(self) -> int:
        if self.sample is not None:
            return self.sample
        top = 1 << self.bits
        return top * top if self.carry_out else top * (top + 1) // 2

    def describe(self) -> str:
        """E.g. "all 32,896 pairs with a + b < 2**8" or, with carry_out,
        "all 65,536 pairs with a, b < 2**8"."""
        which = "all {:,} pairs" if self.sample is None else "{:,} random pairs"
        where = "a, b" if self.carry_out else "a + b"
        return f"{which.format(self.count)} with {where} < 2**{self.bits}"

    def chunks(self, size: int = _CHUNK) -> Iterator[tuple[Pairs, Pairs]]:
        """The pairs (a, b), in chunks of at most about ``size`` pairs (whole
        values of a when every pair is checked) that bound predict's memory."""
        if self.sample is not None:
            if self.carry_out:
                a, b = _sampling.random_operands(self.bits, self.sample, self.seed)
            else:
                a, b = _sampling.random_pairs(self.bits, self.sample, self.seed)
            for start in range(0, len(a), size):
                yield a[start : start + size], b[start : start + size]
            return
        top = 1 << self.bits
        start = 0
        while start < top:
            stop = min(top, start + max(1, size // top))
            if self.carry_out:
                yield _sampling.all_operands(self.bits, start, stop)
            else:
                yield _sampling.all_pairs(self.bits, start, stop)
            start = stop

    def count_exact(
        self,
        predict: Callable[[Pairs, Pairs], Pairs],
        progress: Callable[[int], object] | None = None,
        size: int = _CHUNK,
    ) -> int:
        """How many of the pairs ``predict(a, b)`` sums exactly: the one
        scoring loop of ``score`` and ``binsum eval``. ``progress(n)`` is
        called after each chunk of ``n`` pairs."""
        correct = 0
        for a, b in self.chunks(size):
            correct += int(np.count_nonzero(predict(a, b) == a + b))
            if progress is not None:
                progress(len(a))
        return correct

    def shuffled(self) -> tuple[Pairs, Pairs]:
        """All the pairs in a fixed random order: any prefix is a fair sample
        (a sweep's checkpoints stop at the first wrong sum)."""
        parts = list(self.chunks())
        a = np.concatenate([p[0] for p in parts])
        b = np.concatenate([p[1] for p in parts])
        order = np.random.Generator(np.random.PCG64(0)).permutation(len(a))
        return a[order], b[order]
