"""The network's report on one pair, as a person reads it: the lecture's log
lines while training (``fit(verbose=True)``) and the column addition of
``binsum add --explain``.

Both read the same things off the output logits o_t: the predicted bit
(o_t > 0) and the network's probability sigmoid(o_t). The probabilities come
from the twin's sigmoid, which gives every kernel's bits (the parity
contract), so a report needs no kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from binsum import _decimal, _pycore, _sampling


@dataclass(frozen=True)
class Reading:
    """What the network computes for a + b, one column (step) at a time."""

    a: int
    b: int
    logits: NDArray[np.float64]

    @property
    def columns(self) -> int:
        return len(self.logits)

    @property
    def probabilities(self) -> list[float]:
        """sigmoid(o_t): the network's probability that bit t is 1."""
        return [_pycore.sigmoid(o) for o in self.logits.tolist()]

    @property
    def predicted(self) -> list[int]:
        return [1 if o > 0.0 else 0 for o in self.logits.tolist()]

    @property
    def total(self) -> int:
        """The network's sum."""
        return _sampling.from_bits(self.logits > 0.0)


def _bits(value: int, n: int) -> list[int]:
    """The n lowest bits of value, least significant first."""
    return [(value >> t) & 1 for t in range(n)]


# ----------------------------------------------------------- the lecture's log
def _lecture_bits(bits: Sequence[int]) -> str:
    """The lecture's bit arrays: most significant bit first, in brackets."""
    return "[" + " ".join(str(x) for x in reversed(bits)) + "]"


def lecture_log(reading: Reading, iteration: int, total: int) -> str:
    """The lecture's three log lines for the sample about to be trained: its
    "Error" sum_t |2(sigmoid(o_t) - y_t)| (not the loss), the true sum and the
    prediction, as bit arrays of the training width."""
    n, c = reading.columns, reading.a + reading.b
    error = 0.0
    for p, y in zip(reading.probabilities, _bits(c, n), strict=True):
        error += abs(2.0 * (p - y))
    true, a, b = (_lecture_bits(_bits(v, n)) for v in (c, reading.a, reading.b))
    return (
        f"[{iteration}|{total}] Error: {error:.6f}\n"
        f"\tTrue: {true} = {a} + {b}\n"
        f"\tPred: {_lecture_bits(reading.predicted)}\n"
    )


# ------------------------------------------------------ the column addition
def sum_line(a: int, b: int, total: int) -> str:
    """ "A + B = TOTAL (exact)" in decimal, for numbers of any size."""
    true = a + b
    verdict = (
        "exact" if total == true else f"wrong, the true sum is {_decimal.to_text(true)}"
    )
    a_text, b_text = _decimal.to_text(a), _decimal.to_text(b)
    return f"{a_text} + {b_text} = {_decimal.to_text(total)} ({verdict})"


WIDE = 32  # columns drawn in full (73 characters); wider sums show their ends
ENDS = 16  # columns drawn at each end of a wider sum (79 characters)
TABLE_ENDS = 8  # table rows at each end of a wider sum (and every wrong column)


def _shown(n: int, ends: int, also: Sequence[int] = ()) -> list[int | None]:
    """The columns to draw, most significant first, None where some are left
    out: all of them up to WIDE, else the ``ends`` at each end and ``also``."""
    if n <= WIDE:
        return list(reversed(range(n)))
    keep = sorted(set(range(ends)) | set(range(n - ends, n)) | set(also), reverse=True)
    out: list[int | None] = []
    for t in keep:
        if out and out[-1] is not None and out[-1] != t + 1:
            out.append(None)
        out.append(t)
    return out


def column_addition(reading: Reading) -> list[str]:
    """The column addition as the lecture draws it, with per-bit confidence.

    Up to WIDE columns everything is drawn; a wider sum shows its lowest and
    highest columns (and every wrong one) with "..." for the rest, so each
    line stays readable on a terminal."""
    a, b, n = reading.a, reading.b, reading.columns
    prob, pred = reading.probabilities, reading.predicted
    true = a + b
    carry = true ^ a ^ b  # bit t: the carry into column t
    wrong = [t for t in range(n) if pred[t] != (true >> t) & 1]
    drawn = _shown(n, ENDS)

    def row(label: str, bits: Sequence[int]) -> str:
        return f"{label:<10}" + " ".join(
            "..." if t is None else str(bits[t]) for t in drawn
        )

    width = len(row("", pred)) - 10
    lines = [
        sum_line(a, b, reading.total),
        "",
        "column addition, most significant bit on the left; the network reads "
        "the columns right to left, one per step:",
    ]
    if n > WIDE:
        lines.append(
            f"({n} columns: the lowest and highest {ENDS} are drawn, ... stands "
            "for the others)"
        )
    lines += [
        "",
        row("  a", _bits(a, n)),
        row("+ b", _bits(b, n)),
        row("  carry", _bits(carry, n)),
        " " * 10 + "-" * width,
        row("= network", pred),
    ]
    if wrong:
        marks = [
            "^" if t in wrong else (" " if t is not None else "   ") for t in drawn
        ]
        lines.append((" " * 10 + " ".join(marks)).rstrip())
    lines += [
        "",
        "column  a  b  carry  network  sigmoid(o_t)  confidence",
    ]
    for t in reversed(_shown(n, TABLE_ENDS, wrong)):
        if t is None:
            lines.append(f"{'...':>6}")
            continue
        conf = prob[t] if pred[t] else 1.0 - prob[t]
        mark = f"  <- wrong, the true bit is {(true >> t) & 1}" if t in wrong else ""
        lines.append(
            f"{t:>6}  {(a >> t) & 1}  {(b >> t) & 1}  {(carry >> t) & 1:>5}  "
            f"{pred[t]:>7}  {prob[t]:>12.4f}  {conf:>10.1%}{mark}"
        )
    return lines
