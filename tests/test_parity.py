"""The compiled kernel and its pure-Python twin give the same bits.

These tests compare the two backends directly, so they need both: they are
skipped only when BINSUM_NO_EXTENSIONS=1 disables the compiled one (a missing
build is an error, as in conftest.py). Random small configurations are in
test_parity_random.py.
"""

from __future__ import annotations

import math
import struct

import _reference
import numpy as np
import pytest

from binsum import BinarySumRNN, _pycore, _sampling
from binsum._backend import NO_EXTENSIONS

if NO_EXTENSIONS:
    pytest.skip(
        "BINSUM_NO_EXTENSIONS=1: parity needs the compiled backend",
        allow_module_level=True,
    )

from binsum import _core

ITERATIONS = 2_000
PAIRS = 10_000

# Every knob leaves its default somewhere; the last one clips hard.
CONFIGS = {
    "h8-bits6-lr0.3": dict(hidden_size=8, bits=6, learning_rate=0.3, clip=5.0, seed=3),
    "h12-bits10-clip1": dict(
        hidden_size=12, bits=10, learning_rate=0.05, clip=1.0, seed=4
    ),
    "h16-bits8-clip0.02": dict(
        hidden_size=16, bits=8, learning_rate=0.5, clip=0.02, seed=5
    ),
}
BINDING = "h16-bits8-clip0.02"


