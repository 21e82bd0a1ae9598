"""loss_and_gradients is the derivative of the loss, clipped as
docs/algorithm.md says when the clip binds."""

from __future__ import annotations

from collections.abc import Callable

import _reference
import numpy as np
import pytest

from binsum import BinarySumRNN, _sampling

Make = Callable[..., BinarySumRNN]

STEP = 1e-6  # central differences: truncation ~STEP**2, rounding ~1e-16/STEP

# (config, pair): both operands carry ones, so every weight matters.
UNCLIPPED = [
    (dict(seed=0), (37, 90)),
    (dict(seed=1), (200, 55)),
    (dict(hidden_size=5, bits=4, learning_rate=0.3, clip=2.0, seed=7), (5, 9)),
]


def numeric_gradients(model: BinarySumRNN, a: int, b: int) -> dict[str, np.ndarray]:
    base = model.weights
    out = {}
    for key, w in base.items():
        grad = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            losses = []
            for sign in (1.0, -1.0):
                bumped = w.copy()
                bumped[idx] += sign * STEP
                model.set_weights(**{key: bumped})
                losses.append(model.loss_and_gradients(a, b)[0])
            grad[idx] = (losses[0] - losses[1]) / (2 * STEP)
        model.set_weights(**{key: w})
        out[key] = grad
    return out


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


@pytest.mark.parametrize(("config", "pair"), UNCLIPPED)
def test_gradients_match_central_differences(
    make_model: Make, config: dict, pair: tuple[int, int]
) -> None:
    model = make_model(**config)
    a, b = pair
    w = model.weights
    ref = _reference.loss_and_gradients(
        w["wi"], w["wh"], w["wo"], a, b, model.bits, model.clip
    )
    assert ref.max_unclipped_delta < model.clip / 10  # the clip is far away

    loss, grads = model.loss_and_gradients(a, b)
    assert loss == pytest.approx(ref.loss, rel=1e-12)
    numeric = numeric_gradients(model, a, b)
    for key in ("wi", "wh", "wo"):
        assert grads[key].shape == w[key].shape
        assert np.linalg.norm(numeric[key]) > 1e-6, key  # not trivially zero
        assert relative_error(grads[key], numeric[key]) < 1e-6, key
    assert model.weights["wh"].tobytes() == w["wh"].tobytes()  # restored


@pytest.mark.parametrize("clip", [0.01, 0.05])
def test_clipped_gradients_follow_design_equations(
    make_model: Make, clip: float
) -> None:
    model = make_model(seed=2, clip=clip)
    w = model.weights
    checked = 0
    for a, b in [(37, 90), (255, 0), (128, 127), (1, 1), (100, 100)]:
        ref = _reference.loss_and_gradients(w["wi"], w["wh"], w["wo"], a, b, 8, clip)
        free = _reference.loss_and_gradients(w["wi"], w["wh"], w["wo"], a, b, 8, 1e9)
        loss, grads = model.loss_and_gradients(a, b)
        assert loss == pytest.approx(ref.loss, rel=1e-12)
        for key in ("wi", "wh", "wo"):
            scale = np.abs(ref.grads[key]).max()
            np.testing.assert_allclose(
                grads[key], ref.grads[key], rtol=1e-12, atol=1e-12 * scale
            )
        if ref.clipped:
            checked += 1
            assert ref.max_unclipped_delta > clip
            # ... and clipping really changed the answer.
            assert not np.allclose(grads["wh"], free.grads["wh"], rtol=1e-6)
    assert checked >= 3


def test_gradients_of_a_trained_model_are_small(trained: BinarySumRNN) -> None:
    """A network that adds exactly sits near a minimum for every pair."""
    for a, b in [(0, 0), (17, 200), (127, 128), (255, 0)]:
        loss, grads = trained.loss_and_gradients(a, b)
        assert 0.0 <= loss < 0.1
        assert all(np.isfinite(g).all() for g in grads.values())


def test_sgd_step_is_minus_learning_rate_times_gradient(make_model: Make) -> None:
    """fit(1) applies w -= learning_rate * dw for the stream's first sample."""
    model = make_model(seed=9, learning_rate=0.25)
    before = model.weights
    _, rng = _reference.initial_weights(model.hidden_size, 9)
    pairs, _ = _sampling.draw(rng, _sampling.empty_pairs(), model.bits, 1)
    a, b = (int(v) for v in pairs[0])
    loss, grads = model.loss_and_gradients(a, b)
    model.fit(1)
    assert model.history.tolist() == [loss]
    after = model.weights
    for key in grads:
        assert np.array_equal(after[key], before[key] - 0.25 * grads[key]), key


def test_loss_and_gradients_does_not_train(make_model: Make) -> None:
    model = make_model(hidden_size=3, bits=6, seed=4)
    before = model.weights
    loss, grads = model.loss_and_gradients(20, 30)
    assert isinstance(loss, float) and loss > 0
    assert set(grads) == {"wi", "wh", "wo"}
    assert all(grads[k].shape == before[k].shape for k in grads)
    assert model.iterations == 0
    assert all(np.array_equal(model.weights[k], before[k]) for k in before)
    again = model.loss_and_gradients(20, 30)
    assert again[0] == loss and np.array_equal(again[1]["wh"], grads["wh"])
