"""The invariant behind a certificate: base sets, keyed by what the inputs say.

A base set is kept for every key: the carry before the last WINDOW inputs,
those inputs and, when they all propagate the carry (01 or 10), how many
propagating inputs came just before them (up to ``run``: along a long
carry chain the states drift, and one set for every stage of the chain is
too loose). The carry now follows from the key; the key after one more
input follows from the key and the input (``Keys``). ``check`` proves, for the kernel's
float arithmetic (``binsum._reach``), that

1. every word of 1..TRANSIENT inputs from h_0 = 0 gives the exact sum bit at
   every step, computed exactly as the kernel does (``binsum._steps``), and
   the words of TRANSIENT inputs end inside the base of their key;
2. from every state of every base, each word of WINDOW inputs gives the exact
   sum bit at each of its steps and ends inside the base of its new key.

By induction every word of inputs, of any length, gives exact sum bits at
every step. A pair's computation is such a word (its bits, least significant
first, then (0, 0) for the carry), so the network adds every pair of
non-negative integers exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from binsum import _steps
from binsum._reach import Array, Boxes, Network, Zonotopes, images, output_bounds

Codes = NDArray[np.int64]

WINDOW = 4
TRANSIENT = 5
WORDS = 4**WINDOW  # words of one window; input t of a word is base-4 digit t
_X0 = np.array([x for x, _ in _steps.INPUTS], dtype=np.float64)
_X1 = np.array([y for _, y in _steps.INPUTS], dtype=np.float64)
_SUM = np.array([x + y for x, y in _steps.INPUTS], dtype=np.int64)
_CHUNK_ROWS = 1 << 22  # bases at once: about this many doubles per window step


def digit(codes: Codes, t: int) -> Codes:
    """Input t (0 = oldest) of each word."""
    out: Codes = (codes >> (2 * t)) & 3
    return out


def carry_after(carry: Codes, codes: Codes, length: int) -> Codes:
    """The carry after the first ``length`` inputs of each word, from ``carry``."""
    for t in range(length):
        carry = (_SUM[digit(codes, t)] + carry) >> 1
    return carry


def _propagating(codes: Codes, length: int) -> Codes:
    # Whether each of the first ``length`` inputs is 10 or 01.
    out = np.ones(len(codes), dtype=bool)
    for t in range(length):
        out &= _SUM[digit(codes, t)] == 1
    return out.astype(np.int64)


@dataclass(frozen=True)
class Keys:
    """The keys for runs counted up to ``run``: index = row of the tables."""

    run: int
    carry: Codes  # carry before the window, per key
    word: Codes  # the window's inputs, per key
    count: Codes  # propagating inputs just before an all-propagating window
    shifted: NDArray[np.int64]  # (keys, 4): the key after one more input

    @classmethod
    def of(cls, run: int) -> Keys:
        words = np.arange(WORDS, dtype=np.int64)
        runs = np.where(_propagating(words, WINDOW) == 1, run + 1, 1)
        carry = np.repeat(np.repeat([0, 1], WORDS), np.tile(runs, 2))
        word = np.tile(np.repeat(words, runs), 2)
        count = np.concatenate([np.arange(n) for n in np.tile(runs, 2)])
        index = {
            (int(c), int(w), int(n)): i
            for i, (c, w, n) in enumerate(zip(carry, word, count, strict=True))
        }
        shifted = np.empty((len(carry), 4), dtype=np.int64)
        first = digit(word, 0)
        after = (_SUM[first] + carry) >> 1
        for x in range(4):
            new_word = (word >> 2) | (x << (2 * (WINDOW - 1)))
            new_count = np.where(_SUM[first] == 1, np.minimum(count + 1, run), 0)
            new_count = np.where(_propagating(new_word, WINDOW) == 1, new_count, 0)
            shifted[:, x] = [
                index[(int(c), int(w), int(n))]
                for c, w, n in zip(after, new_word, new_count, strict=True)
            ]
        return cls(run, carry, word, count, shifted)

    @property
    def size(self) -> int:
        return len(self.carry)

    def start(self, n: int) -> Codes:
        """The key of no inputs yet (as if after 00 00 00 00), n times."""
        out: Codes = np.zeros(n, dtype=np.int64)
        return out

    def carry_now(self, keys: Codes) -> Codes:
        return carry_after(self.carry[keys], self.word[keys], WINDOW)

    def shift(self, keys: Codes, inputs: Codes) -> Codes:
        out: Codes = self.shifted[keys, inputs]
        return out

    def after(self, keys: Codes, words: Codes) -> Codes:
        """The key after a window ``words`` (input t in digit t)."""
        for t in range(WINDOW):
            keys = self.shift(keys, digit(words, t))
        return keys


@dataclass
class Verdict:
    """What a check found: the worst inclusion slack (at most 1 holds), the
    smallest output margin (above 0 holds), and where it failed first."""

    slack: float
    margin: float
    failure: str | None

    @property
    def ok(self) -> bool:
        return self.failure is None


def _signed(logits: Array, bits: Codes) -> Array:
    # Positive exactly when the output bit (logit > 0) is the sum bit.
    out: Array = np.where(bits == 1, logits, -logits)
    return out


def transient(net: Network, keys: Keys) -> tuple[Array, Codes, float, str | None]:
    """States after every word of TRANSIENT inputs from h_0 (index = the word),
    their keys, the smallest signed logit on the way and the first wrong word."""
    wo = net.wo[:, None]
    first = [_steps.step(net.wi, net.wh, wo, None, _X0[i], _X1[i]) for i in range(4)]
    h = np.concatenate([s for s, _ in first])
    sums = _SUM.copy()
    margin = float(_signed(np.concatenate([o for _, o in first]), sums & 1).min())
    carries = [np.zeros(4, dtype=np.int64), sums >> 1]  # after 0, 1 inputs
    for _ in range(2, TRANSIENT + 1):
        parts = [_steps.step(net.wi, net.wh, wo, h, _X0[i], _X1[i]) for i in range(4)]
        h = np.concatenate([s for s, _ in parts])
        sums = np.concatenate([_SUM[i] + carries[-1] for i in range(4)])
        signed = _signed(np.concatenate([o for _, o in parts]), sums & 1)
        margin = min(margin, float(signed.min()))
        carries = [np.tile(c, 4) for c in carries] + [sums >> 1]
    codes = np.arange(4**TRANSIENT, dtype=np.int64)
    which = keys.start(len(codes))
    for t in range(TRANSIENT):
        which = keys.shift(which, digit(codes, t))
    failure = None if margin > 0.0 else "a word of at most 5 inputs gives a wrong bit"
    return h, which, margin, failure


def windows(
    net: Network, boxes: Boxes, owner: Codes, keyset: Keys, which: Codes
) -> tuple[Codes, Codes, Zonotopes, Array]:
    """For the bases ``which`` (keys ``owner[which]``), the enclosures after
    every word of WINDOW inputs: the base and the word of each row, the
    zonotopes, and each row's smallest signed logit over the window."""
    zs = boxes.as_zonotopes(which)
    carry = keyset.carry_now(owner[which])
    rows = which.copy()
    words = np.zeros(len(which), dtype=np.int64)
    margin = np.full(len(which), np.inf)
    for t in range(WINDOW):
        n = len(rows)
        pick = np.repeat(np.arange(4), n)
        zs = images(net, zs, _X0, _X1)
        rows = np.tile(rows, 4)
        words = np.tile(words, 4) | (pick << (2 * t))
        sums = _SUM[pick] + np.tile(carry, 4)
        carry = sums >> 1
        lo, hi = output_bounds(net, zs)
        margin = np.minimum(np.tile(margin, 4), np.where(sums & 1 == 1, lo, -hi))
    return rows, words, zs, margin


