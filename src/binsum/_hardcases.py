"""The hard cases: a systematic search for pairs a network adds wrong.

A trained network is (close to) a two-state machine, carry 0 and carry 1.
What breaks it is a long run that keeps the carry while the hidden state
drifts, so the search builds every pair from a *word* of inputs (one
(a's bit, b's bit) per step, least significant first):

    prefix . unit**k . exit

Pairs of up to 62 bits (checked in batches by ``predict``):

- prefix: nothing or one input (it sets the carry a run is entered with);
- unit: every word of 1 to 3 inputs that is not a repeat of a shorter one:
  each input repeated (00 and 10/01 keep carry 0, 10/01 and 11 keep carry
  1: the six carry-keeping combinations; the other two change the carry and
  then keep it), the alternating 10.01 (0101... + 1010...) and 11.00
  (carries switching every step), and the 3-input cycles such as 01.11.00;
- k: every repeat count while the pair fits in 62 bits;
- exit: nothing, or any one or two inputs (one only after runs of 3-input
  units longer than 30 steps); the pair's own last step (it reads 00 and
  emits the carry) follows, as in every computation.

Longer pairs (checked one by one by ``add``): the prefixes nothing and 11 (to
enter carry 0 and carry 1), the single inputs and the two alternating units,
the same exits, and run lengths on a ladder doubling from 64 steps up to
``max_bits``, and ``max_bits`` itself, so every output along each long run is
checked at every length up to ``max_bits``.

So ``2**n - 1 + 1`` (11 . 10**(n-1)), all ones plus all ones (11**n),
``2**n + 2**n`` (00**n . 11) and the alternating patterns are among the
candidates at every n up to 62 and on the ladder. Every pair of up to
``EXHAUSTIVE_BITS`` bits (a, b < 2**8, carry-out included) is checked too.

Any word is the start of the computation of a real pair, and a network adds
every pair exactly if and only if every output along every word is the exact
sum bit; the search looks at the words above only, so None means "none of
these is wrong", not a proof (``certify`` proves). The candidates run on the
compiled kernel when it is installed (same bits as the twin), and a pair the
search reports is always confirmed with the model's own ``add`` against the
exact integer sum.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from binsum import _backend, _steps
from binsum._validate import MAX_BITS

if TYPE_CHECKING:
    from binsum._model import BinarySumRNN

__all__ = ["candidates", "find"]

DEFAULT_MAX_BITS = 4096

EXHAUSTIVE_BITS = 8  # every pair a, b < 2**8: 65,536 pairs, carry-out included
SHORT_BITS = MAX_BITS  # pairs up to here are checked in batches by predict
LADDER_START = 64
LADDER_RATIO = 2.0

Step = tuple[int, int]
Word = tuple[Step, ...]
Pair = tuple[int, int]

INPUTS: tuple[Step, ...] = ((0, 0), (1, 0), (0, 1), (1, 1))
#: The prefixes that enter a long run: carry 0 from h_0, carry 1 after 11.
LONG_PREFIXES: tuple[Word, ...] = ((), ((1, 1),))
#: The repeated units of the long runs: each input, and two alternating words.
LONG_UNITS: tuple[Word, ...] = (
    ((0, 0),),
    ((1, 0),),
    ((0, 1),),
    ((1, 1),),
    ((1, 0), (0, 1)),
    ((1, 1), (0, 0)),
)


def words(steps: int) -> list[Word]:
    """Every word of 0..steps inputs, shortest first."""
    return [w for n in range(steps + 1) for w in itertools.product(INPUTS, repeat=n)]


def units(steps: int) -> list[Word]:
    """Every word of 1..steps inputs that is not a repeat of a shorter one."""

    def repeats(w: Word) -> bool:
        return any(w == w[:k] * (len(w) // k) for k in range(1, len(w)))

    return [w for w in words(steps)[1:] if not repeats(w)]


#: The short runs' prefixes, units and exits (pairs of at most 62 bits).
PREFIXES = words(1)
UNITS = units(3)
EXITS = words(2)
SHORT_EXIT_STEPS = 30


def _bits(word: Word) -> tuple[int, int, int]:
    """(a's bits, b's bits, length) of a word, least significant first."""
    a = sum(x << t for t, (x, _) in enumerate(word))
    b = sum(y << t for t, (_, y) in enumerate(word))
    return a, b, len(word)


def _steps_of(pair: Pair) -> int:
    return max(pair[0].bit_length(), pair[1].bit_length())


def order(pair: Pair) -> tuple[int, int, int]:
    """The search's order of pairs: operand bit length, then a, then b."""
    return _steps_of(pair), pair[0], pair[1]


def ladder(max_bits: int) -> list[int]:
    """Run lengths beyond the short pairs: about 2**(1/2) apart from
    LADDER_START up to max_bits, and max_bits itself."""
    out: list[int] = []
    length = float(LADDER_START)
    while round(length) < max_bits:
        out.append(round(length))
        length *= LADDER_RATIO
    return [*out, max_bits] if max_bits >= LADDER_START else out


