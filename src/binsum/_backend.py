"""Choose the kernel: the compiled ``_core`` or its pure-Python twin ``_pycore``.

``BINSUM_NO_EXTENSIONS=1`` forces the twin (``binsum._switch`` reads the
switches); a missing extension falls back to it. Both have the twin's
signatures: ``_core.pyi`` re-exports them, stubtest checks the compiled kernel
against them, and ``Kernel`` types every call.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from binsum import _builds, _pycore, _switch
from binsum._types import Backend

BACKENDS: tuple[Backend, ...] = ("cython", "python")

NO_EXTENSIONS = _switch.is_set("BINSUM_NO_EXTENSIONS")

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


def _cpu_features() -> dict[str, bool]:
    """numpy's run-time CPU feature detection (it checks OS support too)."""
    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            features = importlib.import_module(name).__cpu_features__
        except (ImportError, AttributeError):
            continue
        return {key: bool(value) for key, value in features.items()}
    return {}


# The kernel's builds, baseline first (binsum._builds): each with the CPU
# features its flags allow on any compiler and the variable that keeps binsum
# from picking it (and every later one).
_BUILDS: tuple[tuple[str, tuple[str, ...], str], ...] = tuple(
    (name, _builds.needs(name), variable)
    for name, (variable, _, _) in _builds.BUILDS.items()
)
#: Builds that are not built on every platform (a missing one is no error).
OPTIONAL_BUILDS = tuple(name for name, needs, _ in _BUILDS if needs)


def compiled_builds() -> list[str]:
    """The compiled builds this CPU can run, baseline first: those whose
    every feature (``binsum._builds``) the CPU has, whether or not they are
    installed."""
    features = _cpu_features()
    return [name for name, needs, _ in _BUILDS if all(features.get(f) for f in needs)]


def _allowed(names: list[str]) -> list[str]:
    # BINSUM_NO_AVX2=1 keeps the baseline, BINSUM_NO_AVX512=1 the AVX2 build.
    allowed = []
    for name, _, variable in _BUILDS:
        if variable and _switch.is_set(variable):
            break
        if name in names:
            allowed.append(name)
    return allowed


# The fastest build this CPU runs, of those installed: the same bits as the
# baseline, and faster.
if _compiled is not None:
    for _name in reversed(_allowed(compiled_builds())[1:]):
        try:
            _compiled = importlib.import_module(_name)
            break
        except ImportError:  # not built for this platform
            continue

HAS_EXTENSION = _compiled is not None
#: Name of the compiled module in use: "binsum._core", "binsum._core_avx2" or
#: "binsum._core_avx512".
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
        self.sigmoid = _like(_pycore.sigmoid, module)
        self.work_size = _like(_pycore.work_size, module)
        self.train = _like(_pycore.train, module)
        self.loss_and_gradients = _like(_pycore.loss_and_gradients, module)
        self.forward_logits = _like(_pycore.forward_logits, module)
        self.hidden_states = _like(_pycore.hidden_states, module)
        self.predict = _like(_pycore.predict, module)
        self.prefix_depth = _like(_pycore.prefix_depth, module)
        self.prefix_table = _like(_pycore.prefix_table, module)
