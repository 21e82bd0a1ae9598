"""help(BinarySumRNN) is for users: public names only, numpydoc sections, no
comment banners, nothing that exists only in the repository; its examples run.
"""

from __future__ import annotations

import doctest
import inspect
import pydoc
import re

import pytest

import binsum
from binsum import BinarySumRNN


def _help(obj: object) -> str:
    return pydoc.render_doc(obj, renderer=pydoc.plaintext)


def _public_members() -> list[tuple[str, object]]:
    return [
        (name, member)
        for name, member in vars(BinarySumRNN).items()
        if not name.startswith("_")
    ]


def test_help_shows_no_private_names_banners_or_repository_paths() -> None:
    text = _help(BinarySumRNN)
    private = sorted(set(re.findall(r"(?<![\w.])_[a-z]\w*", text)))
    assert not private, f"help(BinarySumRNN) shows private names: {private}"
    banners = [line for line in text.splitlines() if re.search(r"#\s*-{3,}", line)]
    assert not banners, banners
    for pattern in (r"\bdocs/", r"\bsrc/", r"\btests/", r"\.ci/"):
        found = re.findall(rf".{{0,30}}{pattern}.{{0,30}}", text)
        assert not found, f"help(BinarySumRNN) points outside the package: {found}"


@pytest.mark.parametrize("obj", [binsum.sweep, binsum.ModelFileError])
def test_other_public_help_points_inside_the_package(obj: object) -> None:
    text = _help(obj)
    for pattern in (r"\bdocs/", r"\bsrc/", r"\btests/", r"\.ci/"):
        assert not re.search(pattern, text), (pattern, text)
    assert "Examples\n" in text or "Examples\n" in (inspect.getdoc(obj) or "")


def _doc(member: object) -> str:
    target = member.fget if isinstance(member, property) else member
    target = getattr(target, "__func__", target)  # classmethods
    return inspect.getdoc(target) or ""


def _parameters(member: object) -> list[str]:
    if isinstance(member, property):
        return []
    function = getattr(member, "__func__", member)
    names = list(inspect.signature(function).parameters)
    return [n for n in names if n not in ("self", "cls")]


@pytest.mark.parametrize("name", [name for name, _ in _public_members()])
def test_public_member_has_numpydoc(name: str) -> None:
    member = vars(BinarySumRNN)[name]
    doc = _doc(member)
    assert doc, f"BinarySumRNN.{name} has no docstring"
    params = _parameters(member)
    if params:
        assert "Parameters\n----------" in doc, f"{name}: no Parameters section"
        documented = " ".join(
            line for line in doc.splitlines() if re.match(r"^[\w, ]+ : ", line)
        )
        for param in params:
            assert re.search(rf"\b{param}\b", documented), (
                f"BinarySumRNN.{name}: parameter {param!r} is not documented"
            )


def test_every_init_parameter_is_documented() -> None:
    doc = inspect.getdoc(BinarySumRNN) or ""
    assert "Parameters\n----------" in doc
    for param in _parameters(BinarySumRNN.__init__):
        assert re.search(rf"^{param} : ", doc, re.M), f"__init__: {param!r}"
    sweep_doc = inspect.getdoc(binsum.sweep) or ""
    for sweep_param in _parameters(binsum.sweep):
        assert re.search(rf"^{sweep_param} : ", sweep_doc, re.M), sweep_param


def test_docstring_examples_run() -> None:
    """The Examples sections print what they show (doctest)."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = []
    for obj in (BinarySumRNN, binsum.sweep, binsum.ModelFileError):
        tests += finder.find(obj, globs={"BinarySumRNN": BinarySumRNN})
    assert sum(len(t.examples) for t in tests) >= 8
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0
