"""The BinarySumRNN API: history, the lecture's log, callbacks, predict's
broadcasting, weights, and the public attributes."""

from __future__ import annotations

import copy
import io
import pickle
import re
from collections.abc import Callable
from typing import Any

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


def test_training_lowers_the_loss(trained: BinarySumRNN) -> None:
    history = trained.history
    assert history.shape == (10_000,)
    assert history[-1000:].mean() < 0.05 * history[:1000].mean()


LOG_HEAD = re.compile(r"^\[(\d+)\|(\d+)\] Error: (\d+\.\d+)$")
BITS = r"\[([01](?: [01])*)\]"
LOG_TRUE = re.compile(rf"^\tTrue: {BITS} = {BITS} \+ {BITS}$")
LOG_PRED = re.compile(rf"^\tPred: {BITS}$")


def parse_log(text: str) -> list[dict[str, Any]]:
    lines = text.splitlines()
    assert len(lines) % 3 == 0, text
    entries = []
    for head, true, pred in zip(lines[::3], lines[1::3], lines[2::3], strict=True):
        h, t, p = LOG_HEAD.match(head), LOG_TRUE.match(true), LOG_PRED.match(pred)
        assert h and t and p, (head, true, pred)
        digits = [*t.groups(), p.group(1)]
        assert len({len(d) for d in digits}) == 1  # all bits wide
        c, a, b, got = (int(d.replace(" ", ""), 2) for d in digits)  # MSB first
        entries.append(
            {"i": int(h[1]), "total": int(h[2]), "error": float(h[3]), "a": a,
             "b": b, "c": c, "pred": got, "width": (len(digits[0]) + 1) // 2}
        )  # fmt: skip
    return entries


def test_verbose_prints_the_lecture_log(
    make_model: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    model = make_model(**SMALL)
    replay = make_model(**SMALL)
    model.fit(30, verbose=True, log_every=10)
    entries = parse_log(capsys.readouterr().out)
    assert [e["i"] for e in entries] == [0, 10, 20]
    for e in entries:
        assert e["total"] == 30 and e["width"] == model.bits
        assert e["c"] == e["a"] + e["b"] < 2**model.bits
        # The line shows the sample about to be trained, on the weights then.
        replay.fit(e["i"] - replay.iterations)
        w = replay.weights
        o = _reference.logits(w["wi"], w["wh"], w["wo"], e["a"], e["b"], model.bits)
        bits = [(e["c"] >> t) & 1 for t in range(model.bits)]
        error = sum(abs(2 * (_reference.sigmoid(o) - bits)))
        assert e["error"] == pytest.approx(error, abs=2e-6)
        assert e["pred"] == sum(1 << t for t in range(model.bits) if o[t] > 0)


def test_verbose_log_of_a_trained_model_is_right(
    trained: BinarySumRNN, capsys: pytest.CaptureFixture[str]
) -> None:
    model = copy.deepcopy(trained)
    model.fit(3, verbose=True, log_every=1)
    entries = parse_log(capsys.readouterr().out)
    assert [e["i"] for e in entries] == [0, 1, 2]
    for e in entries:
        assert e["pred"] == e["c"]


def test_log_goes_to_the_given_file(
    make_model: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    make_model(**SMALL).fit(25, verbose=True, log_every=10, file=out)
    assert [e["i"] for e in parse_log(out.getvalue())] == [0, 10, 20]
    make_model(**SMALL).fit(25)  # quiet by default
    assert capsys.readouterr().out == ""


def test_callback_is_called_every_log_every_iterations(make_model: Make) -> None:
    model = make_model(**SMALL).fit(7)
    calls: list[tuple[int, int, float]] = []

    def callback(m: BinarySumRNN, iteration: int, loss: float) -> None:
        assert m is model
        calls.append((iteration, m.iterations, loss))

    model.fit(50, log_every=10, callback=callback)
    assert [c[0] for c in calls] == [10, 20, 30, 40, 50]  # counted in this call
    history = model.history
    for iteration, trained_so_far, loss in calls:
        assert trained_so_far == 7 + iteration  # the model is up to date
        assert isinstance(loss, float)  # the mean loss of the last log_every
        assert loss == history[trained_so_far - 10 : trained_so_far].mean()


def test_callback_returning_false_stops_training(make_model: Make) -> None:
    model = make_model(**SMALL)
    seen: list[int] = []

    def stop_at_30(m: BinarySumRNN, iteration: int, loss: float) -> bool:
        seen.append(iteration)
        return iteration < 30

    assert model.fit(100, log_every=10, callback=stop_at_30) is model
    assert seen == [10, 20, 30]
    assert model.iterations == 30 and model.history.shape == (30,)
    # stopping is a clean pause: going on gives the uninterrupted model
    model.fit(70)
    whole = make_model(**SMALL).fit(100)
    assert np.array_equal(model.history, whole.history)
    assert np.array_equal(model.weights["wh"], whole.weights["wh"])


def test_callback_exception_keeps_the_trained_part(make_model: Make) -> None:
    model = make_model(**SMALL)

    def boom(m: BinarySumRNN, iteration: int, loss: float) -> None:
        if iteration == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(50, log_every=10, callback=boom)
    assert model.iterations == 20
    model.fit(30)
    assert np.array_equal(model.history, make_model(**SMALL).fit(50).history)


def test_predict_broadcasts_and_returns_int64(trained: BinarySumRNN) -> None:
    a = np.arange(0, 200, 40).reshape(5, 1)
    b = np.array([0, 1, 55], dtype=np.uint8)
    got = trained.predict(a, b)
    assert got.dtype == np.int64 and got.shape == (5, 3)
    assert np.array_equal(got, a + b.astype(np.int64))
    for (i, j), value in np.ndenumerate(got):
        assert value == trained.add(int(a[i, 0]), int(b[j]))
    scalar = trained.predict(100, 27)
    assert isinstance(scalar, np.ndarray) and scalar.shape == () and scalar == 127
    assert trained.predict([], []).shape == (0,)
    assert trained.predict([[1, 2]], 3).tolist() == [[4, 5]]
    assert trained.predict((2**61, 0), 2**61).tolist() == [2**62, 2**61]
    assert b.dtype == np.uint8 and b.tolist() == [0, 1, 55]  # inputs untouched


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
    state = model._state
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


def test_loss_and_gradients_does_not_train(make_model: Make) -> None:
    model = make_model(**SMALL)
    before = model.weights
    loss, grads = model.loss_and_gradients(20, 30)
    assert isinstance(loss, float) and loss > 0
    assert set(grads) == {"wi", "wh", "wo"}
    assert all(grads[k].shape == before[k].shape for k in grads)
    assert model.iterations == 0
    assert all(np.array_equal(model.weights[k], before[k]) for k in before)
    again = model.loss_and_gradients(20, 30)
    assert again[0] == loss and np.array_equal(again[1]["wh"], grads["wh"])


def test_callback_loss_is_the_mean_over_log_every_beyond_a_block(
    make_model: Callable[..., BinarySumRNN],
) -> None:
    # log_every larger than a training block (8,192): the mean still covers
    # all log_every iterations, not only the last block's.
    seen: list[tuple[int, float]] = []
    model = make_model(hidden_size=2, bits=3, seed=4)
    model.fit(
        20_000, log_every=9_000, callback=lambda m, i, loss: seen.append((i, loss))
    )
    history = model.history
    assert [i for i, _ in seen] == [9_000, 18_000]
    assert seen[0][1] == float(history[:9_000].mean())
    assert seen[1][1] == float(history[9_000:18_000].mean())
