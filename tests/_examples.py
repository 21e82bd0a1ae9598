"""Run the examples of a Markdown document (README.md, docs/*.md) as written.

What is run, and what is compared:

- ```python blocks run in order in one namespace per document, in a temporary
  folder. An expression statement followed by a comment ``# -> TEXT`` (on its
  line, or on the comment lines just below it) must have a repr matching TEXT;
  comment lines right after it that start with ``#`` and four spaces continue
  TEXT.
- ```bash blocks: each command line runs with bash in a temporary folder, with
  the installed ``binsum`` first on PATH. ``pip install ...`` parts of a
  ``&&`` chain are left out (the package under test is already installed);
  commands in ``SKIP`` are not run, each with its reason.
- ```console blocks: ``$ command`` lines run the same way, and the lines below
  each, up to the next ``$``, are its expected output.
- A ```text block that is the next fenced block after a ```python or ```bash
  block, with no heading in between, is the expected output of that block
  (everything it prints to stdout).

Output matches as doctest's ELLIPSIS and NORMALIZE_WHITESPACE options do:
``...`` stands for any text, runs of whitespace are equal. Durations (a
number followed by `` s``, as in "in 0.018 s") match any number: timings vary.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The repository's root: the tests folder's parent. A wheel test run from a
# temporary folder still finds it (cibuildwheel passes {project}/tests).
ROOT = Path(__file__).resolve().parent.parent

# Shell commands never run by the example tests: (prefix, reason). A command
# is skipped when it starts with a prefix; test_examples checks every entry
# still matches a command somewhere, so the list cannot go stale.
SKIP: list[tuple[str, str]] = [
    ("python -m pip install \"pip>=25.1\" && pip install --group test && ",
     "the test suite itself: .ci/run's step tests runs this exact line in a fresh venv "
     "after pip install ."),
    ("mpiexec ",
     "needs an MPI installation: .ci/mpi runs this exact command with Open MPI"),
    ("pip install \".[bench]\" && python benchmarks/bench.py",
     "the benchmark takes minutes and needs a quiet machine"),
]

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
HEADING = re.compile(r"^#{1,6} ")
DURATION = re.compile(r"\b\d+(?:\.\d+)? s\b")
CHECKER = doctest.OutputChecker()
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@dataclass
class Block:
    """A fenced code block: its language, text and first line (1-based)."""

    lang: str
    text: str
    line: int
    expected: str | None = None  # the output block that follows, if any


@dataclass
class Command:
    """A shell command of a bash/console block and the output shown, if any."""

    cmd: str
    line: int
    expected: str | None = None
    skip: str | None = None  # the reason it is not run


@dataclass
class Document:
    path: Path
    blocks: list[Block] = field(default_factory=list)

    @property
    def python(self) -> list[Block]:
        return [b for b in self.blocks if b.lang == "python"]

    def commands(self) -> list[Command]:
        found: list[Command] = []
        for block in self.blocks:
            if block.lang == "bash":
                found += bash_commands(block)
            elif block.lang == "console":
                found += console_commands(block)
        for command in found:
            for prefix, reason in SKIP:
                if command.cmd.startswith(prefix):
                    command.skip = reason
        return found


def parse(path: Path) -> Document:
    """The fenced blocks of a Markdown file, output blocks attached."""
    doc = Document(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    previous: Block | None = None  # the last code block, until a heading
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if HEADING.match(lines[i]):
            previous = None
        if not m:
            i += 1
            continue
        indent, fence = len(m["indent"]), m["fence"]
        lang = m["info"].strip().split(" ")[0]
        body = []
        j = i + 1
        while j < len(lines):
            close = FENCE.match(lines[j])
            if close and close["fence"].startswith(fence) and not close["info"].strip():
                break
            body.append(lines[j][indent:] if lines[j][:indent].isspace() else lines[j])
            j += 1
        text = "\n".join(body) + "\n"
        if lang == "text" and previous is not None and previous.expected is None:
            previous.expected = text
            previous = None
        elif lang in ("python", "bash", "console"):
            block = Block(lang, text, i + 1)
            doc.blocks.append(block)
            previous = block if lang != "console" else None
        else:
            previous = None
        i = j + 1
    return doc


def _logical_lines(block: Block) -> list[tuple[int, str]]:
    """(line number, command) for the non-empty lines, joining ``\\`` ends."""
    out: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for k, raw in enumerate(block.text.splitlines()):
        if not pending:
            start = block.line + 1 + k
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line = (pending + raw).strip()
        pending = ""
        if line and not line.startswith("#"):
            out.append((start, line))
    return out


def bash_commands(block: Block) -> list[Command]:
    commands = [Command(cmd, line) for line, cmd in _logical_lines(block)]
    if block.expected is not None and commands:
        commands[-1].expected = block.expected  # what the block prints, at its end
    return commands


def console_commands(block: Block) -> list[Command]:
    commands: list[Command] = []
    for k, raw in enumerate(block.text.splitlines()):
        if raw.startswith("$ "):
            commands.append(Command(raw[2:].strip(), block.line + 1 + k, ""))
        elif commands:
            commands[-1].expected = (commands[-1].expected or "") + raw + "\n"
        elif raw.strip():
            raise ValueError(f"line {block.line + 1 + k}: output before any '$ '")
    return commands


def matches(expected: str, got: str) -> bool:
    want = DURATION.sub("... s", expected)
    return CHECKER.check_output(want, got, OPTIONS)


def mismatch(expected: str, got: str, what: str) -> str:
    return f"{what}\n--- shown:\n{expected}--- got:\n{got}"


def without_pip_install(cmd: str) -> str:
    """The command without its ``pip install ...`` parts of an ``&&`` chain."""
    parts = [p.strip() for p in cmd.split(" && ")]
    return " && ".join(p for p in parts if not p.startswith("pip install "))


def binsum_path(bindir: Path) -> str:
    """PATH with this interpreter as ``python`` and the installed ``binsum``.

    Wrappers written into ``bindir``: ``binsum`` runs the console script next to
    this interpreter if there is one, else ``python -m binsum`` (the same
    command).
    """
    bindir.mkdir(exist_ok=True)
    script = Path(sys.executable).parent / "binsum"
    targets = {
        "python": f'"{sys.executable}"',
        "python3": f'"{sys.executable}"',
        "binsum": f'"{script}"' if script.exists() else f'"{sys.executable}" -m binsum',
    }
    for name, target in targets.items():
        wrapper = bindir / name
        wrapper.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        wrapper.chmod(0o755)
    return os.pathsep.join([str(bindir), os.environ.get("PATH", "")])


def run_command(command: Command, folder: Path, path: str) -> None:
    """Run one shell command in ``folder`` with ``path`` as PATH (see
    binsum_path); compare its output if shown."""
    bash = shutil.which("bash")
    if bash is None:
        raise RuntimeError("bash is needed to run the README's shell commands")
    cmd = without_pip_install(command.cmd)
    env = {**os.environ, "PATH": path, "COLUMNS": "80"}
    proc = subprocess.run(
        [bash, "-euo", "pipefail", "-c", cmd], cwd=folder, env=env,
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    where = f"line {command.line}: $ {cmd}"
    assert proc.returncode == 0, (
        f"{where}\nexit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )
    if command.expected is not None:
        assert matches(command.expected, proc.stdout), mismatch(
            command.expected, proc.stdout, where
        )


def _expected_outputs(source: str) -> dict[int, str]:
    """Line number of a ``# -> TEXT`` comment -> TEXT with its continuations."""
    comments = {
        tok.start[0]: tok.string
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    out: dict[int, str] = {}
    for line, text in sorted(comments.items()):
        if text.startswith("# -> "):
            parts = [text[5:]]
            nxt = line + 1
            while comments.get(nxt, "").startswith("#    "):
                lines = source.splitlines()
                if lines[nxt - 1].lstrip() != comments[nxt]:
                    break  # a trailing comment of code, not a continuation
                parts.append(comments[nxt][1:])
                nxt += 1
            out[line] = "\n".join(parts)
    return out


def run_python(block: Block, namespace: dict[str, Any], label: str) -> None:
    """Run a python block statement by statement in ``namespace``.

    Checks every ``# -> TEXT`` against the repr of the expression it follows,
    and the block's printed output against the text block after it.
    """
    source = block.text
    tree = ast.parse(source, filename=label)
    expected = _expected_outputs(source)
    lines = source.splitlines()
    used: set[int] = set()
    stdout = io.StringIO()
    statements = tree.body
    for index, stmt in enumerate(statements):
        end = stmt.end_lineno or stmt.lineno
        stop = (statements[index + 1].lineno if index + 1 < len(statements)
                else len(lines) + 1)
        # the comment on the statement's last line, or a comment-only line
        # right below it
        below = [n for n in range(end + 1, stop)
                 if lines[n - 1].lstrip().startswith("#")]
        candidates = [end, *below[:1]]
        want_line = next((n for n in candidates if n in expected), None)
        where = f"{label}, line {block.line + stmt.lineno}"
        code = ast.unparse(stmt)
        with contextlib.redirect_stdout(stdout):
            if want_line is not None:
                if not isinstance(stmt, ast.Expr):
                    raise AssertionError(f"{where}: '# ->' after a non-expression")
                value = eval(compile(ast.Expression(stmt.value), label, "eval"),
                             namespace)
                used.add(want_line)
            else:
                exec(compile(ast.Module([stmt], []), label, "exec"), namespace)
        if want_line is not None:
            got = repr(value)
            assert matches(expected[want_line] + "\n", got + "\n"), mismatch(
                expected[want_line] + "\n", got + "\n", f"{where}: {code}"
            )
    unused = sorted(set(expected) - used)
    assert not unused, f"{label}: '# ->' comments not after an expression: {unused}"
    if block.expected is not None:
        assert matches(block.expected, stdout.getvalue()), mismatch(
            block.expected, stdout.getvalue(), f"{label}, block at line {block.line}"
        )


def skip_unless_compiled() -> None:
    """The examples run on the compiled backend only.

    The twin gives the same bits at 1/150 of the speed: the README's training
    runs and sweep would take minutes there. Without the compiled backend
    (BINSUM_NO_EXTENSIONS=1, the pure wheel) the examples are skipped.
    """
    import pytest

    import binsum

    if binsum.backend != "cython":
        pytest.skip("the examples run on the compiled backend (same bits, 150x faster)")


def check_document_python(doc: Document, tmp_path: Path, monkeypatch: Any) -> None:
    """Run the document's python blocks in order, in one namespace."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    monkeypatch.chdir(work)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    label = doc.path.name
    for block in doc.python:
        run_python(block, namespace, label)


def check_document_commands(doc: Document, tmp_path: Path) -> None:
    """Run the document's shell commands in order, in one folder."""
    import pytest

    if os.name == "nt":
        pytest.skip("the documents' shell commands are POSIX shell")
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    path = binsum_path(tmp_path / "bin")
    for command in doc.commands():
        if command.skip is None:
            run_command(command, work, path)
