"""Golden bits: every backend and kernel build reproduces tests/golden.json.

The file holds the twin's SHA-256 digests (tests/make_golden.py) of weights,
loss history, predictions, logits and gradients for configurations at the
extremes of every setting. test_parity compares the kernel with the twin
running next to it; this compares both with bits fixed once, so a wheel
tested on its own platform (cibuildwheel's test-command runs this file) and a
cross-compiled kernel under emulation (.ci/emulated) are held to the same
bits as every other platform. A failure names each differing entry on a line
starting ``golden-mismatch:``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import _golden
import pytest

from binsum import _backend

GOLDEN = Path(__file__).resolve().parent / "golden.json"
NAMES = list(_golden.CONFIGS)


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    if not GOLDEN.is_file():
        pytest.fail(f"{GOLDEN} is missing: it ships with the tests (MANIFEST.in)")
    data: dict[str, Any] = json.loads(GOLDEN.read_text())
    return data


def check(label: str, got: dict[str, str], want: dict[str, str]) -> None:
    differ = [key for key in want if got.get(key) != want[key]]
    assert set(got) == set(want), (label, sorted(got), sorted(want))
    for key in differ:
        print(f"golden-mismatch: {label} {key}")
    assert not differ, (
        f"{len(differ)} of {len(want)} golden entries differ for {label}: {differ}"
    )


def test_file_describes_the_configurations(golden: dict[str, Any]) -> None:
    # A configuration changed in _golden.py without regenerating the file
    # (python tests/make_golden.py) would be compared with stale digests.
    assert golden["format"] == _golden.FORMAT
    assert golden["configs"] == _golden.CONFIGS
    assert list(golden["digests"]) == NAMES
    for name in NAMES:
        assert list(golden["digests"][name]) == list(_golden.ENTRIES), name


@pytest.mark.parametrize("name", NAMES)
def test_backend_reproduces_golden_bits(
    golden: dict[str, Any], backend: str, name: str
) -> None:
    got = _golden.compute(name, backend)
    check(f"{backend}/{name}", got, golden["digests"][name])


def test_backend_reproduces_golden_functions(
    golden: dict[str, Any], backend: str
) -> None:
    got = _golden.compute_functions(backend)
    check(f"{backend}/functions", got, golden["functions"])


@pytest.fixture(params=_backend.compiled_builds())
def build(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make backend="cython" use this build of the kernel (not only the default)."""
    if _backend.NO_EXTENSIONS:
        pytest.skip("BINSUM_NO_EXTENSIONS=1: compiled kernel disabled")
    name: str = request.param
    try:
        module: ModuleType = importlib.import_module(name)
    except ImportError as exc:
        if name in _backend.OPTIONAL_BUILDS:
            pytest.skip(f"{name} is not built on this platform: {exc}")
        pytest.fail(f"{name} is not built: {exc}")
    monkeypatch.setattr(_backend, "_compiled", module)
    return name


@pytest.mark.parametrize("name", NAMES)
def test_every_build_reproduces_golden_bits(
    golden: dict[str, Any], build: str, name: str
) -> None:
    assert _backend.kernel("cython")[1].__name__ == build
    got = _golden.compute(name, "cython")
    check(f"{build}/{name}", got, golden["digests"][name])


def test_every_build_reproduces_golden_functions(
    golden: dict[str, Any], build: str
) -> None:
    assert _backend.kernel("cython")[1].__name__ == build
    got = _golden.compute_functions("cython")
    check(f"{build}/functions", got, golden["functions"])
