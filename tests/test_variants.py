"""The kernel's entry points: every compiled build gives the twin's bits, and
the kernel and the twin refuse what they are not built for.

The "cython" backend picks the fastest build the CPU runs (binsum._core_avx512
or binsum._core_avx2), so the model level tests exercise that build there;
this checks every build the CPU runs, the baseline binsum._core included,
kernel function by kernel function against binsum._pycore. Mismatched
shapes, lengths, bits and operands are checked on each backend.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from _children import run_python

from binsum import _backend, _pycore


@pytest.fixture(params=_backend.compiled_builds())
def build(request: pytest.FixtureRequest) -> ModuleType:
    if _backend.NO_EXTENSIONS:
        pytest.skip("BINSUM_NO_EXTENSIONS=1: compiled kernel disabled")
    name: str = request.param
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if name in _backend.OPTIONAL_BUILDS:
            pytest.skip(f"{name} is not built on this platform: {exc}")
        pytest.fail(f"{name} is not built: {exc}")


def _weights(seed: int, size: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        np.ascontiguousarray(rng.uniform(-3, 3, shape))
        for shape in ((2, size), (size, size), (size, 1))
    ]


@pytest.mark.parametrize(("size", "bits", "clip"), [(16, 8, 5.0), (7, 13, 0.05)])
def test_train_matches_twin(
    build: ModuleType, size: int, bits: int, clip: float
) -> None:
    rng = np.random.default_rng(size)
    largest = (1 << bits) - 1
    a = rng.integers(0, largest // 2, 300)
    b = rng.integers(0, largest // 2, 300)
    results = []
    for kernel in (build, _pycore):
        wi, wh, wo = _weights(1, size)
        loss = np.empty(len(a))
        work = np.empty(kernel.work_size(size, bits))
        kernel.train(wi, wh, wo, a, b, bits, 0.3, clip, loss, work)
        results.append((wi, wh, wo, loss))
    for got, want in zip(*results, strict=True):
        assert np.array_equal(got, want)


def test_predict_and_logits_match_twin(build: ModuleType) -> None:
    wi, wh, wo = _weights(2, 11)
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2**40, 500)
    b = rng.integers(0, 2**40, 500)
    out = [np.empty(500, dtype=np.int64) for _ in range(2)]
    build.predict(wi, wh, wo, a, b, out[0])
    _pycore.predict(wi, wh, wo, a, b, out[1])
    assert np.array_equal(out[0], out[1])

    xa = rng.integers(0, 2, 300)
    xb = rng.integers(0, 2, 300)
    logits = [np.empty(300) for _ in range(2)]
    build.forward_logits(wi, wh, wo, xa, xb, logits[0])
    _pycore.forward_logits(wi, wh, wo, xa, xb, logits[1])
    assert np.array_equal(logits[0], logits[1])

    states = [np.empty((301, 11)) for _ in range(2)]
    build.hidden_states(wi, wh, wo, xa, xb, states[0], logits[0])
    _pycore.hidden_states(wi, wh, wo, xa, xb, states[1], logits[1])
    assert np.array_equal(states[0], states[1])
    assert np.array_equal(logits[0], logits[1])


def test_gradients_and_exp_match_twin(build: ModuleType) -> None:
    wi, wh, wo = _weights(4, 9)
    grads = [[np.zeros_like(w) for w in (wi, wh, wo)] for _ in range(2)]
    losses = [
        kernel.loss_and_gradients(wi, wh, wo, 1234, 4321, 14, 0.5, *g)
        for kernel, g in zip((build, _pycore), grads, strict=True)
    ]
    assert losses[0] == losses[1]
    for got, want in zip(*grads, strict=True):
        assert np.array_equal(got, want)
    xs = [*np.random.default_rng(5).normal(0, 200, 5000).tolist(), 708.5, -708.5, 0.0]
    assert [build.exp(x) for x in xs] == [_pycore.exp(x) for x in xs]


@pytest.mark.parametrize("size", [1, 16, 33])
def test_prefix_table_matches_twin(build: ModuleType, size: int) -> None:
    # Large batches share the first steps through a prefix table; pairs
    # shorter than the table, longer ones and zeros must all match the twin.
    wi, wh, wo = _weights(6, size)
    rng = np.random.default_rng(7)
    n = 20_000
    highs = rng.choice([1, 2, 4, 8, 64, 2**20, 2**62], n)
    a = (rng.random(n) * highs).astype(np.int64)
    b = (rng.random(n) * highs).astype(np.int64)
    out = np.empty(n, dtype=np.int64)
    build.predict(wi, wh, wo, a, b, out)
    check = slice(0, 400)
    want = np.empty(400, dtype=np.int64)
    _pycore.predict(wi, wh, wo, a[check], b[check], want)
    assert np.array_equal(out[check], want)
    # A small batch takes the pair-by-pair path: the same sums.
    few = np.empty(3, dtype=np.int64)
    for start in range(0, 300, 3):
        build.predict(wi, wh, wo, a[start : start + 3], b[start : start + 3], few)
        assert np.array_equal(few, out[start : start + 3])


def test_prefix_depth_matches_twin(build: ModuleType) -> None:
    # The same table depth for every size and batch (the twin's depth sets
    # the roofline's count of steps, and predict() asks for it).
    sizes = (1, 3, 8, 16, 17, 64, 4096)
    batches = [*range(300), *(2**k + d for k in range(8, 21) for d in (-1, 0, 1))]
    got = [build.prefix_depth(h, n) for h in sizes for n in batches]
    assert got == [_pycore.prefix_depth(h, n) for h in sizes for n in batches]
    assert max(got) == 8  # the deepest table is reached


@pytest.mark.parametrize("depth", [0, 1, 3, 5])
def test_a_shared_prefix_table_gives_the_twins_table_and_sums(
    build: ModuleType, depth: int
) -> None:
    # predict() builds one table per call and hands it to every kernel call;
    # the table and the sums from it must be the twin's, and those of a
    # kernel call that builds its own.
    size = 7
    wi, wh, wo = _weights(9, size)
    tables = []
    for kernel in (build, _pycore):
        states = np.full((4**depth, size), np.nan)
        masks = np.full(4**depth, -1, dtype=np.int64)
        kernel.prefix_table(wi, wh, wo, states, masks)
        tables.append((states, masks))
    if depth > 0:
        for got, want in zip(*tables, strict=True):
            assert np.array_equal(got, want)
    rng = np.random.default_rng(depth)
    highs = rng.choice([1, 4, 32, 256, 2**20, 2**62], 600)
    a = (rng.random(600) * highs).astype(np.int64)
    b = (rng.random(600) * highs).astype(np.int64)
    sums = [np.empty(600, dtype=np.int64) for _ in range(3)]
    build.predict(wi, wh, wo, a, b, sums[0], *tables[0])
    _pycore.predict(wi, wh, wo, a, b, sums[1], *tables[1])
    build.predict(wi, wh, wo, a, b, sums[2])
    assert np.array_equal(sums[0], sums[1]) and np.array_equal(sums[0], sums[2])


@pytest.mark.parametrize(
    ("rows", "cols", "count"),
    [(5, 3, 5), (4, 2, 4), (16, 3, 4), (4, 3, 16), (4**9, 3, 4**9)],
)
def test_a_prefix_table_of_the_wrong_shape_is_refused(
    build: ModuleType, rows: int, cols: int, count: int
) -> None:
    wi, wh, wo = _weights(10, 3)
    a = np.arange(20)
    states, masks = np.zeros((rows, cols)), np.zeros(count, dtype=np.int64)
    for kernel in (build, _pycore):
        with pytest.raises(ValueError, match="a prefix table has 4\\*\\*D masks"):
            kernel.predict(wi, wh, wo, a, a, np.empty(20, np.int64), states, masks)
        with pytest.raises(ValueError, match="a prefix table has 4\\*\\*D masks"):
            kernel.prefix_table(wi, wh, wo, states, masks)
        with pytest.raises(ValueError, match="given together"):
            kernel.predict(wi, wh, wo, a, a, np.empty(20, np.int64), states)


def test_a_set_stop_flag_ends_predict_early(build: ModuleType) -> None:
    # The flag another thread sets to stop a worker: the call returns at its
    # next check (after at most a few million multiply-adds), leaving the
    # rest of out as it was.
    wi, wh, wo = _weights(12, 64)
    a = np.full(4000, 2**62 - 1)  # 63 steps each: 1e9 multiply-adds in all
    no_table = np.zeros((1, 64)), np.zeros(1, dtype=np.int64)
    for kernel in (build, _pycore):
        out = np.full(4000, -1, dtype=np.int64)
        kernel.predict(wi, wh, wo, a, a, out, *no_table, np.ones(1, np.uint8))
        assert np.count_nonzero(out == -1) > 3900
        with pytest.raises(ValueError, match="stop must hold one byte, got 2"):
            kernel.predict(wi, wh, wo, a, a, out, *no_table, np.zeros(2, np.uint8))


def test_train_refuses_short_scratch(build: ModuleType) -> None:
    wi, wh, wo = _weights(8, 4)
    a = np.array([1, 2])
    short = np.empty(build.work_size(4, 6) - 1)
    with pytest.raises(ValueError, match="work"):
        build.train(wi, wh, wo, a, a, 6, 0.1, 5.0, np.empty(2), short)


# ------------------------------------------- what each entry point is handed
_KERNEL_MISUSE = """
import sys
import numpy as np
from binsum._backend import kernel

