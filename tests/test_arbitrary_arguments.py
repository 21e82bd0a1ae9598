"""Every public entry point either returns a correct result or raises
ValueError / TypeError for whatever hypothesis throws at it (500 examples
each): scalars of every kind, arrays of every dtype and shape, paths that are
not paths. The messages themselves are checked in test_validation.py.
"""

from __future__ import annotations

import copy
import fractions
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from _property import MAX_OPERAND, PROPERTY
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst

import binsum
from binsum import BinarySumRNN

# ------------------------------------------------------ what hypothesis throws
# Scalars of every kind a caller might pass by mistake.
_odd_scalars = st.sampled_from(
    [
        np.int64(5), np.int8(-1), np.uint64(2**63), np.uint64(2**62),
        np.float64("nan"), np.float32(1.5), np.bool_(True), np.complex128(1j),
        np.datetime64("2020-01-01"), np.timedelta64(3, "s"), np.str_("7"),
        np.longdouble("1e4000"), fractions.Fraction(10**400, 3),
        float("inf"), -0.0, 2**62, 2**62 - 1, 2**63, 2**64 + 1, -(2**63),
        10**100, object(), Ellipsis, slice(1), b"\x00", "", "12", {}, set(),
    ]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.binary(max_size=4),
    st.complex_numbers(),
    st.fractions(),
    st.decimals(),
    _odd_scalars,
)


def _layouts(arr: np.ndarray) -> st.SearchStrategy[np.ndarray]:
    """The same values in other memory layouts and byte orders."""
    out = [arr, np.asfortranarray(arr)]
    if arr.ndim:
        out.append(arr[::-1])
        doubled = np.repeat(arr, 2, axis=0)
        out.append(doubled[::2])  # non-contiguous view with the same values
    if arr.ndim >= 2:
        out.append(arr.T)
    if arr.dtype.kind in "iuf" and arr.dtype.itemsize > 1:
        out.append(arr.astype(arr.dtype.newbyteorder()))  # swapped byte order
    ro = arr.copy()
    ro.flags.writeable = False
    out.append(ro)
    return st.sampled_from(out)


_shapes = npst.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
_dtypes = st.one_of(
    npst.scalar_dtypes(),
    npst.byte_string_dtypes(max_len=3),
    npst.unicode_string_dtypes(max_len=3),
)
numpy_arrays = st.one_of(
    npst.arrays(_dtypes, _shapes),
    npst.arrays(np.int64, _shapes, elements=st.integers(0, MAX_OPERAND)),
    npst.arrays(np.uint64, _shapes, elements=st.integers(2**62 - 2, 2**64 - 1)),
    npst.arrays(object, _shapes, elements=scalars),
    npst.arrays(object, _shapes, elements=st.integers(0, 2**70)),
).flatmap(_layouts)
hostile = st.one_of(
    scalars,
    numpy_arrays,
    st.lists(scalars, max_size=3),
    st.lists(st.lists(st.integers(-2, 2**63), max_size=3), max_size=3),  # ragged
    st.lists(st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=2), max_size=2)),
    st.builds(np.ma.masked_array, npst.arrays(np.int64, (2,)), mask=st.just([1, 0])),
)


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(
        v, bool | np.bool_ | np.timedelta64
    )


def _int_in(v: Any, low: int, high: float) -> bool:
    return _is_int(v) and low <= int(v) <= high


def _is_positive_real(v: Any) -> bool:
    if not isinstance(v, numbers.Real) or isinstance(
        v, bool | np.bool_ | np.timedelta64
    ):
        return False
    try:
        f = float(v)
    except OverflowError:
        return False
    return math.isfinite(f) and f > 0


def _operands(v: Any) -> list[int] | None:
    """The ints a valid operand array holds (flattened), or None if invalid."""
    if isinstance(v, np.ma.MaskedArray):
        v = v.data
    try:
        arr = np.asarray(v)
        if arr.dtype.kind == "f" and isinstance(v, list | tuple):
            arr = np.asarray(v, dtype=object)  # [] or [1, 2**63]: judge each item
    except (ValueError, TypeError, OverflowError):
        return None
    if arr.dtype.kind == "O":
        items = arr.ravel().tolist()
        if not all(_is_int(x) for x in items):
            return None
    elif arr.dtype.kind in "iu":
        items = arr.ravel().tolist()
    else:
        return None
    ints = [int(x) for x in items]
    return ints if all(0 <= x <= MAX_OPERAND for x in ints) else None


