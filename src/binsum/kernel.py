"""binsum's C interface, for other Cython extensions (``kernel.pxd``).

An extension that does ``from binsum cimport kernel`` imports this module
when it is itself imported, and takes the kernel's C functions from
``__pyx_capi__``: the table of the compiled kernel that binsum's Python API
uses (the fastest build the CPU runs: AVX-512, AVX2 or the baseline; ``BUILD``
names it). No link step against binsum is needed, and the functions are the
very ones behind ``BinarySumRNN``, so they give the same bits.

The C interface needs the compiled kernel: where binsum is the pure-Python
package, importing this module (and so any extension that cimports it)
raises ImportError. ``BINSUM_NO_EXTENSIONS=1`` only switches binsum's own
Python API to the twin; the C interface then uses the baseline build.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from binsum import _backend

__all__ = ["BUILD"]


def _compiled() -> ModuleType:
    name = _backend.COMPILED_MODULE or "binsum._core"
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            "binsum's C interface (binsum.kernel) needs the compiled kernel, "
            f"which this installation lacks ({exc}); install a binsum wheel "
            "for this platform or build binsum from source with a C compiler"
        ) from exc


_module = _compiled()
#: The compiled module whose C functions an extension gets.
BUILD: str = _module.__name__
# Cython's cimport reads this table; its capsules carry each function's C
# signature, which Cython checks against kernel.pxd at import.
__pyx_capi__: dict[str, Any] = dict(_module.__pyx_capi__)
