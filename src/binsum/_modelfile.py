"""The model file: one ``.npz`` archive, read without ever unpickling.

Each array's header is checked (dtype, shape, declared size against the
bytes actually stored) before its data is read, so a hostile file can neither
run code nor make binsum allocate more than the file holds. Writes are atomic:
a temporary file in the same folder, flushed and fsynced, then ``os.replace``.
"""

from __future__ import annotations

import math
import os
import tokenize
import zipfile
from typing import Any

import numpy as np
from numpy.typing import NDArray

from binsum import _validate
from binsum._atomic import atomic_write

FORMAT_VERSION = 1

# key -> (dtype, shape spec); "H" is hidden_size, "N" iterations, "M" any
# length (checked against the bytes present), ints are fixed sizes.
_SCALARS: dict[str, str] = {
    "format_version": "<i8",
    "hidden_size": "<i8",
    "bits": "<i8",
    "learning_rate": "<f8",
    "clip": "<f8",
    "iterations": "<i8",
}
_ARRAYS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "wi": ("<f8", (2, "H")),
    "wh": ("<f8", ("H", "H")),
    "wo": ("<f8", ("H", 1)),
    "history": ("<f8", ("N",)),
    "pending": ("<i8", ("M", 2)),
    "rng_state": ("<u8", (6,)),
}
KEYS = (*_SCALARS, "seed", *_ARRAYS)


class ModelFileError(ValueError):
    """The file is not a valid binsum model."""


# What zipfile and numpy's header parser raise on damaged archives.
_READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError)


def save(path: str | os.PathLike[str], fields: dict[str, Any]) -> None:
    """Write ``fields`` (see KEYS) to ``path`` atomically."""
    arrays = {k: np.asarray(v) for k, v in fields.items()}
    arrays["format_version"] = np.asarray(FORMAT_VERSION, dtype="<i8")
    with atomic_write(path) as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]


def _read_member(zf: zipfile.ZipFile, key: str, dtype: str, shape: Any) -> Any:
    """Read one array after checking its header; ``shape`` may contain None."""
    name = key + ".npy"
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ModelFileError(f"model file is missing the key {key!r}") from None
    if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
        # binsum writes stored members; refusing others bounds every read by
        # the bytes really present (no decompression bombs).
        raise ModelFileError(f"model file key {key!r} is not stored uncompressed")
    if info.flag_bits & 0x1:
        raise ModelFileError(f"model file key {key!r} is encrypted")
    if info.header_offset + info.compress_size > os.fstat(zf.fp.fileno()).st_size:  # type: ignore[union-attr]
        # The zip directory's sizes are claims: check them against the file
        # before zipfile allocates a buffer of the claimed size.
        raise ModelFileError(
            f"model file key {key!r} claims more bytes than the file holds"
        )
    with zf.open(info) as fh:
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, SyntaxError, tokenize.TokenError) as exc:
            # numpy's header parser lets tokenize's error out (found by fuzzing)
            raise ModelFileError(f"model file key {key!r} is corrupt: {exc}") from None
        if got_dtype.hasobject or got_dtype != np.dtype(dtype):
            raise ModelFileError(
                f"model file key {key!r} must have dtype {np.dtype(dtype)}, "
                f"got {got_dtype}"
            )
        if len(got_shape) != len(shape) or any(
            want is not None and want != got
            for want, got in zip(shape, got_shape, strict=False)
        ):
            want_txt = tuple("any" if s is None else s for s in shape)
            raise ModelFileError(
                f"model file key {key!r} must have shape {want_txt}, got {got_shape}"
            )
        header_len = fh.tell()
        need = math.prod(got_shape) * got_dtype.itemsize
        if need != info.file_size - header_len:
            raise ModelFileError(
                f"model file key {key!r} declares {need} bytes but holds "
                f"{info.file_size - header_len}"
            )
        data = fh.read(need)
    if len(data) != need:
        raise ModelFileError(f"model file key {key!r} is truncated")
    arr = np.frombuffer(data, dtype=got_dtype)
    arr = arr.reshape(got_shape, order="F") if fortran else arr.reshape(got_shape)
    return arr.copy(order="C")  # writable; 0-d stays 0-d (ascontiguousarray: 1-d)


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a model file; returns plain values and arrays."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise ModelFileError(
            f"{os.fspath(path)!r} is not a binsum model file: {exc}"
        ) from None
    try:
        with zf:
            return _load_fields(zf)
    except _READ_ERRORS as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"model file is corrupt: {exc}") from None


def _load_fields(zf: zipfile.ZipFile) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, dtype in _SCALARS.items():
        out[key] = _read_member(zf, key, dtype, ()).item()
    if out["format_version"] != FORMAT_VERSION:
        raise ModelFileError(
            f"unknown model format_version {out['format_version']} "
            f"(this binsum reads version {FORMAT_VERSION})"
        )
    try:
        size = _validate.integer(
            "hidden_size", out["hidden_size"], 1, _validate.MAX_HIDDEN
        )
        bits = _validate.integer("bits", out["bits"], 1, _validate.MAX_BITS)
        _validate.positive_float("learning_rate", out["learning_rate"])
        _validate.positive_float("clip", out["clip"])
        iterations = _validate.integer("iterations", out["iterations"], 0)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"model file has an invalid value: {exc}") from None

    # Check the raw code points: str() of an invalid one (> 0x10FFFF) raises
    # SystemError (found by fuzzing), and int() would take "-1" or " 1_0".
    codes = _read_member(zf, "seed", "<U64", ()).reshape(1).view("<u4")
    digits = codes[: np.count_nonzero(codes)]
    if not (
        digits.size
        and ((digits >= ord("0")) & (digits <= ord("9"))).all()
        and not codes[digits.size :].any()
    ):
        raise ModelFileError("model file key 'seed' is not a non-negative integer")
    out["seed"] = int(digits.astype(np.uint8).tobytes())

    dims = {"H": size, "N": iterations, "M": None}
    for key, (dtype, spec) in _ARRAYS.items():
        shape = tuple(dims[s] if isinstance(s, str) else s for s in spec)
        out[key] = _read_member(zf, key, dtype, shape)

    for key in ("wi", "wh", "wo", "history"):
        if not np.isfinite(out[key]).all():
            raise ModelFileError(f"model file key {key!r} holds non-finite values")
    pending: NDArray[np.int64] = out["pending"]
    largest = (1 << bits) - 1
    if pending.size and (
        pending.min() < 0
        or pending.max() >= largest
        or (pending[:, 0] + pending[:, 1] > largest).any()
    ):
        raise ModelFileError(
            "model file key 'pending' holds pairs outside the training range"
        )
    rng = out["rng_state"]
    if rng[4] > 1 or rng[5] >= 1 << 32:  # PCG64's has_uint32 flag and uint32 buffer
        raise ModelFileError("model file key 'rng_state' is not a PCG64 state")
    return out
