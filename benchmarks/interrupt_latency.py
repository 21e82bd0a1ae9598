"""How long Ctrl-C takes to stop a compiled fit, from the default network to
the largest one binsum allows.

    python benchmarks/interrupt_latency.py [--repeat 5]

For each size a child process builds the model, starts a long fit and, after
a pause that puts it well inside the kernel, receives SIGINT; the child
stamps the moment its KeyboardInterrupt arrives. The latency is that stamp
minus the moment the signal was sent (one machine, one clock). Medians of
``--repeat`` runs are printed, with how many samples were trained before the
interrupt (0 at hidden 4096: it lands inside the first sample).
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import time

SIZES = [(16, 8), (256, 62), (1024, 62), (4096, 62)]  # (hidden_size, bits)

CHILD = """
import sys, time
from binsum import BinarySumRNN
hidden, bits = int(sys.argv[1]), int(sys.argv[2])
model = BinarySumRNN(hidden_size=hidden, bits=bits, seed=1, backend="cython")
print("ready", flush=True)
try:
    model.fit(2**40)
except KeyboardInterrupt:
    print(time.time(), model.iterations, flush=True)
"""


def once(hidden: int, bits: int, pause: float) -> tuple[float, int]:
    """(latency in seconds, samples trained) of one interrupted fit."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(hidden), str(bits)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline() != "ready\n":
            raise RuntimeError("the child did not start")
        time.sleep(pause)
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        stamp, trained = proc.communicate(timeout=120)[0].split()
        return float(stamp) - sent, int(trained)
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| hidden | bits | Ctrl-C latency (median) | worst | trained before |")
    print("|---:|---:|---:|---:|---:|")
    for hidden, bits in SIZES:
        runs = [once(hidden, bits, 1.0) for _ in range(args.repeat)]
        latencies = [1e3 * lat for lat, _ in runs]
        trained = statistics.median(n for _, n in runs)
        print(
            f"| {hidden} | {bits} | {statistics.median(latencies):.1f} ms "
            f"| {max(latencies):.1f} ms | {trained:,.0f} samples |"
        )


if __name__ == "__main__":
    main()
