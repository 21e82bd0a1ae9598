"""The network shipped inside the package: exact, and reproducible from its recipe."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from binsum import BinarySumRNN, cli
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


def test_exact_on_all_8_bit_pairs() -> None:
    # The weights decide it (both backends predict the same bits: parity).
    assert BinarySumRNN.pretrained().score(8) == 1.0  # all 32,896 pairs


def test_adds_1024_bit_operands_exactly() -> None:
    model = BinarySumRNN.pretrained()
    rng = random.Random(1024)
    for _ in range(4):
        a = rng.getrandbits(1024) | (1 << 1023)
        b = rng.getrandbits(1024) | (1 << 1023)
        assert model.add(a, b) == a + b
    top = (1 << 1024) - 1
    assert model.add(top, top) == 2 * top  # a carry through every column
    assert model.add(top, 1) == 1 << 1024


def test_each_call_returns_a_fresh_copy() -> None:
    first = BinarySumRNN.pretrained()
    before = first.weights
    first.fit(5)
    second = BinarySumRNN.pretrained()
    assert second.iterations == ITERATIONS
    for name, value in before.items():
        assert np.array_equal(second.weights[name], value), name


def test_binsum_train_defaults_reproduce_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`binsum train` with its defaults writes the shipped network's weights."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--log-every", "0"]) == 0
    assert "saved model.npz" in capsys.readouterr().out
    made = BinarySumRNN.load(tmp_path / "model.npz")
    shipped = BinarySumRNN.pretrained()
    assert _config(made) == SETTINGS
    for name, value in shipped.weights.items():
        assert np.array_equal(value, made.weights[name]), name
