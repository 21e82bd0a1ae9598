"""Pickles of a model: a round trip keeps every bit and resumes training, and a
pickle that lies (crafted state, wrong shapes, dtypes, keys or values) is
refused with the same checks as a model file, also through an allow-list
unpickler. The model's state goes out and comes in as private copies.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import binsum
from binsum import BinarySumRNN
from binsum._modelfile import ModelFileError


@pytest.fixture
def backend() -> str:
    """A pickle is checked before any kernel runs: these tests run once, on
    the default backend."""
    return binsum.backend


H = 3


class _Crafted:
    """Pickles as a BinarySumRNN with ``state`` (NEWOBJ + BUILD, as a real
    model pickles), so unpickling runs BinarySumRNN.__setstate__(state)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # pickle checks NEWOBJ's class is obj's
        return BinarySumRNN

    def __reduce__(self) -> tuple[Any, ...]:
        return (copyreg.__newobj__, (BinarySumRNN,), self.state)  # type: ignore[attr-defined]


class AllowList(pickle.Unpickler):
    """An unpickler admitting only binsum's and numpy's classes."""

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] in ("binsum", "numpy"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed")


def allow_list_loads(data: bytes) -> Any:
    return AllowList(io.BytesIO(data)).load()


def state_of(backend: str) -> dict[str, Any]:
    model = BinarySumRNN(hidden_size=H, bits=5, seed=3, backend=backend).fit(40)
    state: dict[str, Any] = model.__getstate__()
    return state


def _tamper(fields: dict[str, Any], key: str, value: Any) -> None:
    if value is _MISSING:
        del fields[key]
    else:
        fields[key] = value


_MISSING = object()
TAMPERED: dict[str, tuple[str, Any, str]] = {
    "wo-shape": ("wo", np.zeros((H + 1, 1)), "'wo' must have shape"),
    "wo-1d": ("wo", np.zeros(H), "'wo' must have shape"),
    "wh-shape": ("wh", np.zeros((H, H + 1)), "'wh' must have shape"),
    "hidden-size": ("hidden_size", np.int64(64), "'wi' must have shape"),
    "hidden-size-huge": ("hidden_size", np.int64(10**6), "hidden_size must be in"),
    "bits-200": ("bits", np.int64(200), "bits must be in"),
    "pending-huge": ("pending", np.array([[2**62, 2**62]], dtype=np.int64),
                     "'pending' holds pairs outside"),
    "pending-negative": ("pending", np.array([[-1, 0]], dtype=np.int64),
                         "'pending' holds pairs outside"),
    "pending-shape": ("pending", np.zeros((2, 3), dtype=np.int64),
                      "'pending' must have shape"),
    "wh-float32": ("wh", np.zeros((H, H), dtype=np.float32), "'wh' must have dtype"),
    "wi-int": ("wi", np.zeros((2, H), dtype=np.int64), "'wi' must have dtype"),
    "pending-float": ("pending", np.zeros((0, 2)), "'pending' must have dtype"),
    "history-object": ("history", np.zeros(40, dtype=object),
                       "'history' must have dtype"),
    "wi-list": ("wi", [[0.0] * H] * 2, "'wi' must be a numpy array"),
    "hidden-int": ("hidden_size", H, "'hidden_size' must be a numpy array"),
    "seed-str": ("seed", "3", "'seed' must be a numpy array"),
    "seed-huge": ("seed", np.array(str(2**128), dtype="<U64"), "seed must be in"),
    "seed-minus": ("seed", np.array("-3", dtype="<U64"), "'seed' is not"),
    "iterations": ("iterations", np.int64(39), "'history' holds 40 losses, more"),
    "iterations-negative": (
        "iterations", np.int64(-1), r"iterations must be in 0\.\.2\*\*63-1, got -1"
    ),
    "wh-nan": ("wh", np.full((H, H), np.nan), "'wh' holds non-finite"),
    "lr-nan": ("learning_rate", np.float64("nan"), "learning_rate must be"),
    "clip-zero": ("clip", np.float64(0.0), "clip must be"),
    "rng-state": ("rng_state", np.array([0, 1, 0, 1, 5, 0], dtype=np.uint64),
                  "'rng_state' is not a PCG64 state"),
    "missing-wo": ("wo", _MISSING, "missing the key 'wo'"),
    "extra-key": ("extra", np.zeros(3), "unknown keys 'extra'"),
}


def tampered_state(backend: str, case: str) -> dict[str, Any]:
    key, value, _ = TAMPERED[case]
    state = state_of(backend)
    _tamper(state["fields"], key, value)
    return state


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_lying_pickle_state_is_refused(backend: str, case: str) -> None:
    """Was: copied unchecked into the kernel (heap overflows under ASan)."""
    match = TAMPERED[case][2]
    obj = BinarySumRNN.__new__(BinarySumRNN)
    with pytest.raises(ValueError, match=match):
        obj.__setstate__(tampered_state(backend, case))
    data = pickle.dumps(_Crafted(tampered_state(backend, case)))
    with pytest.raises(ValueError, match=match):
        pickle.loads(data)
    with pytest.raises(ValueError, match=match):
        allow_list_loads(data)


BAD_STATES: dict[str, tuple[Callable[[dict[str, Any]], Any], type, str]] = {
    "not-a-dict": (lambda s: [s["fields"], s["backend"]], TypeError, "must be a dict"),
    "no-backend": (lambda s: {"fields": s["fields"]}, ValueError, "keys"),
    "extra": (lambda s: {**s, "x": 1}, ValueError, "keys"),
    "fields-list": (lambda s: {**s, "fields": list(s["fields"].items())},
                    ValueError, "must be a mapping"),
    "backend-int": (lambda s: {**s, "backend": 42}, TypeError, "backend must be"),
    "backend-name": (lambda s: {**s, "backend": "fortran"}, ValueError,
                     "backend must be"),
}


@pytest.mark.parametrize("case", sorted(BAD_STATES))
def test_malformed_pickle_state_is_refused(backend: str, case: str) -> None:
    make, error, match = BAD_STATES[case]
    obj = BinarySumRNN.__new__(BinarySumRNN)
    with pytest.raises(error, match=match):
        obj.__setstate__(make(state_of(backend)))
    with pytest.raises(error, match=match):
        allow_list_loads(pickle.dumps(_Crafted(make(state_of(backend)))))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.update(wh=np.zeros((H, H), dtype=("<f8", [("a", "<f8")]))),
         "pickled model key 'wh' must have dtype float64, got "
         "(numpy.float64, [('a', '<f8')])"),  # kind and size of float64, and fields
        (lambda f: f.update(wi=[[0.0] * H] * 2),
         "pickled model key 'wi' must be a numpy array, got list"),
        (lambda f: f.update(history=np.zeros((40, 1))),
         "pickled model key 'history' must have shape ('any',), got (40, 1)"),
        (lambda f: f.update({f"x{i}": 0 for i in range(7)}),
         "pickled model has unknown keys 'x0', 'x1', 'x2', 'x3', 'x4'"),
        (lambda f: f.pop("clip"), "pickled model is missing the key 'clip'"),
        (lambda f: f.update(bits=np.float64(5)),
         "pickled model key 'bits' must have dtype int64, got float64"),
        (lambda f: f.update(seed=np.int64(3)),
         "pickled model key 'seed' must have dtype <U64, got int64"),
        (lambda f: f.update(clip=np.float64(0.0)),
         "pickled model has an invalid value: clip must be finite and > 0, got 0.0"),
    ],
)
def test_each_pickle_refusal_says_exactly_what_is_wrong(
    backend: str, change: Callable[[dict[str, Any]], Any], message: str
) -> None:
    state = state_of(backend)
    change(state["fields"])
    with pytest.raises(ModelFileError) as info:
        pickle.loads(pickle.dumps(_Crafted(state)))
    assert str(info.value) == message


