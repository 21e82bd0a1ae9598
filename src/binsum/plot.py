"""Pictures of what binsum computes, for notebooks and files.

Every function draws on its own matplotlib figure (the object API on an Agg
canvas: no pyplot, no window, no global state, so threads and notebooks do not
interfere), returns it, and writes it as a PNG when given ``save=PATH`` (an
atomic write, like the model file). In Jupyter a returned figure displays
itself, as a PNG, with or without pyplot. matplotlib is an optional extra:
``pip install "binsum[plot]"``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from binsum._atomic import atomic_write
from binsum._model import BinarySumRNN
from binsum._types import SweepRecord

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL_HINT = 'pip install "binsum[plot]"'

__all__: list[str] = []


def _figure(width: float, height: float) -> Figure:
    """A new figure on its own Agg canvas; a clear ImportError without matplotlib."""
    try:
        from binsum import _figure
    except ImportError as e:
        raise ImportError(f"binsum.plot needs matplotlib: {INSTALL_HINT}") from e
    return _figure.new(width, height)


def _finish(fig: Figure, save: str | os.PathLike[str] | None) -> Figure:
    """Write ``fig`` as a PNG to ``save`` (if given) and return it."""
    if save is not None:
        with atomic_write(save) as fh:
            fig.savefig(fh, format="png")
    return fig


def _available() -> bool:
    """True when matplotlib imports (the command checks before training)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _model(model: Any) -> BinarySumRNN:
    if not isinstance(model, BinarySumRNN):
        raise TypeError(f"model must be a BinarySumRNN, got {type(model).__name__}")
    return model


def _smooth(values: NDArray[np.float64], window: int) -> NDArray[np.float64]:
    """Trailing moving average: entry i is the mean of values[i-window+1 .. i]."""
    sums = np.cumsum(np.concatenate(([0.0], values)))
    out: NDArray[np.float64] = (sums[window:] - sums[:-window]) / window
    return out


