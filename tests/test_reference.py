"""binsum agrees with the benchmark's numpy reference of the lecture's algorithm.

Not bit for bit: numpy's exp and its matrix-product summation order differ
from the kernel's, so trained weights agree to about 1e-12 relative, and the
test allows 1e-9.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from binsum import BinarySumRNN, _sampling

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "numpy_reference.py"


@pytest.fixture(scope="module")
def ref() -> ModuleType:
    spec = importlib.util.spec_from_file_location("numpy_reference", REFERENCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("numpy_reference", module)
    spec.loader.exec_module(module)
    return module


def _close(actual: np.ndarray, expected: np.ndarray) -> None:
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-9 * scale)


@pytest.mark.parametrize(("hidden_size", "bits", "seed"), [(16, 8, 0), (5, 6, 3)])
def test_training_matches_reference(
    ref: ModuleType,
    make_model: Callable[..., BinarySumRNN],
    hidden_size: int,
    bits: int,
    seed: int,
) -> None:
    iterations = 600
    model = make_model(hidden_size=hidden_size, bits=bits, seed=seed)

    # The reference starts from the same generator: init_nn draws the same
    # weights, then the model's chunked sampler gives the same pairs.
    rng = np.random.Generator(np.random.PCG64(seed))
    wi, wh, wo = ref.init_nn(2, hidden_size, 1, rng)
    start = model.weights
    assert np.array_equal(wi, start["wi"])
    assert np.array_equal(wh, start["wh"])
    assert np.array_equal(wo, start["wo"])
    pairs, _ = _sampling.draw(rng, _sampling.empty_pairs(), bits, iterations)
    stream = ref.samples_from_pairs(ref.make_dataset(bits), pairs[:, 0], pairs[:, 1])

    losses = ref.train(wi, wh, wo, iterations, stream, hidden_size)
    model.fit(iterations)

    trained = model.weights
    assert not np.array_equal(trained["wh"], start["wh"])  # training happened
    _close(trained["wi"], wi)
    _close(trained["wh"], wh)
    _close(trained["wo"], wo)
    _close(model.history, losses)


def test_vectorised_forward_matches_predict(
    ref: ModuleType, trained: BinarySumRNN
) -> None:
    rng = np.random.Generator(np.random.PCG64(7))
    a = rng.integers(0, 256, size=3000, dtype=np.int64)
    b = rng.integers(0, 256, size=3000, dtype=np.int64)
    a = np.concatenate([a, [0, 0, 255, 255, 1]])
    b = np.concatenate([b, [0, 255, 0, 255, 0]])
    w = trained.weights
    sums = ref.forward_sums(w["wi"], w["wh"], w["wo"], a, b, 8)
    assert np.array_equal(sums, trained.predict(a, b))


def test_dataset_is_most_significant_bit_first(ref: ModuleType) -> None:
    dataset = ref.make_dataset(4)
    assert len(dataset) == 16
    assert dataset[6].tolist() == [0, 1, 1, 0]
    assert dataset[1].tolist() == [0, 0, 0, 1]