_, k = kernel(sys.argv[1])
H = 4
f = lambda *shape: np.zeros(shape)
i = lambda *values: np.array(values, dtype=np.int64)
good = (f(2, H), f(H, H), f(H, 1))
cases = {
    "train wo (H+5, 1)": lambda: k.train(f(2, H), f(H, H), f(H + 5, 1), i(1), i(1),
                                         8, 0.1, 5.0, f(1), f(10**4)),
    "train wh (H, H+1)": lambda: k.train(f(2, H), f(H, H + 1), f(H, 1), i(1), i(1),
                                         8, 0.1, 5.0, f(1), f(10**4)),
    "train wi (3, H)": lambda: k.train(f(3, H), f(H, H), f(H, 1), i(1), i(1),
                                       8, 0.1, 5.0, f(1), f(10**4)),
    "train H = 0": lambda: k.train(f(2, 0), f(0, 0), f(0, 1), i(1), i(1),
                                   8, 0.1, 5.0, f(1), f(10**4)),
    "train b shorter": lambda: k.train(*map(np.copy, good), i(1, 2), i(1),
                                       8, 0.1, 5.0, f(2), f(10**4)),
    "train loss shorter": lambda: k.train(*map(np.copy, good), i(1, 2), i(1, 2),
                                          8, 0.1, 5.0, f(1), f(10**4)),
    "train bits 200": lambda: k.train(*map(np.copy, good), i(1), i(1),
                                      200, 0.1, 5.0, f(1), f(10**5)),
    "train bits 0": lambda: k.train(*map(np.copy, good), i(1), i(1),
                                    0, 0.1, 5.0, f(1), f(10**4)),
    "train pair too large": lambda: k.train(*map(np.copy, good), i(2**62), i(2**62),
                                            8, 0.1, 5.0, f(1), f(10**4)),
    "train negative pair": lambda: k.train(*map(np.copy, good), i(-5), i(1),
                                           8, 0.1, 5.0, f(1), f(10**4)),
    "gradients of a bad pair": lambda: k.loss_and_gradients(
        *good, 200, 200, 8, 5.0, f(2, H), f(H, H), f(H, 1)),
    "gradients shape": lambda: k.loss_and_gradients(
        *good, 1, 1, 8, 5.0, f(2, H), f(H, H), f(H + 1, 1)),
    "gradients bits 100": lambda: k.loss_and_gradients(
        *good, 1, 1, 100, 5.0, f(2, H), f(H, H), f(H, 1)),
    "logits xb shorter": lambda: k.forward_logits(*good, i(1, 0, 1), i(1), f(3)),
    "logits out shorter": lambda: k.forward_logits(*good, i(1, 0, 1), i(1, 1, 1), f(1)),
    "logits wo (H+9, 1)": lambda: k.forward_logits(f(2, H), f(H, H), f(H + 9, 1),
                                                   i(1), i(1), f(1)),
    "states xb shorter": lambda: k.hidden_states(*good, i(1, 0, 1), i(1),
                                                 f(4, H), f(3)),
    "states rows short": lambda: k.hidden_states(*good, i(1, 0, 1), i(1, 1, 1),
                                                 f(3, H), f(3)),
    "states cols (H+2)": lambda: k.hidden_states(*good, i(1, 0, 1), i(1, 1, 1),
                                                 f(4, H + 2), f(3)),
    "predict b shorter": lambda: k.predict(*good, i(*range(5000)), i(1),
                                           np.zeros(5000, np.int64)),
    "predict out shorter": lambda: k.predict(*good, i(1, 2), i(1, 2),
                                             np.zeros(1, np.int64)),
    "predict wi (2, H+3)": lambda: k.predict(f(2, H + 3), f(H, H), f(H, 1), i(1), i(1),
                                             np.zeros(1, np.int64)),
    "predict operand 2**63-1": lambda: k.predict(*good, i(2**63 - 1), i(1),
                                                 np.zeros(1, np.int64)),
    "predict negative operand": lambda: k.predict(*good, i(3, -1), i(1, 1),
                                                  np.zeros(2, np.int64)),
}
for name, call in cases.items():
    try:
        call()
    except ValueError as exc:
        print(f"{name}: ValueError: {exc}")
    else:
        print(f"{name}: no error")
