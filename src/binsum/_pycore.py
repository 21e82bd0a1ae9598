"""Pure-Python twin of the compiled kernel ``binsum._core``.

It mirrors ``_core.pyx`` block by block: the same function names, constants,
loop nests in the same order and the same IEEE-754 double operations in the
same order, on plain Python floats. CPython's float arithmetic is correctly
rounded binary64 with no fused multiply-add, so the two backends produce
bit-identical results. Any change to the arithmetic or its order is made in
both files; read them side by side.

Where the kernel has C pointers this has Python lists: weights and gradients
are flat lists in C order (``wh[row + j]`` for the kernel's ``row[j]`` with
``row = wh + k * size``), hidden states one list per step. What the kernel
needs only for C has no counterpart: the signal ticker (Python checks for
signals between bytecodes) and memory management; nor what only
makes the kernel fast without changing a sum: its matrix loops run many sums
side by side in vector lanes (``_lanes.h``: transposed ``wh`` for the
backward sums, ``gwh`` summed after the backward loop) and its predict()
runs pairs of equal length in lockstep (``_steps_together``,
``_run_group``); here each sum and each pair runs on its own, adding the
same terms in the same order.

This module is also the source of the kernel's typing: ``_core.pyi``
re-exports these signatures, and stubtest checks the compiled kernel against
them (.ci/run). The callers (``binsum._model``) validate every argument; like
the kernel, each entry point still checks that the shapes it is handed agree
and that operands are in range, raising the kernel's ValueError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "exp",
    "forward_logits",
    "hidden_states",
    "loss_and_gradients",
    "predict",
    "prefix_depth",
    "prefix_table",
    "sigmoid",
    "train",
    "work_size",
]

MAX_BITS = 62  # operands and sums stay below 2**62 (int64)

# exp(): Cody-Waite split of ln(2) (kd * LN2_HI is exact for |kd| < 2**11);
# SHIFTER = 1.5 * 2**52: adding it rounds a double below 2**51 to an integer.
LOG2E = 1.4426950408889634
LN2_HI = 0.6931471803691238
LN2_LO = 1.9082149292705877e-10
SHIFTER = 6755399441055744.0
EXP_LIMIT = 708.0  # |x| clamped here: e**x and every step stay normal

Floats = list[float]


def _hidden_size(
    wi: NDArray[np.float64], wh: NDArray[np.float64], wo: NDArray[np.float64]
) -> int:
    # H from the weights, after checking (2, H), (H, H), (H, 1), H >= 1.
    size = wh.shape[0] if wh.ndim == 2 else 0
    if (
        size < 1
        or wh.shape != (size, size)
        or wi.shape != (2, size)
        or wo.shape != (size, 1)
    ):
        raise ValueError(
            "weights must have shapes (2, H), (H, H), (H, 1) with H >= 1, got "
            f"{wi.shape}, {wh.shape}, {wo.shape}"
        )
    return int(size)


def _same_length(what: str, n: int, m: int) -> None:
    if n != m:
        raise ValueError(f"{what} must have equal lengths, got {n} and {m}")


def _check_bits(bits: int) -> None:
    if bits < 1 or bits > MAX_BITS:
        raise ValueError(f"bits must be in 1..{MAX_BITS}, got {bits}")


def _pair_ok(a: int, b: int, bits: int) -> bool:
    # A training pair: a, b >= 0 and a + b < 2**bits.
    return (
        a >= 0
        and b >= 0
        and a < (1 << bits)
        and b < (1 << bits)
        and a + b < (1 << bits)
    )


def _exp(x: float) -> float:
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
    # Taylor polynomial of degree 12 in Estrin's form: the same operations
    # as the kernel, and a dependency chain a third as long as Horner's.
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


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + _exp(-z))


def _step(
    wi: Floats, wh: Floats, wo: Floats, size: int, x0: float, x1: float,
    hp: Floats, hc: Floats, first: bool,
) -> float:  # fmt: skip
    # h_t = sigmoid(x_t . wi + h_{t-1} . wh) into hc; returns o_t = h_t . wo.
    # Each hc[j] sums k = 0..H-1 in order; j runs innermost so the H sums
    # proceed side by side without changing any of them. At the first step
    # h_0 = 0 and the recurrent term is skipped.
    for j in range(size):
        hc[j] = x0 * wi[j] + x1 * wi[size + j]
    if not first:
        for k in range(size):
            hk = hp[k]
            row = k * size
            for j in range(size):
                hc[j] = hc[j] + hk * wh[row + j]
    for j in range(size):
        hc[j] = _sigmoid(hc[j])
    o = 0.0
    for k in range(size):
        o = o + hc[k] * wo[k]
    return o


@dataclass
class Work:
    # Scratch for one pair's BPTT (the kernel carves it from one block).
    hs: list[Floats]  # bits + 1 hidden states, h_0 = 0
    yh: Floats  # bits outputs
    da: Floats  # H
    da_next: Floats  # H
    gwi: Floats  # 2 * H
    gwh: Floats  # H * H
    gwo: Floats  # H


def _work_size(size: int, bits: int) -> int:
    # The kernel's Work also holds wh transposed (H * H), which its backward
    # sums read, and the deltas of every step (bits * H) for its gwh sums.
    return (2 * bits + 1) * size + bits + 3 * size + 2 * size * size


def _work_init(size: int, bits: int) -> Work:
    return Work(
        hs=[[0.0] * size for _ in range(bits + 1)],
        yh=[0.0] * bits,
        da=[0.0] * size,
        da_next=[0.0] * size,
        gwi=[0.0] * (2 * size),
        gwh=[0.0] * (size * size),
        gwo=[0.0] * size,
    )


def _sample_gradients(
    wi: Floats, wh: Floats, wo: Floats, size: int, a: int, b: int, bits: int,
    clip: float, w: Work,
) -> float:  # fmt: skip
    # Loss of (a, b) and its BPTT gradients into w.gwi, w.gwh, w.gwo.
    c = a + b
    loss = 0.0
    da = w.da
    da_next = w.da_next

    for t in range(bits):
        x0 = float((a >> t) & 1)
        x1 = float((b >> t) & 1)
        w.yh[t] = _step(wi, wh, wo, size, x0, x1, w.hs[t], w.hs[t + 1], t == 0)
    # The outputs' sigmoids after the steps (the kernel runs them in one loop).
    for t in range(bits):
        w.yh[t] = _sigmoid(w.yh[t])
    for t in range(bits):
        err = w.yh[t] - float((c >> t) & 1)
        loss = loss + err * err

    w.gwi[:] = [0.0] * (2 * size)
    w.gwo[:] = [0.0] * size
    w.gwh[:] = [0.0] * (size * size)
    for t in range(bits - 1, -1, -1):
        x0 = float((a >> t) & 1)
        x1 = float((b >> t) & 1)
        y = float((c >> t) & 1)
        yhat = w.yh[t]
        do = 2.0 * (yhat - y) * yhat * (1.0 - yhat)
        hc = w.hs[t + 1]
        hp = w.hs[t]
        # The kernel runs these H sums side by side (_rows_into over wh
        # transposed); each adds its terms j = 0..H-1 in the same order.
        for k in range(size):
            s = do * wo[k]
            if t != bits - 1:  # delta_a after the last step is zero
                row = k * size
                for j in range(size):
                    s = s + da_next[j] * wh[row + j]
            d = s * (hc[k] * (1.0 - hc[k]))
            if d > clip:
                d = clip
            elif d < -clip:
                d = -clip
            da[k] = d
        for k in range(size):
            w.gwo[k] = w.gwo[k] + hc[k] * do
        # Terms that are exactly +-0 (h_0 = 0, input bits of 0) are skipped:
        # an accumulator that starts at +0 never becomes -0, so adding +-0
        # would leave it unchanged.
        if t > 0:
            for k in range(size):
                hk = hp[k]
                grow = k * size
                for j in range(size):
                    w.gwh[grow + j] = w.gwh[grow + j] + hk * da[j]
        if x0 != 0.0:
            for j in range(size):
                w.gwi[j] = w.gwi[j] + da[j]
        if x1 != 0.0:
            for j in range(size):
                w.gwi[size + j] = w.gwi[size + j] + da[j]
        da, da_next = da_next, da
    return loss


def _sgd(wv: Floats, g: Floats, n: int, lr: float) -> None:
    for i in range(n):
        wv[i] = wv[i] - lr * g[i]


def _flat(arr: NDArray[np.float64]) -> Floats:
    # The kernel's &arr[0, 0]: the values in C order, a row at a time (at
    # H = 4096 one call for all 16M would hold Ctrl-C off for half a second).
    values: Floats = []
    for row in arr:
        values += row.tolist()
    return values


def _store(arr: NDArray[np.float64], values: Floats) -> None:
    # Write a flat list back in C order (the kernel works in place), a row
    # at a time, as _flat reads it.
    cols = arr[0].size
    for i in range(len(arr)):
        arr[i] = values[i * cols : (i + 1) * cols]


def _bit_length(v: int) -> int:
    return v.bit_length()


def _pair_steps(a: int, b: int) -> int:
    # Steps a pair runs: its larger bit length, plus one for the carry.
    la = _bit_length(a)
    lb = _bit_length(b)
    return (la if la > lb else lb) + 1


MAX_PREFIX_BITS = 8  # prefix table: at most 4**8 states
PREFIX_TABLE_BYTES = 8388608


def _prefix_bits(size: int, n: int) -> int:
    # Depth D of the prefix table: its last level must fit in
    # PREFIX_TABLE_BYTES and be worth building: 4**D states cost about
    # 4**D * 4 / 3 steps, and each level saves the batch up to n steps.
    d = 0
    states = 4
    while (d < MAX_PREFIX_BITS and states * size * 8 <= PREFIX_TABLE_BYTES
           and states * 2 <= n):  # fmt: skip
        d += 1
        states *= 4
    return d


def _build_prefixes(
    wi: Floats, wh: Floats, wo: Floats, size: int, depth: int
) -> tuple[list[Floats], list[int]]:
    # The hidden state h_D and the output bits of steps 0..D-1 for every
    # pair of D-bit prefixes (a_low, b_low), at index a_low | b_low << D:
    # exactly what _step computes for each pair on its own, computed once.
    # Level d (4**d states) is computed from level d - 1 (the kernel keeps
    # the last two levels in two buffers); returns the states and masks of
    # level D.
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
            bit = 1 if _step(wi, wh, wo, size, float((al >> (d - 1)) & 1),
                             float((bl >> (d - 1)) & 1), prev[parent],
                             cur[e], d == 1) > 0.0 else 0  # fmt: skip
            cmask[e] = (0 if d == 1 else pmask[parent]) | (bit << (d - 1))
        prev = cur
        pmask = cmask
    return prev, pmask


# ------------------------------------------------------------ inner loops
# The kernel's, shared by its C interface and its Python entry points. The
# kernel's Ticker (signal checks without the GIL) has no twin: Python checks
# for signals by itself; only the caller's stop flag is read here, at every
# step.


def _run_pair(
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
        if _step(wi, wh, wo, size, float((a >> t) & 1),
                 float((b >> t) & 1), hp, hc, t == 0) > 0.0:  # fmt: skip
            total |= 1 << t
        hp = hc
        other, hc = hc, other
    return total


def _operand_ok(v: int) -> bool:
    return v >= 0 and v < (1 << MAX_BITS)


def _predict_pairs(
    wi: Floats, wh: Floats, wo: Floats, size: int, a: list[int], b: list[int],
    n: int, out: NDArray[np.int64], depth: int, table: list[Floats] | None,
    mask: list[int] | None, stop: NDArray[np.uint8] | None,
) -> tuple[int, int]:  # fmt: skip
    # The first D steps of a pair depend only on the D lowest bits of its
    # operands, so for large batches they are computed once per prefix (a
    # table of 4**D states, the same operations) and each pair continues
    # from there: ``table`` and ``mask`` of ``depth`` steps (prefix_table),
    # or None to build one for this batch (_prefix_bits). The kernel runs
    # pairs of equal length in lockstep; here they run one by one. Returns
    # (0, 0), (-1, index) for a pair out of range, or (-3, 0) once the stop
    # flag is set.
    if table is None or mask is None:
        depth = _prefix_bits(size, n)
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
            total = _run_pair(wi, wh, wo, size, ai, bi, depth, mask[e],
                              table[e], steps_buf[0], steps_buf[1], stop)  # fmt: skip
        else:
            total = _run_pair(wi, wh, wo, size, ai, bi, 0, 0, steps_buf[1],
                              steps_buf[0], steps_buf[1], stop)  # fmt: skip
        if total < 0:
            return -3, 0
        out[i] = total
    return 0, 0


def _sequence_logits(
    wi: Floats, wh: Floats, wo: Floats, size: int, xa: list[int], xb: list[int],
    steps: int, logits: NDArray[np.float64],
) -> None:  # fmt: skip
    hp = [0.0] * size  # not read at the first step (h_0 = 0)
    hc = [0.0] * size
    for t in range(steps):
        logits[t] = _step(wi, wh, wo, size, float(xa[t]), float(xb[t]),
                          hp, hc, t == 0)  # fmt: skip
        hp, hc = hc, hp


def _gradients_into(
    wi: Floats, wh: Floats, wo: Floats, size: int, a: int, b: int, bits: int,
    clip: float, gwi: NDArray[np.float64], gwh: NDArray[np.float64],
    gwo: NDArray[np.float64],
) -> float:  # fmt: skip
    # sample_gradients of a checked pair; returns its loss.
    w = _work_init(size, bits)
    loss = _sample_gradients(wi, wh, wo, size, a, b, bits, clip, w)
    _store(gwi, w.gwi)
    _store(gwh, w.gwh)
    _store(gwo, w.gwo)
    return loss


def _train_pairs(
    wi: Floats, wh: Floats, wo: Floats, size: int, a: list[int], b: list[int],
    n: int, bits: int, learning_rate: float, clip: float,
    loss: NDArray[np.float64],
) -> int:  # fmt: skip
    # Returns the pairs trained: n, or the index of the first pair out of range.
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


# ------------------------------------------------------ Python interface
# (The kernel's C interface, kernel.pxd, wraps the same inner loops for other
# Cython extensions; it has no Python twin.)


def work_size(size: int, bits: int) -> int:
    """Doubles of scratch that train() needs for hidden size H and ``bits``."""
    return _work_size(size, bits)


def train(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    bits: int,
    learning_rate: float,
    clip: float,
    loss: NDArray[np.float64],
    work: NDArray[np.float64],
) -> None:
    """Train on the pairs (a[i], b[i]) in order, one SGD step per pair.

    Updates wi, wh, wo in place and writes each pair's loss into loss[i].
    ``work`` is scratch of at least work_size(H, bits) doubles (checked as
    the kernel does; the twin's scratch is Python lists). A pair outside the
    training range (a, b >= 0, a + b < 2**bits) stops training before it: the
    weights then hold the pairs before it, and ValueError is raised.
    """
    size = _hidden_size(wi, wh, wo)
    n = len(a)
    _check_bits(bits)
    _same_length("a and b", n, len(b))
    _same_length("a and loss", n, len(loss))
    if n == 0:
        return
    if len(work) < _work_size(size, bits):
        raise ValueError(f"work must hold work_size({size}, {bits}) doubles")
    pwi, pwh, pwo = _flat(wi), _flat(wh), _flat(wo)
    pa, pb = a.tolist(), b.tolist()
    done = _train_pairs(pwi, pwh, pwo, size, pa, pb, n, bits,
                        float(learning_rate), float(clip), loss)  # fmt: skip
    _store(wi, pwi)
    _store(wh, pwh)
    _store(wo, pwo)
    if done < n:
        raise ValueError(f"pair {done} is outside the training range of "
                         f"bits={bits}: ({pa[done]}, {pb[done]})")  # fmt: skip


def loss_and_gradients(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    a: int,
    b: int,
    bits: int,
    clip: float,
    gwi: NDArray[np.float64],
    gwh: NDArray[np.float64],
    gwo: NDArray[np.float64],
) -> float:
    """Loss of the pair (a, b) over ``bits`` steps; gradients into gwi, gwh, gwo."""
    size = _hidden_size(wi, wh, wo)
    _check_bits(bits)
    if not _pair_ok(a, b, bits):
        raise ValueError(f"({a}, {b}) is outside the training range of bits={bits}")
    if _hidden_size(gwi, gwh, gwo) != size:
        raise ValueError("gradients must have the weights' shapes")
    return _gradients_into(
        _flat(wi), _flat(wh), _flat(wo), size, int(a), int(b), int(bits),
        float(clip), gwi, gwh, gwo,
    )  # fmt: skip


def forward_logits(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    xa: NDArray[np.int64],
    xb: NDArray[np.int64],
    logits: NDArray[np.float64],
) -> None:
    """Run the network over bit sequences xa, xb (LSB first); o_t into logits."""
    size = _hidden_size(wi, wh, wo)
    steps = len(xa)
    _same_length("xa and xb", steps, len(xb))
    _same_length("xa and logits", steps, len(logits))
    if steps == 0:
        return
    _sequence_logits(_flat(wi), _flat(wh), _flat(wo), size, xa.tolist(),
                     xb.tolist(), steps, logits)  # fmt: skip


def _sequence_states(
    wi: Floats, wh: Floats, wo: Floats, size: int, xa: list[int], xb: list[int],
    steps: int, states: list[Floats], logits: NDArray[np.float64],
) -> None:  # fmt: skip
    # _sequence_logits keeping every state: h_t in states[t] (h_0 = 0).
    for t in range(steps):
        logits[t] = _step(wi, wh, wo, size, float(xa[t]), float(xb[t]),
                          states[t], states[t + 1], t == 0)  # fmt: skip


def hidden_states(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    xa: NDArray[np.int64],
    xb: NDArray[np.int64],
    states: NDArray[np.float64],
    logits: NDArray[np.float64],
) -> None:
    """forward_logits keeping the states: h_0 = 0 .. h_T into states (T + 1, H)."""
    size = _hidden_size(wi, wh, wo)
    steps = len(xa)
    _same_length("xa and xb", steps, len(xb))
    _same_length("xa and logits", steps, len(logits))
    rows, cols = states.shape if states.ndim == 2 else (-1, -1)
    _same_length("states and xa + 1", rows, steps + 1)
    _same_length("states' rows and the hidden size", cols, size)
    hs = [[0.0] * size for _ in range(steps + 1)]
    if steps > 0:
        _sequence_states(_flat(wi), _flat(wh), _flat(wo), size, xa.tolist(),
                         xb.tolist(), steps, hs, logits)  # fmt: skip
    _store(states, [v for row in hs for v in row])


def _table_depth(
    states: NDArray[np.float64], masks: NDArray[np.int64], size: int
) -> int:
    # D of a prefix table handed in: 4**D masks (D in 0..MAX_PREFIX_BITS) and
    # states of shape (4**D, H).
    depth = 0
    count = 1
    while count < len(masks) and depth < MAX_PREFIX_BITS:
        count *= 4
        depth += 1
    rows, cols = states.shape if states.ndim == 2 else (-1, -1)
    if count != len(masks) or rows != count or cols != size:
        raise ValueError(
            f"a prefix table has 4**D masks and states of shape (4**D, {size}) "
            f"for D in 0..{MAX_PREFIX_BITS}, got {len(masks)} masks and "
            f"states of shape ({rows}, {cols})"
        )
    return depth


def prefix_depth(size: int, n: int) -> int:
    """Steps D of the prefix table worth building for n pairs at hidden size H."""
    return _prefix_bits(size, n)


def prefix_table(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    states: NDArray[np.float64],
    masks: NDArray[np.int64],
) -> None:
    """Fill states (4**D, H) and masks (4**D,) with the prefix table of D steps.

    Row a_low | b_low << D holds the hidden state after the D steps of every
    pair whose operands' D lowest bits are a_low and b_low, and its mask the
    output bits of those steps: what predict() computes for each such pair.
    predict(..., states, masks) then starts every pair from there, so one
    table serves many calls (and threads) with the same weights.
    """
    size = _hidden_size(wi, wh, wo)
    depth = _table_depth(states, masks, size)
    if depth == 0:
        return
    table, mask = _build_prefixes(_flat(wi), _flat(wh), _flat(wo), size, depth)
    states[...] = table
    masks[...] = mask


def predict(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    out: NDArray[np.int64],
    states: NDArray[np.float64] | None = None,
    masks: NDArray[np.int64] | None = None,
    stop: NDArray[np.uint8] | None = None,
) -> None:
    """The network's sum of each pair; a pair runs max bit length + 1 steps.

    ``states`` and ``masks``: a prefix table of these weights from
    prefix_table(), or None to build one for this batch. ``stop``: a
    one-byte array that another thread may set nonzero; the call then
    returns before its next step with ``out`` partly written (the thread
    that set it discards the output).
    """
    size = _hidden_size(wi, wh, wo)
    n = len(a)
    _same_length("a and b", n, len(b))
    _same_length("a and out", n, len(out))
    if (states is None) != (masks is None):
        raise ValueError("states and masks must be given together")
    depth, table, mask = 0, None, None
    if states is not None and masks is not None:
        depth = _table_depth(states, masks, size)
        table, mask = states.tolist(), masks.tolist()
    if stop is not None and len(stop) != 1:
        raise ValueError(f"stop must hold one byte, got {len(stop)}")
    if n == 0:
        return
    pa, pb = a.tolist(), b.tolist()
    status, where = _predict_pairs(_flat(wi), _flat(wh), _flat(wo), size, pa, pb,
                                   n, out, depth, table, mask, stop)  # fmt: skip
    if status == -1:
        raise ValueError(f"operands must be in 0..2**{MAX_BITS} - 1, got "
                         f"({pa[where]}, {pb[where]}) at index {where}")  # fmt: skip


def exp(x: float) -> float:
    """The kernel's exponential (same bits as binsum._core.exp)."""
    return _exp(x)


def sigmoid(z: float) -> float:
    """The kernel's logistic function (same bits as binsum._core.sigmoid)."""
    return _sigmoid(z)
