"""The loss picture of ``binsum train --plot``: matplotlib is an optional extra.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no GUI, no
global state) and written atomically like the model file.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from binsum._atomic import atomic_write

INSTALL_HINT = 'pip install "binsum[plot]"'


def available() -> bool:
    """True when matplotlib imports (checked before training starts)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def smooth(values: NDArray[np.float64], window: int) -> NDArray[np.float64]:
    """Trailing moving average: entry i is the mean of values[i-window+1 .. i]."""
    sums = np.cumsum(np.concatenate(([0.0], values)))
    out: NDArray[np.float64] = (sums[window:] - sums[:-window]) / window
    return out


def write(
    path: str,
    history: NDArray[np.float64],
    checkpoints: Sequence[tuple[int, float]],
    title: str,
    accuracy_label: str,
    first: int = 0,
) -> None:
    """Loss per iteration (raw and smoothed, log scale) and accuracy at
    checkpoints; ``history`` holds the losses of iterations ``first + 1`` on.
    The legend sits below the axes, where it can cover no curve."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    fig = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    n = len(history)
    if n:
        window = max(1, n // 100)
        x = np.arange(first + 1, first + n + 1)
        ax.plot(x, history, color="0.8", linewidth=0.5, label="loss per sample")
        ax.plot(
            x[window - 1 :],
            smooth(history, window),
            color="C0",
            label=f"loss, mean of {window:,} samples",
        )
    ax.set_yscale("log")
    ax.set_xlabel("iteration (training samples)")
    ax.set_ylabel("loss  Σ (ŷ - y)²")
    ax.set_title(title)
    acc = ax.twinx()
    if checkpoints:
        its, accs = zip(*checkpoints, strict=True)
        acc.plot(its, accs, "o-", color="C3", markersize=4, label=accuracy_label)
    acc.set_ylim(-0.02, 1.02)
    acc.yaxis.set_major_formatter(PercentFormatter(1.0))
    acc.set_ylabel("exact sums")
    lines = ax.get_legend_handles_labels()
    more = acc.get_legend_handles_labels()
    fig.legend(
        lines[0] + more[0],
        lines[1] + more[1],
        loc="outside lower center",
        ncols=3,
        fontsize=8,
        frameon=False,
    )

    with atomic_write(path) as fh:
        fig.savefig(fh, format="png")
