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

from binsum._atomic import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
