"""Arrays the API hands out: read-only for good."""

from __future__ import annotations

from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

_A = TypeVar("_A", bound=NDArray[Any])


def readonly(arr: _A) -> _A:
    """``arr`` without a copy, read-only over a read-only buffer, so that no
    one can set its WRITEABLE flag back (numpy allows that for an array that
    owns its data, or for a view of a writable one) and write into it."""
    return cast(_A, np.asarray(arr.data.toreadonly()))
