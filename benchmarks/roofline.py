"""The kernel's roofline: the fastest it can train or predict for (H, bits).

Operations are counted from the loops of src/binsum/_core_*.pxi (docs/
performance.md derives each term); times come from MACHINE, measured with
benchmarks/machine_peak.c. Two limits:

- work: operations / peak, the vector units' rate without FMA (AVX2: 4
  doubles per instruction, AVX-512: 8; adds and multiplies on separate
  ports), for the build of the kernel in use;
- chain: the dependent operations in the current summation order (each
  hidden unit sums k = 0..H-1 serially), at their latencies.

A training sample's SGD step feeds the next sample, so training is bound by
max(work, chain). predict's pairs are independent and run in lockstep, so
predict is bound by the work alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from binsum._pycore_predict import _prefix_depth

SIGMOID_OPS = 39  # _logistic: negate, 2 clamps, 7 (reduction), 2 (r2, r4), 24
# (Estrin polynomial), 1 (scaling), 1 + e and 1 / (...): 37 flops, 2 compares


@dataclass(frozen=True)
class Machine:
    """Latencies (ns) and peak of the machine (benchmarks/machine_peak.c)."""

    add_ns: float = 0.485  # vaddsd latency (2 cycles at ~4.1 GHz)
    mul_ns: float = 0.725  # vmulsd latency (3 cycles)
    div_ns: float = 4.1  # vdivsd latency
    peak_gflops: float = 49.0  # AVX2 vaddpd + vmulpd, no FMA, one core

    @property
    def sigmoid_ns(self) -> float:
        # exp: 7 multiplies and 6 adds in a row (reduction, Estrin's tree,
        # scaling; the clamp counted as an add), then 1 + e and the divide.
        return 7 * self.mul_ns + 8 * self.add_ns + self.div_ns


MACHINE = Machine()
# The peak of each build (machine_peak.c with -mavx2 and with -mavx512f).
PEAK_GFLOPS = {"binsum._core_avx2": 49.0, "binsum._core_avx512": 94.5}


def machine_for(build: str | None) -> Machine:
    """MACHINE with the peak of a kernel build (MACHINE's, AVX2, if unknown)."""
    peak = PEAK_GFLOPS.get(build or "", MACHINE.peak_gflops)
    return replace(MACHINE, peak_gflops=peak)


def training_ops(hidden: int, bits: int) -> int:
    """Operations of one training sample (forward, backward, gradients, SGD)."""
    h, b = hidden, bits
    square = (6 * b - 4) * h * h  # forward, delta, gwh: 2H^2 x (b-1); SGD 2H^2
    forward = b * ((3 + SIGMOID_OPS + 2) * h + SIGMOID_OPS + 3)
    backward = b * (5 + (6 + 2 + 2) * h)  # per k: s, d, clip; gwo; gwi (2H)
    return square + forward + backward + 6 * h


def training_chain_ns(hidden: int, bits: int, m: Machine = MACHINE) -> float:
    """Dependent operations from one sample's start to the next's, in ns."""
    a, mu, s = m.add_ns, m.mul_ns, m.sigmoid_ns
    first = mu + a + s  # step 0: x0 * wi + x1 * wi, sigmoid
    step = mu + hidden * a + s  # steps 1..bits-1: H serial adds, sigmoid
    out = mu + hidden * a + s  # o = h . wo (H serial adds), yhat
    last_back = 3 * a + 5 * mu  # do, s = do * wo, d, clip
    back = 2 * mu + (hidden + 2) * a  # H serial adds per unit, d, clip
    tail = 2 * a + mu  # gwi += da at t = 0, then w -= lr * g
    return first + (bits - 1) * step + out + last_back + (bits - 1) * back + tail


def pair_steps(bits: int, depth: int) -> float:
    """Expected steps _predict_pair runs for a random pair of ``bits``-bit
    operands after a prefix table of ``depth`` steps: max bit length + 1
    steps in all, minus the depth (none if the pair is shorter)."""
    total = 0.0
    for length in range(bits + 1):  # P(max bit length == length)
        p = 4.0 ** (length - bits) - (4.0 ** (length - 1 - bits) if length else 0)
        total += p * max(0, length + 1 - depth)
    return total


def prefix_depth(hidden: int, n: int) -> int:
    """The prefix table's depth for a predict() call of n pairs (the twin's
    _prefix_depth, which is the kernel's)."""
    return _prefix_depth(hidden, n)


def predict_step_ops(hidden: int) -> int:
    """One _forward_step after the first: input, H x H recurrence, sigmoids, output."""
    return 2 * hidden * hidden + (3 + SIGMOID_OPS + 2) * hidden + 1


def predict_ops(hidden: int, bits: int, n: int = 1_000_000) -> float:
    """Operations per pair of predict() on n random pairs (one prefix table
    for the whole call, its cost shared by the pairs)."""
    depth = prefix_depth(hidden, n)
    table_steps = sum(4**d for d in range(1, depth + 1))
    steps = pair_steps(bits, depth) + table_steps / n
    return steps * predict_step_ops(hidden)


@dataclass(frozen=True)
class Bound:
    ops: float  # operations per sample or pair
    work_ns: float  # ops at the peak
    chain_ns: float  # dependent chain (0 for predict: pairs in lockstep)

    @property
    def ns(self) -> float:
        return max(self.work_ns, self.chain_ns)

    @property
    def rate(self) -> float:
        """Samples or pairs per second at the bound."""
        return 1e9 / self.ns

    @property
    def binding(self) -> str:
        return "chain" if self.chain_ns > self.work_ns else "work"


def training_bound(hidden: int, bits: int, m: Machine = MACHINE) -> Bound:
    ops = training_ops(hidden, bits)
    return Bound(ops, ops / m.peak_gflops, training_chain_ns(hidden, bits, m))


def predict_bound(
    hidden: int, bits: int, n: int = 1_000_000, m: Machine = MACHINE
) -> Bound:
    ops = predict_ops(hidden, bits, n)
    return Bound(ops, ops / m.peak_gflops, 0.0)


def fraction(measured_rate: float, bound: Bound) -> str:
    """The measured rate as a share of the bound: "12% of 3.41M (chain)"."""
    r = bound.rate
    shown = f"{r / 1e6:.2f}M" if r >= 1e6 else f"{r / 1e3:.0f}k"
    return f"{100 * measured_rate / r:.0f}% of {shown} ({bound.binding})"


def main() -> None:
    m2, m5 = machine_for("binsum._core_avx2"), machine_for("binsum._core_avx512")
    print(f"machine: {MACHINE}, sigmoid chain {MACHINE.sigmoid_ns:.1f} ns")
    print("bounds per second with the AVX2 | AVX-512 peak; predict: a million pairs")
    print(f"{'H':>4} {'bits':>4} {'train ops':>10} {'chain ns':>9} {'AVX2/s':>10}"
          f" {'AVX-512/s':>10} | {'pair ops':>9} {'AVX2/s':>11}"
          f" {'AVX-512/s':>11}")  # fmt: skip
    for h in (8, 16, 32, 64, 128, 256):
        for bits in (8, 16, 32):
            t2, t5 = training_bound(h, bits, m2), training_bound(h, bits, m5)
            p2, p5 = predict_bound(h, bits, m=m2), predict_bound(h, bits, m=m5)
            print(
                f"{h:>4} {bits:>4} {t2.ops:>10,.0f} {t2.chain_ns:>9,.0f} "
                f"{t2.rate:>10,.0f} {t5.rate:>10,.0f} | {p2.ops:>9,.0f} "
                f"{p2.rate:>11,.0f} {p5.rate:>11,.0f}"
            )


if __name__ == "__main__":
    main()
