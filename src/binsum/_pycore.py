"""Pure-Python twin of the compiled kernel ``binsum._core``.

It gives the kernel's bits: CPython's float arithmetic is correctly rounded
binary64 with no fused multiply-add, and the twin keeps the contract of
docs/algorithm.md ("Arithmetic shared by both backends"), which also maps
the kernel's files to the twin's: ``_pycore_arithmetic`` is
``_core_arithmetic.pxi``, ``_pycore_predict`` is ``_core_predict.pxi``, and
this module, the Python entry points, is ``_core_python.pxi``, block by
block (``# --- block:``).

This module is also the source of the kernel's typing: ``_core.pyi``
re-exports these signatures, and stubtest checks the compiled kernel against
them (.ci/run). The callers (``binsum._model``) validate every argument; like
the kernel, each entry point still checks that the shapes it is handed agree
and that operands are in range, raising the kernel's ValueError.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from binsum._pycore_arithmetic import (
    MAX_BITS,
    Floats,
    _exponential,
    _gradients_into,
    _logistic,
    _pair_ok,
    _scratch_size,
    _sequence_logits,
    _sequence_states,
    _train_pairs,
)
from binsum._pycore_predict import (
    MAX_PREFIX_DEPTH,
    _build_prefixes,
    _predict_pairs,
    _prefix_depth,
)

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


# --- block: argument checks
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


# --- block: training
def work_size(size: int, bits: int) -> int:
    """Doubles of scratch that train() needs for hidden size H and ``bits``."""
    return _scratch_size(size, bits)


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
    if len(work) < _scratch_size(size, bits):
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
    gi: Floats = []
    gh: Floats = []
    go: Floats = []
    loss = _gradients_into(
        _flat(wi), _flat(wh), _flat(wo), size, int(a), int(b), int(bits),
        float(clip), gi, gh, go,
    )  # fmt: skip
    _store(gwi, gi)
    _store(gwh, gh)
    _store(gwo, go)
    return loss


# --- block: forward
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


# --- block: predict
def _prefix_depth_of(
    states: NDArray[np.float64], masks: NDArray[np.int64], size: int
) -> int:
    # D of a prefix table handed in: 4**D masks (D in 0..MAX_PREFIX_DEPTH) and
    # states of shape (4**D, H).
    depth = 0
    count = 1
    while count < len(masks) and depth < MAX_PREFIX_DEPTH:
        count *= 4
        depth += 1
    rows, cols = states.shape if states.ndim == 2 else (-1, -1)
    if count != len(masks) or rows != count or cols != size:
        raise ValueError(
            f"a prefix table has 4**D masks and states of shape (4**D, {size}) "
            f"for D in 0..{MAX_PREFIX_DEPTH}, got {len(masks)} masks and "
            f"states of shape ({rows}, {cols})"
        )
    return depth


def prefix_depth(size: int, n: int) -> int:
    """Steps D of the prefix table worth building for n pairs at hidden size H."""
    return _prefix_depth(size, n)


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
    depth = _prefix_depth_of(states, masks, size)
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
        depth = _prefix_depth_of(states, masks, size)
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


# --- block: exponential and logistic
def exp(x: float) -> float:
    """The kernel's exponential (same bits as binsum._core.exp)."""
    return _exponential(x)


def sigmoid(z: float) -> float:
    """The kernel's logistic function (same bits as binsum._core.sigmoid)."""
    return _logistic(z)
