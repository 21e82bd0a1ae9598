"""Backpropagation through time, one step at a time, as the kernel does it.

``BPTT`` holds every intermediate of one training pair's backward pass: the
output deltas, the hidden deltas before and after the clip, and what each
step adds to each gradient. It is built from the kernel's own forward pass
(``hidden_states``) and repeats the kernel's backward arithmetic
(``_sample_gradients`` in ``_core_arithmetic.pxi`` and
``_pycore_arithmetic.py``) with numpy, one
IEEE operation per element in the kernel's order: every sum over units is a
loop of elementwise adds in that order (no ``dot``, ``matmul`` or ``sum``),
so ``gradients()`` and ``loss`` give ``loss_and_gradients``' bits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from binsum._readonly import readonly
from binsum._types import Weights

__all__ = ["BPTT"]

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False, repr=False)
class BPTT:
    """Backpropagation through time for one training pair, step by step.

    Row ``t`` of every per-step array is step ``t`` (bit ``t``, least
    significant first), ``t = 0 .. bits - 1``; ``hidden`` has one row more,
    ``hidden[0] = h_0 = 0`` and ``hidden[t + 1]`` the state after step ``t``.
    The arrays are read-only. Made by ``BinarySumRNN.bptt(a, b)``.

    Attributes
    ----------
    a, b : int
        The training pair (``a + b < 2**bits``).
    bits : int
        Steps run: the model's ``bits``.
    clip : float
        The model's clip: each hidden delta is clipped to ``[-clip, clip]``.
    inputs : numpy.ndarray of float64, shape (bits, 2)
        ``x_t``: bit t of a and bit t of b.
    targets : numpy.ndarray of float64, shape (bits,)
        ``y_t``: bit t of ``a + b``.
    hidden : numpy.ndarray of float64, shape (bits + 1, H)
        ``h_0 .. h_bits``, from the forward pass ``predict`` runs.
    logits : numpy.ndarray of float64, shape (bits,)
        ``o_t = h_t . wo``.
    y_hat : numpy.ndarray of float64, shape (bits,)
        ``sigmoid(o_t)``.
    loss : float
        ``sum_t (y_hat_t - y_t)**2``, summed t = 0 first (the kernel's order).
    delta_o : numpy.ndarray of float64, shape (bits,)
        ``2 (y_hat_t - y_t) y_hat_t (1 - y_hat_t)``.
    delta_a_unclipped : numpy.ndarray of float64, shape (bits, H)
        ``(delta_o_t wo^T + delta_a_{t+1} wh^T) * h_t (1 - h_t)``, before the
        clip (``delta_a_{t+1}`` is the clipped delta of the next step, zero
        after the last).
    delta_a : numpy.ndarray of float64, shape (bits, H)
        The same, clipped to ``[-clip, clip]``: what training uses.
    clipped : numpy.ndarray of bool, shape (bits, H)
        Where the clip changed a delta.
    gwi, gwh, gwo : numpy.ndarray of float64
        Shapes (bits, 2, H), (bits, H, H), (bits, H, 1): step t's terms of
        the gradients, ``x_t^T delta_a_t``, ``h_{t-1}^T delta_a_t`` (zero at
        t = 0, where h_0 = 0) and ``h_t^T delta_o_t``. ``gradients()`` adds
        them up.
    """

    a: int
    b: int
    bits: int
    clip: float
    inputs: Array
    targets: Array
    hidden: Array
    logits: Array
    y_hat: Array
    loss: float
    delta_o: Array
    delta_a_unclipped: Array
    delta_a: Array
    clipped: NDArray[np.bool_]
    gwi: Array
    gwh: Array
    gwo: Array

    def __repr__(self) -> str:
        # The arrays are (bits, H, H) large: name them, do not print them.
        return (
            f"BPTT(a={self.a}, b={self.b}, bits={self.bits}, "
            f"hidden_size={self.hidden.shape[1]}, loss={self.loss!r}, "
            f"clipped={int(self.clipped.sum())} of {self.clipped.size} deltas)"
        )

    @property
    def delta_a_norms(self) -> Array:
        """Euclidean norm of each step's clipped hidden delta, shape (bits,)."""
        out: Array = np.linalg.norm(self.delta_a, axis=1)
        return out

    @property
    def delta_a_unclipped_norms(self) -> Array:
        """Euclidean norm of each step's hidden delta before the clip."""
        out: Array = np.linalg.norm(self.delta_a_unclipped, axis=1)
        return out

    @property
    def clipped_steps(self) -> NDArray[np.bool_]:
        """Steps where the clip changed at least one delta, shape (bits,)."""
        out: NDArray[np.bool_] = np.any(self.clipped, axis=1)
        return out

    def gradients(self) -> Weights:
        """The per-step terms added up as the kernel adds them: from +0.0,
        t = bits - 1 down to 0, so they equal ``loss_and_gradients``'
        gradients bit for bit."""
        gwi = np.zeros(self.gwi.shape[1:])
        gwh = np.zeros(self.gwh.shape[1:])
        gwo = np.zeros(self.gwo.shape[1:])
        for t in range(self.bits - 1, -1, -1):
            gwi = gwi + self.gwi[t]
            gwh = gwh + self.gwh[t]
            gwo = gwo + self.gwo[t]
        return {"wi": gwi, "wh": gwh, "wo": gwo}


def backward(
    wh: Array,
    wo: Array,
    a: int,
    b: int,
    bits: int,
    clip: float,
    hidden: Array,
    logits: Array,
    sigmoid: Callable[[float], float],
) -> BPTT:
    """BPTT of (a, b) from its forward pass (``hidden``, ``logits`` over
    ``bits`` steps), with the kernel's ``sigmoid``, in the kernel's order."""
    size = wh.shape[0]
    c = a + b
    x = np.array([[(a >> t) & 1, (b >> t) & 1] for t in range(bits)], np.float64)
    y = np.array([(c >> t) & 1 for t in range(bits)], np.float64)
    y_hat = np.array([sigmoid(float(o)) for o in logits])
    loss = 0.0
    for t in range(bits):
        err = float(y_hat[t]) - float(y[t])
        loss = loss + err * err

    delta_o = np.empty(bits)
    raw = np.empty((bits, size))
    da = np.empty((bits, size))
    gwi = np.zeros((bits, 2, size))
    gwh = np.zeros((bits, size, size))
    gwo = np.empty((bits, size, 1))
    w = wo[:, 0]
    for t in range(bits - 1, -1, -1):
        yhat = float(y_hat[t])
        do = 2.0 * (yhat - float(y[t])) * yhat * (1.0 - yhat)
        delta_o[t] = do
        hc = hidden[t + 1]
        # s_k = do * wo[k] + sum_j da_{t+1}[j] * wh[k, j], j = 0 .. H-1 in
        # order, for every k at once (one add per element).
        s = do * w
        if t != bits - 1:  # delta_a after the last step is zero
            for j in range(size):
                s = s + da[t + 1, j] * wh[:, j]
        d = s * (hc * (1.0 - hc))
        raw[t] = d
        da[t] = np.where(d > clip, clip, np.where(d < -clip, -clip, d))
        gwo[t, :, 0] = hc * do
        # The kernel adds +0 for an input bit of 0 and skips t = 0 (h_0 = 0):
        # zeros here, which leave its accumulators unchanged.
        for i in range(2):
            if x[t, i] != 0.0:
                gwi[t, i] = da[t]
        if t > 0:
            gwh[t] = hidden[t][:, None] * da[t][None, :]
    clipped = (raw > clip) | (raw < -clip)
    return BPTT(
        a=a,
        b=b,
        bits=bits,
        clip=clip,
        inputs=readonly(x),
        targets=readonly(y),
        hidden=readonly(hidden),
        logits=readonly(logits),
        y_hat=readonly(y_hat),
        loss=loss,
        delta_o=readonly(delta_o),
        delta_a_unclipped=readonly(raw),
        delta_a=readonly(da),
        clipped=readonly(clipped),
        gwi=readonly(gwi),
        gwh=readonly(gwh),
        gwo=readonly(gwo),
    )
