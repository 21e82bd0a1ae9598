"""Sphinx configuration of binsum's documentation (MyST Markdown).

Build: ``python -m sphinx -W --keep-going -b html docs OUTDIR`` with
``pip install . --group docs`` (the docs dependency group, pip >= 25.1). The pages include the README's sections, so the
text lives in one place; the API reference comes from the installed package's
docstrings (with links to the source, sphinx.ext.viewcode), the command's
page from its argparse parser, the gallery from docs/gallery/plot_*.py, run
at every build by sphinx-gallery (the output, docs/auto_examples, is not
kept in git).

Offline by default, as CI builds it:
- MathJax 3 comes from the sphinx-mathjax-offline package (in the docs
  group) and is copied into the site: the equations render without network.
  BINSUM_DOCS_MATHJAX=cdn loads it from Sphinx's default CDN instead.
- The README's images are addressed on the repository (PyPI shows the
  README too, and needs full URLs); in the pages they are rewritten to the
  files of docs/, so the site serves its own images.
- intersphinx links to Python's and numpy's documentation from local
  inventories: Python's from Debian's python3-doc when installed
  (/usr/share/doc/python3.X/html/objects.inv), numpy's written at build time
  by docs/_inventories.py. The links point at the online documentation. A
  missing local inventory leaves those names unlinked, never fails the
  build; BINSUM_DOCS_INTERSPHINX=remote fetches the inventories online
  instead, BINSUM_DOCS_INTERSPHINX=require (CI) fails without them.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

project = "binsum"
author = "binsum developers"
copyright = "binsum developers"
release = metadata.version("binsum")
version = release

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))  # the gallery's scraper and the inventories

from _gallery_scraper import FIGURES, SCRAPER  # noqa: E402
from _inventories import write_numpy_inventory  # noqa: E402

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinxarg.ext",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "gallery/README.txt", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip"]

# The gallery: each docs/gallery/plot_*.py runs at every build (its figures,
# binsum.plot's Figure objects, collected by docs/_gallery_scraper.py); a
# failing example fails the build.
sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "image_scrapers": (SCRAPER,),
    "reset_modules": ("matplotlib", SCRAPER.reset),  # rcParams, then the hook
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "default_thumb_file": None,
    "within_subsection_order": "FileNameSortKey",
    "write_computation_times": False,
}

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

# MathJax 3 from the sphinx-mathjax-offline package: the combined TeX-to-HTML
# component, its fonts, and the parts it loads on demand (TeX extensions,
# the menu, the assistive MathML), about 2.5 MB instead of the package's 24.
MATHJAX_PARTS = [
    "tex-chtml.js",
    "output/chtml/fonts/woff-v2",
    "input/tex/extensions",
    "ui",
    "a11y",
]
_mathjax = os.environ.get("BINSUM_DOCS_MATHJAX", "offline")
if _mathjax not in ("offline", "cdn"):
    raise RuntimeError(f"BINSUM_DOCS_MATHJAX={_mathjax}: 'offline' or 'cdn'")
if _mathjax == "offline":
    mathjax_path = "mathjax/tex-chtml.js"  # relative to the site's _static


def _mathjax_source() -> Path:
    """The MathJax folder the sphinx-mathjax-offline package ships."""
    from importlib.util import find_spec

    # the package's import name has hyphens: found by its file, not imported
    spec = find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError('MathJax offline needs sphinx-mathjax-offline: '
                           'pip install . --group docs (or BINSUM_DOCS_MATHJAX=cdn)')
    return Path(spec.origin).parent / "static" / "mathjax"


def _copy_mathjax(app: Any, exception: BaseException | None) -> None:
    if exception is not None or _mathjax != "offline" or app.builder.format != "html":
        return
    source = _mathjax_source()
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / part, target / part)


# intersphinx: (link target, local inventory or None). Written in setup()
# below, where the build's folders are known.
_intersphinx = os.environ.get("BINSUM_DOCS_INTERSPHINX", "local")
if _intersphinx not in ("local", "remote", "require"):
    raise RuntimeError(f"BINSUM_DOCS_INTERSPHINX={_intersphinx}: "
                       "'local', 'remote' or 'require'")
PYTHON_DOCS = "https://docs.python.org/3/"
NUMPY_DOCS = "https://numpy.org/doc/stable/"
intersphinx_mapping: dict[str, tuple[str, Any]] = {}
intersphinx_timeout = 10


def _python_inventory() -> str | None:
    """Debian's python3-doc inventory of this Python's version, else any."""
    mine = f"/usr/share/doc/python3.{sys.version_info[1]}/html/objects.inv"
    found = [mine] if Path(mine).is_file() else sorted(
        glob.glob("/usr/share/doc/python3.*/html/objects.inv"))
    return found[-1] if found else None


def _set_inventories(app: Any) -> None:
    mapping = app.config.intersphinx_mapping
    if _intersphinx == "remote":
        mapping["python"] = (PYTHON_DOCS, None)
        mapping["numpy"] = (NUMPY_DOCS, None)
        return
    numpy_inv = write_numpy_inventory(Path(app.doctreedir) / "numpy-objects.inv")
    python_inv = _python_inventory()
    if python_inv is None and _intersphinx == "require":
        from sphinx.errors import ConfigError

        raise ConfigError("BINSUM_DOCS_INTERSPHINX=require: no Python inventory "
                           "(apt-get install python3-doc)")
    mapping["numpy"] = (NUMPY_DOCS, str(numpy_inv))
    if python_inv is not None:
        mapping["python"] = (PYTHON_DOCS, python_inv)


# The README addresses its images on the repository (GitHub and PyPI show
# them); the pages that include its sections use the copies in docs/.
README_IMAGES = "https://raw.githubusercontent.com/binsum/binsum/main/docs/"


def _local_images(app: Any, path: Path, docname: str, content: list[str]) -> None:
    if Path(path).name == "README.md":
        content[0] = content[0].replace(README_IMAGES, "/")


def _write_figure_counts(app: Any, exception: BaseException | None) -> None:
    """The number of figures each example made, for .ci/docs's browser check."""
    if exception is None and app.builder.format == "html":
        counts = {Path(name).stem: n for name, n in sorted(FIGURES.items())}
        (Path(app.outdir) / "_gallery_figures.json").write_text(
            json.dumps(counts, indent=1) + "\n")


def _alias_names(app: Any, what: str, name: str, obj: Any, options: Any,
                 signature: str | None, annotation: str | None) -> Any:
    """Sphinx 9 prints an alias inside a union (``ArrayLike | None``) as
    ``TypeAliasForwardRef('ArrayLike')``: print its name."""
    def fix(text: str | None) -> str | None:
        return None if text is None else _ALIAS.sub(r"\1", text)

    return fix(signature), fix(annotation)


_ALIAS = re.compile(r"TypeAliasForwardRef\('([\w.]+)'\)")


def setup(app: Any) -> None:
    # before intersphinx reads the mapping (its handler has priority 800)
    app.connect("config-inited", lambda app, config: _set_inventories(app), priority=100)
    app.connect("include-read", _local_images)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _write_figure_counts)
    app.connect("autodoc-process-signature", _alias_names)
