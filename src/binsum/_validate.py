"""Argument checks for the public API: every error names the argument and
the allowed range, so nothing unchecked ever reaches the kernel."""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np
from numpy.typing import NDArray

MAX_HIDDEN = 4096  # wh alone is then 128 MiB; larger is surely a mistake
MAX_BITS = 62  # operands and sums stay inside int64
MAX_OPERAND = 2**MAX_BITS - 1
MAX_THREADS = 1024
MAX_ITERATIONS = 2**40  # per fit call: the loss history alone is then 8 TiB
MAX_SAMPLE = 10**8  # score(sample=...): 1.6 GB of operands
# numpy registers these as numbers.Integral / numbers.Real, but they are not
# numbers (timedelta64 subclasses np.signedinteger).
_NOT_NUMBERS = bool | np.bool_ | np.timedelta64


def integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    """A Python int (or numpy integer) in [low, high]; bools are refused."""
    if isinstance(value, _NOT_NUMBERS) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer, got {type(value).__name__} {value!r}"
        )
    v = operator.index(value)
    problem = out_of_range(v, low, high)
    if problem:
        raise ValueError(f"{name} {problem}")
    return v


def out_of_range(value: int, low: int, high: int | None) -> str | None:
    """"must be in LOW..HIGH, got VALUE" when value is outside, else None."""
    if value < low or (high is not None and value > high):
        allowed = f"{low}..{high}" if high is not None else f">= {low}"
        return f"must be in {allowed}, got {_short(value)}"
    return None


def _short(value: int) -> str:
    """An int for a message: in full if short (str() of a huge one raises)."""
    if abs(value).bit_length() <= 256:
        return str(value)
    return f"{'-' if value < 0 else ''}a {abs(value).bit_length()}-bit number"


def positive_float(name: str, value: Any) -> float:
    """A finite real number > 0."""
    if isinstance(value, _NOT_NUMBERS) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number, got {type(value).__name__} {value!r}"
        )
    try:
        v = float(value)
    except OverflowError:  # an int or Fraction beyond the float range
        v = math.inf
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be finite and > 0, got {v!r}")
    return v


MAX_SEED = 2**128 - 1  # SeedSequence entropy's size; fits the file's <U64 field


def seed(value: Any) -> int | None:
    if value is None:
        return None
    return integer("seed", value, 0, MAX_SEED)


def big_operand(name: str, value: Any) -> int:
    """A non-negative integer of any size."""
    return integer(name, value, 0)


def operand_array(name: str, value: Any) -> NDArray[np.integer[Any]]:
    """Array-like of integers, in its own integer dtype, not yet range-checked.

    No copy where it already is an integer ndarray: predict copies and checks
    it chunk by chunk (operand_chunk), so memory stays flat and the kernel
    reads only values that were checked after they were copied.
    """
    try:
        # asarray also for ndarrays: a subclass (a masked array) could hide
        # values from the range check that the kernel would then see.
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise TypeError(f"{name} must be array-like of integers: {exc}") from None
    kind = arr.dtype.kind
    if kind == "f" and isinstance(value, list | tuple):
        # numpy turns [1, 2**63] into float64: check the elements themselves,
        # so a too-large int is reported as such, not as a float.
        arr, kind = np.asarray(value, dtype=object), "O"
    if kind == "O":
        # Python ints too large for int64, or mixed objects: check each one.
        flat = [integer(name, v, 0, MAX_OPERAND) for v in arr.ravel().tolist()]
        return np.array(flat, dtype=np.int64).reshape(arr.shape)
    if kind not in "iu":
        raise TypeError(
            f"{name} must hold integers, got dtype {arr.dtype}"
            + (" (bools are not operands)" if kind == "b" else "")
        )
    return arr


def operand_chunk(name: str, chunk: NDArray[np.integer[Any]]) -> NDArray[np.int64]:
    """A private int64 copy of ``chunk``, its values checked after copying
    (another thread may be rewriting the caller's array meanwhile)."""
    own = np.array(chunk, copy=True, order="C")
    if own.size:
        if own.dtype.kind == "i" and own.min() < 0:
            raise ValueError(f"{name} must be non-negative, got {int(own.min())}")
        if own.max() > MAX_OPERAND:
            raise ValueError(
                f"{name} must be < 2**{MAX_BITS} (at most {MAX_BITS} bits), "
                f"got {int(own.max())}"
            )
    return own.astype(np.int64, copy=False)


def weight_array(name: str, value: Any, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """A finite float array of exactly ``shape``, returned as a C-contiguous copy."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real float array, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    out = np.array(arr, dtype=np.float64, order="C", copy=True)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} must hold only finite values")
    return out
