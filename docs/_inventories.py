"""A local intersphinx inventory for numpy's documentation.

Python's inventory comes from Debian's python3-doc; numpy's documentation is
packaged nowhere the docs' build can reach offline (Debian 12 has no
python-numpy-doc, PyPI ships none), so the build writes an inventory of the
numpy objects binsum's pages name. Each entry's address is where numpy's
documentation (https://numpy.org/doc/stable/) keeps that object: the pages
its autosummary generates (``reference/generated/numpy.NAME.html``) for
functions and classes, the scalar page for scalar types, the random and
typing pages for those modules. A name is listed only if the installed numpy
has it, so a renamed object shows up as a missing link, not a dead one.
"""

from __future__ import annotations

import zlib
from pathlib import Path

# name -> (Sphinx object type, page under https://numpy.org/doc/stable/)
_GENERATED = "reference/generated/{name}.html"
_SCALARS = "reference/arrays.scalars.html"
NUMPY_OBJECTS: dict[str, tuple[str, str]] = {
    "numpy.ndarray": ("class", _GENERATED),
    "numpy.dtype": ("class", _GENERATED),
    "numpy.generic": ("class", _SCALARS),
    "numpy.integer": ("class", _SCALARS),
    "numpy.floating": ("class", _SCALARS),
    "numpy.float64": ("class", _SCALARS),
    "numpy.int64": ("class", _SCALARS),
    "numpy.intp": ("class", _SCALARS),
    "numpy.uint8": ("class", _SCALARS),
    "numpy.uint64": ("class", _SCALARS),
    "numpy.bool_": ("class", _SCALARS),
    "numpy.random.Generator": ("class", "reference/random/generator.html"),
    "numpy.random.default_rng": ("function", "reference/random/generator.html"),
    "numpy.random.PCG64": ("class", "reference/random/bit_generators/pcg64.html"),
    "numpy.typing.ArrayLike": ("data", "reference/typing.html"),
    "numpy.typing.NDArray": ("data", "reference/typing.html"),
    "numpy.array": ("function", _GENERATED),
    "numpy.asarray": ("function", _GENERATED),
    "numpy.load": ("function", _GENERATED),
    "numpy.save": ("function", _GENERATED),
    "numpy.savez": ("function", _GENERATED),
    "numpy.savez_compressed": ("function", _GENERATED),
    "numpy.array_equal": ("function", _GENERATED),
    "numpy.seterr": ("function", _GENERATED),
}


def _exists(name: str) -> bool:
    import importlib

    module_name, _, attr = name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    return hasattr(module, attr)


def write_numpy_inventory(path: Path) -> Path:
    """Write the inventory (Sphinx's format, version 2) to ``path``."""
    import numpy

    version = ".".join(numpy.__version__.split(".")[:2])
    lines = []
    for name, (kind, page) in NUMPY_OBJECTS.items():
        if _exists(name):
            uri = page.format(name=name) + "#$"  # "$": the anchor is the name
            lines.append(f"{name} py:{kind} 1 {uri} -\n")
    header = (
        "# Sphinx inventory version 2\n"
        "# Project: NumPy\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode() + zlib.compress("".join(lines).encode()))
    return path
