"""Golden bits: what binsum computes for fixed configurations, as SHA-256 digests.

tests/golden.json holds the digests the pure-Python twin produced
(tests/make_golden.py writes it); tests/test_golden.py recomputes them with
every backend and kernel build and compares. A digest is taken over the raw
bytes of an array in an explicit little-endian dtype ('<f8', '<i8'), so a
big-endian machine (s390x) is compared with the same bytes.

Everything here that chooses inputs is plain Python integer arithmetic
(splitmix64), not numpy's random streams, so the inputs cannot change with the
numpy version. Training itself draws its samples from numpy's PCG64, as the
model always does.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from binsum import BinarySumRNN, _backend

FORMAT = 1

# name -> model arguments, iterations trained, and the sizes of the checks.
# Sized so that the twin computes all of them in well under 20 s: it is about
# 150 times slower than the kernel, and a step of hidden size H costs ~H**2.
#   pairs:    predict() on that many pairs (16 or more: the kernel's prefix
#             table path), operands up to `operand_bits` bits (at most 62);
#             the first FEW pairs again on their own (the pair-by-pair path)
#   add_bits: add() and logits() on two operands of about that many bits
CONFIGS: dict[str, dict[str, Any]] = {
    "default": dict(
        model=dict(hidden_size=16, bits=8, learning_rate=0.1, clip=5.0, seed=0),
        iterations=3000, pairs=300, operand_bits=62, add_bits=200,
    ),
    "hidden1": dict(
        model=dict(hidden_size=1, bits=8, learning_rate=0.1, clip=5.0, seed=1),
        iterations=4000, pairs=300, operand_bits=62, add_bits=200,
    ),
    "hidden256": dict(
        model=dict(hidden_size=256, bits=8, learning_rate=0.1, clip=5.0, seed=2),
        iterations=12, pairs=20, operand_bits=8, add_bits=24,
    ),
    "bits1": dict(
        model=dict(hidden_size=16, bits=1, learning_rate=0.1, clip=5.0, seed=3),
        iterations=3000, pairs=300, operand_bits=62, add_bits=200,
    ),
    "bits62": dict(
        model=dict(hidden_size=16, bits=62, learning_rate=0.1, clip=5.0, seed=4),
        iterations=150, pairs=300, operand_bits=62, add_bits=200,
    ),
    "lr-tiny": dict(
        model=dict(hidden_size=16, bits=8, learning_rate=1e-6, clip=5.0, seed=5),
        iterations=1500, pairs=200, operand_bits=62, add_bits=200,
    ),
    "lr-large": dict(
        model=dict(hidden_size=8, bits=8, learning_rate=10.0, clip=5.0, seed=6),
        iterations=3000, pairs=200, operand_bits=62, add_bits=200,
    ),
    "clip-binding": dict(
        model=dict(hidden_size=16, bits=8, learning_rate=0.5, clip=0.01, seed=7),
        iterations=2000, pairs=200, operand_bits=62, add_bits=200,
    ),
    "long-operands": dict(
        model=dict(hidden_size=33, bits=16, learning_rate=0.1, clip=5.0, seed=8),
        iterations=400, pairs=300, operand_bits=62, add_bits=1000,
    ),
    "odd-size-top-seed": dict(
        model=dict(
            hidden_size=7, bits=13, learning_rate=0.3, clip=1.0, seed=2**128 - 1
        ),
        iterations=2000, pairs=300, operand_bits=62, add_bits=200,
    ),
}  # fmt: skip

FEW = 8  # fewer than 16 pairs: predict() takes the pair-by-pair path
ENTRIES = (
    "wi", "wh", "wo", "history", "predict", "predict_few", "logits", "add",
    "loss_and_gradients",
)  # fmt: skip
MASK64 = (1 << 64) - 1


def splitmix64(state: int) -> tuple[int, int]:
    """(next state, 64-bit output): Steele, Lea and Flood's SplitMix64."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def operands(seed: int, count: int, max_bits: int) -> list[tuple[int, int]]:
    """Pairs of random widths 0..max_bits, the extremes first."""
    top = (1 << max_bits) - 1
    pairs = [(0, 0), (top, top), (top, 0), (1, top), (top >> 1, (top >> 1) + 1)]
    state = seed
    while len(pairs) < count:
        words = []
        for _ in range(4):
            state, word = splitmix64(state)
            words.append(word)
        wa, wb = words[0] % (max_bits + 1), words[1] % (max_bits + 1)
        pairs.append((words[2] & ((1 << wa) - 1), words[3] & ((1 << wb) - 1)))
    return pairs[:count]


