"""The hard cases over a grid of networks: who fails, what, and how fast.

    python benchmarks/hard_cases.py [--hidden 4 6 8 16 32] [--seeds 20]
        [--max-bits 4096] [--words 3000] [--json tests/data/hard_cases.json]

Each network is ``BinarySumRNN(hidden_size=h, seed=s).fit()`` (the default
settings, 10,000 iterations). For each one the table gives ``score()``,
``counterexample(max_bits)`` and an independent, stronger random check that
does not share the search's candidates: ``--words`` random words of up to
max_bits steps made of runs of carry-keeping inputs of random geometric
lengths (mean 2**U(0, 12)) with random switches between them, plus 200,000
random 62-bit pairs and 2,000 random pairs of 256 and of max_bits bits. A
network that the random check catches but ``counterexample`` misses is
reported as MISSED (there must be none). Last, the median time of one
``counterexample(max_bits)`` call by hidden size (the compiled kernel, one
thread; the first call of a max_bits builds the candidates, not counted:
that is printed apart), also for hidden 64 (``--time-hidden``).

``--json`` writes the failing networks (hidden, seed, the smallest failing
pair) for the tests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from binsum import BinarySumRNN, _hardcases

KEEP = {0: ((0, 0), (1, 0), (0, 1)), 1: ((1, 0), (0, 1), (1, 1))}


def random_word(rng: np.random.Generator, max_bits: int) -> tuple[int, int]:
    """A pair read as runs of carry-keeping inputs of geometric lengths."""
    target = int(rng.integers(1, max_bits + 1))
    a = b = 0
    t = carry = 0
    while t < target:
        if rng.random() < 0.15:  # a random input, which may change the carry
            x, y = (int(v) for v in rng.integers(0, 2, 2))
            length = 1
        else:
            x, y = KEEP[carry][int(rng.integers(0, 3))]
            mean = 2.0 ** rng.uniform(0, 12)
            length = int(rng.geometric(1.0 / mean))
        length = min(length, target - t)
        run = ((1 << length) - 1) << t
        a |= run if x else 0
        b |= run if y else 0
        carry = carry if x + y == 1 else (x + y) // 2
        t += length
    return a, b


def random_failure(
    model: BinarySumRNN, rng: np.random.Generator, max_bits: int, words: int
) -> tuple[int, int] | None:
    """A pair the random check finds wrong, or None."""
    for _ in range(words):
        a, b = random_word(rng, max_bits)
        if model.add(a, b) != a + b:
            return a, b
    a = rng.integers(0, 2**62, 200_000, dtype=np.int64)
    b = rng.integers(0, 2**62, 200_000, dtype=np.int64)
    a, b = a >> 1, b >> 1  # a + b stays inside int64
    bad = np.flatnonzero(model.predict(a, b) != a + b)
    if len(bad):
        return int(a[bad[0]]), int(b[bad[0]])
    for bits in (256, max_bits):
        for _ in range(2000):
            x = int.from_bytes(rng.bytes((bits + 7) // 8), "little") >> (-bits % 8)
            y = int.from_bytes(rng.bytes((bits + 7) // 8), "little") >> (-bits % 8)
            if model.add(x, y) != x + y:
                return x, y
    return None


def timed(model: BinarySumRNN, max_bits: int) -> tuple[float, tuple[int, int] | None]:
    start = time.perf_counter()
    found = model.counterexample(max_bits)
    return time.perf_counter() - start, found


def short(pair: tuple[int, int] | None) -> str:
    if pair is None:
        return "none"
    a, b = pair
    if max(a, b).bit_length() > 40:
        return f"({a.bit_length()}-bit, {b.bit_length()}-bit)"
    return f"{a} + {b}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[4, 6, 8, 16, 32])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--max-bits", type=int, default=4096)
    parser.add_argument("--words", type=int, default=3000)
    parser.add_argument("--time-hidden", type=int, nargs="*", default=[64])
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    start = time.perf_counter()
    _hardcases.candidates(args.max_bits)
    print(f"candidates for max_bits={args.max_bits}: "
          f"{time.perf_counter() - start:.3f} s (once)")
    times: dict[int, list[float]] = {}
    failing, missed = [], []
    head = f"{'hidden':>6} {'seed':>4} {'score':>9}  {'counterexample':<34}"
    print(f"{head} random check")
    for hidden in args.hidden:
        for seed in range(args.seeds):
            model = BinarySumRNN(hidden_size=hidden, seed=seed).fit()
            elapsed, found = timed(model, args.max_bits)
            times.setdefault(hidden, []).append(elapsed)
            rng = np.random.Generator(np.random.PCG64([hidden, seed]))
            other = random_failure(model, rng, args.max_bits, args.words)
            if found is not None:
                assert model.add(*found) != sum(found)
                failing.append({"hidden": hidden, "seed": seed, "pair": list(found)})
            if other is not None and found is None:
                missed.append((hidden, seed, other))
            mark = "MISSED " if other is not None and found is None else ""
            print(f"{hidden:>6} {seed:>4} {model.score():>9.4%}  "
                  f"{short(found):<34} {mark}{short(other)}", flush=True)
    for hidden in args.time_hidden:
        for seed in range(5):
            model = BinarySumRNN(hidden_size=hidden, seed=seed).fit()
            elapsed, found = timed(model, args.max_bits)
            times.setdefault(hidden, []).append(elapsed)
            print(f"{hidden:>6} {seed:>4} {model.score():>9.4%}  {short(found)} "
                  "(timing only)", flush=True)
    print(f"\n{len(failing)} failing networks, {len(missed)} missed by "
          "counterexample()")
    print("counterexample() time, median (max) by hidden size:")
    for hidden, values in sorted(times.items()):
        print(f"  hidden {hidden:>3}: {statistics.median(values) * 1e3:7.1f} ms "
              f"({max(values) * 1e3:.1f} ms) over {len(values)} networks")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"max_bits": args.max_bits, "failing": failing}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