def members(owner: Codes, count: int) -> NDArray[np.int64]:
    """(keys, most bases of a key): the bases of each key, -1 past its last."""
    per = np.bincount(owner, minlength=count)
    table = np.full((count, max(1, int(per.max()))), -1, dtype=np.int64)
    order = np.argsort(owner, kind="stable")
    slot = np.arange(len(owner)) - np.repeat(np.cumsum(per) - per, per)
    table[owner[order], slot] = order
    return table


def best_slack(
    boxes: Boxes, table: NDArray[np.int64], keys: Codes, zs: Zonotopes
) -> tuple[Array, Codes]:
    """For each zonotope, the smallest slack over the bases of its key, and
    that base (-1 when the key has none)."""
    slack = np.full(len(keys), np.inf)
    base = np.full(len(keys), -1, dtype=np.int64)
    for c in range(table.shape[1]):
        cand = table[keys, c]
        rows = np.flatnonzero(cand >= 0)
        if len(rows) == 0:
            continue
        got = boxes.slack(cand[rows], zs.take(rows))
        better = got < slack[rows]
        slack[rows[better]] = got[better]
        base[rows[better]] = cand[rows[better]]
    return slack, base


def check(
    net: Network,
    boxes: Boxes,
    owner: Codes,
    keyset: Keys,
    observe: Callable[[Codes, Zonotopes], None] | None = None,
) -> Verdict:
    """Points 1 and 2 of the module's docstring, for the bases ``boxes``,
    base i belonging to key ``owner[i]`` (a key may have several: a state of
    the key must lie in one of them).

    ``observe(targets, zonotopes)`` (the search's) sees every window's
    enclosures with their target keys; with it the check runs to the end
    instead of stopping at the first failure."""
    h, keys, margin, failure = transient(net, keyset)
    if failure is not None:
        return Verdict(np.inf, margin, failure)
    table = members(owner, keyset.size)
    empty = Zonotopes.of(h, np.zeros((len(h), 0, h.shape[1])), np.zeros_like(h))
    slack = float(best_slack(boxes, table, keys, empty)[0].max())
    if slack > 1.0:
        failure = "a state after the first steps lies outside its base"
    chunk = max(1, _CHUNK_ROWS // (WORDS * h.shape[1] * h.shape[1]))
    for start in range(0, len(owner), chunk):
        if failure is not None and observe is None:
            break
        which = np.arange(start, min(len(owner), start + chunk))
        rows, words, zs, signed = windows(net, boxes, owner, keyset, which)
        targets = keyset.after(owner[rows], words)
        low = float(signed.min())
        if low < margin:
            margin = low
            if margin <= 0.0 and failure is None:
                worst = int(rows[signed.argmin()])
                failure = f"an output bit is not proven from base {worst}"
        got, _ = best_slack(boxes, table, targets, zs)
        if float(got.max()) > slack:
            slack = float(got.max())
            if slack > 1.0 and failure is None:
                i = int(got.argmax())
                failure = (
                    f"a window's image leaves the bases of its key (from base "
                    f"{int(rows[i])} to key {int(targets[i])})"
                )
        if observe is not None:
            observe(targets, zs)
    return Verdict(slack, margin, failure)
