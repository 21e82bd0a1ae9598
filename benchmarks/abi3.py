"""binsum's stable-ABI (abi3) build against a version-specific build of the same source.

    python benchmarks/abi3.py [--quick] [--rounds N] [--callgrind] [--json PATH]
    python benchmarks/abi3.py --keep DIR ...    # also keep the two wheels in DIR
    python benchmarks/abi3.py --wheels ABI3.whl SPECIFIC.whl ...

Builds both wheels from this tree with the running CPython (>= 3.11, with the
GIL): ``pip wheel --no-build-isolation``, so setuptools and Cython as
pyproject.toml's build-system names them must be installed; the
version-specific one with BINSUM_NO_LIMITED_API=1. Each build is unpacked into
its own folder and measured in fresh child processes, the two builds
alternating which goes first, all in the same run. Rows:

- the default fit, ``BinarySumRNN(seed=0).fit()``: seconds;
- the training rate: samples/s of one long ``fit``;
- ``predict`` of 1,000,000 random 8-bit pairs: pairs/s;
- the per-call cost of the smallest calls on the shipped network:
  ``predict(12, 34)``, ``logits(12, 34)``, ``fit(1)``, ``add(12, 34)``: µs.

Each row prints both builds' medians over the rounds (each child keeps the
best of several runs) and the abi3 build's cost relative to the
version-specific one's (+2.0 % is 2 % slower; for rates the inverse ratio),
with the spread of that cost over the rounds (each round's abi3 child against
the version-specific child next to it). Times move with the machine's load;
``--callgrind`` also counts, under valgrind, the instructions of one default
fit, one predict of the million pairs and one call of each smallest call (a
run of 2K calls less a run of K, so start-up cancels), which do not. The
children also check that both builds compute the same bits.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import timeit
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomllib

ROOT = Path(__file__).resolve().parent.parent
BUILDS = ("abi3", "specific")
# What a child measures: (label, kind) with kind "time" (s, lower is better)
# or "rate" (per s, higher is better).
ROWS = {
    "fit": ("default fit, BinarySumRNN(seed=0).fit() (s)", "time"),
    "train": ("training rate (samples/s)", "rate"),
    "predict_1m": ("predict, 1,000,000 8-bit pairs (pairs/s)", "rate"),
    "predict": ("predict(12, 34) (µs per call)", "time"),
    "logits": ("logits(12, 34) (µs per call)", "time"),
    "fit1": ("fit(1) (µs per call)", "time"),
    "add": ("add(12, 34) (µs per call)", "time"),
}
SMALL = ("predict", "logits", "fit1", "add")  # timed per call, in µs
# What --callgrind counts, and K: the count is deterministic (to about one
# instruction a call), so a few calls are enough.
COUNTED = {"fit": 1, "predict_1m": 1} | dict.fromkeys(SMALL, 2000)
# Not copied into a build's source tree: what an earlier build left.
LEFT_BY_BUILDS = ("build", "dist", "wheelhouse", ".git", "*.egg-info", "*.so", "*.c")


# --- the parent: build, run children, report -------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="children per build (default 7; --quick 3)",
    )
    p.add_argument("--quick", action="store_true", help="fewer rounds, shorter rows")
    p.add_argument(
        "--callgrind",
        action="store_true",
        help="also count instructions per call under valgrind",
    )
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--wheels",
        nargs=2,
        metavar=("ABI3", "SPECIFIC"),
        help="measure these two wheels instead of building them",
    )
    p.add_argument(
        "--keep", metavar="DIR", help="keep the two built wheels in DIR (for --wheels)"
    )
    p.add_argument(
        "--child", nargs=2, metavar=("FOLDER", "ROWS"), help=argparse.SUPPRESS
    )
    p.add_argument("--calls", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 7
    if args.rounds < (0 if args.callgrind else 1):
        least = "0 with --callgrind (counts only), else 1"
        p.error(f"--rounds must be >= {least}, got {args.rounds}")
    return args


def check_build_requirements() -> None:
    """Exit naming each of pyproject.toml's build requirements (its ``name>=X``
    ones: setuptools, Cython) this interpreter lacks: the builds run without
    isolation, with what is installed."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        requires = tomllib.load(f)["build-system"]["requires"]
    missing = []
    for req in requires:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", req.strip())
        if not m:  # numpy's, with its markers: any numpy >= 2 builds here
            continue
        name, least = m.groups()
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found = None
        if found is None or version(found) < version(least):
            missing.append(f"{name}>={least} (found {found})")
    if missing:
        wanted = " ".join(f"'{m.split()[0]}'" for m in missing)
        raise SystemExit(f"building needs {', '.join(missing)}: pip install {wanted}")


