"""Pure-Python twin of the compiled kernel ``binsum._core``.

Every function here performs the same IEEE-754 double operations, in the same
order, as its counterpart in ``_core.pyx``, on plain Python floats. CPython's
float arithmetic is correctly rounded binary64 with no fused multiply-add, so
the two backends produce bit-identical results. Any change to the arithmetic
or its order must be made in both files.

The callers (``binsum._model``) validate every argument; like the kernel,
each entry point still checks that the shapes it is handed agree and that
operands are in range, raising the kernel's ValueError.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "exp",
    "forward_logits",
    "loss_and_gradients",
    "predict",
    "sigmoid",
    "train",
    "work_size",
]

# Cody-Waite split of ln(2): kd * _LN2_HI is exact for |kd| < 2**11.
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10
# 1.5 * 2**52: adding it rounds a double of magnitude < 2**51 to an integer.
_SHIFTER = 6755399441055744.0
_EXP_LIMIT = 708.0
_MAX_BITS = 62  # operands and sums stay below 2**62 (int64)


def _hidden_size(
    wi: NDArray[np.float64], wh: NDArray[np.float64], wo: NDArray[np.float64]
) -> int:
    """H from the weights, after checking (2, H), (H, H), (H, 1), H >= 1."""
    size = wh.shape[0] if wh.ndim == 2 else 0
    if size < 1 or wh.shape != (size, size) or wi.shape != (2, size) or (
        wo.shape != (size, 1)
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
    if not 1 <= bits <= _MAX_BITS:
        raise ValueError(f"bits must be in 1..{_MAX_BITS}, got {bits}")


def _pair_ok(a: int, b: int, bits: int) -> bool:
    top = 1 << bits
    return a >= 0 and b >= 0 and a < top and b < top and a + b < top


def exp(x: float) -> float:
    """e**x from basic IEEE operations and an exact power-of-two scaling.

    Taylor polynomial of degree 12 on |r| <= ln(2)/2, evaluated in Estrin's
    form (error below 3 ulp);
    the argument is clamped to [-708, 708] so the result is always a normal
    double. NaN passes through.
    """
    if x > _EXP_LIMIT:
        x = _EXP_LIMIT
    elif x < -_EXP_LIMIT:
        x = -_EXP_LIMIT
    elif x != x:
        return x
    t = x * _LOG2E + _SHIFTER
    kd = t - _SHIFTER
    r = (x - kd * _LN2_HI) - kd * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    p = (
        ((1.0 + r) + (0.5 + 0.16666666666666666 * r) * r2)
        + (
            (0.041666666666666664 + 0.008333333333333333 * r)
            + (0.001388888888888889 + 0.0001984126984126984 * r) * r2
        )
        * r4
    ) + (
        (
            (
                (2.48015873015873e-05 + 2.7557319223985893e-06 * r)
                + (2.755731922398589e-07 + 2.505210838544172e-08 * r) * r2
            )
            + 2.08767569878681e-09 * r4
        )
        * (r4 * r4)
    )
    return math.ldexp(p, int(kd))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + exp(-z))


def _step(
    wi0: list[float],
    wi1: list[float],
    wh: list[list[float]],
    wo: list[float],
    x0: float,
    x1: float,
    hp: list[float] | None,
) -> tuple[list[float], float]:
    """One time step: h_t from h_{t-1} = hp (None for h_0 = 0), and o_t."""
    size = len(wo)
    hc = [0.0] * size
    for j in range(size):
        acc = x0 * wi0[j] + x1 * wi1[j]
        if hp is not None:
            for k in range(size):
                acc = acc + hp[k] * wh[k][j]
        hc[j] = sigmoid(acc)
    o = 0.0
    for k in range(size):
        o = o + hc[k] * wo[k]
    return hc, o


def _sample_gradients(
    wi0: list[float],
    wi1: list[float],
    wh: list[list[float]],
    wo: list[float],
    a: int,
    b: int,
    bits: int,
    clip: float,
) -> tuple[float, list[list[float]], list[list[float]], list[float]]:
    """Loss and BPTT gradients (gwi, gwh, gwo) for the pair (a, b)."""
    size = len(wo)
    c = a + b
    hs = [[0.0] * size]
    yh = []
    loss = 0.0
    for t in range(bits):
        x0 = float((a >> t) & 1)
        x1 = float((b >> t) & 1)
        y = float((c >> t) & 1)
        hc, o = _step(wi0, wi1, wh, wo, x0, x1, hs[t] if t > 0 else None)
        hs.append(hc)
        yhat = sigmoid(o)
        yh.append(yhat)
        err = yhat - y
        loss = loss + err * err

    gwi = [[0.0] * size, [0.0] * size]
    gwh = [[0.0] * size for _ in range(size)]
    gwo = [0.0] * size
    da_next = [0.0] * size
    da = [0.0] * size
    for t in range(bits - 1, -1, -1):
        x0 = float((a >> t) & 1)
        x1 = float((b >> t) & 1)
        y = float((c >> t) & 1)
        yhat = yh[t]
        do = 2.0 * (yhat - y) * yhat * (1.0 - yhat)
        hc = hs[t + 1]
        hp = hs[t]
        last = t == bits - 1
        for k in range(size):
            s = do * wo[k]
            if not last:  # delta_a after the last step is zero
                row = wh[k]
                for j in range(size):
                    s = s + da_next[j] * row[j]
            d = s * (hc[k] * (1.0 - hc[k]))
            if d > clip:
                d = clip
            elif d < -clip:
                d = -clip
            da[k] = d
        for k in range(size):
            gwo[k] = gwo[k] + hc[k] * do
        # Terms that are exactly +-0 (h_0 = 0, input bits of 0) are skipped:
        # an accumulator that starts at +0 never becomes -0, so adding +-0
        # would leave it unchanged.
        if t > 0:
            for k in range(size):
                hk = hp[k]
                grow = gwh[k]
                for j in range(size):
                    grow[j] = grow[j] + hk * da[j]
        if x0 != 0.0:
            row0 = gwi[0]
            for j in range(size):
                row0[j] = row0[j] + da[j]
        if x1 != 0.0:
            row1 = gwi[1]
            for j in range(size):
                row1[j] = row1[j] + da[j]
        da, da_next = da_next, da
    return loss, gwi, gwh, gwo


def _unpack(
    wi: NDArray[np.float64], wh: NDArray[np.float64], wo: NDArray[np.float64]
) -> tuple[list[float], list[float], list[list[float]], list[float]]:
    rows = wi.tolist()
    return rows[0], rows[1], wh.tolist(), wo[:, 0].tolist()


def work_size(size: int, bits: int) -> int:
    """Doubles of scratch that train() needs for hidden size H and ``bits``."""
    return (bits + 1) * size + bits + 5 * size + size * size


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
    ``work`` (scratch for the kernel) is accepted for the same signature; the
    twin keeps its scratch in Python lists. A pair outside the training range
    stops training before it, with ValueError, as in the kernel.
    """
    size = _hidden_size(wi, wh, wo)
    _check_bits(bits)
    _same_length("a and b", len(a), len(b))
    _same_length("a and loss", len(a), len(loss))
    wi0, wi1, whl, wol = _unpack(wi, wh, wo)
    lr = float(learning_rate)
    clip = float(clip)
    bad = None
    for i, (ai, bi) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        if not _pair_ok(ai, bi, bits):
            bad = i, ai, bi
            break
        li, gwi, gwh, gwo = _sample_gradients(wi0, wi1, whl, wol, ai, bi, bits, clip)
        loss[i] = li
        for j in range(size):
            wi0[j] = wi0[j] - lr * gwi[0][j]
            wi1[j] = wi1[j] - lr * gwi[1][j]
        for k in range(size):
            row = whl[k]
            grow = gwh[k]
            for j in range(size):
                row[j] = row[j] - lr * grow[j]
        for k in range(size):
            wol[k] = wol[k] - lr * gwo[k]
    wi[0, :] = wi0
    wi[1, :] = wi1
    wh[:, :] = whl
    wo[:, 0] = wol
    if bad is not None:
        i, ai, bi = bad
        raise ValueError(
            f"pair {i} is outside the training range of bits={bits}: ({ai}, {bi})"
        )


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
    wi0, wi1, whl, wol = _unpack(wi, wh, wo)
    loss, g_i, g_h, g_o = _sample_gradients(
        wi0, wi1, whl, wol, int(a), int(b), int(bits), float(clip)
    )
    gwi[:, :] = g_i
    gwh[:, :] = g_h
    gwo[:, 0] = g_o
    return loss


