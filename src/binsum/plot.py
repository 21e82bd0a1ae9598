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

from binsum._atomic import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.ticker import Locator

    from binsum._model import BinarySumRNN

INSTALL_HINT = 'pip install "binsum[plot]"'

__all__: list[str] = ["gradient_norms", "hidden_states"]


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


def _integer_ticks() -> Locator:
    """Ticks on whole steps only."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _binary_model(model: object) -> BinarySumRNN:
    from binsum._model import BinarySumRNN

    if not isinstance(model, BinarySumRNN):
        raise TypeError(f"model must be a BinarySumRNN, got {type(model).__name__}")
    return model


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
    model = _binary_model(model)
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
    model = _binary_model(model)
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
