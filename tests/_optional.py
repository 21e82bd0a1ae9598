"""Dependencies of the full test dependency group that a wheel test may lack."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def optional_module(name: str) -> ModuleType:
    """Import a dependency of the full test group (matplotlib, dask).

    Missing, it fails the test, so CI (which installs ``--group test``) never skips
    silently; wheel tests on platforms where it has no wheel set
    BINSUM_LEAN_TESTS=1 (run_both.py --lean), and then it skips.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if os.environ.get("BINSUM_LEAN_TESTS", "") not in ("", "0"):
            pytest.skip(f"{name} is not installed (BINSUM_LEAN_TESTS=1)")
        pytest.fail(f"{name} is needed by this test (pip install --group test): {exc}")
