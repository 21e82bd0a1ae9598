"""What benchmarks/bench.py reports from its results: the project's speed
targets, met or missed, and the README's performance tables (--markdown).

Both read the results dict bench.py builds (and writes with --json), so the
tables can be remade from a saved run:

    python benchmarks/bench_report.py results.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

Results = dict[str, Any]


def targets(results: Results) -> dict[str, dict[str, Any]]:
    """Each speed target (on medians): its value and "met", "MISSED" or "n/a"."""
    tr, inf = results["training"], results["inference"]
    pt = results["predict_threads"]
    h64 = results.get("table", {}).get("h64-b8")
    checks: list[tuple[str, str, float, float | None, str]] = [
        ("training >= 1,000,000/s", ">=", 1e6, tr["binsum"]["median"], "/s"),
        ("training >= 240x numpy", ">=", 240.0,
         tr["binsum"]["median"] / tr["numpy reference"]["median"], "x"),
        ("training hidden 64 >= 120,000/s", ">=", 120e3,
         None if h64 is None else h64["train"]["median"], "/s"),
        ("default fit < 30 ms", "<", 30.0,
         results["default_fit_seconds"]["median"] * 1e3, " ms"),
        ("predict >= 8,000,000/s", ">=", 8e6, inf["binsum predict"]["median"], "/s"),
        ("predict >= 20x numpy", ">=", 20.0,
         inf["binsum predict"]["median"] / inf["numpy vectorised"]["median"], "x"),
        ("2 training threads >= 1.8x", ">=", 1.8,
         results["train_threads"]["scaling"], "x"),
        ("predict threads=2 >= 1.8x", ">=", 1.8,
         None if pt is None else pt["scaling"], "x"),
    ]  # fmt: skip
    out = {}
    for name, op, bound, value, unit in checks:
        if value is None:
            out[name] = {"value": None, "verdict": "n/a", "shown": "n/a"}
            continue
        ok = value >= bound if op == ">=" else value < bound
        verdict = "met" if ok else "MISSED"
        digits = 0 if unit == "/s" else 1
        out[name] = {
            "value": value,
            "verdict": verdict,
            "shown": f"{value:,.{digits}f}{unit}",
        }
    return out


def print_targets(results: Results) -> None:
    print("\n== targets (medians)")
    for name, t in targets(results).items():
        print(f"  {name:32} {t['shown']:>14}  {t['verdict']}")


def markdown(results: Results) -> str:
    """The README's performance tables."""
    m, tr, inf = results["machine"], results["training"], results["inference"]
    torch = "pytorch" in tr
    lines = [
        f"Measured on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        f"numpy {m['numpy']}" + (f", PyTorch {m['torch']}" if m["torch"] else "")
        + (f", binsum's kernel {m['build']}" if m.get("build") else "")
        + f"; medians of {m['repeat']} runs; load average "
        f"{m['load_average'][0]:.1f} at the start.",
        "",
        "| hidden 16, 8 bits, one core | binsum | numpy reference | "
        + ("PyTorch | " if torch else "") + "binsum / numpy |",
        "|---|---:|---:|" + ("---:|" if torch else "") + "---:|",
    ]  # fmt: skip
    bounds: list[str] = []
    t_cells = [tr["binsum"], tr["numpy reference"]] + ([tr["pytorch"]] if torch else [])
    i_cells = [inf["binsum predict"], inf["numpy vectorised"]]
    i_cells += [inf["pytorch vectorised"]] if "pytorch vectorised" in inf else []
    for label, cells in (
        ("training, samples/s", t_cells),
        (f"predict {results['inference_pairs']:,} 8-bit pairs, pairs/s", i_cells),
    ):
        row = " | ".join(f"{c['median']:,.0f}" for c in cells)
        ratio = cells[0]["median"] / cells[1]["median"]
        lines.append(f"| {label} | {row} | {ratio:.1f}x |")
    for label, key in (("training", "training_bound"), ("predict", "inference_bound")):
        if key in results:
            b = results[key]
            bounds.append(
                f"{label}: {100 * b['fraction']:.0f}% of {b['rate']:,.0f}/s "
                f"({b['binding']})"
            )
    if bounds:
        lines += [
            "",
            "Fraction of the kernel's bound reached by binsum (docs/performance.md): "
            + "; ".join(bounds) + ".",
        ]  # fmt: skip
    fit = results["default_fit_seconds"]["median"] * 1e3
    tt, pt = results["train_threads"], results["predict_threads"]
    lines += [
        "",
        f"- default fit, `BinarySumRNN(seed=0).fit(10_000)`: {fit:.1f} ms",
        f"- two models trained by two threads at once: {tt['scaling']:.2f}x "
        f"the samples/s of one (the process got {tt['2']['cores_used']:.2f} cores)",
    ]
    if pt is not None:
        lines.append(
            f"- `predict(a, b, threads=2)` on {pt['pairs']:,} pairs: "
            f"{pt['scaling']:.2f}x `threads=1` "
            f"(the process got {pt['2']['cores_used']:.2f} cores)"
        )
    lines += [
        "",
        "binsum, training samples/s | predict pairs/s, each with [its fraction "
        "of the bound]:",
        "",
    ]
    cells_by_size = results["table"]
    widths = sorted({int(k.split("-b")[1]) for k in cells_by_size})
    hiddens = sorted({int(k[1:].split("-")[0]) for k in cells_by_size})
    lines.append("| hidden | " + " | ".join(f"{w} bits" for w in widths) + " |")
    lines.append("|---:|" + "---:|" * len(widths))
    for h in hiddens:
        cells = []
        for w in widths:
            c = cells_by_size[f"h{h}-b{w}"]
            tf = pf = ""
            if "train_bound" in c:
                tf = f" [{100 * c['train_bound']['fraction']:.0f}%]"
                pf = f" [{100 * c['predict_bound']['fraction']:.0f}%]"
            cells.append(
                f"{c['train']['median']:,.0f}{tf} \\| "
                f"{c['predict']['median']:,.0f}{pf}"
            )
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    saved = json.loads(Path(sys.argv[1]).read_text())
    print_targets(saved)
    print("\n" + markdown(saved))
