"""The ``binsum`` command: train the lecture's network, then use it."""

from __future__ import annotations

import argparse
import sys
import time

from binsum import BinarySumRNN, __version__, backend


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="binsum",
        description="Train an RNN to add binary numbers (the lecture's exercise), "
        "report its exact-sum accuracy and add two numbers with it.",
    )
    parser.add_argument("--version", action="version", version=f"binsum {__version__}")
    parser.add_argument("--hidden-size", type=int, default=16)
    parser.add_argument("--bits", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--clip", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=1000)
    parser.add_argument("--add", nargs=2, metavar=("A", "B"), default=("12345678901234567890", "98765432109876543210"))
    args = parser.parse_args(argv)
    try:
        a, b = (int(x, 0) for x in args.add)
        model = BinarySumRNN(
            hidden_size=args.hidden_size,
            bits=args.bits,
            learning_rate=args.learning_rate,
            clip=args.clip,
            seed=args.seed,
        )
        t0 = time.perf_counter()
        model.fit(args.iterations, verbose=True, log_every=args.log_every)
        elapsed = time.perf_counter() - t0
        print(f"trained {args.iterations} iterations in {elapsed:.3f} s ({backend} backend)")
        print(f"exact sums over all {args.bits}-bit pairs: {model.score():.2%}")
        total = model.add(a, b)
        mark = "correct" if total == a + b else f"wrong, the true sum is {a + b}"
        print(f"{a} + {b} = {total} ({mark})")
    except (ValueError, TypeError, OSError) as exc:
        print(f"binsum: error: {exc}", file=sys.stderr)
        return 2
    return 0
