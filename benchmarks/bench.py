"""binsum against the lecture's numpy code (and PyTorch, if installed).

    python benchmarks/bench.py [--quick] [--repeat N] [--json results.json]

Prints, as medians of N runs with their spread (min-max):
- training samples/s of binsum and of the numpy reference (numpy_reference.py:
  the lecture's code with the corrected updates), one sample per SGD step,
  and their ratio; a PyTorch row of the same algorithm when torch imports;
- inference pairs/s on 1,000,000 random 8-bit pairs: predict() against the
  reference's vectorised forward pass (all pairs through numpy at once);
- the default fit's wall time, BinarySumRNN(seed=0).fit(10_000);
- two-thread scaling: two models trained by two threads at once, and
  predict(..., threads=2) on a large batch, each against one thread;
- a table over hidden sizes x bits showing how the cost grows.

Everything is measured in the same run. The targets are for one core, so
numpy's BLAS (limited with threadpoolctl) and PyTorch run on one thread
(--blas-threads changes that). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE slow
numpy down on some machines and act only when numpy loads: where they are
set, main() runs the script again without them and says so; --keep-env
measures the environment as it is. The targets and the README's tables are
bench_report.py's.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import bench_report  # beside this script, as is numpy_reference
import numpy as np
import numpy_reference as ref
import roofline

import binsum
from binsum import BinarySumRNN, _backend

# The roofline's machine with the peak of the kernel build in use.
MACHINE = roofline.machine_for(_backend.COMPILED_MODULE)

SLOWING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # read when numpy loads
MARKER = "BINSUM_BENCH_REEXEC"  # set in the re-run: what was removed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer, shorter runs")
    p.add_argument("--repeat", type=int, default=None, help="runs per measurement")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="threads for numpy's BLAS and PyTorch (default 1: one-core targets)",
    )
    p.add_argument(
        "--keep-env",
        action="store_true",
        help="do not remove OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE",
    )
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch rows")
    p.add_argument(
        "--threads-only",
        action="store_true",
        help="only the two-thread scaling rows (e.g. on a free-threaded build)",
    )
    p.add_argument(
        "--markdown", action="store_true", help="also print the README's tables"
    )
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 3 if args.quick else 5
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    if args.blas_threads < 1:
        p.error("--blas-threads must be >= 1")
    return args


def rerun_without_slowing_env(args: argparse.Namespace) -> None:
    """Replace this process by the same command without SLOWING set (numpy
    reads them when it loads, so only a new process can drop them)."""
    if args.keep_env or os.environ.get(MARKER):
        return
    env = dict(os.environ)
    removed = [f"{k}={env.pop(k)}" for k in SLOWING if k in env]
    if removed:
        env[MARKER] = ";".join(removed)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def load_torch(args: argparse.Namespace) -> ModuleType | None:
    if args.no_torch:
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(args.blas_threads)
    return torch


# ----------------------------------------------------------------- measuring
class Stat:
    """Median and spread of a rate (units per second) over several runs."""

    def __init__(self, values: list[float], cores: list[float] | None = None) -> None:
        self.values = values
        self.median = statistics.median(values)
        self.low, self.high = min(values), max(values)
        # CPU seconds of this process per wall second: cores actually used
        self.cores = statistics.median(cores) if cores else None

    def fmt(self, scale: float = 1.0, digits: int = 0) -> str:
        m, lo, hi = (v * scale for v in (self.median, self.low, self.high))
        return f"{m:,.{digits}f} ({lo:,.{digits}f}-{hi:,.{digits}f})"

    def json(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "min": self.low,
            "max": self.high,
            "runs": self.values,
            "cores_used": self.cores,
        }


def rate(work: Callable[[], Any], units: float, repeat: int) -> Stat:
    """Units per second of ``work()``; one untimed warm-up run first."""
    return rates({"": (work, units)}, repeat)[""]


def rates(
    jobs: dict[str, tuple[Callable[[], Any], float]], repeat: int
) -> dict[str, Stat]:
    """Rates of several jobs, their runs interleaved (a, b, a, b, ...) so a
    change in the machine's load affects all of them alike."""
    for work, _ in jobs.values():
        work()
    runs: dict[str, list[float]] = {name: [] for name in jobs}
    cores: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(repeat):
        for name, (work, units) in jobs.items():
            c = time.process_time()
            t = time.perf_counter()
            work()
            wall = time.perf_counter() - t
            runs[name].append(units / wall)
            cores[name].append((time.process_time() - c) / wall)
    return {name: Stat(runs[name], cores[name]) for name in jobs}


