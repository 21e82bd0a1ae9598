"""automaton(): the finite-state machine in the hidden states, against the full
adder."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import binsum
from binsum import BinarySumRNN, CarryMachine


@functools.cache
def _shipped() -> CarryMachine:
    return BinarySumRNN.pretrained().automaton()


def _full_adder(c: int, x0: int, x1: int) -> tuple[int, int]:
    # (output, next carry) of the full adder, from its truth table.
    total = x0 + x1 + c
    return total % 2, total // 2


def test_the_shipped_network_is_the_full_adder() -> None:
    m = _shipped()
    assert m.is_full_adder, m.explanation
    assert str(m) == m.explanation
    assert m.explanation.startswith("The full adder:")
    # Every cluster holds states of one carry, and it is the carry of the
    # merged state it belongs to (block 0, holding h_0, is carry 0).
    assert (m.cluster_carries.min(axis=1) == 0).all()
    cluster_carry = m.cluster_carries.argmax(axis=1)
    assert sorted(set(m.blocks)) == [0, 1]
    assert [int(cluster_carry[j]) for j in range(m.clusters)] == list(m.blocks)
    # Every transition is the full adder's.
    assert m.transitions
    for t in m.transitions:
        out, nxt = _full_adder(int(cluster_carry[t.source]), *t.inputs)
        assert (t.output, int(cluster_carry[t.target])) == (out, nxt)
    assert sum(t.steps for t in m.transitions) == len(m.states) - 1


def test_the_states_are_the_networks_own() -> None:
    # Each sampled state's word, run through logits, gives the recorded
    # output bit (the step is the kernel's, bit for bit).
    model = BinarySumRNN.pretrained()
    m = _shipped()
    for state in (1, 7, 100, len(m.states) - 1):
        word = m.word(state)
        a = sum(x << t for t, (x, _) in enumerate(word))
        b = sum(y << t for t, (_, y) in enumerate(word))
        logits = model.logits(a, b)
        if len(logits) >= len(word):
            assert int(logits[len(word) - 1] > 0) == m.outputs[state]
        carry = 0
        for x0, x1 in word:
            carry = (x0 + x1 + carry) // 2
        assert m.carries[state] == carry
    assert not m.states.flags.writeable
    with pytest.raises(ValueError):  # and cannot be made writable again
        m.states.flags.writeable = True
    assert np.array_equal(m.states[0], np.zeros(model.hidden_size))


def test_the_carry_units_and_the_read_out() -> None:
    m = _shipped()
    assert set(m.carry_units) == {8, 10}
    assert all(m.unit_accuracy[j] >= 0.99 for j in m.carry_units)
    # The margin is the definition's minimum, recomputed here.
    r = m.states @ m.readout[:-1] + m.readout[-1]
    margin = (2 * (r - 0.5) * (2 * m.carries - 1)).min()
    assert m.readout_margin == pytest.approx(margin, abs=1e-12)
    assert m.readout_margin > 0  # the read-out is exact on every state
    assert ((r > 0.5) == (m.carries == 1)).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_untrained_network_is_not_the_full_adder(seed: int) -> None:
    m = BinarySumRNN(seed=seed).automaton(run=16, max_clusters=8)
    assert not m.is_full_adder
    assert m.explanation.startswith("Not the full adder:")
    assert "output the wrong bit" in m.explanation
    assert "keeps the carries apart" in m.explanation


@functools.cache
def _long_chain_failure() -> BinarySumRNN:
    # Hidden 16, seed 9 (tests/data/hard_cases.json): exact on every 8-bit
    # pair, wrong on a 44-bit carry chain.
    backend = "cython" if binsum.has_extension else "python"
    return BinarySumRNN(hidden_size=16, seed=9, backend=backend).fit()


def test_a_network_that_fails_a_long_carry_chain() -> None:
    model = _long_chain_failure()
    assert model.score() == 1.0
    short = model.automaton(run=32)
    assert short.is_full_adder  # runs of 32 miss the failure...
    m = model.automaton()  # ...runs of 64 find it
    assert not m.is_full_adder
    assert "output the wrong bit" in m.explanation
    wrong = [
        s
        for s in range(1, len(m.states))
        if m.outputs[s] != (sum(m.word(s)[-1]) + m.carries[m.parents[s]]) % 2
    ]
    assert wrong
    word = m.word(wrong[0])
    assert len(word) > 32
    a = sum(x << t for t, (x, _) in enumerate(word))
    b = sum(y << t for t, (_, y) in enumerate(word))
    assert f"add({a}, {b})" in m.explanation
    assert model.add(a, b) != a + b


def test_the_same_machine_twice_and_on_both_backends(backend: str) -> None:
    one = BinarySumRNN.pretrained(backend=backend).automaton(run=16)  # type: ignore[arg-type]
    two = BinarySumRNN.pretrained(backend=backend).automaton(run=16)  # type: ignore[arg-type]
    ref = _shipped_short()
    for m in (one, two):
        assert m.explanation == ref.explanation
        assert m.blocks == ref.blocks and m.transitions == ref.transitions
        for name in ("states", "labels", "centres", "readout", "unit_accuracy"):
            assert np.array_equal(getattr(m, name), getattr(ref, name)), name


@functools.cache
def _shipped_short() -> CarryMachine:
    return BinarySumRNN.pretrained(backend="python").automaton(run=16)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"depth": 0}, "depth must be in 1..8"),
        ({"run": -1}, "run must be in 0..4096"),
        ({"max_clusters": 1}, "max_clusters must be in 2..64"),
    ],
)
def test_arguments_are_checked(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BinarySumRNN(seed=0).automaton(**kwargs)
    with pytest.raises(TypeError, match="depth must be an integer"):
        BinarySumRNN(seed=0).automaton(depth=2.0)  # type: ignore[arg-type]
