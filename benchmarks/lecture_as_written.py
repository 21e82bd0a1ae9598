"""What the lecture's two wrong update lines cost.

Trains the lecture's numpy code as written and with the corrected updates
(binsum.lecture.lecture_code: both from BinarySumRNN(seed)'s initial weights
and training pairs) for seeds 0..N-1, and prints each network's exact-sum
accuracy over every pair with a + b < 2**8:

    python benchmarks/lecture_as_written.py 6
"""

from __future__ import annotations

import sys

from binsum import lecture

if __name__ == "__main__":
    seeds = range(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
    results = [lecture.lecture_code(seed=s) for s in seeds]
    for label in ("as written", "corrected"):
        runs = [getattr(r, label.replace(" ", "_")) for r in results]
        print(f"{label:>10}: " + "  ".join(f"{run.accuracy:.0%}" for run in runs))