def random_pairs(bits: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Operands of random widths, from 0 up to a few bits past the trained ones."""
    rng = np.random.default_rng(seed)
    width = rng.integers(0, bits + 5, size=(2, count))
    a, b = (rng.integers(0, 1 << w, dtype=np.int64) for w in width)
    return a, b


@pytest.mark.parametrize("name", list(CONFIGS))
def test_backends_train_and_predict_bit_identically(name: str) -> None:
    config = CONFIGS[name]
    fast = BinarySumRNN(**config, backend="cython").fit(ITERATIONS)
    twin = BinarySumRNN(**config, backend="python").fit(ITERATIONS)
    assert fast.backend == "cython" and twin.backend == "python"
    assert fast.iterations == twin.iterations == ITERATIONS

    wf, wt = fast.weights, twin.weights
    for key in ("wi", "wh", "wo"):
        assert np.array_equal(wf[key], wt[key]), key
    assert fast.history.shape == (ITERATIONS,)
    assert np.array_equal(fast.history, twin.history)

    a, b = random_pairs(config["bits"], PAIRS, seed=config["seed"])
    pf, pt = fast.predict(a, b), twin.predict(a, b)
    assert pf.dtype == pt.dtype == np.int64
    assert np.array_equal(pf, pt)

    # A loss_and_gradients call and the lecture's log go through the other
    # kernel entry points (forward_logits, sigmoid): the same bits there too.
    lf, gf = fast.loss_and_gradients(5, 9)
    lt, gt = twin.loss_and_gradients(5, 9)
    assert lf == lt
    for key in gf:
        assert np.array_equal(gf[key], gt[key]), key
    assert fast.add(2**70 + 12345, 2**69 - 1) == twin.add(2**70 + 12345, 2**69 - 1)


def test_backends_agree_where_the_kernel_splits_its_loops_into_pieces() -> None:
    """Past about 2**20 elements the kernel runs each matrix loop (forward
    and backward products, the transpose of wh, the gwh sums, the SGD step)
    a piece at a time, checking for signals between pieces: hidden 1032 at
    3 bits splits every one of them, with a shorter last piece, and the
    sums come out the same as the twin's."""
    config = dict(hidden_size=1032, bits=3, seed=7)
    fast = BinarySumRNN(**config, backend="cython").fit(2)
    twin = BinarySumRNN(**config, backend="python").fit(2)
    assert np.array_equal(fast.history, twin.history)
    for key, value in fast.weights.items():
        assert np.array_equal(value, twin.weights[key]), key
    lf, gf = fast.loss_and_gradients(1, 5)
    lt, gt = twin.loss_and_gradients(1, 5)
    assert lf == lt
    for key, value in gf.items():
        assert np.array_equal(value, gt[key]), key
    assert np.array_equal(fast.logits(12345, 999), twin.logits(12345, 999))


def test_clip_binds_in_the_clipping_configuration() -> None:
    """The binding config's clip changes training: shown independently in numpy.

    Replays the first samples of the model's stream with the numpy reference:
    unclipped hidden deltas exceed the clip, and the reference, clip applied,
    lands on the kernel's weights (to rounding: it uses numpy's exp).
    """
    config = CONFIGS[BINDING]
    clip, bits, lr = config["clip"], config["bits"], config["learning_rate"]
    weights, rng = _reference.initial_weights(config["hidden_size"], config["seed"])
    model = BinarySumRNN(**config, backend="cython")
    for key, value in model.weights.items():
        assert np.array_equal(value, weights[key]), key  # init_nn

    steps = 50
    pairs, _ = _sampling.draw(rng, _sampling.empty_pairs(), bits, steps)
    largest, clipped, losses = 0.0, 0, []
    for a, b in pairs.tolist():
        bp = _reference.loss_and_gradients(
            weights["wi"], weights["wh"], weights["wo"], a, b, bits, clip
        )
        largest = max(largest, bp.max_unclipped_delta)
        clipped += bp.clipped
        losses.append(bp.loss)
        for key in weights:
            weights[key] = weights[key] - lr * bp.grads[key]
    assert largest > 2 * clip
    assert clipped > 0

    model.fit(steps)
    np.testing.assert_allclose(model.history, losses, rtol=1e-10, atol=0)
    for key, value in model.weights.items():
        np.testing.assert_allclose(value, weights[key], rtol=1e-10, atol=1e-12)

    # Over the whole parity run, a clip that never binds would change nothing.
    clipped_run = BinarySumRNN(**config, backend="cython").fit(ITERATIONS)
    free_run = BinarySumRNN(**{**config, "clip": 1e9}, backend="cython").fit(ITERATIONS)
    assert not np.array_equal(clipped_run.weights["wh"], free_run.weights["wh"])


def as_bits(x: float) -> int:
    return int(struct.unpack("<q", struct.pack("<d", x))[0])


def exp_arguments() -> list[float]:
    rng = np.random.default_rng(2024)
    special = [
        0.0, -0.0, 1.0, -1.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-300,
        -1e-300, 1e-17, -1e-17, 0.5 * math.log(2), -0.5 * math.log(2),
        707.9999999999999, 708.0, 708.0000000000001, 709.0, 709.8, 710.0, 1e308,
        -707.9999999999999, -708.0, -708.0000000000001, -709.0, -745.2, -1e308,
        math.inf, -math.inf, math.nan,
    ]  # fmt: skip
    k = np.arange(-1030, 1031)
    at_ln2 = (k * math.log(2)).tolist()  # where the reduction switches k
    near = np.nextafter(k * math.log(2), np.inf).tolist()
    wide = rng.uniform(-800.0, 800.0, 20_000).tolist()
    sigmoid_range = rng.normal(0.0, 10.0, 20_000).tolist()
    tiny = (
        rng.uniform(-1.0, 1.0, 2_000) * 10.0 ** rng.uniform(-320, -1, 2_000)
    ).tolist()
    return special + at_ln2 + near + wide + sigmoid_range + tiny


def test_exp_and_sigmoid_give_the_same_bits_in_both_backends() -> None:
    xs = exp_arguments()
    for fn in ("exp", "sigmoid"):
        compiled, twin = getattr(_core, fn), getattr(_pycore, fn)
        for x in xs:
            c, p = compiled(x), twin(x)
            if math.isnan(x):
                assert math.isnan(c) and math.isnan(p), (fn, x)
            else:
                assert as_bits(c) == as_bits(p), (fn, x, c, p)


def test_exp_is_accurate_and_clamped() -> None:
    """Near libm's e**x on [-708, 708]; clamped outside; NaN passes through.

    The kernel's exp is within 2 ulp of e**x, libm's within about half an
    ulp, so they differ by at most 3 ulp (2.0 measured over 200,000 points).
    """
    rng = np.random.default_rng(7)
    for x in [*rng.uniform(-708.0, 708.0, 5_000).tolist(), 0.0, 1.0, -1.0, 1e-300]:
        want = math.exp(x)
        assert abs(_core.exp(x) - want) <= 3 * math.ulp(want), x
    top, bottom = _core.exp(708.0), _core.exp(-708.0)
    assert math.isfinite(top) and bottom > 2.2250738585072014e-308  # normal
    for x in (708.5, 709.0, 1e308, math.inf):
        assert _core.exp(x) == top and _pycore.exp(x) == top
        assert _core.exp(-x) == bottom and _pycore.exp(-x) == bottom
    assert math.isnan(_core.exp(math.nan)) and math.isnan(_pycore.exp(math.nan))
    assert _core.sigmoid(math.inf) == 1.0 and _core.sigmoid(-math.inf) == 1.0 / (
        1.0 + top
    )
    assert _core.sigmoid(0.0) == 0.5
