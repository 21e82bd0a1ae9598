"""The compiled kernel and its twin give the same bits on random small
configurations and on every float (hypothesis, 500 examples each).

Apart from test_parity.py, which the emulated CI runs where hypothesis is not
installed; skipped, as there, when BINSUM_NO_EXTENSIONS=1 disables the
compiled backend.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from _property import PROPERTY
from hypothesis import given
from hypothesis import strategies as st

import binsum
from binsum import BinarySumRNN, _pycore
from binsum._backend import NO_EXTENSIONS


@pytest.mark.skipif(NO_EXTENSIONS, reason="BINSUM_NO_EXTENSIONS=1")
@PROPERTY
@given(
    hidden=st.integers(1, 6),
    bits=st.integers(1, 8),
    lr=st.floats(0.001, 1.0),
    clip=st.floats(0.01, 10.0),
    seed=st.integers(0, 2**64),
    splits=st.lists(st.integers(0, 12), max_size=3),
    a=st.integers(0, 2**62 - 1),
    b=st.integers(0, 2**62 - 1),
)
def test_compiled_and_twin_give_the_same_bits(
    hidden: int, bits: int, lr: float, clip: float, seed: int,
    splits: list[int], a: int, b: int,
) -> None:
    assert binsum.has_extension
    cfg = {"hidden_size": hidden, "bits": bits, "learning_rate": lr, "clip": clip}
    fast = BinarySumRNN(seed=seed, backend="cython", **cfg)
    slow = BinarySumRNN(seed=seed, backend="python", **cfg)
    for n in splits:
        fast.fit(n)
        slow.fit(n)
    for key, w in fast.weights.items():
        assert np.array_equal(w, slow.weights[key]), key
    assert np.array_equal(fast.history, slow.history)
    assert np.array_equal(fast.predict([a, b], [b, 0]), slow.predict([a, b], [b, 0]))
    assert fast.add(a, b) == slow.add(a, b)
    top = (1 << bits) - 1
    pa, pb = a % (top + 1), 0
    pb = b % (top - pa + 1)
    loss_f, g_f = fast.loss_and_gradients(pa, pb)
    loss_s, g_s = slow.loss_and_gradients(pa, pb)
    assert struct.pack("<d", loss_f) == struct.pack("<d", loss_s)
    for key, g in g_f.items():
        assert np.array_equal(g, g_s[key]), key


@pytest.mark.skipif(NO_EXTENSIONS, reason="BINSUM_NO_EXTENSIONS=1")
@PROPERTY
@given(x=st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True))
def test_compiled_and_twin_exp_and_sigmoid_agree(x: float) -> None:
    from binsum import _core

    for fn in ("exp", "sigmoid"):
        got = struct.pack("<d", getattr(_core, fn)(x))
        want = struct.pack("<d", getattr(_pycore, fn)(x))
        assert got == want or (math.isnan(getattr(_core, fn)(x)) and math.isnan(
            getattr(_pycore, fn)(x))), (fn, x)