def test_pickled_fields_that_are_not_a_mapping_are_refused(backend: str) -> None:
    obj = BinarySumRNN.__new__(BinarySumRNN)
    with pytest.raises(ModelFileError) as info:
        obj.__setstate__({**state_of(backend), "fields": [1]})
    assert str(info.value) == "pickled model fields must be a mapping, got list"


def test_pickled_arrays_of_any_layout_and_byte_order_are_taken_as_c_arrays(
    backend: str,
) -> None:
    """A pickle made elsewhere: a Fortran-order wh, a big-endian wi; the model
    holds native C-ordered copies with the same values."""
    state = state_of(backend)
    fields = state["fields"]
    wh = np.arange(H * H, dtype=np.float64).reshape(H, H) / 10
    fields["wh"] = np.asfortranarray(wh)
    fields["wi"] = fields["wi"].astype(">f8")
    model = pickle.loads(pickle.dumps(_Crafted(state)))
    for key, want in (("wh", wh), ("wi", fields["wi"])):
        got = model.weights[key]
        assert got.flags.c_contiguous and got.dtype == np.float64, key
        assert got.dtype.isnative and np.array_equal(got, want), key
        assert not np.shares_memory(got, fields[key])
    fields["wh"][...] = 7  # the model's copy does not see it
    assert np.array_equal(model.weights["wh"], wh)


def test_pickles_round_trip_through_an_allow_list(backend: str) -> None:
    model = BinarySumRNN(hidden_size=H, bits=5, seed=3, backend=backend).fit(40)
    for again in (pickle.loads(pickle.dumps(model)),
                  allow_list_loads(pickle.dumps(model)),
                  allow_list_loads(pickle.dumps(_Crafted(state_of(backend))))):
        assert again.backend == backend and again.iterations == 40
        assert np.array_equal(again.history, model.history)
        for key, w in model.weights.items():
            assert np.array_equal(again.weights[key], w)
        assert np.array_equal(again.predict(np.arange(9), 3), model.predict(
            np.arange(9), 3))
        again.fit(10)
        model_more = pickle.loads(pickle.dumps(model)).fit(10)
        assert np.array_equal(again.weights["wh"], model_more.weights["wh"])


def test_getstate_returns_copies_and_setstate_keeps_its_own(backend: str) -> None:
    model = BinarySumRNN(hidden_size=H, bits=5, seed=3, backend=backend).fit(40)
    before = model.weights
    state = model.__getstate__()
    for key in ("wi", "wh", "wo", "history", "pending"):
        state["fields"][key] = np.array(state["fields"][key])  # writable either way
    fields = model.__getstate__()["fields"]
    for key in ("wi", "wh", "wo", "history", "pending"):
        assert fields[key].flags.writeable and fields[key].flags.owndata, key
        fields[key][...] = 7  # the live model must not see this
    assert all(np.array_equal(model.weights[k], w) for k, w in before.items())

    other = BinarySumRNN.__new__(BinarySumRNN)
    other.__setstate__(state)
    state["fields"]["wh"][...] = 7  # nor a model made from a state
    assert np.array_equal(other.weights["wh"], before["wh"])
