"""counterexample(): the hard cases that random pairs miss, found systematically.

The failing networks and their smallest failing pairs come from the grid of
``benchmarks/hard_cases.py`` (hidden 4, 6, 8, 16, 32 x seeds 0-19, default
settings), stored in tests/data/hard_cases.json by its ``--json`` flag; every
pair there was confirmed against the exact sum when it was written, and is
checked again here.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

import binsum
from binsum import BinarySumRNN, _hardcases

GRID = json.loads((Path(__file__).parent / "data" / "hard_cases.json").read_text())
FAILING = {(r["hidden"], r["seed"]): tuple(r["pair"]) for r in GRID["failing"]}
# A handful of the grid's failing networks that score 1.0: short pairs, long
# carry-keeping runs, an alternating run and a period-3 run (32, 7).
CHOSEN = [(6, 12), (8, 12), (16, 9), (16, 12), (16, 18), (32, 0), (32, 7)]


@functools.cache
def _trained(hidden: int, seed: int) -> BinarySumRNN:
    if binsum.has_extension:
        return BinarySumRNN(hidden_size=hidden, seed=seed, backend="cython").fit()
    return BinarySumRNN(hidden_size=hidden, seed=seed).fit()


def network(hidden: int, seed: int, backend: str) -> BinarySumRNN:
    """The grid's network on ``backend``: trained once on the fastest kernel
    (both give the same weights, test_parity), its weights set on a model of
    the backend under test."""
    model = BinarySumRNN(hidden_size=hidden, seed=seed, backend=backend)  # type: ignore[arg-type]
    model.set_weights(**_trained(hidden, seed).weights)
    return model


def test_the_grid_file_holds_the_chosen_networks() -> None:
    assert GRID["max_bits"] == 4096
    for key in CHOSEN:
        assert key in FAILING
    assert len(FAILING) >= len(CHOSEN)


@pytest.mark.parametrize(("hidden", "seed"), CHOSEN)
def test_failing_networks_are_caught(hidden: int, seed: int, backend: str) -> None:
    if hidden > 16 and not binsum.has_extension:
        pytest.skip("without the compiled kernel a hidden-32 search takes 30 s")
    model = network(hidden, seed, backend)
    assert model.score() == 1.0  # what random pairs and score() say
    recorded = FAILING[hidden, seed]
    assert model.add(*recorded) != sum(recorded)
    found = model.counterexample()
    assert found is not None
    a, b = found
    assert model.add(a, b) != a + b
    assert _hardcases.order(found) <= _hardcases.order(recorded)


def test_the_shipped_network_has_no_hard_case(backend: str) -> None:
    model = BinarySumRNN.pretrained(backend=backend)  # type: ignore[arg-type]
    assert model.counterexample() is None
    assert model.counterexample(4096) is None


def test_a_network_wrong_only_on_carry_out_pairs_is_caught(backend: str) -> None:
    # Hidden 8, seed 14: every pair with a + b < 2**8 is exact, so score()
    # says 1.0, but it gets 8-bit pairs wrong whose sum carries into bit 8.
    model = network(8, 14, backend)
    assert model.score() == 1.0
    found = model.counterexample(8)
    assert found is not None
    a, b = found
    assert a < 256 and b < 256 and a + b >= 256
    assert model.add(a, b) != a + b


def test_max_bits_bounds_the_search() -> None:
    model = network(16, 18, binsum.backend)
    long = FAILING[16, 18]
    assert max(long).bit_length() == 26
    shorter = model.counterexample(25)
    assert shorter is None or max(shorter).bit_length() <= 25
    assert model.counterexample(26) == long  # found as soon as it is in range


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (0, ValueError, r"max_bits must be in 1\.\.2\*\*16, got 0"),
        (2**16 + 1, ValueError, r"max_bits must be in 1\.\.2\*\*16, got 65537"),
        (-1, ValueError, r"max_bits must be in 1\.\.2\*\*16"),
        (1.5, TypeError, r"max_bits must be an integer"),
        (True, TypeError, r"max_bits must be an integer"),
        ("64", TypeError, r"max_bits must be an integer"),
    ],
)
def test_max_bits_is_checked(value: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        BinarySumRNN.pretrained().counterexample(value)  # type: ignore[arg-type]


def _word(pair: tuple[int, int]) -> str:
    a, b = pair
    steps = max(a.bit_length(), b.bit_length())
    return " ".join(f"{(a >> t) & 1}{(b >> t) & 1}" for t in range(steps))


def test_the_careful_testers_families_are_candidates() -> None:
    short, long = _hardcases.candidates(4096)
    pairs = set(short) | set(long)
    # Runs of every length up to 60 steps, and on the ladder (a long run of
    # L steps after the prefix 11 gives 2**(L + 1) - 1 + 1).
    ladder = _hardcases.ladder(4096)[:-1]
    for n in [*range(9, 61), *ladder]:
        ones = (1 << n) - 1
        alternating = ones // 3  # 0101...01 (n even) or 1010...1 (n odd)
        carry = n if n <= 60 else n + 1
        for family in [
            ((1 << carry) - 1, 1),  # 2**n - 1 + 1: a carry through n bits
            (ones, ones),  # all ones plus all ones
            (1 << n, 1 << n),  # 2**n + 2**n: the carry after n zeros
            (alternating, ones ^ alternating),  # 0101... + 1010...: no carry
        ]:
            assert family in pairs, (n, _word(family) if n < 20 else family)


def test_a_failing_pair_is_the_smallest_candidate() -> None:
    # The search's answer is the first failing pair in its order: no smaller
    # candidate (every 8-bit pair, then the runs) is wrong.
    if not binsum.has_extension:
        pytest.skip("every candidate's sum without the compiled kernel: 30 s")
    model = network(16, 9, binsum.backend)
    found = model.counterexample()
    assert found is not None
    short, _ = _hardcases.candidates(4096)
    earlier = [p for p in short if _hardcases.order(p) < _hardcases.order(found)]
    a = np.array([p[0] for p in earlier] + list(range(256)) * 256)
    b = np.array([p[1] for p in earlier] + [v for v in range(256) for _ in range(256)])
    assert len(earlier) > 1000
    assert np.array_equal(model.predict(a, b), a + b)
