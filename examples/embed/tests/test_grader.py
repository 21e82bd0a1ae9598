"""The example's extension, built against the installed binsum, gives
binsum's own bits and runs its networks in parallel threads."""

from __future__ import annotations

import numpy as np
import pytest
from binsum_grader import (
    exp_sigmoid,
    gradients_batch,
    logits_of,
    predict_batch,
    predict_one,
    step_logit,
    threads_in_parallel,
    train_on,
)

import binsum
import binsum.kernel
from binsum import BinarySumRNN
from binsum._pycore import train as twin_train
from binsum._pycore import work_size

HIDDEN, BITS = 12, 8


def networks(count: int) -> list[BinarySumRNN]:
    return [BinarySumRNN(hidden_size=HIDDEN, bits=BITS, seed=s).fit(300 * s)
            for s in range(count)]


def stacked(models: list[BinarySumRNN]) -> tuple[np.ndarray, ...]:
    return tuple(np.stack([m.weights[k] for m in models]) for k in ("wi", "wh", "wo"))


def test_the_cimport_resolves_to_binsums_own_kernel() -> None:
    # The fastest build where binsum uses it; the AVX2 build under
    # BINSUM_NO_AVX512=1, the baseline under BINSUM_NO_AVX2=1.
    assert binsum.kernel.BUILD == (binsum._backend.COMPILED_MODULE or "binsum._core")


@pytest.mark.parametrize("threads", [1, 2])
def test_predict_batch_equals_binsums_predict(threads: int) -> None:
    models = networks(6)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2**20, 5000)
    b = rng.integers(0, 2**20, 5000)
    got = predict_batch(*stacked(models), a, b, threads=threads)
    for m, row in zip(models, got, strict=True):
        assert np.array_equal(row, m.predict(a, b))
        assert predict_one(m.weights["wi"], m.weights["wh"], m.weights["wo"],
                           int(a[7]), int(b[7])) == row[7]


def test_gradients_batch_equals_loss_and_gradients() -> None:
    models = networks(5)
    loss, grads = gradients_batch(*stacked(models), 37, 90, BITS, 5.0, threads=2)
    for i, m in enumerate(models):
        want_loss, want = m.loss_and_gradients(37, 90)
        assert loss[i] == want_loss
        for key in ("wi", "wh", "wo"):
            assert np.array_equal(grads[key][i], want[key])


def test_training_equals_the_twins() -> None:
    m = BinarySumRNN(hidden_size=HIDDEN, bits=BITS, seed=3)
    w = m.weights
    rng = np.random.default_rng(2)
    a = rng.integers(0, 100, 400)
    b = rng.integers(0, 100, 400)
    mine = {k: v.copy() for k, v in w.items()}
    loss = train_on(mine["wi"], mine["wh"], mine["wo"], a, b, BITS, 0.1, 5.0)
    twin = {k: v.copy() for k, v in w.items()}
    twin_loss = np.zeros(400)
    twin_train(twin["wi"], twin["wh"], twin["wo"], a, b, BITS, 0.1, 5.0, twin_loss,
               np.empty(work_size(HIDDEN, BITS)))
    assert np.array_equal(loss, twin_loss)
    for key in mine:
        assert np.array_equal(mine[key], twin[key])


def test_logits_step_and_exp_equal_binsums() -> None:
    m = networks(3)[2]
    w = m.weights
    a, b = 1234567, 7654321
    steps = max(a.bit_length(), b.bit_length()) + 1
    xa = np.array([(a >> t) & 1 for t in range(steps)], dtype=np.int64)
    xb = np.array([(b >> t) & 1 for t in range(steps)], dtype=np.int64)
    assert np.array_equal(logits_of(w["wi"], w["wh"], w["wo"], xa, xb), m.logits(a, b))
    o1, o2 = step_logit(w["wi"], w["wh"], w["wo"], 1.0, 1.0)
    assert (o1, o2) == tuple(m.logits(3, 3)[:2])
    for x in (-800.0, -3.5, 0.0, 1e-300, 2.25, 709.0):
        e, s = exp_sigmoid(x)
        assert e == binsum._pycore.exp(x) and s == binsum._pycore.sigmoid(x)


def test_out_of_range_operands_are_refused() -> None:
    w = stacked(networks(1))
    with pytest.raises(ValueError):
        predict_batch(*w, np.array([2**62]), np.array([1]))
    assert predict_one(w[0][0], w[1][0], w[2][0], -1, 3) == -1
    with pytest.raises(ValueError):
        gradients_batch(*w, 200, 200, BITS, 5.0)


def test_networks_run_in_parallel_threads() -> None:
    assert threads_in_parallel(2) == 2
