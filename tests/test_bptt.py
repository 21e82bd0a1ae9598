"""bptt: backpropagation through time step by step, with the kernel's bits.

The per-step terms, added in the kernel's order (t = bits-1 down to 0, from
+0.0), are ``loss_and_gradients``' gradients exactly, on both backends, with
and without the clip binding; the per-step views say what the kernel did.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from binsum import BPTT, BinarySumRNN

Make = Callable[..., BinarySumRNN]

# 8-bit training pairs: carry chains through every bit, none, all ones.
HARD_PAIRS = [(0, 0), (255, 0), (0, 255), (254, 1), (127, 128), (127, 1),
              (128, 127), (85, 170), (1, 1), (100, 155)]  # fmt: skip


def _big(model: BinarySumRNN, scale: float) -> BinarySumRNN:
    model.set_weights(**{k: scale * w for k, w in model.weights.items()})
    return model


def _networks(make: Make) -> dict[str, BinarySumRNN]:
    return {
        "trained": make(seed=0).fit(2000),
        "untrained": make(seed=1),
        # The clip binds on most steps: large weights, a tiny clip.
        "clipped": _big(make(hidden_size=12, seed=2, clip=1e-3), 4.0),
        "clipped-trained": make(hidden_size=6, seed=4, clip=0.02).fit(1500),
    }


def _assert_same_as_kernel(model: BinarySumRNN, a: int, b: int) -> BPTT:
    steps = model.bptt(a, b)
    loss, grads = model.loss_and_gradients(a, b)
    assert steps.loss == loss
    summed = steps.gradients()
    for key in ("wi", "wh", "wo"):
        assert summed[key].shape == grads[key].shape
        assert np.array_equal(summed[key], grads[key]), key
    return steps


def test_steps_add_up_to_the_kernels_gradients(make_model: Make) -> None:
    clipped_somewhere = set()
    for name, model in _networks(make_model).items():
        for a, b in HARD_PAIRS:
            steps = _assert_same_as_kernel(model, a, b)
            if steps.clipped.any():
                clipped_somewhere.add(name)
    # Both clipping networks really exercise the clip (else the test would
    # not check it), and it changes the gradients there.
    assert {"clipped", "clipped-trained"} <= clipped_somewhere


def test_steps_add_up_on_random_pairs_of_a_wide_network(make_model: Make) -> None:
    model = make_model(hidden_size=9, bits=20, seed=6, clip=0.05).fit(300)
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = int(rng.integers(0, 2**19))
        b = int(rng.integers(0, 2**20 - a))
        _assert_same_as_kernel(model, a, b)
    _assert_same_as_kernel(model, 2**20 - 2, 1)
    _assert_same_as_kernel(model, 2**19 - 1, 2**19)


def test_the_clip_is_what_the_views_say(make_model: Make) -> None:
    model = _big(make_model(hidden_size=12, seed=2, clip=1e-3), 4.0)
    steps = model.bptt(127, 128)
    raw, da = steps.delta_a_unclipped, steps.delta_a
    assert steps.clipped.any() and not steps.clipped.all()
    assert np.array_equal(steps.clipped, np.abs(raw) > 1e-3)
    assert np.array_equal(da[steps.clipped], np.sign(raw[steps.clipped]) * 1e-3)
    assert np.array_equal(da[~steps.clipped], raw[~steps.clipped])
    assert np.array_equal(steps.clipped_steps, steps.clipped.any(axis=1))
    assert np.all(steps.delta_a_norms <= steps.delta_a_unclipped_norms)
    # The same network without the clip: the gradients differ.
    free = _big(make_model(hidden_size=12, seed=2, clip=1e9), 4.0)
    assert not free.bptt(127, 128).clipped.any()
    assert not np.array_equal(
        free.loss_and_gradients(127, 128)[1]["wh"],
        model.loss_and_gradients(127, 128)[1]["wh"],
    )


def test_views_hold_the_forward_pass_and_the_pair(backend: str) -> None:
    model = BinarySumRNN.pretrained(backend=backend)
    a, b = 100, 155
    steps = model.bptt(a, b)
    assert (steps.a, steps.b, steps.bits, steps.clip) == (a, b, 8, model.clip)
    # The training pass runs bits steps: the first bits + 1 states of add's.
    assert np.array_equal(steps.hidden, model.hidden_states(a, b, steps=8))
    assert np.array_equal(steps.logits, model.logits(a, b)[:8])
    assert steps.targets.tolist() == [(255 >> t) & 1 for t in range(8)]
    assert steps.inputs[:, 0].tolist() == [(a >> t) & 1 for t in range(8)]
    assert steps.inputs[:, 1].tolist() == [(b >> t) & 1 for t in range(8)]
    assert np.array_equal(steps.y_hat > 0.5, steps.targets == 1)  # exact sum
    assert not steps.gwh[0].any()  # h_0 = 0 adds nothing to wh's gradient
    assert not steps.delta_a.flags.writeable
    with pytest.raises(ValueError):  # and cannot be made writable again
        steps.delta_a.flags.writeable = True
    assert repr(steps) == (
        f"BPTT(a=100, b=155, bits=8, hidden_size=16, loss={steps.loss!r}, "
        "clipped=0 of 128 deltas)"
    )
    # delta_o has the sign of the error, and the last step gets no delta
    # from the future: its hidden delta is the output's alone.
    assert np.array_equal(np.sign(steps.delta_o), np.sign(steps.y_hat - steps.targets))
    h = steps.hidden[8]
    wo = model.weights["wo"][:, 0]
    assert np.array_equal(steps.delta_a[7], steps.delta_o[7] * wo * (h * (1.0 - h)))


def test_gradients_shrink_going_back_in_time(backend: str) -> None:
    """The shipped network on a 40-bit pair 2**38 + 2**38: its only real
    errors are at the top two bits (|delta_o| ~ 1e-3 there, ~4e-8 on the
    zero bits below), so the hidden deltas below are that error carried
    back, step by step through wh and the sigmoid's slope: they shrink at
    every step going back, by orders of magnitude over the run."""
    shipped = BinarySumRNN.pretrained(backend=backend)
    model = BinarySumRNN(hidden_size=16, bits=40, seed=0, backend=backend)
    model.set_weights(**shipped.weights)
    steps = model.bptt(2**38, 2**38)
    norms = steps.delta_a_norms
    assert np.all(np.abs(steps.delta_o[1:38]) < 1e-6)
    assert np.all(np.abs(steps.delta_o[38:]) > 1e-4)
    assert np.all(norms[1:39] < norms[2:40])  # smaller at every step back
    assert norms[39] > 1000 * norms[10]
    assert not steps.clipped.any()  # vanishing, not clipped
    _assert_same_as_kernel(model, 2**38, 2**38)


@pytest.mark.parametrize(
    ("a", "b", "error", "message"),
    [
        (-1, 0, ValueError, r"a must be in 0\.\.255"),
        (0, 256, ValueError, r"b must be in 0\.\.255"),
        (200, 56, ValueError, r"a \+ b must be in 0\.\.255 \(2\*\*bits - 1\), got 256"),
        (1.0, 0, TypeError, "a must be an integer"),
        (0, True, TypeError, "b must be an integer"),
        ([1], 0, TypeError, "a must be an integer"),
    ],
)
def test_only_training_pairs_are_accepted(
    a: object, b: object, error: type[Exception], message: str
) -> None:
    model = BinarySumRNN(hidden_size=3, seed=0)
    with pytest.raises(error, match=message):
        model.bptt(a, b)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):  # as loss_and_gradients says
        model.loss_and_gradients(a, b)  # type: ignore[arg-type]