def _runs(
    prefixes: Iterable[Word],
    units_: Iterable[Word],
    exits: Iterable[Word],
    lengths: Iterable[int],
) -> Iterator[Pair]:
    """prefix . unit**k . exit for every combination and every run length
    in ``lengths`` (steps; k = length // len(unit), at least 1). A run of a
    3-input unit longer than SHORT_EXIT_STEPS takes the exits of at most one
    input (those runs are most of the candidates)."""
    starts = [_bits(p) for p in prefixes]
    ends = [_bits(e) for e in exits]
    few = [end for end, e in zip(ends, exits, strict=True) if len(e) <= 1]
    blocks = [_bits(u) for u in units_]
    for length in lengths:
        for ua, ub, un in blocks:
            run = un * max(1, length // un)
            if un > 1 and run != length and length > un:
                continue  # each repeat count once
            spread = ((1 << run) - 1) // ((1 << un) - 1)
            ra, rb = ua * spread, ub * spread
            for pa, pb, pn in starts:
                for ea, eb, _ in few if un > 2 and run > SHORT_EXIT_STEPS else ends:
                    shift = pn + run
                    yield pa | ra << pn | ea << shift, pb | rb << pn | eb << shift


@functools.lru_cache(maxsize=8)
def candidates(max_bits: int) -> tuple[tuple[Pair, ...], tuple[Pair, ...]]:
    """The pairs the search checks besides the exhaustive ones, without
    repeats, each in ``order``: those of at most 62 bits (checked in batches)
    and the longer ones. They do not depend on the network (kept for reuse)."""
    short: set[Pair] = set()
    long: set[Pair] = set()
    low = min(EXHAUSTIVE_BITS, max_bits)
    runs = itertools.chain(
        _runs(PREFIXES, UNITS, EXITS, range(1, SHORT_BITS)),
        _runs(LONG_PREFIXES, LONG_UNITS, EXITS, ladder(max_bits)),
    )
    for pair in runs:
        steps = _steps_of(pair)
        if low < steps <= max_bits:
            (short if steps <= SHORT_BITS else long).add(pair)
    return tuple(sorted(short, key=order)), tuple(sorted(long, key=order))


def _search_model(model: BinarySumRNN) -> BinarySumRNN:
    """A model with ``model``'s weights on the compiled kernel when there is
    one (same bits as the twin, far faster), else ``model`` itself."""
    if model.backend == "cython" or not _backend.HAS_EXTENSION:
        return model
    fast = type(model)(hidden_size=model.hidden_size, seed=0, backend="cython")
    fast.set_weights(**model.weights)
    return fast


def find(model: BinarySumRNN, max_bits: int = DEFAULT_MAX_BITS) -> Pair | None:
    """The smallest wrong pair among the candidates, or None.

    ``model`` is a BinarySumRNN; ``max_bits`` (already checked) bounds the
    operands' bit length. "Smallest" is ``order``: fewest operand bits, then
    the smaller a, then the smaller b. The pair returned is one that
    ``model.add`` (the model's own backend) gets wrong.
    """
    fast = _search_model(model)
    short, long = candidates(max_bits)
    found = _short_wrong(fast, min(EXHAUSTIVE_BITS, max_bits), short)
    if found is None:
        found = _first_wrong(fast, long)
    if found is not None and model.add(*found) == found[0] + found[1]:
        # The kernels give the same bits (contract 1): a pair that only one
        # of them gets wrong is a broken build, not a hard case.
        raise RuntimeError(
            f"the search's kernel and the model's backend disagree on "
            f"{found[0]} + {found[1]}: the installation is broken"
        )
    return found


_BATCH = 256  # long pairs run side by side by numpy when there is no kernel


def _sums(model: BinarySumRNN, a: list[int], b: list[int]) -> list[int]:
    """The model's sums of these pairs: on the compiled kernel one by one, on
    the twin's installation side by side in numpy (``_steps.sums``, the same
    bits), which is far faster than the twin's pure-Python loops."""
    if model.backend == "cython":
        return [model.add(x, y) for x, y in zip(a, b, strict=True)]
    w = model.weights
    return _steps.sums(w["wi"], w["wh"], w["wo"], a, b)


def _first_wrong(model: BinarySumRNN, pairs: tuple[Pair, ...]) -> Pair | None:
    """The first pair of ``pairs`` that the model adds wrong, or None."""
    step = 1 if model.backend == "cython" else _BATCH
    for start in range(0, len(pairs), step):
        part = pairs[start : start + step]
        got = _sums(model, [p[0] for p in part], [p[1] for p in part])
        for pair, total in zip(part, got, strict=True):
            if total != pair[0] + pair[1]:
                return pair
    return None


def _predict(
    model: BinarySumRNN, a: NDArray[np.int64], b: NDArray[np.int64]
) -> NDArray[np.int64]:
    if model.backend == "cython":
        return model.predict(a, b)
    return np.array(_sums(model, a.tolist(), b.tolist()), dtype=np.int64)


def _short_wrong(
    model: BinarySumRNN, exhaustive: int, short: tuple[Pair, ...]
) -> Pair | None:
    """The smallest pair of all a, b < 2**exhaustive and ``short`` that the
    model gets wrong (checked in batches by predict), or None."""
    values = np.arange(1 << exhaustive, dtype=np.int64)
    a_all = np.repeat(values, len(values))
    b_all = np.tile(values, len(values))
    wrong = a_all + b_all != _predict(model, a_all, b_all)
    if wrong.any():
        return min(
            ((int(a), int(b)) for a, b in zip(a_all[wrong], b_all[wrong], strict=True)),
            key=order,
        )
    if not short:
        return None
    a = np.array([p[0] for p in short], dtype=np.int64)
    b = np.array([p[1] for p in short], dtype=np.int64)
    bad = np.flatnonzero(a + b != _predict(model, a, b))
    return short[int(bad[0])] if len(bad) else None
