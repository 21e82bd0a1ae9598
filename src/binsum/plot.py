"""Pictures of what binsum computes, for notebooks and files.

Every function draws on its own matplotlib figure (the object API on an Agg
canvas: no pyplot, no window, no global state, so threads and notebooks do not
interfere), returns it, and writes it as a PNG when given ``save=PATH`` (an
atomic write, like the model file). In Jupyter a returned figure displays
itself. matplotlib is an optional extra: ``pip install "binsum[plot]"``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from binsum._atomic import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from binsum.lecture import LectureCode, LinearRNN, WithoutFeedback

INSTALL_HINT = 'pip install "binsum[plot]"'

__all__: list[str] = []


def _figure(width: float, height: float) -> Figure:
    """A new figure on its own Agg canvas; a clear ImportError without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(f"binsum.plot needs matplotlib: {INSTALL_HINT}") from e
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Figure, save: str | os.PathLike[str] | None) -> Figure:
    """Write ``fig`` as a PNG to ``save`` (if given) and return it."""
    if save is not None:
        with atomic_write(save) as fh:
            fig.savefig(fh, format="png")
    return fig


# ------------------------------------------------------ the lecture's questions
__all__ += ["architectures", "lecture_comparison"]

LOSS_SMOOTHING = 200  # samples per point of a smoothed loss curve


def _smoothed(
    losses: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The mean loss of each block of LOSS_SMOOTHING samples, at its end."""
    n = len(losses) // LOSS_SMOOTHING * LOSS_SMOOTHING
    means = losses[:n].reshape(-1, LOSS_SMOOTHING).mean(axis=1)
    ends = np.arange(1, len(means) + 1, dtype=np.int64) * LOSS_SMOOTHING
    return ends, means


def lecture_comparison(
    result: LectureCode, *, save: str | os.PathLike[str] | None = None
) -> Figure:
    """The lecture's code as written against the corrected one
    (:func:`binsum.lecture.lecture_code`'s result): the loss during training
    (means of 200 samples) and the exact-sum accuracy of each."""
    fig = _figure(9.0, 3.6)
    loss, acc = fig.subplots(1, 2, width_ratios=[2.2, 1])
    runs = [("as written", result.as_written, "tab:red"),
            ("corrected", result.corrected, "tab:blue")]  # fmt: skip
    for label, run, colour in runs:
        ends, means = _smoothed(run.losses)
        loss.plot(ends, means, label=label, color=colour)
    loss.set_xlabel("training samples")
    loss.set_ylabel(f"loss (mean of {LOSS_SMOOTHING})")
    loss.legend()
    loss.set_title(
        f"the lecture's code, seed {result.seed}, {result.hidden_size} hidden units"
    )
    names = [label for label, _, _ in runs]
    values = [100 * run.accuracy for _, run, _ in runs]
    bars = acc.bar(names, values, color=[c for _, _, c in runs])
    acc.bar_label(bars, fmt="%.1f %%")
    acc.set_ylim(0, 110)
    acc.set_ylabel(f"exact sums, all {result.bits}-bit pairs (%)")
    acc.set_title(f"after {result.iterations:,} samples")
    return _finish(fig, save)


def architectures(
    without_feedback: WithoutFeedback,
    linear: LinearRNN,
    *,
    save: str | os.PathLike[str] | None = None,
) -> Figure:
    """The two architectures that cannot add (:func:`binsum.lecture.
    without_feedback` and :func:`binsum.lecture.linear_rnn`'s results): the
    network without feedback from each seed against the best any such output
    can do; the linear RNN's right bits by column, and its exact sums against
    its ceiling and the same linear state with a three-threshold read-out."""
    fig = _figure(12.0, 3.8)
    nf, cols, lin = fig.subplots(1, 3, width_ratios=[1.2, 1.4, 1])
    seeds = [str(s) for s in without_feedback.seeds]
    bars = nf.bar(seeds, [100 * x for x in without_feedback.accuracies],
                  color="tab:gray")  # fmt: skip
    nf.bar_label(bars, fmt="%.1f")
    nf.axhline(100 * without_feedback.bound, color="tab:red", linestyle="--",
               label="best possible without feedback")  # fmt: skip
    nf.set_ylim(0, 100)
    nf.set_xlabel("seed")
    nf.set_ylabel(f"exact sums, all {without_feedback.bits}-bit pairs (%)")
    seen = "x_t" if without_feedback.window == 1 else "x_t and x_(t-1)"
    nf.set_title(f"h_t from {seen} alone")
    nf.legend(loc="upper right", fontsize="small")
    columns = np.arange(len(linear.columns))
    cols.bar(columns, [100 * x for x in linear.columns], color="tab:purple")
    cols.axhline(50, color="black", linewidth=0.8, linestyle=":")
    cols.set_xticks(columns)
    cols.set_xlabel("column t (the last one is the carry)")
    cols.set_ylabel("pairs with bit t right (%)")
    cols.set_ylim(0, 105)
    cols.set_title("trained linear RNN, bit by bit")
    names = ["trained", "ceiling,\nany weights", "linear state,\n3 thresholds"]
    values = [100 * linear.trained.accuracy, 100 * linear.bound,
              100 * linear.constructed]  # fmt: skip
    bars = lin.bar(names, values, color=["tab:purple", "tab:red", "tab:green"])
    lin.bar_label(bars, fmt="%.1f")
    lin.set_ylim(0, 110)
    lin.set_ylabel("exact sums (%)")
    lin.set_title("linear RNN")
    return _finish(fig, save)