def seconds(work: Callable[[], Any], repeat: int) -> Stat:
    work()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        work()
        out.append(time.perf_counter() - t)
    return Stat(out)


def sized(per_second: float, target: float, low: int) -> int:
    """A count of units that takes about ``target`` seconds (at least low)."""
    return max(low, int(per_second * target))


def random_pairs(bits: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.Generator(np.random.PCG64(seed))
    top = 1 << bits
    return (
        rng.integers(0, top, count, dtype=np.int64),
        rng.integers(0, top, count, dtype=np.int64),
    )


def predict_threads() -> bool:
    return "threads" in inspect.signature(BinarySumRNN.predict).parameters


# ----------------------------------------------------------------- the rows
def train_binsum(hidden: int, bits: int, n: int) -> Callable[[], Any]:
    return lambda: BinarySumRNN(hidden_size=hidden, bits=bits, seed=0).fit(n)


def train_reference(hidden: int, bits: int, n: int) -> Callable[[], Any]:
    dataset = ref.make_dataset(bits)

    def work() -> None:
        rng = np.random.Generator(np.random.PCG64(0))
        wi, wh, wo = ref.init_nn(2, hidden, 1, rng)
        ref.train(wi, wh, wo, n, ref.samples(dataset, rng), hidden)

    return work


def torch_train(
    torch: ModuleType, wi: Any, wh: Any, wo: Any, stream: Any, n: int,
    lr: float = 0.1, clip: float = 5.0,
) -> Any:  # fmt: skip
    """The same algorithm in PyTorch: autograd BPTT, one sample per SGD step.

    A hook clips the gradient reaching each pre-activation a_t, which is the
    lecture's clipped hidden delta; float64 as in binsum.
    """
    params = [
        torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in (wi, wh, wo)
    ]
    twi, twh, two = params
    hidden = wh.shape[0]

    def clipped(g: Any) -> Any:
        return g.clamp(-clip, clip)

    for _ in range(n):
        a, b, c = next(stream)
        x = torch.tensor(np.stack([a[::-1], b[::-1]], axis=1), dtype=torch.float64)
        y = torch.tensor(c[::-1].copy(), dtype=torch.float64)
        h = torch.zeros(1, hidden, dtype=torch.float64)
        outs = []
        for t in range(len(c)):
            at = x[t : t + 1] @ twi + h @ twh
            at.register_hook(clipped)
            h = torch.sigmoid(at)
            outs.append(torch.sigmoid(h @ two))
        loss = ((torch.cat(outs)[:, 0] - y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
    return [p.detach().numpy() for p in params]


def train_torch(
    torch: ModuleType, hidden: int, bits: int, n: int
) -> Callable[[], Any]:
    dataset = ref.make_dataset(bits)

    def work() -> None:
        rng = np.random.Generator(np.random.PCG64(0))
        wi, wh, wo = ref.init_nn(2, hidden, 1, rng)
        torch_train(torch, wi, wh, wo, ref.samples(dataset, rng), n)

    return work


def torch_agrees_with_reference(torch: ModuleType) -> float:
    """Largest relative weight difference after 50 identical samples."""
    dataset = ref.make_dataset(8)
    rng = np.random.Generator(np.random.PCG64(1))
    w = ref.init_nn(2, 16, 1, rng)
    pairs = random_pairs(7, 50, 2)
    ws = [x.copy() for x in w]
    ref.train(*ws, 50, ref.samples_from_pairs(dataset, *pairs), 16)
    wt = torch_train(torch, *w, ref.samples_from_pairs(dataset, *pairs), 50)
    return max(
        float(np.abs(p - q).max() / np.abs(q).max())
        for p, q in zip(wt, ws, strict=True)
    )


def torch_forward(
    torch: ModuleType, w: dict[str, np.ndarray], a: np.ndarray, b: np.ndarray
) -> Any:
    wi, wh, wo = (torch.from_numpy(w[k]) for k in ("wi", "wh", "wo"))
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    h = torch.zeros(len(a), wh.shape[0], dtype=torch.float64)
    out = torch.zeros(len(a), dtype=torch.int64)
    for t in range(9):
        x = torch.stack([(ta >> t) & 1, (tb >> t) & 1], dim=1).to(torch.float64)
        h = torch.sigmoid(x @ wi + h @ wh)
        out |= ((h @ wo)[:, 0] > 0).to(torch.int64) << t
    return out


# ----------------------------------------------------------------- sections
def machine(args: argparse.Namespace, torch: ModuleType | None) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    removed = os.environ.get(MARKER, "-")
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "binsum": binsum.__version__,
        "backend": binsum.backend,
        "build": _backend.COMPILED_MODULE,
        "torch": torch.__version__ if torch is not None else None,
        "blas_threads": args.blas_threads,
        "repeat": args.repeat,
        "removed_env": [] if removed == "-" else removed.split(";"),
        "kept_env": [f"{k}={os.environ[k]}" for k in SLOWING if k in os.environ],
    }
    print(f"machine: {cpu}, {info['cores']} cores, {info['os']}")
    print(
        f"python {info['python']}, numpy {info['numpy']}, binsum {info['binsum']}"
        f" (backend {info['backend']}, {info['build']}), torch "
        f"{info['torch'] or ('skipped' if args.no_torch else 'not installed')}"
    )
    print(f"numpy BLAS / torch threads: {args.blas_threads}")
    if info["removed_env"]:
        print(f"removed from the environment: {', '.join(info['removed_env'])}")
    if info["kept_env"]:
        print(
            f"WARNING: measured with {', '.join(info['kept_env'])} set "
            "(slows numpy; rerun without --keep-env)"
        )
    load = os.getloadavg()
    info["load_average"] = list(load)
    print(
        f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        + ("  (busy: numbers will be low and noisy)" if load[0] > 0.5 else "")
    )
    print(f"medians of {args.repeat} runs, spread (min-max) in brackets")
    return info


def training(
    q: bool, r: int, torch: ModuleType | None, results: dict[str, Any]
) -> None:
    print("\n== training: one sample per SGD step (hidden 16, 8 bits)")
    n_bin, n_ref, n_torch = (30_000, 500, 150) if q else (200_000, 2_000, 600)
    jobs = {
        "binsum": (train_binsum(16, 8, n_bin), n_bin),
        "numpy reference": (train_reference(16, 8, n_ref), n_ref),
    }
    if torch is not None:
        jobs["pytorch"] = (train_torch(torch, 16, 8, n_torch), n_torch)
    rows = rates(jobs, r)
    base = rows["numpy reference"].median
    results["training"] = {k: v.json() for k, v in rows.items()}
    bound = roofline.training_bound(16, 8, MACHINE)
    results["training_bound"] = bound_json(bound, rows["binsum"].median)
    print(f"  {'':16} {'samples/s':>30} {'x numpy':>9}  fraction of bound")
    for name, s in rows.items():
        share = roofline.fraction(s.median, bound) if name == "binsum" else ""
        print(f"  {name:16} {s.fmt():>30} {s.median / base:>9.1f}  {share}")
    if torch is not None:
        diff = torch_agrees_with_reference(torch)
        results["torch_vs_reference_max_rel_diff"] = diff
        print(f"  (pytorch and numpy weights after 50 samples agree to {diff:.1e})")

    fit = seconds(lambda: BinarySumRNN(seed=0).fit(10_000), r)
    results["default_fit_seconds"] = fit.json()
    print(f"  default fit, BinarySumRNN(seed=0).fit(10_000): {fit.fmt(1e3, 1)} ms")


def inference(
    q: bool, r: int, torch: ModuleType | None, results: dict[str, Any]
) -> None:
    count = 200_000 if q else 1_000_000
    print(f"\n== inference: {count:,} random 8-bit pairs (hidden 16)")
    model = BinarySumRNN(seed=0).fit(10_000)
    a, b = random_pairs(8, count, 1)
    w = model.weights
    wrong = int(
        np.count_nonzero(
            model.predict(a, b) != ref.forward_sums(w["wi"], w["wh"], w["wo"], a, b, 8)
        )
    )
    jobs = {
        "binsum predict": (lambda: model.predict(a, b), count),
        "numpy vectorised": (
            lambda: ref.forward_sums(w["wi"], w["wh"], w["wo"], a, b, 8),
            count,
        ),
    }
    if torch is not None:
        jobs["pytorch vectorised"] = (lambda: torch_forward(torch, w, a, b), count)
    rows = rates(jobs, r)
    base = rows["numpy vectorised"].median
    results["inference"] = {k: v.json() for k, v in rows.items()}
    results["inference_disagreements"] = wrong
    results["inference_pairs"] = count
    bound = roofline.predict_bound(16, 8, count, MACHINE)
    results["inference_bound"] = bound_json(bound, rows["binsum predict"].median)
    print(f"  {'':20} {'pairs/s':>34} {'x numpy':>9}  fraction of bound")
    for name, s in rows.items():
        share = roofline.fraction(s.median, bound) if name == "binsum predict" else ""
        print(f"  {name:20} {s.fmt():>34} {s.median / base:>9.2f}  {share}")
    print(f"  (binsum and numpy disagree on {wrong} of {count:,} sums)")


def threads(q: bool, r: int, results: dict[str, Any]) -> None:
    print("\n== two threads")
    n = 30_000 if q else 200_000

    def train_together(k: int) -> None:
        models = [BinarySumRNN(seed=i) for i in range(k)]
        start = threading.Barrier(k)

        def run(m: BinarySumRNN) -> None:
            start.wait()
            m.fit(n)

        ts = [threading.Thread(target=run, args=(m,)) for m in models]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    both = rates(
        {"1": (lambda: train_together(1), n), "2": (lambda: train_together(2), 2 * n)},
        r,
    )
    one, two = both["1"], both["2"]
    results["train_threads"] = {
        "1": one.json(),
        "2": two.json(),
        "scaling": two.median / one.median,
    }
    print(f"  training, 1 model on 1 thread:  {one.fmt():>32} samples/s{used(one)}")
    print(
        f"  training, 2 models on 2 threads:{two.fmt():>32} samples/s{used(two)}"
        f"  = {two.median / one.median:.2f}x"
    )
    busy(two)

    if not predict_threads():
        results["predict_threads"] = None
        print("  predict(threads=2): n/a (this binsum's predict has no threads=)")
        return
    count = 400_000 if q else 4_000_000
    model = BinarySumRNN(seed=0).fit(10_000)
    a, b = random_pairs(8, count, 3)
    both = rates(
        {
            "1": (lambda: model.predict(a, b, threads=1), count),
            "2": (lambda: model.predict(a, b, threads=2), count),
        },
        r,
    )
    p1, p2 = both["1"], both["2"]
    results["predict_threads"] = {
        "pairs": count,
        "1": p1.json(),
        "2": p2.json(),
        "scaling": p2.median / p1.median,
    }
    print(f"  predict {count:,} pairs, threads=1:{p1.fmt():>32} pairs/s{used(p1)}")
    print(
        f"  predict {count:,} pairs, threads=2:{p2.fmt():>32} pairs/s{used(p2)}"
        f"  = {p2.median / p1.median:.2f}x"
    )
    busy(p2)


def used(s: Stat) -> str:
    return f", {s.cores:.2f} cores" if s.cores is not None else ""


def busy(two: Stat) -> None:
    """Say so when two threads did not get two cores (a shared machine)."""
    if two.cores is not None and two.cores < 1.8:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"  note: the two threads got {two.cores:.2f} cores in all; other "
            f"processes were using the machine (load average {load})"
        )


def bound_json(bound: roofline.Bound, measured: float) -> dict[str, Any]:
    return {
        "ops": bound.ops,
        "work_ns": bound.work_ns,
        "chain_ns": bound.chain_ns,
        "rate": bound.rate,
        "binding": bound.binding,
        "fraction": measured / bound.rate,
    }


def table(q: bool, r: int, results: dict[str, Any]) -> None:
    hiddens, widths = (8, 16, 32, 64, 128, 256), (8, 16, 32)
    target = 0.05 if q else 0.25
    print(
        "\n== binsum cost by size: training samples/s | predict pairs/s "
        "(random pairs of that width)\n"
        "   [fraction of the bound: benchmarks/roofline.py, docs/performance.md]"
    )
    print(f"  {'hidden':>6} " + " ".join(f"{f'{w} bits':>35}" for w in widths))
    rows: dict[str, Any] = {}
    for h in hiddens:
        cells = []
        for bits in widths:
            # size each run from a short calibration so it takes ~target s
            probe = max(20, 512_000 // (h * h))  # 2,000 at hidden 16
            n = sized(probe / _probe(h, bits, probe), target, 20)
            tr = rate(train_binsum(h, bits, n), n, r)
            m = BinarySumRNN(hidden_size=h, bits=bits, seed=0).fit(min(1_000, n))
            count = sized(3 * tr.median, target, 1_000)  # forward only: ~3x
            a, b = random_pairs(bits, count, 4)
            pr = rate(lambda m=m, a=a, b=b: m.predict(a, b), count, r)
            tb = roofline.training_bound(h, bits, MACHINE)
            pb = roofline.predict_bound(h, bits, count, MACHINE)
            rows[f"h{h}-b{bits}"] = {
                "train": tr.json(),
                "predict": pr.json(),
                "train_bound": bound_json(tb, tr.median),
                "predict_bound": bound_json(pb, pr.median),
            }
            cells.append(
                f"{tr.median:>10,.0f} [{100 * tr.median / tb.rate:>2.0f}%] |"
                f" {pr.median:>10,.0f} [{100 * pr.median / pb.rate:>2.0f}%]"
            )
        print(f"  {h:>6} " + " ".join(f"{c:>35}" for c in cells))
    results["table"] = rows


def _probe(h: int, bits: int, n: int) -> float:
    """Seconds to train n samples (a rough calibration)."""
    t = time.perf_counter()
    BinarySumRNN(hidden_size=h, bits=bits, seed=0).fit(n)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if binsum.backend != "cython":
        print(
            "the compiled extension is not available (BINSUM_NO_EXTENSIONS "
            "set, or not built): this benchmark measures the compiled kernel",
            file=sys.stderr,
        )
        return 1
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print(
            'the benchmark needs threadpoolctl: pip install "binsum[bench]" '
            "(or pip install threadpoolctl)",
            file=sys.stderr,
        )
        return 1
    rerun_without_slowing_env(args)
    torch = load_torch(args)
    q, r = args.quick, args.repeat
    results: dict[str, Any] = {}
    with threadpool_limits(limits=args.blas_threads):
        results["machine"] = machine(args, torch)
        if args.threads_only:
            print(f"GIL enabled: {getattr(sys, '_is_gil_enabled', lambda: True)()}")
            threads(q, r, results)
            return 0
        training(q, r, torch, results)
        inference(q, r, torch, results)
        threads(q, r, results)
        table(q, r, results)
    results["targets"] = bench_report.targets(results)
    bench_report.print_targets(results)
    if args.markdown:
        print("\n== markdown for the README\n")
        print(bench_report.markdown(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
