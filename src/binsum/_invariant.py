"""The invariant behind a certificate: base sets, keyed by what the inputs say.

A base set is kept for every key (carry before the window, the last WINDOW
inputs); the carry now follows from both. ``check`` proves, for the kernel's
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
KEYS = 2 * WORDS  # key = carry before the window * WORDS + the window's word
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


def key_carry(keys: Codes) -> Codes:
    """The carry now, in the states of each key."""
    return carry_after(keys // WORDS, keys % WORDS, WINDOW)


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


def transient(net: Network) -> tuple[Array, Codes, float, str | None]:
    """States after every word of TRANSIENT inputs from h_0 (index = the word),
    their keys, the smallest signed logit on the way and the first wrong word."""
    wo = net.wo[:, None]
    first = [_steps.step(net.wi, net.wh, wo, None, _X0[i], _X1[i]) for i in range(4)]
    h = np.concatenate([s for s, _ in first])
    sums = _SUM.copy()
    margin = float(_signed(np.concatenate([o for _, o in first]), sums & 1).min())
    carries = [np.zeros(4, dtype=np.int64), sums >> 1]  # after 0, 1 inputs
    for length in range(2, TRANSIENT + 1):
        parts = [_steps.step(net.wi, net.wh, wo, h, _X0[i], _X1[i]) for i in range(4)]
        h = np.concatenate([s for s, _ in parts])
        sums = np.concatenate([_SUM[i] + carries[-1] for i in range(4)])
        signed = _signed(np.concatenate([o for _, o in parts]), sums & 1)
        margin = min(margin, float(signed.min()))
        carries = [np.tile(c, 4) for c in carries] + [sums >> 1]
    codes = np.arange(4**TRANSIENT, dtype=np.int64)
    keys = carries[TRANSIENT - WINDOW] * WORDS + (codes >> (2 * (TRANSIENT - WINDOW)))
    failure = None if margin > 0.0 else "a word of at most 5 inputs gives a wrong bit"
    return h, keys, margin, failure


def windows(net: Network, boxes: Boxes, keys: Codes) -> tuple[Codes, Zonotopes, Array]:
    """For bases ``keys``, the enclosures after every word of WINDOW inputs:
    (base key and word for each row, the zonotopes, each row's smallest
    signed logit over the window's steps)."""
    zs = boxes.as_zonotopes(keys)
    carry = key_carry(keys)
    rows = keys.copy()
    words = np.zeros(len(keys), dtype=np.int64)
    margin = np.full(len(keys), np.inf)
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
    return np.stack([rows, words]), zs, margin


def shift_key(keys: Codes, inputs: Codes) -> Codes:
    """The key after one more input from states of ``keys``."""
    before = (_SUM[keys & 3] + keys // WORDS) >> 1
    window = ((keys % WORDS) >> 2) | (inputs << (2 * (WINDOW - 1)))
    out: Codes = before * WORDS + window
    return out


def next_key(keys: Codes, words: Codes) -> Codes:
    """The key after ``words`` (a window each) from states of ``keys``."""
    out: Codes = key_carry(keys) * WORDS + words
    return out


def check(
    net: Network,
    boxes: Boxes,
    observe: Callable[[Codes, Zonotopes], None] | None = None,
) -> Verdict:
    """Points 1 and 2 of the module's docstring, for these base sets.

    ``observe(targets, zonotopes)`` (the search's) sees every window's
    enclosures with their target keys; with it the check runs to the end
    instead of stopping at the first failure."""
    h, keys, margin, failure = transient(net)
    if failure is not None:
        return Verdict(np.inf, margin, failure)
    empty = Zonotopes.of(h, np.zeros((len(h), 0, h.shape[1])), np.zeros_like(h))
    slack = float(boxes.slack(keys, empty).max())
    if slack > 1.0:
        failure = "a state after the first steps lies outside its base"
    chunk = max(1, _CHUNK_ROWS // (WORDS * h.shape[1] * h.shape[1]))
    for start in range(0, KEYS, chunk):
        if failure is not None and observe is None:
            break
        bases = np.arange(start, min(KEYS, start + chunk))
        where, zs, signed = windows(net, boxes, bases)
        targets = next_key(where[0], where[1])
        low = float(signed.min())
        if low < margin:
            margin = low
            if margin <= 0.0 and failure is None:
                failure = (
                    "an output bit is not proven from the base of key "
                    f"{int(where[0][signed.argmin()])}"
                )
        got = boxes.slack(targets, zs)
        if float(got.max()) > slack:
            slack = float(got.max())
            if slack > 1.0 and failure is None:
                failure = (
                    "a window's image leaves its base (from key "
                    f"{int(where[0][got.argmax()])} to {int(targets[got.argmax()])})"
                )
        if observe is not None:
            observe(targets, zs)
    return Verdict(slack, margin, failure)
