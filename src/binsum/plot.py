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
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import Locator

    from binsum._automaton import CarryMachine
    from binsum.lecture import LectureCode, LinearRNN, WithoutFeedback

INSTALL_HINT = 'pip install "binsum[plot]"'

__all__ = [
    "architectures",
    "carry_machine",
    "column_addition",
    "gradient_norms",
    "hidden_states",
    "lecture_comparison",
    "sweep_outcomes",
    "training_curve",
]


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


def carry_machine(
    model_or_machine: BinarySumRNN | CarryMachine,
    *,
    save: str | os.PathLike[str] | None = None,
) -> Figure:
    """The carry machine: what the hidden state remembers.

    Left, the sampled reachable states (``BinarySumRNN.automaton()``)
    projected on their two principal axes, coloured by the carry each stands
    for, with the cluster centres and the transitions between them as arrows
    labelled input/output (``10/1``: a's bit 1, b's bit 0, output 1). Right,
    the machine the clusters merge into, drawn the same way (the full adder's
    two states when ``is_full_adder``).

    Parameters
    ----------
    model_or_machine : BinarySumRNN or CarryMachine
        A model (its ``automaton()`` is drawn) or a machine.
    save : str or os.PathLike or None, default None
        Also write the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from binsum._automaton import CarryMachine

    if isinstance(model_or_machine, BinarySumRNN):
        machine = model_or_machine.automaton()
    elif isinstance(model_or_machine, CarryMachine):
        machine = model_or_machine
    else:
        raise TypeError(
            "model_or_machine must be a BinarySumRNN or a CarryMachine, got "
            f"{type(model_or_machine).__name__}"
        )
    fig = _figure(11.0, 5.0)
    left, right = fig.subplots(1, 2)
    states = machine.states
    mean = states.mean(axis=0)
    _, _, vt = np.linalg.svd(states - mean, full_matrices=False)
    axes = vt[:2]
    xy = (states - mean) @ axes.T
    centres = (machine.centres - mean) @ axes.T
    colours = ("#1f77b4", "#d62728")  # carry 0, carry 1
    every = max(1, len(xy) // 20_000)  # a readable, deterministic subset
    for c in (0, 1):
        pick = np.flatnonzero(machine.carries == c)[::every]
        left.scatter(
            xy[pick, 0], xy[pick, 1], s=3, color=colours[c], alpha=0.25,
            linewidths=0, label=f"carry {c}", rasterized=True,
        )  # fmt: skip
    mixed = machine.cluster_carries.min(axis=1) > 0
    majority = machine.cluster_carries.argmax(axis=1)
    for j, (x, y) in enumerate(centres):
        left.scatter(
            [x], [y], s=60, marker="o", zorder=4, edgecolors="black",
            color="#999999" if mixed[j] else colours[majority[j]],
        )  # fmt: skip
    _arrows(left, centres, [(t.source, t.target, t.inputs, t.output)
                            for t in machine.transitions], small=True)  # fmt: skip
    left.set_xlabel("principal axis 1")
    left.set_ylabel("principal axis 2")
    left.set_title(f"{len(states):,} reachable states, {machine.clusters} clusters")
    leg = left.legend(loc="best", markerscale=4)
    for handle in leg.legend_handles:
        if handle is not None:
            handle.set_alpha(1)

    blocks = np.array(machine.blocks)
    count = int(blocks.max()) + 1
    where = np.array([centres[blocks == b].mean(axis=0) for b in range(count)])
    merged = {
        (machine.blocks[t.source], machine.blocks[t.target], t.inputs, t.output)
        for t in machine.transitions
    }
    for b in range(count):
        carries = machine.cluster_carries[blocks == b].sum(axis=0)
        colour = "#999999" if carries.min() > 0 else colours[int(carries.argmax())]
        right.scatter([where[b, 0]], [where[b, 1]], s=900, color=colour,
                      zorder=4, edgecolors="black")  # fmt: skip
        right.annotate(f"{b}", where[b], ha="center", va="center", zorder=5,
                       color="white", fontsize=12, weight="bold")  # fmt: skip
    _arrows(right, where, sorted(merged), small=False)
    # the merged states sit at their clusters' mean: the axes' scale says nothing
    right.set_xticks([])
    right.set_yticks([])
    right.set_xlabel("each state at the mean of its clusters (inputs/output)")
    right.set_title(
        "merged: the full adder's machine"
        if machine.is_full_adder
        else f"merged: {count} states, not the full adder"
    )
    right.margins(0.25)
    fig.suptitle(
        f"carry units {', '.join(map(str, machine.carry_units)) or 'none'}; "
        f"linear read-out margin {machine.readout_margin:.2f}"
    )
    return _finish(fig, save)


def _arrows(
    ax: Axes,
    at: NDArray[np.float64],
    moves: list[tuple[int, int, tuple[int, int], int]],
    *,
    small: bool,
) -> None:
    """Arrows between the points ``at``, one per (source, target), labelled
    with every input/output that takes it; a loop is a label by the point."""
    labels: dict[tuple[int, int], list[str]] = {}
    for source, target, (x0, x1), out in moves:
        text = f"{x0}{x1}/{out}"
        if text not in labels.setdefault((source, target), []):
            labels[source, target].append(text)
    size = 6 if small else 10
    span = float(np.ptp(at[:, 0]) + np.ptp(at[:, 1])) or 1.0
    for (source, target), texts in sorted(labels.items()):
        text = " ".join(texts)
        p, q = at[source], at[target]
        if source == target:
            ax.annotate(text, p, xytext=(0, 14 if small else 26),
                        textcoords="offset points", ha="center",
                        fontsize=size, color="#444444")  # fmt: skip
            continue
        style = {
            "arrowstyle": "->", "color": "#555555", "lw": 0.6 if small else 1.4,
            "connectionstyle": "arc3,rad=0.15",
            "shrinkA": 6 if small else 20, "shrinkB": 6 if small else 20,
        }  # fmt: skip
        ax.annotate("", q, xytext=p, zorder=3, arrowprops=style)
        mid = (p + q) / 2 + 0.04 * span * np.array([-(q - p)[1], (q - p)[0]]) / (
            np.hypot(*(q - p)) or 1.0
        )
        if not small or len(labels) <= 40:
            ax.annotate(text, mid, ha="center", va="center", fontsize=size,
                        color="#222222")  # fmt: skip


def _integer_ticks() -> Locator:
    """Ticks on whole steps only."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def hidden_states(
    model: BinarySumRNN, a: int, b: int, *, save: str | os.PathLike[str] | None = None
) -> Figure:
    """The hidden states of ``add(a, b)`` over time, with the bits they carry.

    A heatmap of ``h_t`` (one row per hidden unit, one column per step,
    h_0 = 0 first) over strips of the input bits, the true carry after each
    step (what the state has to remember), the true sum and the network's
    bits (red where wrong). Columns line up: bit t enters at step t + 1,
    whose state is column t + 1.

    Parameters
    ----------
    model : BinarySumRNN
        The network.
    a, b : int
        Non-negative integers of any size (columns get narrow past a few
        hundred bits; digits are written up to 48 steps).
    save : path or None, default None
        Also write the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    model = _model(model)
    states = model.hidden_states(a, b)
    a, b = int(a), int(b)
    steps = len(states) - 1
    predicted = model.logits(a, b) > 0.0
    total = a + b
    bits_a = [(a >> i) & 1 for i in range(steps)]
    bits_b = [(b >> i) & 1 for i in range(steps)]
    carry = []  # the full adder's carry after each step
    c = 0
    for x, y in zip(bits_a, bits_b, strict=True):
        c = (x + y + c) >> 1
        carry.append(c)
    strips = {
        "a": bits_a,
        "b": bits_b,
        "carry": carry,
        "a + b": [(total >> i) & 1 for i in range(steps)],
        "network": [int(x) for x in predicted],
    }
    fig = _figure(max(6.0, min(14.0, 2.0 + 0.25 * steps)), 6.0)
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    image = top.imshow(
        states.T,
        aspect="auto",
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
        interpolation="nearest",
        extent=(-0.5, steps + 0.5, states.shape[1] - 0.5, -0.5),
    )
    top.set_ylabel("hidden unit k")
    top.set_title(
        f"Hidden states h_t of {a} + {b}"
        if steps <= 64
        else f"Hidden states h_t ({steps} steps)"
    )
    fig.colorbar(image, ax=top, label="h_t[k]", pad=0.01)
    rows = np.array(list(strips.values()), dtype=np.float64)
    bottom.imshow(
        rows,
        aspect="auto",
        cmap="Greys",
        vmin=-0.3,
        vmax=1.3,
        interpolation="nearest",
        extent=(0.5, steps + 0.5, len(rows) - 0.5, -0.5),
    )
    wrong = np.flatnonzero(np.array(strips["network"]) != np.array(strips["a + b"]))
    bottom.scatter(
        wrong + 1,
        np.full(len(wrong), len(rows) - 1),
        marker="s",
        s=60,
        facecolors="none",
        edgecolors="red",
        label="wrong bit",
    )
    if steps <= 48:
        for r, values in enumerate(strips.values()):
            for i, v in enumerate(values):
                bottom.text(
                    i + 1,
                    r,
                    str(v),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v else "black",
                )
    bottom.set_yticks(range(len(rows)), list(strips))
    bottom.set_xlabel("step t (bit t - 1 enters at step t; least significant first)")
    bottom.set_xlim(-0.5, steps + 0.5)
    bottom.xaxis.set_major_locator(_integer_ticks())
    if len(wrong):
        bottom.legend(loc="upper left", fontsize=7)
    return _finish(fig, save)


def gradient_norms(
    model: BinarySumRNN, a: int, b: int, *, save: str | os.PathLike[str] | None = None
) -> Figure:
    """How the training gradient of one pair flows back through time.

    ``model.bptt(a, b)`` per step, on a log scale: the hidden deltas'
    Euclidean norms before and after the clip, their largest component
    before the clip against the clip level (each component is clipped to
    ``[-clip, clip]``), and the output deltas ``|delta_o_t|`` where the error
    enters. Backpropagation runs from the last step to the first (right to
    left); steps where the clip bound are shaded.

    Parameters
    ----------
    model : BinarySumRNN
        The network.
    a, b : int
        A training pair: ``a + b < 2**model.bits``.
    save : path or None, default None
        Also write the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    model = _model(model)
    steps = model.bptt(a, b)
    t = np.arange(steps.bits)
    fig = _figure(max(6.0, min(14.0, 2.0 + 0.2 * steps.bits)), 4.0)
    ax = fig.subplots()
    ax.set_yscale("log", nonpositive="mask")
    ax.plot(
        t,
        steps.delta_a_unclipped_norms,
        "--",
        color="C0",
        label="|δa_t| before the clip",
    )
    ax.plot(t, steps.delta_a_norms, "-", color="C0", label="|δa_t| after the clip")
    ax.plot(
        t,
        np.abs(steps.delta_a_unclipped).max(axis=1),
        ":",
        color="C2",
        label="max_k |δa_t[k]| before the clip",
    )
    ax.plot(
        t,
        np.abs(steps.delta_o),
        "o",
        color="C1",
        markersize=4,
        label="|δo_t| (error entering)",
    )
    ax.axhline(
        steps.clip,
        color="red",
        linewidth=1,
        label=f"clip = {steps.clip:g} (per component)",
    )
    for i in np.flatnonzero(steps.clipped_steps):
        ax.axvspan(i - 0.5, i + 0.5, color="red", alpha=0.12, linewidth=0)
    ax.set_xlabel(
        "step t (bit t, least significant first); gradients flow right to left"
    )
    ax.set_ylabel("magnitude")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_title(f"Backpropagation through time for {steps.a} + {steps.b}")
    ax.legend(fontsize=7, loc="best")
    return _finish(fig, save)


# ------------------------------------------------------ the lecture's questions

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
    # seeds at positions 0, 1, ... (string labels that look like numbers
    # make matplotlib log a warning about categorical units)
    where = np.arange(len(without_feedback.seeds))
    bars = nf.bar(where, [100 * x for x in without_feedback.accuracies],
                  color="tab:gray")  # fmt: skip
    nf.set_xticks(where, [str(s) for s in without_feedback.seeds])
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
