"""One parametrised fixture runs every behaviour test on both backends.

Under BINSUM_NO_EXTENSIONS=1 the compiled backend is skipped; otherwise a
missing extension is an error, never a silent skip.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

import binsum
from binsum import BinarySumRNN
from binsum._backend import NO_EXTENSIONS

BACKENDS = ["cython", "python"]


@pytest.fixture(params=BACKENDS)
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


_TRAINED: dict[str, BinarySumRNN] = {}


@pytest.fixture
def trained(backend: str) -> BinarySumRNN:
    """The default network (seed 0) trained 10,000 iterations on this backend.

    Trained once per session and backend; tests must not modify it.
    """
    if backend not in _TRAINED:
        _TRAINED[backend] = BinarySumRNN(seed=0, backend=backend).fit(10_000)
    return _TRAINED[backend]

