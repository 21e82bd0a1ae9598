"""The twin's predict scheduler: ``_core_predict.pxi`` in plain Python.

Block by block (``# --- block:``) the kernel file's. The kernel advances
pairs of equal length GROUP at a time in lockstep (``_steps_together``,
``_run_group``) and queues the pairs waiting for a group; here each pair
runs on its own, with its own operations (docs/algorithm.md, "Arithmetic
shared by both backends"). The kernel's ticker has no twin: Python checks
for signals by itself; only the caller's stop flag is read here, at every
step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from binsum._pycore_arithmetic import MAX_BITS, Floats, _forward_step


# --- block: pair steps
def _bit_length(v: int) -> int:
    return v.bit_length()


def _pair_steps(a: int, b: int) -> int:
    # Steps a pair runs: its larger bit length, plus one for the carry.
    la = _bit_length(a)
    lb = _bit_length(b)
    return (la if la > lb else lb) + 1


def _operand_ok(v: int) -> bool:
    return v >= 0 and v < (1 << MAX_BITS)


# --- block: prefix depth
MAX_PREFIX_DEPTH = 8  # prefix table: at most 4**8 states
PREFIX_TABLE_BYTES = 8388608


def _prefix_depth(size: int, n: int) -> int:
    # Depth D of the prefix table: its last level must fit in
    # PREFIX_TABLE_BYTES and be worth building: 4**D states cost about
    # 4**D * 4 / 3 steps, and each level saves the batch up to n steps.
    d = 0
    states = 4
    while (d < MAX_PREFIX_DEPTH and states * size * 8 <= PREFIX_TABLE_BYTES
           and states * 2 <= n):  # fmt: skip
        d += 1
        states *= 4
    return d


# --- block: prefix table
def _build_prefixes(
    wi: Floats, wh: Floats, wo: Floats, size: int, depth: int
) -> tuple[list[Floats], list[int]]:
    # The hidden state h_D and the output bits of steps 0..D-1 for every
    # pair of D-bit prefixes (a_low, b_low), at index a_low | b_low << D:
    # exactly what _forward_step computes for each pair on its own, computed
    # once. Level d (4**d states) is computed from level d - 1 (the kernel
    # keeps the last two levels in two buffers); returns the states and
    # masks of level D.
    prev: list[Floats] = [[0.0] * size]  # not read at level 1 (h_0 = 0)
    pmask = [0]
    for d in range(1, depth + 1):
        cur = [[0.0] * size for _ in range(1 << (2 * d))]
        cmask = [0] * (1 << (2 * d))
        low = (1 << (d - 1)) - 1
        for e in range(1 << (2 * d)):
            al = e & ((1 << d) - 1)
            bl = e >> d
            parent = (al & low) | ((bl & low) << (d - 1))
            bit = 1 if _forward_step(wi, wh, wo, size, float((al >> (d - 1)) & 1),
                                     float((bl >> (d - 1)) & 1), prev[parent],
                                     cur[e], d == 1) > 0.0 else 0  # fmt: skip
            cmask[e] = (0 if d == 1 else pmask[parent]) | (bit << (d - 1))
        prev = cur
        pmask = cmask
    return prev, pmask


# --- block: one pair
def _predict_pair(
    wi: Floats, wh: Floats, wo: Floats, size: int, a: int, b: int, start: int,
    total: int, hp: Floats, hc: Floats, other: Floats,
    stop: NDArray[np.uint8] | None,
) -> int:  # fmt: skip
    # Steps start .. max bit length of the pair: from hidden state hp (not
    # read when start == 0) and the output bits ``total`` of steps < start.
    # Returns the sum, or -1 once the stop flag is set.
    steps = _pair_steps(a, b)
    if steps < start:
        total &= (1 << steps) - 1
    for t in range(start, steps):
        if stop is not None and stop[0]:
            return -1
        if _forward_step(wi, wh, wo, size, float((a >> t) & 1),
                         float((b >> t) & 1), hp, hc, t == 0) > 0.0:  # fmt: skip
            total |= 1 << t
        hp = hc
        other, hc = hc, other
    return total


# --- block: pairs
def _predict_pairs(
    wi: Floats, wh: Floats, wo: Floats, size: int, a: list[int], b: list[int],
    n: int, out: NDArray[np.int64], depth: int, table: list[Floats] | None,
    mask: list[int] | None, stop: NDArray[np.uint8] | None,
) -> tuple[int, int]:  # fmt: skip
    # The first D steps of a pair depend only on the D lowest bits of its
    # operands, so for large batches they are computed once per prefix (a
    # table of 4**D states, the same operations) and each pair continues
    # from there: ``table`` and ``mask`` of ``depth`` steps (prefix_table),
    # or None to build one for this batch (_prefix_depth). Returns (0, 0),
    # (-1, index) for a pair out of range, or (-3, 0) once the stop flag is
    # set.
    if table is None or mask is None:
        depth = _prefix_depth(size, n)
        table, mask = [], []
        if depth > 0:
            table, mask = _build_prefixes(wi, wh, wo, size, depth)
    steps_buf = [0.0] * size, [0.0] * size
    low = (1 << depth) - 1
    for i in range(n):
        ai = a[i]
        bi = b[i]
        if not (_operand_ok(ai) and _operand_ok(bi)):
            return -1, i
        if depth > 0:
            e = (ai & low) | ((bi & low) << depth)
            total = _predict_pair(wi, wh, wo, size, ai, bi, depth, mask[e],
                                  table[e], steps_buf[0], steps_buf[1],
                                  stop)  # fmt: skip
        else:
            total = _predict_pair(wi, wh, wo, size, ai, bi, 0, 0, steps_buf[1],
                                  steps_buf[0], steps_buf[1], stop)  # fmt: skip
        if total < 0:
            return -3, 0
        out[i] = total
    return 0, 0
