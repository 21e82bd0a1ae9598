"""Choose the kernel: the compiled ``_core`` or its pure-Python twin ``_pycore``.

``BINSUM_NO_EXTENSIONS=1`` forces the twin; a missing extension falls back to
it. Both have the twin's signatures: ``_core.pyi`` re-exports them, stubtest
checks the compiled kernel against them, and ``Kernel`` types every call.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from binsum import _pycore
from binsum._types import Backend

BACKENDS: tuple[Backend, ...] = ("cython", "python")

NO_EXTENSIONS = os.environ.get("BINSUM_NO_EXTENSIONS", "") not in ("", "0")

_compiled: ModuleType | None
_import_error: ImportError | None
if NO_EXTENSIONS:
    _compiled, _import_error = None, None
else:
    try:
        from binsum import _core as _compiled

        _import_error = None
    except ImportError as exc:  # not built: the twin gives the same bits
        _compiled, _import_error = None, exc


def _cpu_has_avx2() -> bool:
    """numpy's run-time CPU feature detection (it checks OS support too)."""
    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            features = importlib.import_module(name).__cpu_features__
        except (ImportError, AttributeError):
            continue
        return bool(features.get("AVX2", False))
    return False


def compiled_builds() -> list[str]:
    """The compiled builds this CPU can run: the baseline, and the AVX2 build
    where the CPU has AVX2 (whether or not they are installed)."""
    return ["binsum._core"] + (["binsum._core_avx2"] if _cpu_has_avx2() else [])


# The same kernel built for AVX2 (binsum._core_avx2) gives the same bits and
# is faster; BINSUM_NO_AVX2=1 keeps the baseline build (for testing both).
if (
    _compiled is not None
    and os.environ.get("BINSUM_NO_AVX2", "") in ("", "0")
    and _cpu_has_avx2()
):
    try:
        from binsum import _core_avx2 as _compiled
    except ImportError:  # not built for this platform
        pass

HAS_EXTENSION = _compiled is not None
#: Name of the compiled module in use ("binsum._core" or "binsum._core_avx2").
COMPILED_MODULE = _compiled.__name__ if _compiled is not None else None
DEFAULT: Backend = "cython" if HAS_EXTENSION else "python"


def kernel(name: str | None) -> tuple[Backend, ModuleType]:
    """Return (backend name, kernel module) for name "cython", "python" or None."""
    if name is None:
        name = DEFAULT
    if not isinstance(name, str):
        raise TypeError(
            f"backend must be 'cython', 'python' or None, got {type(name).__name__}"
        )
    if name == "python":
        return "python", _pycore
    if name == "cython":
        if _compiled is None:
            why = (
                "BINSUM_NO_EXTENSIONS is set"
                if NO_EXTENSIONS
                else f"the extension binsum._core is not built ({_import_error})"
            )
            raise ImportError(f"backend='cython' is unavailable: {why}")
        return "cython", _compiled
    raise ValueError(f"backend must be 'cython', 'python' or None, got {name!r}")


_F = TypeVar("_F", bound=Callable[..., Any])


def _like(twin_function: _F, module: ModuleType) -> _F:
    """The module's function of the same name, typed as the twin's."""
    function: _F = getattr(module, twin_function.__name__)
    return function


class Kernel:
    """A kernel module's functions, each typed by the twin's signature, so
    mypy checks every call the model makes (whichever backend runs it)."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.exp = _like(_pycore.exp, module)
        self.sigmoid = _like(_pycore.sigmoid, module)
        self.work_size = _like(_pycore.work_size, module)
        self.train = _like(_pycore.train, module)
        self.loss_and_gradients = _like(_pycore.loss_and_gradients, module)
        self.forward_logits = _like(_pycore.forward_logits, module)
        self.predict = _like(_pycore.predict, module)
