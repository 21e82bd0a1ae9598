"""Sphinx configuration of binsum's documentation (MyST Markdown).

Build: ``python -m sphinx -W --keep-going -b html docs OUTDIR`` with
``pip install ".[docs]"``. The pages include the README's sections, so the
text lives in one place; the API reference comes from the installed package's
docstrings, the command's page from its argparse parser.

MathJax: by default the pages load it from a CDN. Set BINSUM_DOCS_MATHJAX to
a MathJax 2 folder (Debian's libjs-mathjax: /usr/share/javascript/mathjax) to
ship the parts the pages need inside the built site, so the equations render
offline (CI has no network: .ci/docs does this).
"""

from __future__ import annotations

import os
import re
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

project = "binsum"
author = "binsum developers"
copyright = "binsum developers"
release = metadata.version("binsum")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinxarg.ext",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_type_aliases = {"ArrayLike": "ArrayLike"}
autosummary_generate = False  # the tables link to entries on the same page
# Docstrings in numpydoc's style, as numpy and scikit-learn write them; the
# class's members are documented in full below it, not listed again.
numpydoc_show_class_members = False

html_theme = "furo"
html_title = f"binsum {release}"

# The MathJax 2 files the pages use (TeX input, CommonHTML output, TeX fonts).
MATHJAX_PARTS = [
    "MathJax.js",
    "config/TeX-AMS_CHTML.js",
    "extensions",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "jax/element",
    "fonts/HTML-CSS/TeX/woff",
]
_mathjax = os.environ.get("BINSUM_DOCS_MATHJAX", "")
if _mathjax:
    if not (Path(_mathjax) / "MathJax.js").is_file():
        raise RuntimeError(f"BINSUM_DOCS_MATHJAX={_mathjax}: no MathJax.js there")
    # relative to the built site's _static folder
    mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_CHTML"
    # MyST marks the pages' text tex2jax_ignore (a "$" in prose is not math)
    # and the equations "math"; MathJax 2 spells that as tex2jax options.
    myst_update_mathjax = False  # it would write MathJax 3's spelling
    mathjax2_config = {
        "showMathMenu": False,
        "messageStyle": "none",
        "tex2jax": {
            "ignoreClass": "tex2jax_ignore|mathjax_ignore",
            "processClass": "tex2jax_process|mathjax_process|math|output_area",
        },
    }


def _copy_mathjax(app: Any, exception: BaseException | None) -> None:
    if exception is not None or not _mathjax or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        source = Path(_mathjax) / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / part)


def _alias_names(app: Any, what: str, name: str, obj: Any, options: Any,
                 signature: str | None, annotation: str | None) -> Any:
    """Sphinx 9 prints an alias inside a union (``ArrayLike | None``) as
    ``TypeAliasForwardRef('ArrayLike')``: print its name."""
    def fix(text: str | None) -> str | None:
        return None if text is None else _ALIAS.sub(r"\1", text)

    return fix(signature), fix(annotation)


_ALIAS = re.compile(r"TypeAliasForwardRef\('([\w.]+)'\)")


def setup(app: Any) -> None:
    app.connect("build-finished", _copy_mathjax)
    app.connect("autodoc-process-signature", _alias_names)