def version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def build_wheel(kind: str, out: Path) -> Path:
    """The wheel of this tree, built from a fresh copy of it (no object file
    or generated C of the other build reused)."""
    tree = out / f"src-{kind}"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(*LEFT_BY_BUILDS))
    env = dict(os.environ)
    env.pop("BINSUM_NO_LIMITED_API", None)
    if kind == "specific":
        env["BINSUM_NO_LIMITED_API"] = "1"
    wheels = out / f"wheel-{kind}"
    print(f"building the {kind} wheel ...", file=sys.stderr, flush=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
         "--no-build-isolation", "-w", str(wheels), str(tree)],
        env=env, check=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("binsum-*.whl")
    return wheel


def unpack(wheel: Path, kind: str, out: Path) -> Path:
    folder = out / f"site-{kind}"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(folder)
    tag = wheel.name.split("-")[3]
    if (tag == "abi3") != (kind == "abi3"):
        raise SystemExit(f"{wheel.name} is not the {kind} wheel")
    return folder


def child(
    folder: Path,
    rows: list[str],
    quick: bool = False,
    calls: int = 0,
    valgrind: bool = False,
) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(folder), ",".join(rows)]
    env = dict(os.environ, PYTHONHASHSEED="0")
    if quick:
        cmd.append("--quick")
    if calls:
        cmd += ["--calls", str(calls)]
    if valgrind:
        # valgrind runs no AVX-512: both builds then run their AVX2 kernel.
        # OpenBLAS's idle threads would add a varying count of their own.
        env.update(BINSUM_NO_AVX512="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd]
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    if valgrind:
        result["ir"] = instructions(done.stderr)
    return result


def instructions(stderr: str) -> int:
    for line in stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[1].strip())
    raise SystemExit(f"valgrind printed no instruction count:\n{stderr}")


def measure(
    folders: dict[str, Path], rounds: int, quick: bool
) -> dict[str, dict[str, list[float]]]:
    rows = list(ROWS)
    values: dict[str, dict[str, list[float]]] = {
        k: {r: [] for r in rows} for k in BUILDS
    }
    bits: dict[str, set[str]] = {k: set() for k in BUILDS}
    for i in range(rounds):
        order = BUILDS if i % 2 == 0 else BUILDS[::-1]
        for kind in order:
            got = child(folders[kind], rows, quick)
            print(
                f"round {i + 1}/{rounds} {kind}: {got['kernel']}",
                file=sys.stderr,
                flush=True,
            )
            bits[kind].add(got["bits"])
            for r in rows:
                values[kind][r].append(got[r])
    if rounds and len(bits["abi3"] | bits["specific"]) != 1:
        raise SystemExit(f"the builds computed different bits: {bits}")
    return values


def count(folders: dict[str, Path]) -> dict[str, dict[str, float]]:
    """Instructions of one call of each COUNTED row, per build."""
    per_call: dict[str, dict[str, float]] = {k: {} for k in BUILDS}
    for kind in BUILDS:
        for r, calls in COUNTED.items():
            once = child(folders[kind], [r], calls=calls, valgrind=True)["ir"]
            twice = child(folders[kind], [r], calls=2 * calls, valgrind=True)["ir"]
            per_call[kind][r] = (twice - once) / calls
            print(
                f"callgrind {kind} {r}: {per_call[kind][r]:,.0f} instructions",
                file=sys.stderr,
                flush=True,
            )
    return per_call


def relative(kind: str, abi3: float, specific: float) -> float:
    """The abi3 build's extra cost, in percent of the version-specific one's."""
    ratio = abi3 / specific if kind == "time" else specific / abi3
    return 100.0 * (ratio - 1.0)


def report(
    values: dict[str, dict[str, list[float]]], ir: dict[str, dict[str, float]] | None
) -> list[dict[str, Any]]:
    table = []
    for r, (label, kind) in ROWS.items():
        abi3, specific = values["abi3"].get(r), values["specific"].get(r)
        if not abi3 or not specific:
            continue
        a, s = statistics.median(abi3), statistics.median(specific)
        costs = [relative(kind, x, y) for x, y in zip(abi3, specific, strict=True)]
        scale = 1e6 if r in SMALL else 1.0
        table.append(
            {
                "row": label,
                "abi3": a * scale,
                "specific": s * scale,
                "abi3 cost %": relative(kind, a, s),
                "spread %": (min(costs), max(costs)),
            }
        )
    if ir is None:
        return table
    for r in COUNTED:
        a, s = ir["abi3"][r], ir["specific"][r]
        label = re.sub(r" \([^()]*\)$", " (instructions per call)", ROWS[r][0])
        table.append(
            {
                "row": label,
                "abi3": a,
                "specific": s,
                "abi3 cost %": relative("time", a, s),
            }
        )
    return table