"""


def test_each_kernel_entry_point_checks_what_it_is_handed(backend: str) -> None:
    """Mismatched shapes, lengths, bits and operands raise ValueError in the
    kernel itself (they read out of bounds or crashed before)."""
    lines = run_python(_KERNEL_MISUSE, backend).splitlines()
    assert len(lines) == 24
    for line in lines:
        assert ": ValueError: " in line, line


# ------------------------------------------- the arrays each entry point takes
_H = 3


def _arrays_of(name: str) -> tuple[list[Any], dict[str, int]]:
    """Good arguments of entry point ``name`` and where its arrays are."""
    wi, wh, wo = _weights(20, _H)
    pair = np.array([5, 6])
    i64 = np.int64
    args: dict[str, list[Any]] = {
        "train": [wi, wh, wo, pair, pair, 8, 0.1, 5.0, np.empty(2),
                  np.empty(_pycore.work_size(_H, 8))],
        "loss_and_gradients": [wi, wh, wo, 5, 6, 8, 5.0, np.empty((2, _H)),
                               np.empty((_H, _H)), np.empty((_H, 1))],
        "forward_logits": [wi, wh, wo, pair, pair, np.empty(2)],
        "hidden_states": [wi, wh, wo, pair, pair, np.empty((3, _H)), np.empty(2)],
        "prefix_table": [wi, wh, wo, np.empty((4, _H)), np.empty(4, i64)],
        "predict": [wi, wh, wo, pair, pair, np.empty(2, i64),
                    np.zeros((1, _H)), np.zeros(1, i64), np.zeros(1, np.uint8)],
    }  # fmt: skip
    names = {
        "train": "wi wh wo a b - - - loss work",
        "loss_and_gradients": "wi wh wo - - - - gwi gwh gwo",
        "forward_logits": "wi wh wo xa xb logits",
        "hidden_states": "wi wh wo xa xb states logits",
        "prefix_table": "wi wh wo states masks",
        "predict": "wi wh wo a b out states masks stop",
    }[name].split()
    return args[name], {n: k for k, n in enumerate(names) if n != "-"}


# Each entry point failing after it has taken some or all of its arrays:
# (entry point, argument, what it is replaced with, the error's words).
_LATE_FAILURES = [
    ("train", "a", np.array([300, 6]), "outside the training range"),
    ("train", "work", np.empty(3), "work must hold"),
    ("loss_and_gradients", "gwo", np.empty((_H + 1, 1)), "must have shapes"),
    ("forward_logits", "logits", np.empty(3), "xa and logits"),
    ("hidden_states", "states", np.empty((2, _H)), "states and xa"),
    ("prefix_table", "masks", np.empty(5, np.int64), "a prefix table"),
    ("predict", "a", np.array([5, -1]), "operands must be in"),
    ("predict", "stop", np.zeros(2, np.uint8), "stop must hold one byte"),
    ("predict", "stop", np.zeros(1, np.float64), "stop must be"),
]


_ENTRY_POINTS = ["train", "loss_and_gradients", "forward_logits", "hidden_states",
                 "prefix_table", "predict"]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "failing"),
    [(name, None) for name in _ENTRY_POINTS]
    + [(case[0], k) for k, case in enumerate(_LATE_FAILURES)],
)
def test_every_buffer_taken_is_released(
    build: ModuleType, name: str, failing: int | None
) -> None:
    """The kernel holds each array's buffer only during the call, whether it
    returns or raises: a memoryview handed in can be released afterwards
    (``release`` raises BufferError while a buffer of it is still held)."""
    args, where = _arrays_of(name)
    words = None
    if failing is not None:
        _, arg, bad, words = _LATE_FAILURES[failing]
        args[where[arg]] = bad
    views = {k: memoryview(args[k]) for k in where.values()}
    args = [views.get(k, v) for k, v in enumerate(args)]
    if words is None:
        getattr(build, name)(*args)
    else:
        with pytest.raises(ValueError, match=words):
            getattr(build, name)(*args)
    for view in views.values():
        view.release()


def _wrong_kinds() -> list[tuple[str, str, Any]]:
    f32 = np.zeros((2, _H), np.float32)
    read_only = np.zeros(2, np.int64)
    read_only.flags.writeable = False
    return [
        ("forward_logits", "wi", f32),
        ("forward_logits", "wh", np.zeros(_H * _H)),
        ("forward_logits", "wh", np.asfortranarray(np.ones((_H, _H)))),
        ("forward_logits", "xa", [1, 2]),
        ("forward_logits", "xb", np.array([1, 2], np.int32)),
        ("forward_logits", "xb", np.array([1, 2], ">i8")),
        ("forward_logits", "logits", np.zeros(4)[::2]),
        ("hidden_states", "states", np.zeros((3, _H), np.float32)),
        ("train", "wo", np.broadcast_to(np.zeros((_H, 1)), (_H, 1))),
        ("train", "loss", np.zeros(2, np.int64)),
        ("loss_and_gradients", "gwi", np.zeros((1, 2, _H))),
        ("prefix_table", "masks", np.zeros(4, np.uint64)[:4].view(np.float64)),
        ("predict", "out", read_only),
        ("predict", "out", None),
        ("predict", "stop", np.zeros(1, bool)),
        ("predict", "masks", b"\0" * 8),
    ]


@pytest.mark.parametrize(("name", "arg", "bad"), _wrong_kinds())
def test_an_array_of_the_wrong_kind_is_refused_by_name(
    build: ModuleType, name: str, arg: str, bad: Any
) -> None:
    """Wrong item types, dimensions, orders, byte orders and read-only outputs
    raise ValueError (TypeError for what is no buffer) naming the argument."""
    args, where = _arrays_of(name)
    args[where[arg]] = bad
    with pytest.raises((ValueError, TypeError), match=f"^{arg} must be "):
        getattr(build, name)(*args)
