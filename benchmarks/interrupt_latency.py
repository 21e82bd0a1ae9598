"""How long Ctrl-C takes to stop a compiled fit (and predict), from the
default network to the largest one binsum allows.

    python benchmarks/interrupt_latency.py [--repeat 12] [--sizes 1024x62,4096x62]
                                          [--what fit,predict] [--threads 1,2,8]
                                          [--seed 0]

One child process per size and call keeps its model and runs the call again
and again; the parent sends SIGINT at a random moment of each run and the
child stamps the moment its KeyboardInterrupt arrives. The latency is that
stamp minus the moment the signal was sent (one machine, one clock). The
moments cover the whole of a call, in equal shares:

- start: the first half second of a call (or of its first block), on a model
  that was never trained, so fit's first allocations are included;
- anywhere: uniform over the first three blocks of a call;
- block end: about the end of the first or second block (one or two block
  periods, +-10 %: the end of a sample at hidden 4096, a block there).

A block is what one kernel call of fit trains (one sample at hidden 4096),
timed in the child before the runs; predict's moments are spread over its
first seconds the same way (the child predicts one batch after another).
Predict runs on each of ``--threads`` (its batches are then split over that
many worker threads; fit always runs on one). The table gives, per size,
call and thread count, the median and the worst latency over
all runs, and the moment the worst one came from.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import subprocess
import sys
import time

SIZES = [(16, 8), (256, 62), (1024, 62), (4096, 62)]  # (hidden_size, bits)
PHASES = ("start", "anywhere", "block end")

CHILD = r"""
import sys, time
import numpy as np
from binsum import BinarySumRNN
from binsum._model import block_size

what, hidden, bits, threads = sys.argv[1], *map(int, sys.argv[2:5])

def fresh():
    return BinarySumRNN(hidden_size=hidden, bits=bits, seed=1, backend="cython")

model = fresh()
if what == "fit":
    # One block's duration, from a second call (the first allocates).
    model.fit(block_size(hidden, bits))
    began = time.perf_counter()
    model.fit(block_size(hidden, bits))
    period = time.perf_counter() - began
    model = fresh()
    run = lambda: model.fit(2**40)
else:
    # Batches of 62-bit operands, a second or so each, one after another.
    rng = np.random.default_rng(0)
    n = max(64, min(1 << 20, int(5e9) // (63 * hidden * hidden)))
    a, b = (rng.integers(0, 2**61, n) for _ in range(2))
    period = 1.0

    def run():
        while True:
            model.predict(a, b, threads=threads)
print("ready", period, flush=True)
for line in sys.stdin:
    if line.split()[0] == "fresh":
        model = fresh()
    try:  # a signal right after "go" lands in here too
        print("go", flush=True)
        run()
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("stopped", time.time(), flush=True)
"""


def default_sigint() -> None:
    # In the child before exec: a parent started with SIGINT ignored (cmd &)
    # would pass that on, and Python would install no KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def moment(phase: str, period: float, rng: random.Random) -> float:
    """Seconds after a call starts at which to send SIGINT."""
    if phase == "start":
        return rng.uniform(0.0, min(0.5, period))
    if phase == "anywhere":
        return rng.uniform(0.0, 3 * period)
    return rng.choice((1, 2)) * period * rng.uniform(0.9, 1.1)


def measure(
    what: str, hidden: int, bits: int, threads: int, repeat: int, rng: random.Random
) -> list[tuple[float, str]]:
    """(latency in seconds, phase) of ``repeat`` runs in each phase."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, what, str(hidden), str(bits), str(threads)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        preexec_fn=default_sigint,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    runs = []
    try:
        word, period = proc.stdout.readline().split()
        if word != "ready":
            raise RuntimeError("the child did not start")
        phases = [p for p in PHASES for _ in range(repeat)]
        rng.shuffle(phases)
        for phase in phases:
            proc.stdin.write("fresh\n" if phase == "start" else "again\n")
            proc.stdin.flush()
            if proc.stdout.readline() != "go\n":
                raise RuntimeError("the child did not start its call")
            time.sleep(moment(phase, float(period), rng))
            sent = time.time()
            proc.send_signal(signal.SIGINT)
            word, *stamp = proc.stdout.readline().split()
            if word != "stopped":
                raise RuntimeError(f"the call ended before SIGINT ({phase})")
            runs.append((float(stamp[0]) - sent, phase))
    finally:
        proc.kill()
        proc.wait()
    return runs


def size(text: str) -> tuple[int, int]:
    hidden, bits = text.split("x")
    return int(hidden), int(bits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=12, help="runs per phase")
    parser.add_argument(
        "--sizes", type=lambda s: [size(x) for x in s.split(",")], default=SIZES,
        help="HIDDENxBITS,... (default: 16x8,256x62,1024x62,4096x62)",
    )  # fmt: skip
    parser.add_argument("--what", default="fit,predict", help="fit, predict or both")
    parser.add_argument(
        "--threads", type=lambda s: [int(x) for x in s.split(",")], default=[1],
        help="predict's thread counts, T,... (default: 1)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seeds the moments")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(
        "| call | hidden | bits | threads | runs "
        "| Ctrl-C latency (median) | worst | at |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for what in args.what.split(","):
        for hidden, bits in args.sizes:
            for threads in args.threads if what == "predict" else [1]:
                runs = measure(what, hidden, bits, threads, args.repeat, rng)
                worst, phase = max(runs)
                median = statistics.median(lat for lat, _ in runs)
                print(
                    f"| {what} | {hidden} | {bits} | {threads} | {len(runs)} "
                    f"| {1e3 * median:.1f} ms | {1e3 * worst:.1f} ms | {phase} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
