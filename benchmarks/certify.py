"""Certification over a grid of networks: how many are proven, and how fast.

    python benchmarks/certify.py [--hidden 4 6 8 16 32] [--seeds 0-19]
        [--json out.json]

Each network is ``BinarySumRNN(hidden_size=h, seed=s).fit(10_000)`` (the
default settings). For each one the benchmark times ``counterexample()``,
``certify()`` (which runs ``counterexample()`` again first, so its time
includes it) and, when proven, ``Certificate.check`` (the proof re-checked
without the search), and records the verdict: proven, counterexample (the
network adds some pair wrongly) or not proven (no counterexample found, no
invariant found either). numpy runs on one thread (threadpoolctl), so the
times are one core's; the hard-case search runs on the compiled kernel.

It prints one line per network, then a table by hidden size (counts and
median times) and the share of proven networks among those without a
counterexample. ``--json`` writes every network's record and the table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import sys
import time
from typing import Any

from binsum import BinarySumRNN, _hardcases


def seed_list(text: str) -> list[int]:
    """``0-19``, ``3`` or ``0,2,5-7`` as a list of seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if first < 0 or last < first:
            raise argparse.ArgumentTypeError(f"bad seed range {part!r}")
        seeds.extend(range(first, last + 1))
    return seeds


def one_thread() -> contextlib.AbstractContextManager[Any]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print(
            "threadpoolctl is not installed: numpy's BLAS may use several "
            "threads (pip install threadpoolctl)",
            file=sys.stderr,
        )
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def measure(hidden: int, seed: int) -> dict[str, Any]:
    model = BinarySumRNN(hidden_size=hidden, seed=seed).fit(10_000)
    start = time.perf_counter()
    pair = model.counterexample()
    hard = time.perf_counter() - start
    start = time.perf_counter()
    cert = model.certify()
    certify = time.perf_counter() - start
    check = None
    if cert.proven:
        start = time.perf_counter()
        held = cert.check(model)
        check = time.perf_counter() - start
        assert held, (hidden, seed)
    if pair is not None:
        verdict = "counterexample"
    else:
        verdict = "proven" if cert.proven else "not proven"
    assert not (cert.proven and pair is not None), (hidden, seed)
    return {
        "hidden": hidden,
        "seed": seed,
        "score": model.score(),
        "verdict": verdict,
        "counterexample": None if pair is None else [str(pair[0]), str(pair[1])],
        "reason": cert.reason,
        "slack": None if not cert.proven else cert.slack,
        "margin": None if not cert.proven else cert.margin,
        "counterexample_s": hard,
        "certify_s": certify,
        "check_s": check,
    }


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def table(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for hidden in sorted({r["hidden"] for r in records}):
        mine = [r for r in records if r["hidden"] == hidden]
        count = {
            v: sum(r["verdict"] == v for r in mine)
            for v in ("proven", "counterexample", "not proven")
        }
        rows.append(
            {
                "hidden": hidden,
                "networks": len(mine),
                **count,
                "counterexample_s": median([r["counterexample_s"] for r in mine]),
                # certify's time where it searched for an invariant (no counterexample)
                "certify_s": median(
                    [r["certify_s"] for r in mine if r["verdict"] != "counterexample"]
                ),
                "check_s": median(
                    [r["check_s"] for r in mine if r["check_s"] is not None]
                ),
            }
        )
    return rows


def seconds(value: float | None, unit: float = 1.0, digits: int = 2) -> str:
    return "-" if value is None else f"{value / unit:.{digits}f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        "\n| hidden | networks | counterexample | proven | not proven "
        "| counterexample() ms | certify() s | check() s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['hidden']} | {r['networks']} | {r['counterexample']} | "
            f"{r['proven']} | {r['not proven']} | "
            f"{seconds(r['counterexample_s'], 1e-3, 0)} | "
            f"{seconds(r['certify_s'], 1.0, 1)} | {seconds(r['check_s'])} |"
        )
    proven = sum(r["proven"] for r in rows)
    clean = proven + sum(r["not proven"] for r in rows)
    total = sum(r["networks"] for r in rows)
    share = f"{proven / clean:.0%}" if clean else "-"
    print(
        f"\n{proven} of {clean} networks without a counterexample proven "
        f"({share}); {total - clean} of {total} have a counterexample."
    )
    print(
        "Medians; certify() over the networks without a counterexample "
        "(it includes its own counterexample() call), check() over the proven."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[4, 6, 8, 16, 32])
    parser.add_argument(
        "--seeds",
        type=seed_list,
        default=seed_list("0-19"),
        help="seeds, e.g. 0-19 or 0,3,5-7 (default 0-19)",
    )
    parser.add_argument("--json", default=None, help="write the records here")
    args = parser.parse_args()
    records = []
    _hardcases.candidates(4096)  # built once per process, not counted
    with one_thread():
        print(
            f"{'hidden':>6} {'seed':>4} {'verdict':<15} {'hard ms':>8} "
            f"{'certify s':>9} {'check s':>8}  reason"
        )
        for hidden in args.hidden:
            for seed in args.seeds:
                r = measure(hidden, seed)
                records.append(r)
                print(
                    f"{hidden:>6} {seed:>4} {r['verdict']:<15} "
                    f"{r['counterexample_s'] * 1e3:>8.0f} {r['certify_s']:>9.1f} "
                    f"{seconds(r['check_s']):>8}  {r['reason'][:60]}",
                    flush=True,
                )
    rows = table(records)
    print_table(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "machine": platform.processor() or platform.machine(),
                    "python": platform.python_version(),
                    "table": rows,
                    "records": records,
                },
                f,
                indent=1,
            )
            f.write("\n")


if __name__ == "__main__":
    main()
