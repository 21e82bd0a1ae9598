"""README's sweep table: hidden 4, 6, 8, 16 x seeds 0-9, 10,000 iterations.

    python benchmarks/sweep_table.py [--seeds 10] [--certify] [--json out.json]

Runs ``binsum.sweep`` on the README's configurations (the default settings
otherwise) and prints the table in Markdown: per hidden size, how many seeds
learned (``score()`` 1.0 at some checkpoint), how many have no hard-case
counterexample up to 4,096 bits (they add every pair the search tries, carry-out
included), with ``--certify`` how many are proven exact for every length
(``certify()``: seconds to a minute per network), the median iterations to a
score of 1.0, the mean final score and loss, and the sweep's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import binsum

HIDDEN = (4, 6, 8, 16)


def row(records: list[dict[str, Any]], certify: bool) -> str:
    solved = [r["solved_at"] for r in records if r["solved_at"] is not None]
    add = sum(r["counterexample"] is None for r in records)
    median = f"{statistics.median(solved):,.0f}" if solved else "—"
    cells = [
        f"{len(solved)}",
        f"{add}",
        *([f"{sum(r['proven'] is True for r in records)}"] if certify else []),
        median,
        f"{statistics.mean(r['score'] for r in records):.3f}",
        f"{statistics.mean(r['final_loss'] for r in records):.4f}",
    ]
    return " | ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--certify", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    configs = [{"hidden_size": h, "seed": s} for h in HIDDEN for s in range(args.seeds)]
    start = time.perf_counter()
    records = binsum.sweep(configs, 10_000, certify=args.certify)
    took = time.perf_counter() - start
    n = args.seeds
    head = [
        "hidden units",
        f"learned (of {n} seeds)",
        "no counterexample up to 4,096 bits",
    ]
    head += ["proven exact"] if args.certify else []
    head += ["median iterations to 100 %", "mean final score", "mean final loss"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---:|" * len(head))
    for h in HIDDEN:
        mine = [r for r in records if r["hidden_size"] == h]
        print(f"| {h} | {row(mine, args.certify)} |")
    print(f"\n{len(records)} runs, {took:.1f} s on {os.cpu_count()} cores")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1, default=str)
            f.write("\n")


if __name__ == "__main__":
    main()
