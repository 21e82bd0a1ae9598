"""Speed-up of the example's OpenMP threads: 64 networks (hidden 16) each
predicting 20,000 random 8-bit pairs, with 1 and 2 threads; medians of 5.

    python examples/embed/bench.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from binsum_grader import predict_batch

from binsum import BinarySumRNN


def main() -> None:
    models = [BinarySumRNN(seed=s) for s in range(64)]
    w = tuple(np.stack([m.weights[k] for m in models]) for k in ("wi", "wh", "wo"))
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 128, 20_000), rng.integers(0, 128, 20_000)
    seconds = {}
    for threads in (1, 2, 1, 2, 1, 2, 1, 2, 1, 2):  # interleaved: load hits both
        start = time.perf_counter()
        predict_batch(*w, a, b, threads=threads)
        seconds.setdefault(threads, []).append(time.perf_counter() - start)
    one, two = (statistics.median(seconds[t]) for t in (1, 2))
    pairs = 64 * 20_000
    print(f"1 thread: {pairs / one:,.0f} pairs/s; 2 threads: {pairs / two:,.0f} "
          f"pairs/s; speed-up {one / two:.2f}x")


if __name__ == "__main__":
    main()
