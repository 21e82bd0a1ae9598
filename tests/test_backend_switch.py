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
import platform
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _children import popen_kwargs

import binsum
from binsum import _backend, _builds

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


# -------------------------------------------- how a switch's value is read
# Each case imports binsum's backend afresh in one child (importlib.reload),
# with the variable set as given.
_READS = textwrap.dedent(
    """
    import importlib, json, os, sys, warnings
    from binsum import _backend
    out = []
    for name, value in json.loads(sys.argv[1]):
        for key in ("BINSUM_NO_EXTENSIONS", "BINSUM_NO_AVX2", "BINSUM_NO_AVX512"):
            os.environ.pop(key, None)
        os.environ[name] = value
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            importlib.reload(_backend)
        out.append({
            "no_extensions": _backend.NO_EXTENSIONS,
            "module": _backend.COMPILED_MODULE,
            "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        })
    print(json.dumps(out))
    """
)


def reads(cases: list[tuple[str, str]]) -> list[dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINSUM_")}
    proc = subprocess.run(
        [sys.executable, "-c", _READS, json.dumps(cases)], capture_output=True,
        text=True, env=env, timeout=120, **popen_kwargs(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out: list[dict[str, object]] = json.loads(proc.stdout)
    return out


ON = ["1", "true", "TRUE", "Yes", " on ", "\tyes\n"]
OFF = ["0", "false", "False", "NO", " off", " ", ""]
UNCLEAR = ["2", "ture", "y", "enabled", "0 1", "-1"]


def test_no_extensions_reads_the_usual_spellings() -> None:
    got = reads([("BINSUM_NO_EXTENSIONS", v) for v in ON + OFF])
    assert [g["no_extensions"] for g in got] == [True] * len(ON) + [False] * len(OFF)
    assert all(g["warnings"] == [] for g in got)


def test_an_unclear_switch_warns_naming_the_variable_and_counts_as_unset() -> None:
    names = ["BINSUM_NO_EXTENSIONS"]
    if importlib.util.find_spec("binsum._core") is not None:
        # the AVX switches are read only where a compiled kernel is installed
        names += ["BINSUM_NO_AVX2", "BINSUM_NO_AVX512"]
    cases = [(name, value) for name in names for value in UNCLEAR]
    default = reads([("BINSUM_NO_AVX512", "")])[0]["module"]
    for (name, value), got in zip(cases, reads(cases), strict=True):
        assert got["no_extensions"] is False and got["module"] == default, name
        assert got["warnings"] == [
            f"RuntimeWarning: {name}={value!r} is not understood: use 1, true, "
            "yes, on to set it; 0, false, no, off or empty to unset it (any "
            "case); treated as unset"
        ]


@pytest.mark.skipif(not binsum.has_extension, reason="no compiled kernel here")
def test_avx_switches_read_the_usual_spellings() -> None:
    builds = _backend.compiled_builds()
    fastest = fastest_installed(builds)
    below_avx512 = fastest_installed([b for b in builds if b != "binsum._core_avx512"])
    for name, stops_at in [
        ("BINSUM_NO_AVX2", "binsum._core"),
        ("BINSUM_NO_AVX512", below_avx512),
    ]:
        got = reads([(name, v) for v in ON + OFF])
        assert [g["module"] for g in got] == [stops_at] * len(ON) + [fastest] * len(
            OFF
        ), name


# ------------------------------------------- the build reads them the same
SETUP = Path(__file__).resolve().parent.parent / "setup.py"

# setup.py run with setuptools' setup() and Cython's cythonize() replaced:
# what it would build, and each build's flags per compiler.
_SETUP_RUN = textwrap.dedent(
    """
    import json, runpy, sys, types
    import setuptools
    found = {}
    setuptools.setup = lambda **kw: found.update(kw)
    build = types.ModuleType("Cython.Build")
    build.cythonize = lambda exts, **kw: exts
    sys.modules["Cython"] = types.ModuleType("Cython")
    sys.modules["Cython.Build"] = build
    names = runpy.run_path(sys.argv[1])["X86_64_BUILDS"]
    print(json.dumps({
        "extensions": [e.name for e in found["ext_modules"]],
        "x86_64": names,
    }))
    """
)


def run_setup(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINSUM_")}
    if value is not None:
        env["BINSUM_NO_EXTENSIONS"] = value
    return subprocess.run(
        [sys.executable, "-c", _SETUP_RUN, str(SETUP)], capture_output=True,
        text=True, env=env, cwd=SETUP.parent, timeout=120, **popen_kwargs(),
    )  # fmt: skip


needs_setup = pytest.mark.skipif(
    not SETUP.is_file() or importlib.util.find_spec("setuptools") is None,
    reason="no setup.py or no setuptools here",
)


@needs_setup
@pytest.mark.parametrize(("value", "builds"), [(v, False) for v in ON] + [
    (v, True) for v in [*OFF, None]
])  # fmt: skip
def test_the_build_reads_no_extensions_as_binsum_does(
    value: str | None, builds: bool
) -> None:
    proc = run_setup(value)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["extensions"] == (list(_builds.BUILDS) if builds else [])


@needs_setup
@pytest.mark.parametrize("value", UNCLEAR)
def test_the_build_refuses_an_unclear_no_extensions(value: str) -> None:
    proc = run_setup(value)
    assert proc.returncode != 0
    assert (
        f"ValueError: BINSUM_NO_EXTENSIONS={value!r} is not understood: use 1, "
        "true, yes, on to set it; 0, false, no, off or empty to unset it (any case)"
    ) in proc.stderr


# ---------------------- a build runs only where the CPU has all it may use
def test_every_feature_a_build_may_use_is_one_numpy_detects() -> None:
    detected = set(_backend._cpu_features())
    if not detected:
        pytest.skip("numpy reports no CPU features here")
    for name in _builds.BUILDS:
        assert set(_builds.needs(name)) <= detected, name


@needs_setup
def test_setup_compiles_each_build_with_the_flags_its_features_are_declared_for() -> (
    None
):
    proc = run_setup(None)
    assert proc.returncode == 0, proc.stderr
    x86_64 = json.loads(proc.stdout)["x86_64"]
    assert x86_64 == {
        name: {cc: list(flags) for cc, flags in per_compiler.items()}
        for name, (variable, per_compiler, _) in _builds.BUILDS.items()
        if variable
    }


@pytest.mark.parametrize(
    ("build", "missing"),
    [
        ("binsum._core_avx512", feature)
        for feature in _builds.needs("binsum._core_avx512")
    ]
    + [
        ("binsum._core_avx2", feature) for feature in _builds.needs("binsum._core_avx2")
    ],
)
def test_the_dispatch_refuses_a_build_when_any_feature_it_may_use_is_missing(
    monkeypatch: pytest.MonkeyPatch, build: str, missing: str
) -> None:
    everything = {f: True for name in _builds.BUILDS for f in _builds.needs(name)}
    monkeypatch.setattr(_backend, "_cpu_features", lambda: everything)
    assert _backend.compiled_builds() == list(_builds.BUILDS)
    monkeypatch.setattr(
        _backend, "_cpu_features", lambda: {**everything, missing: False}
    )
    assert build not in _backend.compiled_builds()
    assert "binsum._core" in _backend.compiled_builds()


@pytest.mark.parametrize("missing", ["AVX512BW", "AVX512DQ", "AVX512VL", "AVX512CD"])
def test_the_avx512_build_needs_what_msvc_arch_avx512_allows(missing: str) -> None:
    assert missing in _builds.BUILDS["binsum._core_avx512"][2]["msvc"]
    assert missing in _builds.needs("binsum._core_avx512")


# The x86 feature macros GCC and Clang define, as numpy names the features.
_MACROS = {
    "__SSE3__": "SSE3", "__SSSE3__": "SSSE3", "__SSE4_1__": "SSE41",
    "__SSE4_2__": "SSE42", "__POPCNT__": "POPCNT", "__AVX__": "AVX",
    "__AVX2__": "AVX2", "__FMA__": "FMA3", "__F16C__": "F16C",
    "__BMI__": "BMI", "__BMI2__": "BMI2", "__LZCNT__": "LZCNT",
    "__MOVBE__": "MOVBE", "__AVX512F__": "AVX512F", "__AVX512CD__": "AVX512CD",
    "__AVX512BW__": "AVX512BW", "__AVX512DQ__": "AVX512DQ",
    "__AVX512VL__": "AVX512VL",
}  # fmt: skip


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="x86-64 only"
)
@pytest.mark.parametrize("compiler", ["gcc", "clang"])
@pytest.mark.parametrize("build", ["binsum._core_avx2", "binsum._core_avx512"])
def test_the_features_declared_cover_what_the_unix_flags_let_a_compiler_use(
    compiler: str, build: str
) -> None:
    """Each x86 feature macro the compiler defines under the build's flags
    (and not without them) is a feature the dispatch checks."""
    if shutil.which(compiler) is None:
        pytest.skip(f"no {compiler} here")
    _, flags, allows = _builds.BUILDS[build]

    def macros(*args: str) -> set[str]:
        proc = subprocess.run(
            [compiler, *args, "-dM", "-E", "-x", "c", os.devnull],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return {
            line.split()[1]
            for line in proc.stdout.splitlines()
            if line.startswith("#define __") and line.split()[1].isupper()
        }

    added = macros(*flags["unix"]) - macros()
    features = {m for m in added if m in _MACROS or m.startswith("__AVX")}
    assert features, added  # the flags do enable something
    unknown = {m for m in features if m not in _MACROS}
    assert not unknown, f"{compiler} {flags['unix']} enables {unknown}"
    assert {_MACROS[m] for m in features} <= set(allows["unix"])
