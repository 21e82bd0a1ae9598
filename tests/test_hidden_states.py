"""hidden_states: the states of the forward pass that predict and logits run.

Each output logit o_t, summed from the states in the kernel's order, equals
``logits``' bit for bit; the compiled kernel and the twin give the same
states; a batch is its pairs' states stacked.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest

import binsum
from binsum import BinarySumRNN

Make = Callable[..., BinarySumRNN]

# Long carry chains and the other hard shapes, small and huge.
HARD_PAIRS = [
    (0, 0),
    (1, 0),
    (0, 1),
    *[(2**n - 1, 1) for n in (1, 8, 61, 62, 63, 200)],
    *[(2**n - 1, 2**n - 1) for n in (8, 62, 300)],
    (2**100, 2**100),
    (int("01" * 150, 2), int("10" * 150, 2)),
    (2**3000 - 1, 1),
    (random.Random(7).getrandbits(4000), random.Random(8).getrandbits(3999)),
]


def _logits_from(model: BinarySumRNN, states: np.ndarray) -> np.ndarray:
    """o_t = sum_k h_t[k] * wo[k], from 0.0, k = 0 first (the kernel's sum)."""
    wo = model.weights["wo"][:, 0].tolist()
    out = []
    for h in states[1:].tolist():
        o = 0.0
        for hk, wk in zip(h, wo, strict=True):
            o = o + hk * wk
        out.append(o)
    return np.array(out)


@pytest.fixture(params=["pretrained", "random-big"])
def networks(request: pytest.FixtureRequest) -> dict[str, BinarySumRNN]:
    """The same network on each backend: the shipped one, or an untrained one
    with large weights (states near 0 and 1, sums of mixed signs)."""
    if binsum._backend.NO_EXTENSIONS:
        pytest.skip("BINSUM_NO_EXTENSIONS=1: parity needs the compiled backend")
    out = {}
    for backend in ("cython", "python"):
        if request.param == "pretrained":
            model = BinarySumRNN.pretrained(backend=backend)
        else:
            model = BinarySumRNN(hidden_size=11, seed=5, backend=backend)
            model.set_weights(**{k: 4 * w for k, w in model.weights.items()})
        out[backend] = model
    return out


@pytest.mark.parametrize("pair", HARD_PAIRS, ids=lambda p: f"{p[0].bit_length()}b")
def test_states_are_the_same_on_both_backends(
    networks: dict[str, BinarySumRNN], pair: tuple[int, int]
) -> None:
    a, b = pair
    fast = networks["cython"].hidden_states(a, b)
    twin = networks["python"].hidden_states(a, b)
    assert fast.dtype == twin.dtype == np.float64
    assert np.array_equal(fast, twin)


@pytest.mark.parametrize("pair", HARD_PAIRS, ids=lambda p: f"{p[0].bit_length()}b")
def test_output_sums_of_the_states_are_the_logits(
    trained: BinarySumRNN, pair: tuple[int, int]
) -> None:
    model = trained
    a, b = pair
    states = model.hidden_states(a, b)
    steps = max(a.bit_length(), b.bit_length()) + 1
    assert states.shape == (steps + 1, model.hidden_size)
    assert not states[0].any()  # h_0 = 0
    assert np.array_equal(_logits_from(model, states), model.logits(a, b))


def test_states_of_the_shipped_network_add(backend: str) -> None:
    """The logits summed from the states give the exact sum of a long carry."""
    model = BinarySumRNN.pretrained(backend=backend)
    a, b = 2**500 - 1, 1
    bits = _logits_from(model, model.hidden_states(a, b)) > 0.0
    assert int("".join("1" if x else "0" for x in bits[::-1]), 2) == a + b


def test_a_batch_is_its_pairs_stacked(make_model: Make) -> None:
    model = make_model(hidden_size=5, bits=6, seed=2).fit(500)
    a, b = [0, 255, 7, 2**70], [0, 1, 9, 3]
    batch = model.hidden_states(a, b)
    assert batch.shape == (4, 73, 5)  # h_0, then 71 bits + the carry
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        own = model.hidden_states(x, y)
        # Past its own steps a pair runs on zero bits: its states so far
        # are its own, and the rest continue the same pass.
        assert np.array_equal(batch[i, : len(own)], own)
        assert np.array_equal(batch[i], model.hidden_states(x, y, steps=72))
    as_arrays = model.hidden_states(np.array(a[:3]), np.array(b[:3]), steps=3)
    assert np.array_equal(as_arrays, batch[:3, :4])


def test_steps_runs_past_the_operands_or_stops_before_them(make_model: Make) -> None:
    model = make_model(hidden_size=4, bits=5, seed=1).fit(200)
    full = model.hidden_states(2**20 - 1, 1)
    assert np.array_equal(model.hidden_states(2**20 - 1, 1, steps=5), full[:6])
    longer = model.hidden_states(2**20 - 1, 1, steps=40)
    assert np.array_equal(longer[: len(full)], full)
    assert longer.shape == (41, 4)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((-1, 2), {}, ValueError, "a must be >= 0"),
        ((1, -2), {}, ValueError, "b must be >= 0"),
        ((1.0, 2), {}, TypeError, "a must be an integer"),
        ((True, 2), {}, TypeError, "a must be an integer"),
        ((1, "2"), {}, TypeError, "b must be an integer"),
        (("1", "2"), {}, TypeError, "a must be an integer or a sequence"),
        ((1, 2), {"steps": 0}, ValueError, "steps must be >= 1"),
        ((1, 2), {"steps": 2.0}, TypeError, "steps must be an integer"),
        (([1, 2], [3]), {}, ValueError, "equal lengths, got 2 and 1"),
        (([1, -2], [3, 4]), {}, ValueError, "a must be >= 0"),
        (([1, 2.5], [3, 4]), {}, TypeError, "a must be an integer"),
        (([[1]], [[2]]), {}, ValueError, "a must be one-dimensional"),
        ((5, [1, 2]), {}, TypeError, "b must be an integer, got list"),
    ],
)
def test_invalid_arguments_are_named(
    args: tuple[object, object],
    kwargs: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    model = BinarySumRNN(hidden_size=3, seed=0)
    with pytest.raises(error, match=message):
        model.hidden_states(*args, **kwargs)  # type: ignore[arg-type]


def test_a_result_past_two_gibibytes_is_refused_before_any_work() -> None:
    model = BinarySumRNN(hidden_size=16, seed=0)
    limit = 2**28 // 16  # rows of 16 states that fit in 2**28 values
    with pytest.raises(ValueError, match=r"hold 268,435,472 values .* at most 2\*\*28"):
        model.hidden_states(1, 2, steps=limit)
    with pytest.raises(ValueError, match=r"2 x 1000000001 x 16\); at most 2\*\*28"):
        model.hidden_states([1, 2], [3, 4], steps=10**9)
    with pytest.raises(ValueError, match=r"1 x 33554435 x 16\); at most"):
        model.hidden_states(2 ** (2**25), 1)  # an operand of 2**25 + 1 bits
