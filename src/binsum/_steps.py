"""The network's step on many hidden states at once, bit for bit the kernel's.

Each numpy operation here is one IEEE-754 double operation per element,
correctly rounded and never fused, applied in the order of the twin's
``_forward_step`` (and so of the kernel): the same exponential, the
recurrent sum over k in order, the output sum over k in order. The hard-case
search and the certificate run many trajectories side by side with it; tests
compare it with ``logits`` bit for bit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from binsum import _pycore_arithmetic as twin

Array = NDArray[np.float64]

#: The four inputs of a step, in the order used everywhere: (a's bit, b's bit).
INPUTS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (0, 1), (1, 1))


def exp(x: Array) -> Array:
    """The kernel's exponential (``_pycore_arithmetic._exponential``)."""
    x = np.where(x > twin.EXP_LIMIT, twin.EXP_LIMIT, x)
    x = np.where(x < -twin.EXP_LIMIT, -twin.EXP_LIMIT, x)
    t = x * twin.LOG2E + twin.SHIFTER
    kd = t - twin.SHIFTER
    r = (x - kd * twin.LN2_HI) - kd * twin.LN2_LO
    r2 = r * r
    r4 = r2 * r2
    p = (((1.0 + r) + (0.5 + 0.16666666666666666 * r) * r2)
         + ((0.041666666666666664 + 0.008333333333333333 * r)
            + (0.001388888888888889 + 0.0001984126984126984 * r) * r2) * r4) \
        + ((((2.48015873015873e-05 + 2.7557319223985893e-06 * r)
             + (2.755731922398589e-07 + 2.505210838544172e-08 * r) * r2)
            + 2.08767569878681e-09 * r4) * (r4 * r4))  # fmt: skip
    k = np.where(kd == kd, kd, 0.0).astype(np.int64)
    out: Array = p * np.ldexp(1.0, k)
    return out


def sigmoid(z: Array) -> Array:
    """The kernel's logistic function, elementwise."""
    out: Array = 1.0 / (1.0 + exp(-z))
    return out


def step(
    wi: Array, wh: Array, wo: Array, h: Array | None, x0: float, x1: float
) -> tuple[Array, Array]:
    """One step from states ``h`` (n, H), or from h_0 = 0 when ``h`` is None.

    Returns the new states (n, H) and the logits o_t (n,). With ``h`` None
    the result has one row (the first step skips the recurrent sum).
    """
    z = x0 * wi[0] + x1 * wi[1]
    if h is None:
        z = z[None, :]
    else:
        z = np.broadcast_to(z, h.shape).copy()
        for k in range(wh.shape[0]):
            z = z + h[:, k : k + 1] * wh[k]
    hn = sigmoid(z)
    o = np.zeros(hn.shape[0])
    w = wo[:, 0]
    for k in range(hn.shape[1]):
        o = o + hn[:, k] * w[k]
    return hn, o


def _bit_rows(values: list[int], steps: int) -> Array:
    # (n, steps) of 0.0/1.0: bit t of each value, least significant first.
    width = (steps + 7) // 8
    raw = b"".join(v.to_bytes(width, "little") for v in values)
    bits = np.unpackbits(
        np.frombuffer(raw, np.uint8).reshape(len(values), width),
        axis=1,
        bitorder="little",
    )
    out: Array = bits[:, :steps].astype(np.float64)
    return out


def sums(wi: Array, wh: Array, wo: Array, a: list[int], b: list[int]) -> list[int]:
    """The network's sums of pairs of any length, all at once, as the kernel's
    ``add`` computes them: each pair runs its larger bit length plus one
    steps. Rows are sorted longest first, so step t runs only the pairs
    still going (a prefix of the rows)."""
    if not a:
        return []
    lengths = np.array(
        [max(x.bit_length(), y.bit_length()) + 1 for x, y in zip(a, b, strict=True)]
    )
    order = np.argsort(-lengths, kind="stable")
    lengths = lengths[order]
    steps = int(lengths[0])
    xa = _bit_rows([a[i] for i in order], steps)
    xb = _bit_rows([b[i] for i in order], steps)
    w = wo[:, 0]
    out = np.zeros((len(a), steps), dtype=np.uint8)
    # Pairs still running at step t: lengths > t, a prefix since sorted.
    running = np.searchsorted(-lengths, -np.arange(steps), side="left")
    h = np.empty((len(a), wh.shape[0]))
    tmp = np.empty_like(h)
    for t in range(steps):
        n = int(running[t])
        z = xa[:n, t : t + 1] * wi[0] + xb[:n, t : t + 1] * wi[1]
        if t > 0:
            for k in range(wh.shape[0]):
                np.multiply(h[:n, k : k + 1], wh[k], out=tmp[:n])
                np.add(z, tmp[:n], out=z)
        h[:n] = sigmoid(z)
        o = np.zeros(n)
        for k in range(h.shape[1]):
            o += h[:n, k] * w[k]
        out[:n, t] = o > 0.0
    packed = np.packbits(out, axis=1, bitorder="little")
    result = [0] * len(a)
    for row, i in enumerate(order):
        result[i] = int.from_bytes(packed[row].tobytes(), "little") & (
            (1 << int(lengths[row])) - 1
        )
    return result
