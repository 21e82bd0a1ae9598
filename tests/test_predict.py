"""predict(): operand layouts and dtypes, batch sizes, flat memory use, the
shared prefix table, and the kernel reading only predict's own copies of the
operands (predict's threads are tested in test_concurrency.py)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from _children import run_python

import binsum
from binsum import BinarySumRNN, _backend, _model

Make = Callable[..., BinarySumRNN]


@pytest.fixture
def model(make_model: Callable[..., BinarySumRNN]) -> BinarySumRNN:
    # Untrained weights: sums are often wrong, so equal outputs mean equal work.
    return make_model(hidden_size=5, seed=11)


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int32, np.uint64, np.int64])
def test_operand_layouts_agree(model: BinarySumRNN, dtype: type) -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 100, (40, 30))
    other = base[::-1]
    want = model.predict(base.ravel(), other.ravel()).reshape(40, 30)
    a = base.astype(dtype)
    got = model.predict(a, np.asfortranarray(other.astype(dtype)))
    assert got.shape == (40, 30) and got.dtype == np.int64
    assert np.array_equal(got, want)
    strided = np.repeat(a, 2, axis=1)[:, ::2]  # non-contiguous view of a
    assert np.array_equal(model.predict(strided, other), want)


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


def test_broadcast_scalar_and_empty(model: BinarySumRNN) -> None:
    a = np.arange(50)
    assert np.array_equal(model.predict(a, 3), model.predict(a, np.full(50, 3)))
    assert model.predict(np.zeros((0, 4), dtype=np.int64), 1).shape == (0, 4)
    assert model.predict(5, 6).shape == ()


def test_extra_memory_does_not_grow_with_the_batch(backend: str) -> None:
    if backend != "cython":
        pytest.skip("a batch large enough to measure is slow on the twin")
    model = BinarySumRNN(hidden_size=4, seed=0, backend=backend)

    def extra_memory(pairs: int) -> int:
        a = np.arange(pairs, dtype=np.uint32) % 200  # needs a cast to int64
        tracemalloc.start()
        try:
            out = model.predict(a, 7)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return peak - out.nbytes

    # A full int64 copy of both operands would add 16 bytes a pair: 16 MB
    # and 64 MB here; chunks of the operands add the same few MB to both.
    small, large = extra_memory(1_000_000), extra_memory(4_000_000)
    assert large < small + 1_000_000
    assert small < 8_000_000


def test_a_bad_operand_in_a_later_chunk_raises_on_threads_too(
    model: BinarySumRNN, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker's error stops the other workers and reaches the caller.
    monkeypatch.setattr(_model, "PREDICT_CHUNK", 10)
    a = np.arange(95)
    a[83] = -1
    for threads in (1, 4):
        with pytest.raises(ValueError, match=r"^a must be in 0\.\.2\*\*62-1, got -1$"):
            model.predict(a, 1, threads=threads)


@pytest.mark.parametrize(
    ("threads", "error"), [(0, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_threads_must_be_a_positive_int(
    model: BinarySumRNN, threads: object, error: type
) -> None:
    with pytest.raises(error, match="threads"):
        model.predict([1], [2], threads=threads)  # type: ignore[arg-type]


@pytest.mark.parametrize("pairs", [1, 7, 40, 200, 600, 3_000, 10_000, 40_000, 140_000])
def test_every_batch_size_gives_the_sums_of_its_pairs_on_their_own(
    pairs: int,
) -> None:
    """A batch's size sets the depth of the kernel's prefix table (0 to 8
    steps computed once for all pairs) and how its pairs are grouped; neither
    may change a sum. Operands of every width: some pairs end inside the
    table, others run on for up to 63 steps."""
    if not _backend.HAS_EXTENSION:
        pytest.skip("the compiled kernel is not built")
    model = BinarySumRNN(hidden_size=5, seed=3, backend="cython")
    model.fit(300)
    rng = np.random.default_rng(pairs)
    narrow = rng.random((2, pairs)) < 0.5  # both narrow: ends in the table
    widths = np.where(
        narrow, rng.integers(0, 10, (2, pairs)), rng.integers(0, 63, (2, pairs))
    )
    a, b = (rng.integers(0, 2**62, size=pairs) >> (62 - w) for w in widths)
    got = model.predict(a, b)
    some = rng.choice(pairs, size=min(pairs, 60), replace=False)
    twin = BinarySumRNN(hidden_size=5, seed=3, backend="python")
    twin.fit(300)
    for i in some:
        alone = model.predict(a[i : i + 1], b[i : i + 1])  # no group
        assert np.array_equal(got[i : i + 1], alone)
        assert np.array_equal(alone, twin.predict(a[i : i + 1], b[i : i + 1]))


def _recording(model: BinarySumRNN) -> tuple[list[int], list[int]]:
    """Wrap the model's kernel: the pairs of each predict call, the depth
    of each prefix table built."""
    real = model._kernel
    calls: list[int] = []
    tables: list[int] = []

    def predict(wi: Any, wh: Any, wo: Any, a: Any, *rest: Any) -> None:
        calls.append(len(a))
        real.predict(wi, wh, wo, a, *rest)

    def prefix_table(wi: Any, wh: Any, wo: Any, states: Any, masks: Any) -> None:
        tables.append(len(masks).bit_length() // 2)  # 4**D masks: D
        real.prefix_table(wi, wh, wo, states, masks)

    model._kernel = SimpleNamespace(  # type: ignore[assignment]
        predict=predict, prefix_depth=real.prefix_depth, prefix_table=prefix_table
    )
    return calls, tables


@pytest.mark.parametrize(
    ("hidden", "width"), [(1, 62), (16, 8), (256, 62), (1024, 62)]
)
def test_kernel_calls_are_sized_by_work(hidden: int, width: int) -> None:
    """Each kernel call of predict does about 2**24 multiply-adds (at least
    one pair, at most PREDICT_CHUNK), whatever the network's size and the
    operands' width, so that work spreads over threads as evenly at every
    size."""
    work = 1 << 24
    model = BinarySumRNN(hidden_size=hidden, seed=1)
    calls, _ = _recording(model)
    n = 2 * _model.PREDICT_CHUNK + 1 if hidden <= 16 else 9
    a = np.full(n, 2**width - 1)
    model.predict(a, 1)
    depth = model._kernel.prefix_depth(hidden, n)
    steps = width + 1  # 2**width - 1 + 1 carries into one more bit
    per_pair = (steps - depth) * hidden * (hidden + 4)
    size = max(1, min(_model.PREDICT_CHUNK, work // per_pair))
    assert calls == [size] * (n // size) + ([n % size] if n % size else [])
    assert size == 1 or size * per_pair <= work


def test_calls_on_the_same_weights_share_one_prefix_table(backend: str) -> None:
    """predict builds the prefix table of a state's weights once: later calls
    that need no deeper one reuse it (a small call builds none deeper than
    it is worth), and new weights get a new table."""
    model = BinarySumRNN.pretrained(backend=backend)
    _, tables = _recording(model)
    rng = np.random.default_rng(13)
    a, b = rng.integers(0, 2**8, (2, 200))
    small = model.predict(a[:3], b[:3])
    assert tables == [0]  # 3 pairs: no first steps worth sharing
    first = model.predict(a, b)
    assert tables == [0, 3]  # 200 pairs: 3 steps (4**3 states)
    for _ in range(3):
        assert np.array_equal(model.predict(a, b), first)
        assert np.array_equal(model.predict(a[:3], b[:3]), small)
    assert tables == [0, 3]  # the deeper table serves the small calls too
    assert np.array_equal(first, a + b)
    wo = -model.weights["wo"]
    model.set_weights(wo=wo)  # a new state: its own table
    flipped = model.predict(a, b)
    assert tables == [0, 3, 3]
    other = BinarySumRNN.pretrained(backend=backend)
    other.set_weights(wo=wo)
    assert np.array_equal(flipped, other.predict(a, b))
    assert not np.array_equal(flipped, first)


# --------------------------------------------- predict reads only its copies
def test_the_kernel_never_reads_the_callers_operands(make_model: Make) -> None:
    model = make_model(hidden_size=3, bits=4, seed=2)
    a = np.arange(70_000, dtype=np.int64)
    b = a[::-1].copy()
    real = model._kernel
    handed: list[np.ndarray] = []

    def predict(
        wi: Any, wh: Any, wo: Any, ca: Any, cb: Any, out: Any, *table: Any
    ) -> None:
        handed.extend([ca, cb])
        real.predict(wi, wh, wo, ca, cb, out, *table)

    model._kernel = SimpleNamespace(
        predict=predict,
        prefix_depth=real.prefix_depth,
        prefix_table=real.prefix_table,
    )
    if model.backend == "python":
        a, b = a[:300], b[:300]
    result = model.predict(a, b)
    model._kernel = real
    assert np.array_equal(result, model.predict(a.tolist(), b.tolist()))
    assert handed and all(x.dtype == np.int64 and x.flags.c_contiguous for x in handed)
    assert not any(np.shares_memory(x, a) or np.shares_memory(x, b) for x in handed)


_RACE = """
import threading
import numpy as np
from binsum import BinarySumRNN
model = BinarySumRNN(hidden_size=4, bits=8, seed=0, backend="cython").fit(2000)
a = np.arange(200_000, dtype=np.int64) % 256
stop = threading.Event()

def vandal():
    while not stop.is_set():  # values predict would refuse
        a[::7] = -1
        a[::7] = 2**63 - 1
        a[::7] = 5

threading.Thread(target=vandal, daemon=True).start()
outcomes = set()
for _ in range(40):
    try:
        model.predict(a, 3)
        outcomes.add("ok")
    except ValueError:
        outcomes.add("ValueError")
stop.set()
print(*sorted(outcomes))
"""


@pytest.mark.skipif(not binsum.has_extension, reason="needs the compiled kernel")
def test_operands_rewritten_during_predict_never_reach_the_kernel() -> None:
    outcomes = run_python(_RACE).split()
    assert outcomes and set(outcomes) <= {"ok", "ValueError"}
