"""binsum's on/off environment variables (``BINSUM_NO_EXTENSIONS``,
``BINSUM_NO_AVX2``, ``BINSUM_NO_AVX512``), read one way everywhere.

On: ``1``, ``true``, ``yes``, ``on``. Off: ``0``, ``false``, ``no``, ``off``,
empty or unset. Any case, surrounding whitespace ignored. Anything else is a
mistake, never a guess: at import (``binsum._backend``) a ``RuntimeWarning``
names the variable and the spellings and the variable counts as unset, since
an error there would break ``import binsum``; the build (``setup.py``)
refuses it with a ``ValueError``.

Only the standard library: setup.py loads this file by its path, without
importing binsum (whose dependencies a build need not have).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping

ON = ("1", "true", "yes", "on")
OFF = ("0", "false", "no", "off", "")
SPELLINGS = f"{', '.join(ON)} to set it; {', '.join(OFF[:-1])} or empty to unset it"


def problem(name: str, raw: str) -> str:
    """The message for a value that is neither on nor off."""
    return f"{name}={raw!r} is not understood: use {SPELLINGS} (any case)"


def parse(raw: str | None) -> bool | None:
    """True (on), False (off or unset) or None (not understood)."""
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ON:
        return True
    if value in OFF:
        return False
    return None


def is_set(
    name: str, environ: Mapping[str, str] | None = None, *, strict: bool = False
) -> bool:
    """Whether the switch ``name`` is on in ``environ`` (default os.environ).

    A value that is not understood raises ValueError if ``strict``, else
    warns (RuntimeWarning) and counts as unset.
    """
    raw = (os.environ if environ is None else environ).get(name)
    value = parse(raw)
    if value is not None:
        return value
    message = problem(name, raw or "")
    if strict:
        raise ValueError(message)
    warnings.warn(f"{message}; treated as unset", RuntimeWarning, stacklevel=2)
    return False