def _check(call: Callable[[], Any], valid: bool) -> Any:
    """Run ``call``: valid input must succeed, invalid must raise ValueError or
    TypeError (never anything else). Returns the result, or None if it raised."""
    if valid:
        return call()
    with pytest.raises((ValueError, TypeError)):
        call()
    return None


@pytest.fixture
def tiny() -> BinarySumRNN:
    """A small, slightly trained network: cheap enough for 500 examples. The
    hostile-input tests that use it check validation, which runs in Python
    before any kernel: once, on the default backend."""
    return BinarySumRNN(hidden_size=3, bits=4, seed=7).fit(20)


# ---------------------------------------------- hostile input, every entry
@PROPERTY
@given(value=hostile, which=st.sampled_from(["hidden_size", "bits", "learning_rate",
                                             "clip", "seed", "backend"]))
def test_constructor_validates(value: Any, which: str) -> None:
    backend = binsum.backend  # validation comes before the kernel: once
    valid = {
        "hidden_size": lambda v: _int_in(v, 1, 4096),
        "bits": lambda v: _int_in(v, 1, 62),
        "learning_rate": _is_positive_real,
        "clip": _is_positive_real,
        "seed": lambda v: v is None or _int_in(v, 0, 2**128 - 1),
        "backend": lambda v: v is None or (isinstance(v, str) and v == backend),
    }[which](value)
    if which == "hidden_size" and valid:
        assume(int(value) <= 64)  # valid but costly to initialise
    if which == "backend" and isinstance(value, str) and value in ("cython", "python"):
        assume(value == backend)  # the other backend may be disabled
    kwargs: dict[str, Any] = {"backend": backend, "seed": 1, which: value}
    model = _check(lambda: BinarySumRNN(**kwargs), valid)
    if model is not None and which != "backend":
        got = getattr(model, which)
        if which in ("learning_rate", "clip"):
            assert got == float(value)
        elif value is not None:
            assert got == int(value) and type(got) is int


@PROPERTY
@given(value=hostile, which=st.sampled_from(["iterations", "log_every", "callback",
                                             "file"]))
def test_fit_validates(tiny: BinarySumRNN, value: Any, which: str) -> None:
    import io

    tiny = copy.deepcopy(tiny)  # trained here: threads may share the fixture

    valid = {
        "iterations": lambda v: _int_in(v, 0, 2**40),
        "log_every": lambda v: _int_in(v, 1, math.inf),
        "callback": lambda v: v is None or callable(v),
        "file": lambda v: v is None,
    }[which](value)
    if which == "iterations" and valid:
        assume(int(value) <= 10)
    kwargs: dict[str, Any] = {which: value}
    if which == "file":
        kwargs["verbose"] = True
    else:
        kwargs["file"] = io.StringIO()
    before = tiny.iterations
    n = 3
    if which == "iterations":
        n = int(value) if valid else 0
    else:
        kwargs["iterations"] = n
    _check(lambda: tiny.fit(**kwargs), valid)
    assert tiny.iterations == before + (n if valid else 0)


@PROPERTY
@given(a=hostile, b=st.one_of(hostile, st.integers(0, 2**62 - 1)))
def test_predict_validates(tiny: BinarySumRNN, a: Any, b: Any) -> None:
    ints_a, ints_b = _operands(a), _operands(b)
    shape = None
    if ints_a is not None and ints_b is not None:
        try:
            shape = np.broadcast_shapes(np.shape(a), np.shape(b))
        except ValueError:
            pass
    got = _check(lambda: tiny.predict(a, b), shape is not None)
    if got is not None:
        assert got.dtype == np.int64 and got.shape == shape
        va = np.broadcast_to(np.array(ints_a, dtype=object).reshape(np.shape(a)), shape)
        vb = np.broadcast_to(np.array(ints_b, dtype=object).reshape(np.shape(b)), shape)
        for x, y, s in zip(va.ravel(), vb.ravel(), got.ravel().tolist(), strict=True):
            assert tiny.add(x, y) == s


