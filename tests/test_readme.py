"""Every example in README.md runs as written and prints what it shows.

tests/_examples.py says what runs and how output is compared. The README is
found beside the tests folder (also when a wheel's tests run from a temporary
folder); where it is not there (tests copied without it) this module skips.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _examples import (
    ROOT,
    SKIP,
    check_document_commands,
    check_document_python,
    parse,
    skip_unless_compiled,
)

README = ROOT / "README.md"

needs_readme = pytest.mark.skipif(
    not README.exists(), reason=f"no README.md beside the tests ({ROOT})"
)


@needs_readme
def test_readme_python_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    skip_unless_compiled()
    doc = parse(README)
    assert len(doc.python) >= 2, "README.md: python blocks not found"
    check_document_python(doc, tmp_path, monkeypatch)


@needs_readme
def test_readme_shell_commands(tmp_path: Path) -> None:
    skip_unless_compiled()
    doc = parse(README)
    run = [c for c in doc.commands() if c.skip is None]
    assert run and any(c.expected for c in run), "README.md: no commands found"
    check_document_commands(doc, tmp_path)


@needs_readme
def test_skip_list_is_current() -> None:
    """Every skipped command still exists in some document, and the only
    commands not run are those on the list."""
    docs = [parse(README)] + [parse(p) for p in sorted((ROOT / "docs").glob("*.md"))]
    commands = [c for d in docs for c in d.commands()]
    for prefix, _reason in SKIP:
        assert any(c.cmd.startswith(prefix) for c in commands), (
            f"SKIP entry {prefix!r} matches no command any more: remove it"
        )


def _doc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_conventions_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checker fails on a wrong '# ->', printed output or console output,
    and accepts '...' and durations."""
    good = _doc(tmp_path, (
        "# T\n\n```python\nx = [1, 2]\nx + [3]   # -> [1, 2, 3]\n"
        "{'a': 1, 'b': 2}\n# -> {'a': 1,\n#     'b': ...}\nprint('took 1.5 s')\n```\n\n"
        "Prose.\n\n```text\ntook 0.2 s\n```\n\n"
        "```console\n$ echo one; echo two\none\n...\n```\n"
    ))
    doc = parse(good)
    assert [b.lang for b in doc.blocks] == ["python", "console"]
    assert doc.blocks[0].expected == "took 0.2 s\n"
    check_document_python(doc, tmp_path, monkeypatch)
    check_document_commands(doc, tmp_path)

    for bad in ["```python\n1 + 1   # -> 3\n```\n",
                "```python\nprint('a')\n```\n\n```text\nb\n```\n",
                "```console\n$ echo one\ntwo\n```\n",
                "```bash\nfalse\n```\n"]:
        sub = tmp_path / str(abs(hash(bad)))
        sub.mkdir()
        doc = parse(_doc(sub, bad))
        with pytest.raises(AssertionError):
            check_document_python(doc, sub, monkeypatch)
            check_document_commands(doc, sub)


@needs_readme
def test_no_accidental_bold() -> None:
    """``2**62`` outside code renders as bold on GitHub and PyPI (``**`` between
    word characters opens strong emphasis): powers go in backticks."""
    text = re.sub(r"```.*?```", "", README.read_text(encoding="utf-8"), flags=re.S)
    prose = re.sub(r"`[^`\n]*`", "", text)
    bad = [line for line in prose.splitlines() if re.search(r"\w\*\*\w", line)]
    assert not bad, f"README.md: '**' between word characters outside code: {bad}"


@needs_readme
def test_readme_is_for_users() -> None:
    """The maintainers' material (the CI scripts, the platform verification
    matrix, the release procedure) lives in CONTRIBUTING.md and the
    documentation's Platforms and Releasing pages, which the README links."""
    text = README.read_text(encoding="utf-8")
    assert ".ci/" not in text, "README.md names a CI script: say it in the docs"
    docs = ROOT / "docs"  # absent where only tests/ and README.md are copied
    for page in ("platforms", "releasing"):
        assert not docs.is_dir() or (docs / f"{page}.md").exists(), page
        assert f"https://binsum.readthedocs.io/en/latest/{page}.html" in text
    assert "/blob/main/CONTRIBUTING.md" in text


@needs_readme
def test_test_command_installs_the_test_requirements_only() -> None:
    """The README's test command installs the ``test`` dependency group
    (PEP 735), the one list of the suite's requirements: binsum itself
    (installed by the main command) is not built a second time. The
    development sets are groups, not extras: the published metadata offers
    only the user extras."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    pyproject = ROOT / "pyproject.toml"
    if not pyproject.exists():
        pytest.skip(f"no pyproject.toml beside the tests ({ROOT})")
    with pyproject.open("rb") as f:
        meta = tomllib.load(f)
    groups = meta["dependency-groups"]
    extras = meta["project"].get("optional-dependencies", {})
    assert {"test", "dev", "docs"} <= set(groups)
    assert sorted(extras) == ["bench", "notebook", "plot"], "user extras only"
    test = [r for r in groups["test"] if isinstance(r, str)]
    assert not any(r.startswith("binsum") for r in test)
    commands = [c.cmd for c in parse(README).commands()]
    test_cmds = [c for c in commands if "python -m pytest" in c]
    assert test_cmds == [
        'python -m pip install "pip>=25.1" && pip install --group test '
        "&& python -m pytest"
    ]
