"""predict(): threads, operand layouts and dtypes, batch sizes, flat memory use."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest

from binsum import BinarySumRNN, _backend


@pytest.fixture
def model(make_model: Callable[..., BinarySumRNN]) -> BinarySumRNN:
    # Untrained weights: sums are often wrong, so equal outputs mean equal work.
    return make_model(hidden_size=5, seed=11)


def test_threads_give_the_same_sums(model: BinarySumRNN, backend: str) -> None:
    n = 150_000 if backend == "cython" else 3_000  # > one chunk on the kernel
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**20, n)
    b = rng.integers(0, 2**20, n)
    one = model.predict(a, b)
    for threads in (2, 3):
        assert np.array_equal(model.predict(a, b, threads=threads), one)
    assert model.score(6, threads=2) == model.score(6)


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


@pytest.mark.parametrize(
    ("threads", "error"), [(0, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_bad_threads(model: BinarySumRNN, threads: object, error: type) -> None:
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
        alone = model.predict(a[i : i + 1], b[i : i + 1])  # no table, no group
        assert np.array_equal(got[i : i + 1], alone)
        assert np.array_equal(alone, twin.predict(a[i : i + 1], b[i : i + 1]))
