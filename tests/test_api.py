"""The model's public surface: its attributes and the lecture's defaults, the
history across calls, add's result, and the weights and history, read-only
copies that change only through the API."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import _reference
import numpy as np
import pytest

import binsum
from binsum import BinarySumRNN

Make = Callable[..., BinarySumRNN]

SMALL = dict(hidden_size=3, bits=6, seed=4)  # cheap on the twin


def test_public_attributes(make_model: Make, backend: str) -> None:
    assert binsum.backend in ("cython", "python")
    assert binsum.has_extension is (binsum.backend == "cython")
    assert isinstance(binsum.__version__, str)
    model = make_model(**SMALL)
    assert model.backend == backend
    assert (model.hidden_size, model.bits, model.seed) == (3, 6, 4)
    assert (model.learning_rate, model.clip) == (0.1, 5.0)  # the lecture's
    assert model.iterations == 0
    assert "hidden_size=3" in repr(model) and backend in repr(model)


def test_defaults_follow_the_lecture(make_model: Make) -> None:
    model = make_model(seed=0)
    assert (model.hidden_size, model.bits, model.learning_rate, model.clip) == (
        16,
        8,
        0.1,
        5.0,
    )
    w = model.weights
    assert {k: v.shape for k, v in w.items()} == {
        "wi": (2, 16),
        "wh": (16, 16),
        "wo": (16, 1),
    }
    want, _ = _reference.initial_weights(16, 0)  # init_nn from docs/algorithm.md
    for key in w:
        assert w[key].dtype == np.float64 and np.array_equal(w[key], want[key])


def test_history_grows_across_calls(make_model: Make) -> None:
    model = make_model(**SMALL)
    assert model.history.shape == (0,) and model.history.dtype == np.float64
    first = model.fit(100).history
    assert first.shape == (100,) and model.iterations == 100
    model.fit(50)
    assert model.iterations == 150
    history = model.history
    assert history.shape == (150,) and np.array_equal(history[:100], first)
    assert np.isfinite(history).all() and (history >= 0).all()
    assert (history <= model.bits).all()  # each step adds at most 1
    with pytest.raises(ValueError, match="read-only"):  # the model's record
        history[:] = -1.0
    assert (model.history >= 0).all()
    model.fit(0)
    assert model.iterations == 150


def test_add_returns_a_python_int(trained: BinarySumRNN) -> None:
    got = trained.add(np.int64(100), np.uint8(27))
    assert type(got) is int and got == 127
    assert trained.add(0, 0) == 0
    assert trained.add(2**100 + 1, 2**100 - 1) == 2**101


def test_weights_are_read_only_and_can_be_set(make_model: Make) -> None:
    model = make_model(**SMALL)
    w = model.weights
    with pytest.raises(ValueError, match="read-only"):
        w["wh"][:] = 0.0
    model.set_weights(wo=np.zeros((3, 1)))  # only wo changes
    after = model.weights
    assert np.array_equal(after["wo"], np.zeros((3, 1)))
    assert not np.array_equal(w["wo"], after["wo"])  # w is the old state's
    assert np.array_equal(after["wh"], w["wh"]) and np.array_equal(after["wi"], w["wi"])
    # with wo = 0 every logit is 0: no bit is set, and y_hat is exactly 1/2
    assert model.predict([5, 63], [6, 0]).tolist() == [0, 0]
    assert model.loss_and_gradients(0, 0)[0] == model.bits * 0.25
    model.weights = {"wi": [[1, 2, 3], [4, 5, 6]], "wh": np.eye(3, dtype=np.float32)}
    new = model.weights
    assert new["wi"].dtype == np.float64 and new["wi"].flags.c_contiguous
    assert new["wi"].tolist() == [[1, 2, 3], [4, 5, 6]]
    assert np.array_equal(new["wh"], np.eye(3))


def test_published_state_is_read_only(make_model: Make) -> None:
    model = make_model(hidden_size=3, bits=4, seed=1).fit(300)
    state = model._trainer.state
    for arr in (state.wi, state.wh, state.wo, state.pending, state.history):
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[...] = 0


def test_weights_and_history_come_back_read_only(make_model: Make) -> None:
    """A write into what the API hands out raises instead of silently
    changing nothing (or, flag set back, the published state)."""
    for model in (
        make_model(hidden_size=3, bits=4, seed=1).fit(300),
        pickle.loads(pickle.dumps(make_model(hidden_size=3, bits=4, seed=1))),
    ):
        before = {k: v.copy() for k, v in model.weights.items()}
        history = model.history.copy()
        arrays = [*model.weights.values(), model.history]
        for arr in arrays:
            with pytest.raises(ValueError, match="assignment destination is read-only"):
                arr[...] = -1.0
            with pytest.raises(ValueError, match="cannot set WRITEABLE flag"):
                arr.flags.writeable = True
        mine = model.weights["wh"].copy()  # a copy is the caller's own
        mine[0, 0] = 123.0
        model.fit(10)  # training publishes new arrays, never changes these
        for arr, want in zip(arrays, [*before.values(), history], strict=True):
            assert np.array_equal(arr, want)


