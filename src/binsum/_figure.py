"""The Figure class binsum.plot draws on: matplotlib's, shown in Jupyter.

A returned matplotlib ``Figure`` displays itself in a notebook only after
pyplot (or ``%matplotlib inline``) registered IPython's figure formatter;
binsum.plot never imports pyplot, so without this a cell ending in
``binsum.plot.training_curve(model)`` would show ``<Figure size ...>``.
``_repr_png_`` is IPython's protocol for a PNG display. Where the formatter
is registered, it takes precedence, so a figure is never shown twice. A
module-level class (not one made inside a function): figures stay picklable.
Imported by binsum.plot only when a picture is drawn (matplotlib is optional).
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure


class NotebookFigure(Figure):
    """A matplotlib Figure that Jupyter displays as a PNG, without pyplot."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()
