"""binsum.sweep over MPI ranks, with mpi4py's MPIPoolExecutor.

    mpiexec -n 3 python -m mpi4py.futures examples/sweep_mpi.py

Rank 0 runs this script and hands the configurations to the other ranks (two
workers here); it prints one JSON record per configuration, in input order.
The records are those of ``binsum.sweep(CONFIGS, ITERATIONS)`` on a thread
pool, bit for bit: a model depends only on its configuration and the
iterations trained (.ci/mpi checks it).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import binsum

# A small sweep, three seeds per hidden size: with 4 units none learns 6-bit
# addition in 3,000 samples, with 8 and 16 most do.
CONFIGS: list[dict[str, Any]] = [
    {"hidden_size": h, "bits": 6, "learning_rate": 0.5, "seed": s}
    for h in (4, 8, 16)
    for s in range(3)
]
ITERATIONS = 3_000
CHECK_EVERY = 250


def main() -> None:
    from mpi4py.futures import MPIPoolExecutor

    with MPIPoolExecutor() as pool:
        workers = pool.num_workers  # the other ranks: mpiexec -n 3 gives 2
        records = binsum.sweep(CONFIGS, ITERATIONS, pool, check_every=CHECK_EVERY)
    print(
        f"{len(records)} configurations trained on {workers} MPI workers",
        file=sys.stderr,
    )
    for record in records:
        print(json.dumps(record, sort_keys=True))


if __name__ == "__main__":
    main()
