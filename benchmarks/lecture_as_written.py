"""What the lecture's two wrong update lines cost.

Trains the lecture's code as written (numpy_reference.train with
as_written=True) and with the corrected updates, from the same seeds, and
prints each network's exact-sum accuracy over every pair with a + b < 2**8:

    python benchmarks/lecture_as_written.py 6
"""

from __future__ import annotations

import sys

import numpy as np
import numpy_reference as ref

BITS, HIDDEN, ITERATIONS = 8, 16, 10_000


def exact_fraction(seed: int, as_written: bool) -> float:
    rng = np.random.default_rng(seed)
    wi, wh, wo = ref.init_nn(2, HIDDEN, 1, rng)
    stream = ref.samples(ref.make_dataset(BITS), rng)
    ref.train(wi, wh, wo, ITERATIONS, stream, HIDDEN, as_written=as_written)
    top = 2**BITS
    a = np.repeat(np.arange(top), np.arange(top, 0, -1))
    b = np.concatenate([np.arange(top - x) for x in range(top)])
    return float(np.mean(ref.forward_sums(wi, wh, wo, a, b, BITS) == a + b))


if __name__ == "__main__":
    seeds = range(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
    for label, as_written in (("as written", True), ("corrected", False)):
        scores = [exact_fraction(s, as_written) for s in seeds]
        print(f"{label:>10}: " + "  ".join(f"{x:.0%}" for x in scores))
