"""The gallery's image scraper: every matplotlib Figure a code block created.

sphinx-gallery's own matplotlib scraper saves pyplot's open figures only, and
binsum.plot never uses pyplot: it draws on its own ``Figure`` objects (Agg
canvas) and returns them. Looking for figures among the block's variables
would miss the common notebook style, a figure as the cell's last expression
(a value no variable holds, possibly freed before the scraper runs), and
figures kept in lists. So the scraper records every ``Figure`` at its
creation instead: ``Figure.__init__`` appends the new figure to a list (a
strong reference, so none is lost to the garbage collector before it is
saved), and after each block the scraper saves, in creation order, the
figures recorded since the previous block and forgets them. Figures made
with pyplot are ``Figure`` objects too, so they are saved as well (and
closed).

The scraper also counts the figures of each example: ``FIGURES`` maps the
example's file name to that count, and docs/conf.py writes it into the built
site (``_gallery_figures.json``) for the browser check of .ci/docs, which
then looks for that many images on the example's page.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

_created: list[Any] = []
_installed = False
FIGURES: dict[str, int] = {}


def _install() -> None:
    """Wrap ``Figure.__init__`` once, so that each new figure is recorded."""
    global _installed
    if _installed:
        return
    from matplotlib.figure import Figure

    original: Callable[..., None] = Figure.__init__

    def recording_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _created.append(self)

    recording_init.__wrapped__ = original  # type: ignore[attr-defined]
    Figure.__init__ = recording_init  # type: ignore[method-assign]
    _installed = True


def _title(fig: Any) -> str:
    """The figure's suptitle, else its axes' titles: the image's alt text."""
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        return str(suptitle.get_text())
    titles = [ax.get_title() for ax in fig.get_axes() if ax.get_title()]
    return "; ".join(titles)


class FigureScraper:
    """sphinx-gallery's image scraper and its reset function, in one object.

    As a reset function (``reset_modules``, run before each example) it
    installs the recording hook and drops figures left by a failed example; as
    an image scraper (``image_scrapers``) it saves the figures of the block.
    Its ``repr`` is constant, so Sphinx sees an unchanged configuration
    between builds.
    """

    def __repr__(self) -> str:
        return "binsum_figure_scraper"

    def reset(self, gallery_conf: dict[str, Any], fname: str | None) -> None:
        _install()
        _created.clear()
        if fname is not None:  # None: entering a folder of examples
            FIGURES[Path(fname).name] = 0

    def __call__(self, block: Any, block_vars: dict[str, Any],
                 gallery_conf: dict[str, Any], **kwargs: Any) -> str:
        from sphinx_gallery.scrapers import figure_rst

        figures = list(_created)
        _created.clear()
        paths = []
        titles = []
        for fig, path in zip(figures, block_vars["image_path_iterator"]):
            path = PurePosixPath(path)
            fig.savefig(path, dpi=100)
            paths.append(path)
            titles.append(_title(fig))
        name = Path(block_vars["src_file"]).name
        FIGURES[name] = FIGURES.get(name, 0) + len(paths)
        if "matplotlib.pyplot" in sys.modules:  # figures an example made with pyplot
            sys.modules["matplotlib.pyplot"].close("all")
        return figure_rst(paths, gallery_conf["src_dir"], "; ".join(t for t in titles if t))


SCRAPER = FigureScraper()
