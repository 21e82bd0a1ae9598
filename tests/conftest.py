"""Fixtures: one session-scoped backend fixture for what depends on the kernel.

A test that depends on the backend takes ``backend`` (or ``make_model``,
``trained``) and runs once per backend; everything else (validation, model
files, saving, the command) runs once, on the default backend. One pytest
run covers both: the twin is tested here, next to the kernel, without a
second run under BINSUM_NO_EXTENSIONS=1 (tests/test_backend_switch.py checks
that switch in child processes).

Under BINSUM_NO_EXTENSIONS=1 (the pure wheel's run) the compiled backend is
skipped; otherwise a missing extension is an error, never a silent skip.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest
from _command import Binsum, Result

import binsum
from binsum import BinarySumRNN, cli
from binsum._backend import NO_EXTENSIONS

BACKENDS = ["cython", "python"]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "cython" and not binsum.has_extension:
        if NO_EXTENSIONS:
            pytest.skip("BINSUM_NO_EXTENSIONS=1: compiled backend disabled")
        pytest.fail("the compiled extension binsum._core is not built")
    return name


@pytest.fixture
def make_model(backend: str) -> Callable[..., BinarySumRNN]:
    """BinarySumRNN with the backend under test."""
    return functools.partial(BinarySumRNN, backend=backend)


def pytest_addoption(
    parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager
) -> None:
    # pyproject.toml sets pytest-run-parallel's thread_unsafe_functions; declare
    # it when that plugin is not loaded, so plain pytest does not warn about it.
    if not pluginmanager.has_plugin("run-parallel"):
        parser.addini(
            "thread_unsafe_functions",
            "pytest-run-parallel: calls that make a test run on one thread",
            type="linelist",
        )


@pytest.fixture(scope="session")
def trained(backend: str) -> BinarySumRNN:
    """The default network (seed 0) trained 10,000 iterations on this backend.

    Trained once per session and backend; tests must not modify it.
    """
    return BinarySumRNN(seed=0, backend=backend).fit(10_000)


@pytest.fixture
def run_binsum(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Binsum:
    """``binsum ARGS...`` in tmp_path: cli.main's status and what it printed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BINSUM_DEBUG", raising=False)

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run