def print_table(table: list[dict[str, Any]], rounds: int) -> None:
    width = max(len(t["row"]) for t in table)
    where = f"CPython {sys.version.split()[0]} on {sysconfig.get_platform()}"
    print(f"{where}; medians of {rounds} rounds")
    print(f"{'':{width}}  {'abi3':>13}  {'specific':>13}  abi3 cost (spread)")
    for t in table:
        fmt = ".3g" if t["abi3"] < 100 else ",.0f"
        a, s, cost = t["abi3"], t["specific"], t["abi3 cost %"]
        spread = (
            "({:+.1f} .. {:+.1f})".format(*t["spread %"]) if "spread %" in t else ""
        )
        print(f"{t['row']:{width}}  {a:>13{fmt}}  {s:>13{fmt}}  {cost:+.1f} % {spread}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return run_child(
            Path(args.child[0]), args.child[1].split(","), args.calls, args.quick
        )
    if sys.version_info < (3, 11) or sysconfig.get_config_var("Py_GIL_DISABLED"):
        raise SystemExit("abi3 builds need CPython >= 3.11 with the GIL")
    with tempfile.TemporaryDirectory(prefix="binsum-abi3-") as tmp:
        out = Path(tmp)
        if args.wheels:
            wheels = dict(zip(BUILDS, map(Path, args.wheels), strict=True))
        else:
            check_build_requirements()
            wheels = {k: build_wheel(k, out) for k in BUILDS}
            if args.keep:
                Path(args.keep).mkdir(parents=True, exist_ok=True)
                for w in wheels.values():
                    shutil.copy2(w, args.keep)
        folders = {k: unpack(wheels[k], k, out) for k in BUILDS}
        values = measure(folders, args.rounds, args.quick)
        ir = count(folders) if args.callgrind else None
    table = report(values, ir)
    print_table(table, args.rounds)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"python": sys.version, "rows": table}, indent=1) + "\n"
        )
    return 0


# --- a child: one build, imported from its folder --------------------------
def best(fn: Callable[[], object], times: int) -> float:
    """Seconds of the fastest of ``times`` calls (the least disturbed)."""
    return min(timeit.repeat(fn, number=1, repeat=times))


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call: the best of 5 loops of ``calls`` calls."""
    fn()
    return min(timeit.repeat(fn, number=calls, repeat=5)) / calls


def run_child(folder: Path, rows: list[str], calls: int, quick: bool) -> int:
    sys.path.insert(0, str(folder))
    import numpy as np

    import binsum
    from binsum import BinarySumRNN, _backend

    if not Path(binsum.__file__).is_relative_to(folder):
        raise SystemExit(f"imported {binsum.__file__}, not the build in {folder}")
    model = BinarySumRNN.pretrained()
    learner = BinarySumRNN(seed=0)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, 1_000_000)
    b = rng.integers(0, 256, 1_000_000)
    samples = 100_000 if quick else 400_000  # of the training rate
    # Each row's call: what it times, and what --callgrind counts.
    call: dict[str, Callable[[], Any]] = {
        "fit": lambda: BinarySumRNN(seed=0).fit(),
        "train": lambda: BinarySumRNN(seed=1).fit(samples),
        "predict_1m": lambda: model.predict(a, b),
        "predict": lambda: model.predict(12, 34),
        "logits": lambda: model.logits(12, 34),
        "fit1": lambda: learner.fit(1),
        "add": lambda: model.add(12, 34),
    }
    if calls:  # under valgrind: exactly ``calls`` calls, nothing else timed
        (r,) = rows
        for _ in range(calls):
            call[r]()
        print(json.dumps({}))
        return 0
    kernel = sys.modules[str(_backend.COMPILED_MODULE)]
    got: dict[str, Any] = {"kernel": Path(str(kernel.__file__)).name}
    digest = hashlib.sha256()
    for r in rows:
        if r == "fit":
            got[r] = best(call[r], 10)
            digest.update(call[r]().weights["wh"].tobytes())
        elif r == "train":
            got[r] = samples / best(call[r], 3)
        elif r == "predict_1m":
            got[r] = len(a) / best(call[r], 10)
            digest.update(call[r]().tobytes())
        else:
            got[r] = per_call(call[r], 2_000 if quick else 10_000)
    got["bits"] = digest.hexdigest()
    print(json.dumps(got))
    return 0


if __name__ == "__main__":
    sys.exit(main())