def training_curve(
    model: BinarySumRNN,
    *,
    accuracy: Sequence[tuple[int, float]] = (),
    title: str | None = None,
    accuracy_label: str = "exact sums",
    save: str | os.PathLike[str] | None = None,
) -> Figure:
    """The loss of every iteration trained, and accuracy at checkpoints.

    What ``binsum train --plot`` draws: the loss per sample (grey) and its
    moving mean over a hundredth of the run, on a log scale, and the
    fraction of exact sums at the checkpoints given, on a second axis.

    Parameters
    ----------
    model : BinarySumRNN
        A model with its loss ``history`` (one saved with ``history=False``
        has none: the axes are then empty).
    accuracy : sequence of (int, float), default ()
        ``(iteration, fraction of exact sums)`` pairs, e.g. recorded with
        ``score()`` from a ``fit`` callback; iterations count the model's
        samples in all.
    title : str or None, default None
        The figure's title; None names the model's settings.
    accuracy_label : str, default "exact sums"
        The legend's name for the accuracy curve.
    save : str or os.PathLike or None, default None
        Also write the figure to this PNG file (atomically).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (a notebook displays it).

    Examples
    --------
    >>> from binsum import BinarySumRNN, plot
    >>> model = BinarySumRNN(seed=0).fit(2000)
    >>> fig = plot.training_curve(model)  # doctest: +SKIP
    """
    model = _model(model)
    if title is None:
        title = (
            f"{model.hidden_size} hidden units, {model.bits} bits, "
            f"lr {model.learning_rate:g}, clip {model.clip:g}, seed {model.seed}"
        )
    history = model.history
    first = model.iterations - len(history)
    fig = _figure(8, 4.5)
    from matplotlib.ticker import PercentFormatter  # _figure checked it is there

    ax = fig.add_subplot()
    n = len(history)
    if n:
        window = max(1, n // 100)
        x = np.arange(first + 1, first + n + 1)
        ax.plot(x, history, color="0.8", linewidth=0.5, label="loss per sample")
        ax.plot(
            x[window - 1 :],
            _smooth(history, window),
            color="C0",
            label=f"loss, mean of {window:,} samples",
        )
    ax.set_yscale("log")
    ax.set_xlabel("iteration (training samples)")
    ax.set_ylabel("loss  Σ (ŷ - y)²")
    ax.set_title(title)
    acc = ax.twinx()
    if accuracy:
        its, accs = zip(*accuracy, strict=True)
        acc.plot(its, accs, "o-", color="C3", markersize=4, label=accuracy_label)
    acc.set_ylim(-0.02, 1.02)
    acc.yaxis.set_major_formatter(PercentFormatter(1.0))
    acc.set_ylabel("exact sums")
    lines = ax.get_legend_handles_labels()
    more = acc.get_legend_handles_labels()
    # Below the axes, where the legend can cover no curve.
    fig.legend(
        lines[0] + more[0],
        lines[1] + more[1],
        loc="outside lower center",
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    return _finish(fig, save)


DIGITS_UP_TO = 32  # columns drawn with their digits; wider sums: the bars only
TITLE_CHARS = 90  # a longer "a + b = s" title is summarised


def column_addition(
    model: BinarySumRNN,
    a: int,
    b: int,
    *,
    save: str | os.PathLike[str] | None = None,
) -> Figure:
    """The network's column addition of ``a + b`` and its confidence per column.

    The picture of ``binsum add --explain``: the columns of a, b, the carry
    into each column and the network's bits, most significant on the left
    (the network reads them right to left, one per step), above a bar per
    column of the network's confidence in the bit it outputs,
    ``sigmoid(o_t)`` for a 1 and ``1 - sigmoid(o_t)`` for a 0. Wrong
    columns are red. Sums over 32 columns show only the bars.

    Parameters
    ----------
    model : BinarySumRNN
        The network.
    a, b : int
        Non-negative integers, of any number of bits.
    save : str or os.PathLike or None, default None
        Also write the figure to this PNG file (atomically).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (a notebook displays it).

    Examples
    --------
    >>> from binsum import BinarySumRNN, plot
    >>> fig = plot.column_addition(BinarySumRNN.pretrained(), 11, 6)  # doctest: +SKIP
    """
    model = _model(model)
    from binsum._report import Reading, sum_line

    reading = Reading(a, b, model.logits(a, b))  # logits checks a and b
    a, b, n = reading.a, reading.b, reading.columns
    true = a + b
    prob, pred = reading.probabilities, reading.predicted
    conf = [p if y else 1.0 - p for p, y in zip(prob, pred, strict=True)]
    wrong = [pred[t] != (true >> t) & 1 for t in range(n)]
    x = [n - 1 - t for t in range(n)]  # column t's place: t = 0 on the right
    colour = ["C3" if w else "C0" for w in wrong]
    digits = n <= DIGITS_UP_TO
    fig = _figure(max(6.0, 0.32 * n + 2.0) if digits else 12.0, 5.0 if digits else 3.5)
    from matplotlib.ticker import PercentFormatter  # _figure checked it is there

    if digits:
        grid, bars = fig.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [1.1, 1.0]}
        )
        carry = true ^ a ^ b  # bit t: the carry into column t
        rows = [("a", a), ("+ b", b), ("carry", carry), ("network", reading.total)]
        for r, (_, value) in enumerate(rows):
            for t in range(n):
                red = r == 3 and wrong[t]
                grid.text(
                    x[t], -r, str((value >> t) & 1), ha="center", va="center",
                    family="monospace", fontsize=11,
                    color="C3" if red else ("0.45" if r == 2 else "black"),
                    weight="bold" if red else "normal",
                )  # fmt: skip
        grid.axhline(-2.5, color="black", linewidth=0.8)
        grid.set_yticks([-r for r in range(len(rows))], [label for label, _ in rows])
        grid.set_ylim(-3.6, 0.6)
        grid.tick_params(axis="both", length=0)
        for side in grid.spines.values():
            side.set_visible(False)
    else:
        bars = fig.add_subplot()
    width = 0.8 if n <= 128 else 1.0  # very wide sums: bars side by side
    bars.bar(x, [c - 0.5 for c in conf], bottom=0.5, color=colour, width=width)
    bars.set_ylim(0.5, 1.0)
    bars.yaxis.set_major_formatter(PercentFormatter(1.0))
    bars.set_ylabel("confidence")
    bars.set_xlabel("column (bit t; the network reads right to left)")
    ticks = range(n) if digits else range(0, n, max(1, n // 16))
    bars.set_xticks([n - 1 - t for t in ticks], [str(t) for t in ticks])
    bars.set_xlim(-0.6, n - 0.4)
    title = sum_line(a, b, reading.total)
    if len(title) > TITLE_CHARS:
        bad = sum(wrong)
        verdict = "exact" if not bad else f"wrong in {bad:,} of them"
        title = f"a + b over {n:,} columns: {verdict}"
    fig.suptitle(title)
    return _finish(fig, save)


_SETTINGS = ("hidden_size", "bits", "learning_rate", "clip", "iterations")


def sweep_outcomes(
    records: Sequence[SweepRecord],
    *,
    save: str | os.PathLike[str] | None = None,
) -> Figure:
    """How often a sweep's networks learned addition, per configuration.

    For each group of records that differ only in their seed: the fraction
    of networks exact on every training pair (``score`` 1.0) and the
    fraction with no counterexample found (``counterexample`` None; this
    counts only if the sweep searched, ``hard_bits`` > 0), at the end of
    training; below, the checkpoint where each network was first exact
    (``solved_at``: it may have been exact there and not at the end).

    Parameters
    ----------
    records : sequence of SweepRecord
        What ``binsum.sweep`` returned.
    save : str or os.PathLike or None, default None
        Also write the figure to this PNG file (atomically).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (a notebook displays it).
    """
    rows: list[Mapping[str, Any]] = list(records)
    if not rows or not all(isinstance(r, Mapping) for r in rows):
        raise ValueError("records must be a non-empty list of binsum.sweep records")
    missing = {"score", "solved_at", "counterexample", "seed", *_SETTINGS} - set(
        rows[0]
    )
    if missing:
        raise ValueError(
            f"records must be binsum.sweep records, missing {sorted(missing)}"
        )
    varying = [k for k in _SETTINGS if len({r[k] for r in rows}) > 1]
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in varying), []).append(r)
    labels = [
        "\n".join(f"{k} {v:g}" for k, v in zip(varying, key, strict=True)) or "all"
        for key in groups
    ]
    fig = _figure(max(5.0, 1.1 * len(groups) + 2.0), 6.0)
    from matplotlib.ticker import PercentFormatter  # _figure checked it is there

    rates, times = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(groups))
    exact = [np.mean([r["score"] == 1.0 for r in g]) for g in groups.values()]
    clean = [np.mean([r["counterexample"] is None for r in g]) for g in groups.values()]
    rates.bar(
        x - 0.2, exact, width=0.4, color="C0", label="exact on every training pair"
    )
    rates.bar(x + 0.2, clean, width=0.4, color="C2", label="no counterexample found")
    rates.set_ylim(0, 1.05)
    rates.yaxis.set_major_formatter(PercentFormatter(1.0))
    rates.set_ylabel("of the seeds")
    rates.legend(loc="upper left", fontsize=8, frameon=False)
    for i, g in enumerate(groups.values()):
        solved = [r["solved_at"] for r in g if r["solved_at"] is not None]
        times.plot([i] * len(solved), solved, "o", color="C0", alpha=0.6)
        times.annotate(
            f"{len(solved)}/{len(g)}", (i, 0), xytext=(0, 2),
            textcoords="offset points", ha="center", fontsize=8,
        )  # fmt: skip
    times.set_ylim(bottom=0)
    times.set_ylabel("first exact at iteration\n(networks ever exact)")
    times.set_xticks(x, labels)
    shared = [k for k in _SETTINGS if k not in varying]
    fig.suptitle(
        f"{len(rows)} networks: " + ", ".join(f"{k} {rows[0][k]:g}" for k in shared)
    )
    return _finish(fig, save)


__all__ += ["column_addition", "sweep_outcomes", "training_curve"]
