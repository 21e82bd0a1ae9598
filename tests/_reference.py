"""An independent numpy version of the equations in docs/algorithm.md, for the tests.

Written from the equations, not from the kernel: vectorised per time step and
with numpy's exp, so it agrees with binsum to rounding (~1e-12), never bit for
bit. It also reports the largest unclipped hidden delta, which shows whether
the clip really binds for a given pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def sigmoid(z: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass
class Backprop:
    loss: float
    grads: dict[str, Array]
    max_unclipped_delta: float  # max over t, k of |delta a_t[k]| before clipping
    clipped: int  # how many hidden deltas the clip changed


def loss_and_gradients(
    wi: Array, wh: Array, wo: Array, a: int, b: int, bits: int, clip: float
) -> Backprop:
    """Loss sum_t (y_hat_t - y_t)**2 and its clipped BPTT gradients."""
    h_size = wh.shape[0]
    c = a + b
    xs = [np.array([(a >> t) & 1, (b >> t) & 1], dtype=np.float64) for t in range(bits)]
    ys = [float((c >> t) & 1) for t in range(bits)]
    hs = [np.zeros(h_size)]
    yhat = []
    for t in range(bits):
        hs.append(sigmoid(xs[t] @ wi + hs[t] @ wh))
        yhat.append(float(sigmoid(hs[t + 1] @ wo)[0]))
    loss = sum((yh - y) ** 2 for yh, y in zip(yhat, ys, strict=True))

    gwi, gwh, gwo = np.zeros_like(wi), np.zeros_like(wh), np.zeros_like(wo)
    da_next = np.zeros(h_size)
    largest, clipped = 0.0, 0
    for t in reversed(range(bits)):
        do = 2.0 * (yhat[t] - ys[t]) * yhat[t] * (1.0 - yhat[t])
        h = hs[t + 1]
        raw = (do * wo[:, 0] + wh @ da_next) * h * (1.0 - h)
        largest = max(largest, float(np.abs(raw).max()))
        da = np.clip(raw, -clip, clip)
        clipped += int(np.count_nonzero(da != raw))
        gwo += np.outer(h, do)
        gwh += np.outer(hs[t], da)
        gwi += np.outer(xs[t], da)
        da_next = da
    return Backprop(float(loss), {"wi": gwi, "wh": gwh, "wo": gwo}, largest, clipped)


def initial_weights(
    hidden_size: int, seed: int
) -> tuple[dict[str, Array], np.random.Generator]:
    """The lecture's init_nn (docs/algorithm.md), and the generator after it."""
    rng = np.random.Generator(np.random.PCG64(seed))
    weights = {
        "wi": 2 * rng.random((2, hidden_size)) - 1,
        "wh": 2 * rng.random((hidden_size, hidden_size)) - 1,
        "wo": 2 * rng.random((hidden_size, 1)) - 1,
    }
    return weights, rng


def logits(wi: Array, wh: Array, wo: Array, a: int, b: int, steps: int) -> Array:
    """o_t for t = 1..steps, feeding the bits of a and b least significant first."""
    h = np.zeros(wh.shape[0])
    out = []
    for t in range(steps):
        x = np.array([(a >> t) & 1, (b >> t) & 1], dtype=np.float64)
        h = sigmoid(x @ wi + h @ wh)
        out.append(float((h @ wo)[0]))
    return np.array(out)
