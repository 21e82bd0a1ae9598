"""The network shipped inside the package: exact, and reproducible from its recipe."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from binsum import BinarySumRNN
from binsum._pretrained import CONFIG, ITERATIONS


def _config(model: BinarySumRNN) -> tuple[object, int]:
    return model._config, model.iterations


SETTINGS = (CONFIG, ITERATIONS)  # the recipe: the lecture's settings, seed 0


def test_recorded_settings_match_the_file(backend: str) -> None:
    model = BinarySumRNN.pretrained(backend=backend)
    assert _config(model) == SETTINGS
    assert model.backend == backend


def test_training_with_recorded_settings_reproduces_it(
    trained: BinarySumRNN, backend: str
) -> None:
    # `trained` is BinarySumRNN(seed=0).fit(10_000) on this backend: check it
    # really is the recorded recipe, then compare every bit.
    assert _config(trained) == SETTINGS
    shipped = BinarySumRNN.pretrained(backend=backend)
    for name, value in shipped.weights.items():
        assert np.array_equal(value, trained.weights[name]), name
    assert np.array_equal(shipped.history, trained.history)


def test_exact_on_all_8_bit_pairs(backend: str) -> None:
    model = BinarySumRNN.pretrained(backend=backend)
    if backend == "cython":
        assert model.score(8) == 1.0  # all 32,896 pairs
    else:
        # The twin predicts ~10k pairs/s: check all pairs with a < 8 (2,020
        # pairs) here; parity tests show both backends predict the same bits.
        a = np.repeat(np.arange(8), 256)
        b = np.tile(np.arange(256), 8)
        keep = a + b < 256
        a, b = a[keep], b[keep]
        assert np.array_equal(model.predict(a, b), a + b)


def test_adds_1024_bit_operands_exactly(backend: str) -> None:
    model = BinarySumRNN.pretrained(backend=backend)
    rng = random.Random(1024)
    for _ in range(4):
        a = rng.getrandbits(1024) | (1 << 1023)
        b = rng.getrandbits(1024) | (1 << 1023)
        assert model.add(a, b) == a + b
    top = (1 << 1024) - 1
    assert model.add(top, top) == 2 * top  # a carry through every column
    assert model.add(top, 1) == 1 << 1024


def test_each_call_returns_a_fresh_copy(backend: str) -> None:
    first = BinarySumRNN.pretrained(backend=backend)
    before = first.weights
    first.fit(5)
    second = BinarySumRNN.pretrained(backend=backend)
    assert second.iterations == ITERATIONS
    for name, value in before.items():
        assert np.array_equal(second.weights[name], value), name


def test_binsum_train_defaults_reproduce_it(backend: str, tmp_path: Path) -> None:
    if backend == "python":
        pytest.skip(
            "10k twin iterations plus scoring all 8-bit pairs in a subprocess is "
            "slow; the twin's bit-identity is checked by the in-process test above"
        )
    env = {k: v for k, v in os.environ.items() if k != "BINSUM_NO_EXTENSIONS"}
    out = tmp_path / "model.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "binsum", "train", "--out", str(out),
         "--log-every", "0"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    made = BinarySumRNN.load(out, backend=backend)
    shipped = BinarySumRNN.pretrained(backend=backend)
    assert _config(made) == SETTINGS
    for name, value in shipped.weights.items():
        assert np.array_equal(value, made.weights[name]), name
