"""Argument checks for the public API: every error names the argument and
says its range plainly, so nothing unchecked ever reaches the kernel.

A rule is an object (``Integer``, ``PositiveReal``, ``Flag``, ``Verbosity``)
that knows its argument's name and range: the API calls it on a value, the
command uses its ``problem`` for an argument's text, so an error reads the
same wherever it comes from. Which argument has which rule is declared once,
in ``_rules``.
"""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from binsum._pycore_arithmetic import MAX_BITS as MAX_BITS  # the kernel's

MAX_OPERAND = 2**MAX_BITS - 1
# A model's iterations in all: what the model file's int64 field holds, so
# that save() and pickling can write back whatever load() accepts.
MAX_TOTAL_ITERATIONS = 2**63 - 1
# numpy registers these as numbers.Integral / numbers.Real, but they are not
# numbers (timedelta64 subclasses np.signedinteger).
_NOT_NUMBERS = bool | np.bool_ | np.timedelta64


def plain(bound: int) -> str:
    """A range's bound as people write it: 2**128-1, not 39 digits."""
    if bound >= 1 << 16:
        if bound & (bound - 1) == 0:
            return f"2**{bound.bit_length() - 1}"
        if (bound + 1) & bound == 0:
            return f"2**{bound.bit_length()}-1"
        digits = len(str(bound)) - 1
        if bound == 10**digits:
            return f"10**{digits}"
    return str(bound)


def _short(value: int) -> str:
    """An int for a message: in full if short (str() of a huge one raises)."""
    if abs(value).bit_length() <= 256:
        return str(value)
    return f"{'-' if value < 0 else ''}a {abs(value).bit_length()}-bit number"


@dataclass(frozen=True)
class Integer:
    """An integer argument in low..high (high None: no upper limit)."""

    name: str
    low: int
    high: int | None = None

    @property
    def range(self) -> str:
        """The allowed values, e.g. "1..4096", "0..2**128-1" or ">= 1"."""
        if self.high is None:
            return f">= {plain(self.low)}"
        return f"{plain(self.low)}..{plain(self.high)}"

    def problem(self, value: int) -> str | None:
        """What is wrong with an int (without the name), or None."""
        if value < self.low or (self.high is not None and value > self.high):
            verb = "be" if self.high is None else "be in"
            return f"must {verb} {self.range}, got {_short(value)}"
        return None

    def __call__(self, value: Any) -> int:
        """``value`` as an int; TypeError unless an integer (bools are not),
        ValueError outside the range."""
        if isinstance(value, _NOT_NUMBERS) or not isinstance(value, numbers.Integral):
            raise TypeError(
                f"{self.name} must be an integer, got {type(value).__name__} {value!r}"
            )
        v = operator.index(value)
        problem = self.problem(v)
        if problem:
            raise ValueError(f"{self.name} {problem}")
        return v


@dataclass(frozen=True)
class PositiveReal:
    """A real argument that must be finite and > 0."""

    name: str
    range = "finite and > 0"

    def problem(self, value: float) -> str | None:
        if math.isfinite(value) and value > 0.0:
            return None
        return f"must be {self.range}, got {value!r}"

    def __call__(self, value: Any) -> float:
        if isinstance(value, _NOT_NUMBERS) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"{self.name} must be a real number, got "
                f"{type(value).__name__} {value!r}"
            )
        try:
            v = float(value)
        except OverflowError:  # an int or Fraction beyond the float range
            v = math.inf
        problem = self.problem(v)
        if problem:
            raise ValueError(f"{self.name} {problem}")
        return v


@dataclass(frozen=True)
class Flag:
    """A yes/no argument: True or False (numpy's bools too, nothing else)."""

    name: str
    range = "True or False"

    def __call__(self, value: Any) -> bool:
        if not isinstance(value, bool | np.bool_):
            raise TypeError(f"{self.name} must be {self.range}, got {value!r}")
        return bool(value)


@dataclass(frozen=True)
class Verbosity:
    """A verbosity level as scikit-learn and Keras take it: True/False or an
    integer >= 0 (numpy's too), 0 and False silent. Returns the level."""

    name: str
    range = "True, False or an integer >= 0 (0 is silent)"

    def __call__(self, value: Any) -> int:
        if isinstance(value, bool | np.bool_):
            return int(value)
        if isinstance(value, np.timedelta64) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{self.name} must be {self.range}, got {value!r}")
        level = operator.index(value)
        if level < 0:
            raise ValueError(f"{self.name} must be {self.range}, got {_short(level)}")
        return level


TOTAL_ITERATIONS = Integer("iterations", 0, MAX_TOTAL_ITERATIONS)


def more_iterations(trained: int, more: int) -> None:
    """Refuse a fit of ``more`` iterations (already checked by fit's rule)
    that would take a model of ``trained`` past MAX_TOTAL_ITERATIONS."""
    room = MAX_TOTAL_ITERATIONS - trained
    if more > room:
        raise ValueError(
            f"iterations must be in 0..{plain(room)} for this model, got {more} "
            f"(it has trained {trained}, and a model's iterations in all must "
            f"be in {TOTAL_ITERATIONS.range})"
        )


MAX_STATE_VALUES = 2**28  # hidden_states' largest result: 2 GiB of float64


def state_values(pairs: int, steps: int, hidden_size: int) -> None:
    """Refuse a hidden_states call whose result would pass MAX_STATE_VALUES."""
    values = pairs * (steps + 1) * hidden_size
    if values > MAX_STATE_VALUES:
        raise ValueError(
            f"hidden_states would hold {values:,} values (pairs x (steps + 1) x "
            f"hidden_size = {pairs} x {steps + 1} x {hidden_size}); at most "
            f"{plain(MAX_STATE_VALUES)}: ask for fewer steps or pairs"
        )


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
        check = Integer(name, 0, MAX_OPERAND)
        flat = [check(v) for v in arr.ravel().tolist()]
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
        low, high = int(own.min()), int(own.max())
        problem = Integer(name, 0, MAX_OPERAND).problem
        for value in (low, high):
            message = problem(value)
            if message:
                raise ValueError(f"{name} {message}")
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
