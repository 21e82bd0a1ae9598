"""The figure ``binsum.plot`` draws on (imported only with matplotlib).

matplotlib's Figure on its own Agg canvas, plus ``_repr_png_``: IPython shows
a plain Figure as an image only once pyplot's inline backend is active, and
binsum.plot never imports pyplot, so without it a notebook would print
``<Figure size 800x450 with 2 Axes>``. Where pyplot is active, IPython's own
Figure printer is used instead (either way, one image).
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as _Figure


class Figure(_Figure):
    """A matplotlib Figure that displays itself as a PNG in Jupyter."""

    def _repr_png_(self) -> bytes:
        out = io.BytesIO()
        self.savefig(out, format="png")
        return out.getvalue()


def new(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches on its own Agg canvas."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig
