"""The environment switches that pick a kernel, each in a fresh interpreter
(the choice is made once, at import).

The suite runs both backends in one process; these tests show that
BINSUM_NO_EXTENSIONS=1 really gives the twin everywhere (the pure wheel's
case), that binsum otherwise picks the fastest build the CPU runs, and that
BINSUM_NO_AVX512=1 stops at the AVX2 build and BINSUM_NO_AVX2=1 at the
baseline.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest
from _children import popen_kwargs

import binsum
from binsum import _backend

_REPORT = textwrap.dedent(
    """
    import json
    import binsum
    from binsum import BinarySumRNN, _backend, cli
    try:
        BinarySumRNN(backend="cython")
        cython = "available"
    except ImportError as exc:
        cython = str(exc)
    print(json.dumps({
        "backend": binsum.backend,
        "has_extension": binsum.has_extension,
        "module": _backend.COMPILED_MODULE,
        "model": BinarySumRNN(hidden_size=2, seed=0).fit(3).backend,
        "cython": cython,
    }))
    cli.main(["info"])
    """
)


def report(**env: str) -> tuple[dict[str, object], str]:
    """What a fresh interpreter with ``env`` picks, and its `binsum info`."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("BINSUM_")}
    proc = subprocess.run(
        [sys.executable, "-c", _REPORT], capture_output=True, text=True,
        env={**full, **env}, timeout=120, **popen_kwargs(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first, _, info = proc.stdout.partition("\n")
    facts: dict[str, object] = json.loads(first)
    return facts, info


def test_no_extensions_gives_the_twin_everywhere() -> None:
    facts, info = report(BINSUM_NO_EXTENSIONS="1")
    assert facts["backend"] == facts["model"] == "python"
    assert facts["has_extension"] is False and facts["module"] is None
    assert facts["cython"] == (
        "backend='cython' is unavailable: BINSUM_NO_EXTENSIONS is set"
    )
    assert "backend: python (pure-Python twin, BINSUM_NO_EXTENSIONS is set)" in info


@pytest.mark.skipif(not binsum.has_extension, reason="no compiled kernel here")
@pytest.mark.parametrize("value", ["", "0"])
def test_unset_or_zero_keeps_the_compiled_kernel(value: str) -> None:
    facts, info = report(BINSUM_NO_EXTENSIONS=value)
    assert facts["backend"] == facts["model"] == "cython"
    assert facts["has_extension"] is True and facts["cython"] == "available"
    assert facts["module"] == _backend.COMPILED_MODULE
    assert f"compiled extension {_backend.COMPILED_MODULE}" in info


@pytest.mark.skipif(not binsum.has_extension, reason="no compiled kernel here")
def test_no_avx2_keeps_the_baseline_build() -> None:
    facts, _ = report(BINSUM_NO_AVX2="1")
    assert facts["backend"] == "cython" and facts["module"] == "binsum._core"


def fastest_installed(builds: list[str]) -> str:
    return [b for b in builds if importlib.util.find_spec(b) is not None][-1]


@pytest.mark.skipif(not binsum.has_extension, reason="no compiled kernel here")
def test_the_default_is_the_fastest_build_this_cpu_runs() -> None:
    facts, info = report()
    assert facts["module"] == fastest_installed(_backend.compiled_builds())
    assert f"compiled extension {facts['module']}" in info


@pytest.mark.skipif(not binsum.has_extension, reason="no compiled kernel here")
def test_no_avx512_keeps_the_avx2_build_at_most() -> None:
    facts, _ = report(BINSUM_NO_AVX512="1")
    runs = [b for b in _backend.compiled_builds() if b != "binsum._core_avx512"]
    assert facts["backend"] == "cython" and facts["module"] == fastest_installed(runs)