def forward_logits(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    xa: NDArray[np.int64],
    xb: NDArray[np.int64],
    logits: NDArray[np.float64],
) -> None:
    """Run the network over bit sequences xa, xb (LSB first); o_t into logits."""
    _hidden_size(wi, wh, wo)
    _same_length("xa and xb", len(xa), len(xb))
    _same_length("xa and logits", len(xa), len(logits))
    wi0, wi1, whl, wol = _unpack(wi, wh, wo)
    hp: list[float] | None = None
    for t, (x0, x1) in enumerate(zip(xa.tolist(), xb.tolist(), strict=True)):
        hp, o = _step(wi0, wi1, whl, wol, float(x0), float(x1), hp)
        logits[t] = o


def predict(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    out: NDArray[np.int64],
) -> None:
    """The network's sum of each pair; a pair runs max bit length + 1 steps.

    (The kernel computes the first steps of a large batch once per operand
    prefix; each pair still gets exactly the operations performed here.)
    """
    _hidden_size(wi, wh, wo)
    _same_length("a and b", len(a), len(b))
    _same_length("a and out", len(a), len(out))
    wi0, wi1, whl, wol = _unpack(wi, wh, wo)
    top = 1 << _MAX_BITS
    for i, (ai, bi) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        if not (0 <= ai < top and 0 <= bi < top):
            raise ValueError(
                f"operands must be in 0..2**{_MAX_BITS} - 1, got ({ai}, {bi}) "
                f"at index {i}"
            )
        steps = max(ai.bit_length(), bi.bit_length()) + 1
        hp: list[float] | None = None
        total = 0
        for t in range(steps):
            hp, o = _step(
                wi0, wi1, whl, wol, float((ai >> t) & 1), float((bi >> t) & 1), hp
            )
            if o > 0.0:
                total |= 1 << t
        out[i] = total