@PROPERTY
@given(a=hostile, b=st.integers(0, 2**200))
def test_add_validates(tiny: BinarySumRNN, a: Any, b: int) -> None:
    valid = _int_in(a, 0, math.inf)
    if valid:
        assume(int(a).bit_length() <= 256)
    got = _check(lambda: tiny.add(a, b), valid)
    if got is not None:
        assert got == tiny.add(int(a), b)
        steps = max(int(a).bit_length(), b.bit_length()) + 1
        assert 0 <= got < 1 << steps


@PROPERTY
@given(value=hostile, which=st.sampled_from(["bits", "sample", "seed"]))
def test_score_validates(tiny: BinarySumRNN, value: Any, which: str) -> None:
    valid = {
        "bits": lambda v: v is None or _int_in(v, 1, 62),
        "sample": lambda v: v is None or _int_in(v, 1, 10**8),
        "seed": lambda v: _int_in(v, 0, 2**128 - 1),
    }[which](value)
    if which == "sample" and valid and value is not None:
        assume(int(value) <= 50)
    kwargs: dict[str, Any] = {"sample": 5, which: value}
    got = _check(lambda: tiny.score(**kwargs), valid)
    if got is not None:
        count = 5 if which != "sample" or value is None else int(value)
        if which == "sample" and value is None:
            count = 100_000 if tiny.bits > 12 else -1
        assert 0.0 <= got <= 1.0
        if count > 0:
            assert math.isclose(got * count, round(got * count))


@PROPERTY
@given(a=hostile, b=st.integers(0, 3))
def test_loss_and_gradients_validates(tiny: BinarySumRNN, a: Any, b: int) -> None:
    valid = _int_in(a, 0, 15 - b)
    got = _check(lambda: tiny.loss_and_gradients(a, b), valid)
    if got is not None:
        loss, grads = got
        want_loss, want = tiny.loss_and_gradients(int(a), b)
        assert loss == want_loss and loss >= 0.0
        for key, g in grads.items():
            assert np.array_equal(g, want[key])


_weight_arrays = st.one_of(
    hostile,
    npst.arrays(
        st.one_of(npst.integer_dtypes(), npst.floating_dtypes(), npst.boolean_dtypes(),
                  npst.complex_number_dtypes()),
        st.sampled_from([(2, 3), (3, 3), (3, 1), (3,), (1, 3), (2, 3, 1), ()]),
    ).flatmap(_layouts),
)


@PROPERTY
@given(value=_weight_arrays, which=st.sampled_from(["wi", "wh", "wo"]))
def test_set_weights_validates(tiny: BinarySumRNN, value: Any, which: str) -> None:
    tiny = copy.deepcopy(tiny)  # changed here: threads may share the fixture
    shape = {"wi": (2, 3), "wh": (3, 3), "wo": (3, 1)}[which]
    before = tiny.weights
    try:
        arr = np.asarray(value)
        with np.errstate(all="ignore"):
            as_float = arr.astype(np.float64) if arr.dtype.kind in "iuf" else None
    except (ValueError, TypeError, OverflowError):
        as_float = None
    valid = value is None or (  # None keeps the weight as it is
        as_float is not None
        and as_float.shape == shape
        and bool(np.isfinite(as_float).all())
    )
    with np.errstate(all="ignore"):
        _check(lambda: tiny.set_weights(**{which: value}), valid)
    after = tiny.weights
    if valid and value is not None:
        assert as_float is not None
        assert np.array_equal(after[which], as_float)
        assert after[which].flags.c_contiguous
    for key in before:
        if key != which or not valid or value is None:
            assert np.array_equal(after[key], before[key])


@PROPERTY
@given(value=hostile.filter(lambda v: not isinstance(v, str)))
def test_save_and_load_validate_the_path_type(tiny: BinarySumRNN, value: Any) -> None:
    with pytest.raises(TypeError, match="path"):
        tiny.save(value)
    with pytest.raises(TypeError, match="path"):
        BinarySumRNN.load(value)