def big_operand(seed: int, bits: int) -> int:
    """An operand of exactly ``bits`` bits (top bit set)."""
    value, state = 0, seed
    for shift in range(0, bits, 64):
        state, word = splitmix64(state)
        value |= word << shift
    return (value & ((1 << bits) - 1)) | (1 << (bits - 1))


def digest(values: Any, dtype: str) -> str:
    """SHA-256 of the values' bytes in an explicit little-endian dtype."""
    data = np.ascontiguousarray(np.asarray(values).astype(dtype)).tobytes()
    return hashlib.sha256(data).hexdigest()


def compute(name: str, backend: str) -> dict[str, str]:
    """The digests of configuration ``name`` computed with ``backend``."""
    spec = CONFIGS[name]
    model = BinarySumRNN(**spec["model"], backend=backend).fit(spec["iterations"])
    out: dict[str, str] = {}
    weights = model.weights
    for key in ("wi", "wh", "wo"):
        out[key] = digest(weights[key], "<f8")
    out["history"] = digest(model.history, "<f8")

    seed = spec["model"]["seed"]
    pairs = operands(seed, spec["pairs"], spec["operand_bits"])
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    out["predict"] = digest(model.predict(a, b), "<i8")
    out["predict_few"] = digest(model.predict(a[:FEW], b[:FEW]), "<i8")

    bits = spec["add_bits"]
    x, y = big_operand(seed + 1, bits), big_operand(seed + 2, bits - 3)
    out["logits"] = digest(model.logits(x, y), "<f8")
    total = model.add(x, y)
    out["add"] = hashlib.sha256(
        total.to_bytes(max(1, math.ceil(total.bit_length() / 8)), "little")
    ).hexdigest()

    largest = (1 << model.bits) - 1
    parts = []
    for pa, pb in ((largest // 3, largest // 2), (largest, 0)):
        loss, grads = model.loss_and_gradients(pa, pb)
        parts += [np.array([loss]), *(grads[k].ravel() for k in ("wi", "wh", "wo"))]
    out["loss_and_gradients"] = digest(np.concatenate(parts), "<f8")
    assert tuple(out) == ENTRIES
    return out


def function_arguments() -> list[float]:
    """Arguments for exp() and sigmoid(): edges, every k*ln2, random spreads."""
    special = [0.0, -0.0, 1.0, -1.0, 5e-324, 1e-300, 707.9, 708.0, 708.5, 1e308,
               -707.9, -708.0, -708.5, -1e308, math.inf, -math.inf]  # fmt: skip
    xs = special + [k * math.log(2) for k in range(-1022, 1023)]
    state = 12345
    for scale in (1.0, 10.0, 50.0, 700.0):
        for _ in range(1000):
            state, word = splitmix64(state)
            xs.append((word / 2**64 * 2.0 - 1.0) * scale)
    return xs


def compute_functions(backend: str) -> dict[str, str]:
    """Digests of the kernel's exp() and sigmoid() over function_arguments()."""
    _, kernel = _backend.kernel(backend)
    xs = function_arguments()
    return {
        "exp": digest([kernel.exp(x) for x in xs], "<f8"),
        "sigmoid": digest([kernel.sigmoid(x) for x in xs], "<f8"),
    }
