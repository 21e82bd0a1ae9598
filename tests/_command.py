"""The ``binsum`` command as the tests run it in-process: what it returns and
prints, and the shape of its errors (the run_binsum fixture is in conftest.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


Binsum = Callable[..., Result]


def assert_one_line_error(proc: Result | subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("binsum"), lines[0]
    return lines[0]
