"""Decimal text <-> int of any size, without touching Python's digit limit.

CPython refuses ``int(text)`` and ``str(n)`` beyond ``sys.get_int_max_str_digits()``
digits (4,300 by default, at least 640). Lifting that limit is process-wide, so
an embedding program would lose its guard; instead, long numbers are split
into pieces of at most PIECE digits, converted, and joined by divide and
conquer (powers of ten are computed with integer arithmetic, no text).
"""

from __future__ import annotations

PIECE = 600  # below the smallest limit CPython allows (640)


def to_int(text: str) -> int:
    """The int of an ASCII decimal digit string (validated by the caller)."""
    if len(text) <= PIECE:
        return int(text, 10)
    low_len = len(text) // 2
    scale = int(10**low_len)  # (int ** int is not an int to a type checker)
    return to_int(text[:-low_len]) * scale + to_int(text[-low_len:])


def to_text(value: int) -> str:
    """The decimal text of an int of any size."""
    if value < 0:
        return "-" + to_text(-value)
    return _digits(value, None)


def _digits(value: int, width: int | None) -> str:
    """Decimal text of ``value`` >= 0, zero-padded to ``width`` if given."""
    # log10(2) < 0.30103: bit_length * 0.30103 + 1 bounds the digit count.
    if value.bit_length() * 30103 // 100000 + 1 <= PIECE:
        text = str(value)
        return text if width is None else text.zfill(width)
    low_len = value.bit_length() * 30103 // 200000  # about half the digits
    high, low = divmod(value, 10**low_len)
    high_width = None if width is None else width - low_len
    return _digits(high, high_width) + _digits(low, low_len)
