"""The twin's arithmetic: ``_core_arithmetic.pxi`` in plain Python floats.

Block by block (``# --- block:``) the kernel file's, under the contract of
docs/algorithm.md ("Arithmetic shared by both backends"). Where the kernel
has C pointers this has Python lists: weights and gradients are flat lists
in C order (``wh[row + j]`` for the kernel's ``row[j]`` with
``row = wh + k * size``), hidden states and deltas one list per step. What
only makes the kernel fast without changing a sum has no counterpart: its
vector lanes (``_lanes.h``) and its signal checks between pieces of a loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = list[float]


# --- block: constants
MAX_BITS = 62  # operands and sums stay below 2**62 (int64)

# _exponential(): Cody-Waite split of ln(2) (kd * LN2_HI is exact for
# |kd| < 2**11); SHIFTER = 1.5 * 2**52: adding it rounds a double below
# 2**51 to an integer.
LOG2E = 1.4426950408889634
LN2_HI = 0.6931471803691238
LN2_LO = 1.9082149292705877e-10
SHIFTER = 6755399441055744.0
EXP_LIMIT = 708.0  # |x| clamped here: e**x and every step stay normal


# --- block: exponential
def _exponential(x: float) -> float:
    """e**x from basic IEEE operations and an exact power-of-two scaling.

    Taylor polynomial of degree 12 on |r| <= ln(2)/2, evaluated in Estrin's
    form (error below 3 ulp); the argument is clamped to [-EXP_LIMIT,
    EXP_LIMIT] so the result is always a normal double. NaN passes through
    every operation.
    """
    x = EXP_LIMIT if x > EXP_LIMIT else x
    x = -EXP_LIMIT if x < -EXP_LIMIT else x
    t = x * LOG2E + SHIFTER
    kd = t - SHIFTER
    r = (x - kd * LN2_HI) - kd * LN2_LO
    # Taylor polynomial of degree 12 in Estrin's form: a dependency chain a
    # third as long as Horner's.
    r2 = r * r
    r4 = r2 * r2
    p = (((1.0 + r) + (0.5 + 0.16666666666666666 * r) * r2)
         + ((0.041666666666666664 + 0.008333333333333333 * r)
            + (0.001388888888888889 + 0.0001984126984126984 * r) * r2) * r4) \
        + ((((2.48015873015873e-05 + 2.7557319223985893e-06 * r)
             + (2.755731922398589e-07 + 2.505210838544172e-08 * r) * r2)
            + 2.08767569878681e-09 * r4) * (r4 * r4))  # fmt: skip
    # kd == k, an integer in [-1021, 1021]: 2**k and p * 2**k are normal, so
    # building 2**k exactly and multiplying is the kernel's scaling (it reads
    # k from t's low mantissa bits). NaN: the kernel's scale is some double
    # and p * scale NaN; here p is NaN too.
    scale = math.ldexp(1.0, int(kd)) if kd == kd else 1.0
    return p * scale


# --- block: logistic
def _logistic(z: float) -> float:
    return 1.0 / (1.0 + _exponential(-z))


# --- block: forward step
def _rows_into(acc: Floats, x: Floats, m: Floats, size: int) -> None:
    # acc[j] = acc[j] + x[k] * m[k * size + j] for k = 0..H-1 in order, for
    # every j: _lanes.h's binsum_rows_into without lanes, row by row (the
    # kernel's _rows_pieces runs it a piece of rows at a time).
    for k in range(size):
        xk = x[k]
        row = k * size
        for j in range(size):
            acc[j] = acc[j] + xk * m[row + j]


def _forward_step(
    wi: Floats, wh: Floats, wo: Floats, size: int, x0: float, x1: float,
    hp: Floats, hc: Floats, first: bool,
) -> float:  # fmt: skip
    # h_t = logistic(x_t . wi + h_{t-1} . wh) into hc; returns o_t = h_t . wo.
    # Each hc[j] sums k = 0..H-1 in order. At the first step h_0 = 0 and the
    # recurrent term is skipped.
    for j in range(size):
        hc[j] = x0 * wi[j] + x1 * wi[size + j]
    if not first:
        _rows_into(hc, hp, wh, size)
    for j in range(size):
        hc[j] = _logistic(hc[j])
    o = 0.0
    for k in range(size):
        o = o + hc[k] * wo[k]
    return o


# --- block: sequences
def _sequence_logits(
    wi: Floats, wh: Floats, wo: Floats, size: int, xa: list[int], xb: list[int],
    steps: int, logits: NDArray[np.float64],
) -> None:  # fmt: skip
    hp = [0.0] * size  # not read at the first step (h_0 = 0)
    hc = [0.0] * size
    for t in range(steps):
        logits[t] = _forward_step(wi, wh, wo, size, float(xa[t]), float(xb[t]),
                                  hp, hc, t == 0)  # fmt: skip
        hp, hc = hc, hp


def _sequence_states(
    wi: Floats, wh: Floats, wo: Floats, size: int, xa: list[int], xb: list[int],
    steps: int, states: list[Floats], logits: NDArray[np.float64],
) -> None:  # fmt: skip
    # _sequence_logits keeping every state: h_t in states[t] (h_0 = 0), each
    # step read from the one before.
    for t in range(steps):
        logits[t] = _forward_step(wi, wh, wo, size, float(xa[t]), float(xb[t]),
                                  states[t], states[t + 1], t == 0)  # fmt: skip


# --- block: scratch
@dataclass
class Work:
    # Scratch for one pair's BPTT (the kernel carves it from one block).
    hs: list[Floats]  # bits + 1 hidden states, h_0 = 0
    yh: Floats  # bits outputs
    das: list[Floats]  # bits: the hidden deltas of every step
    gwi: Floats  # 2 * H
    gwh: Floats  # H * H
    gwo: Floats  # H
    wht: Floats  # H * H: wh transposed, for the backward sums


def _scratch_size(size: int, bits: int) -> int:
    return (2 * bits + 1) * size + bits + 3 * size + 2 * size * size


def _work_init(size: int, bits: int) -> Work:
    return Work(
        hs=[[0.0] * size for _ in range(bits + 1)],
        yh=[0.0] * bits,
        das=[[0.0] * size for _ in range(bits)],
        gwi=[0.0] * (2 * size),
        gwh=[0.0] * (size * size),
        gwo=[0.0] * size,
        wht=[0.0] * (size * size),
    )


# --- block: backward pass
def _transpose(wht: Floats, wh: Floats, size: int) -> None:
    # wht[j * H + k] = wh[k * H + j] (the kernel's _transpose_pieces).
    for j in range(size):
        wht[j * size : (j + 1) * size] = wh[j::size]


def _gwh_sums(
    gwh: Floats, hs: list[Floats], das: list[Floats], bits: int, size: int
) -> None:
    # gwh = the sum over t = bits-1 .. 1 of hs[t] das[t]^T, each element
    # adding its terms in that order (the kernel's _gwh_pieces).
    gwh[:] = [0.0] * (size * size)
    for t in range(bits - 1, 0, -1):
        h = hs[t]
        da = das[t]
        for k in range(size):
            hk = h[k]
            row = k * size
            for j in range(size):
                gwh[row + j] = gwh[row + j] + hk * da[j]


def _add_masked(acc: Floats, at: int, v: Floats, flag: bool, n: int) -> None:
    # acc[at + j] += v[j] where flag is set; the kernel adds +0.0 where it is
    # not, which changes no sum that starts at +0.0.
    if flag:
        for j in range(n):
            acc[at + j] = acc[at + j] + v[j]


def _sample_gradients(
    wi: Floats, wh: Floats, wo: Floats, size: int, a: int, b: int, bits: int,
    clip: float, w: Work,
) -> float:  # fmt: skip
    # Loss of (a, b) and its BPTT gradients into w.gwi, w.gwh, w.gwo.
    c = a + b
    loss = 0.0
    hs = w.hs
    yh = w.yh
    das = w.das

    for t in range(bits):
        x0 = float((a >> t) & 1)
        x1 = float((b >> t) & 1)
        yh[t] = _forward_step(wi, wh, wo, size, x0, x1, hs[t], hs[t + 1], t == 0)
    # The outputs' logistics after the steps, all in one loop.
    for t in range(bits):
        yh[t] = _logistic(yh[t])
    for t in range(bits):
        err = yh[t] - float((c >> t) & 1)
        loss = loss + err * err

    w.gwi[:] = [0.0] * (2 * size)
    w.gwo[:] = [0.0] * size
    # The sum over j below for every k at once is a vector-matrix product
    # over wh transposed (the sums' order is unchanged).
    _transpose(w.wht, wh, size)
    for t in range(bits - 1, -1, -1):
        x0 = float((a >> t) & 1)
        x1 = float((b >> t) & 1)
        y = float((c >> t) & 1)
        yhat = yh[t]
        do = 2.0 * (yhat - y) * yhat * (1.0 - yhat)
        hc = hs[t + 1]
        da = das[t]
        # delta_k = clip((do * wo[k] + sum_j da_next[j] * wh[k, j]) * h'),
        # the sum over j in order for each k.
        for k in range(size):
            da[k] = do * wo[k]
        if t != bits - 1:  # delta_a after the last step is zero
            _rows_into(da, das[t + 1], w.wht, size)
        for k in range(size):
            d = da[k] * (hc[k] * (1.0 - hc[k]))
            if d > clip:
                d = clip
            elif d < -clip:
                d = -clip
            da[k] = d
        for k in range(size):
            w.gwo[k] = w.gwo[k] + hc[k] * do
        # Terms that are exactly +-0 (input bits of 0, and below h_0 = 0)
        # are skipped: an accumulator that starts at +0 never becomes -0, so
        # adding +-0 would leave it unchanged.
        _add_masked(w.gwi, 0, da, x0 != 0.0, size)
        _add_masked(w.gwi, size, da, x1 != 0.0, size)
    # gwh = sum over t = bits-1 .. 1 of h_{t-1} da_t^T, each element adding
    # its terms in that order (h_0 = 0: t = 0 adds nothing), after the loop.
    _gwh_sums(w.gwh, hs, das, bits, size)
    return loss


# --- block: SGD
def _sgd(wv: Floats, g: Floats, n: int, lr: float) -> None:
    for i in range(n):
        wv[i] = wv[i] - lr * g[i]


# --- block: training
def _pair_ok(a: int, b: int, bits: int) -> bool:
    # A training pair: a, b >= 0 and a + b < 2**bits.
    return (
        a >= 0
        and b >= 0
        and a < (1 << bits)
        and b < (1 << bits)
        and a + b < (1 << bits)
    )


def _gradients_into(
    wi: Floats, wh: Floats, wo: Floats, size: int, a: int, b: int, bits: int,
    clip: float, gwi: Floats, gwh: Floats, gwo: Floats,
) -> float:  # fmt: skip
    # _sample_gradients of a checked pair into gwi, gwh, gwo; returns its loss.
    w = _work_init(size, bits)
    loss = _sample_gradients(wi, wh, wo, size, a, b, bits, clip, w)
    gwi[:] = w.gwi
    gwo[:] = w.gwo
    gwh[:] = w.gwh
    return loss


def _train_pairs(
    wi: Floats, wh: Floats, wo: Floats, size: int, a: list[int], b: list[int],
    n: int, bits: int, learning_rate: float, clip: float,
    loss: NDArray[np.float64],
) -> int:  # fmt: skip
    # Returns the pairs trained: n, or the index of the first pair out of
    # range.
    w = _work_init(size, bits)
    for i in range(n):
        ai = a[i]
        bi = b[i]
        if not _pair_ok(ai, bi, bits):
            return i
        loss[i] = _sample_gradients(wi, wh, wo, size, ai, bi, bits, clip, w)
        _sgd(wi, w.gwi, 2 * size, learning_rate)
        _sgd(wh, w.gwh, size * size, learning_rate)
        _sgd(wo, w.gwo, size, learning_rate)
    return n
