"""binsum's public types catch mistakes: mypy --strict on code that uses binsum.

A file of intended mistakes (a misspelt weight key, an unknown backend, a
misspelt sweep-record key, ...) must be reported at each marked line, and a
file of correct uses, with ``assert_type``, must type-check cleanly.
mypy reads the binsum that is imported (installed or editable). Skips where
mypy is not installed (it is in the test dependency group).
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

MISTAKES = """\
    from binsum import BinarySumRNN, sweep
    import binsum

    model = BinarySumRNN(seed=0)
    model.weights["Wi"]  # E: typeddict-item
    BinarySumRNN(backend="cuda")  # E: arg-type
    BinarySumRNN.load("m.npz", backend="gpu")  # E: arg-type
    BinarySumRNN.pretrained(backend="Cython")  # E: arg-type
    record = sweep([{"seed": 0}], 10)[0]
    record["scroe"]  # E: typeddict-item
    model.weights = {"Wi": [[0.0]]}  # E: typeddict-unknown-key
    grads = model.loss_and_gradients(1, 2)[1]
    grads["w0"]  # E: typeddict-item
    name: binsum.Backend = "numpy"  # E: assignment
    """

# typing_extensions (a dependency of mypy) has assert_type on 3.10 too.
CORRECT = """\
    from typing_extensions import assert_type

    import numpy as np
    from numpy.typing import NDArray

    import binsum
    from binsum import Backend, BinarySumRNN, SweepRecord, Weights, sweep

    model = BinarySumRNN(seed=0, backend="python")
    assert_type(model.weights, Weights)
    assert_type(model.weights["wi"], NDArray[np.float64])
    assert_type(model.backend, Backend)
    assert_type(binsum.backend, Backend)
    model.weights = {"wo": np.zeros((16, 1))}
    model.set_weights(wh=[[0.0] * 16] * 16)
    loss, grads = model.loss_and_gradients(1, 2)
    assert_type(grads, Weights)
    assert_type(grads["wh"], NDArray[np.float64])
    other: Backend | None = None
    BinarySumRNN.load("m.npz", backend=other)
    BinarySumRNN.pretrained(backend="cython")
    records = sweep([{"hidden_size": 8, "seed": 0}], 100)
    assert_type(records, list[SweepRecord])
    record = records[0]
    assert_type(record["score"], float)
    assert_type(record["solved_at"], int | None)
    assert_type(record["final_loss"], float | None)
    assert_type(record["backend"], Backend | None)
    """


def _mypy(tmp_path: Path, name: str, source: str) -> tuple[Path, list[str]]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    stdout, stderr, _status = api.run(
        [
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--show-error-codes",
            "--no-error-summary",
            "--no-pretty",
            "--python-executable",
            sys.executable,
            str(path),
        ]
    )
    assert not stderr, stderr
    return path, stdout.splitlines()


def test_mistakes_are_reported_at_their_lines(tmp_path: Path) -> None:
    path, lines = _mypy(tmp_path, "mistakes.py", MISTAKES)
    expected = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if "# E:" in line:
            expected[number] = line.split("# E:")[1].strip()
    errors: dict[int, list[str]] = {}
    for line in lines:
        # mypy prints the path as given or relative to the working folder
        found = re.match(
            rf"(?:.*/)?{re.escape(path.name)}:(\d+): error: .*\[([\w-]+)\]$", line
        )
        if found:
            errors.setdefault(int(found[1]), []).append(found[2])
    # Every marked line is reported, with the expected error code, and nothing
    # else is (the unmarked lines are correct uses).
    assert set(errors) == set(expected), "\n".join(lines)
    for number, code in expected.items():
        assert code in errors[number], (number, code, "\n".join(lines))


def test_correct_uses_type_check(tmp_path: Path) -> None:
    _path, lines = _mypy(tmp_path, "correct.py", CORRECT)
    assert lines == [], "\n".join(lines)
