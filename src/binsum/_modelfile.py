"""The model file's schema: one ``.npz`` archive of binsum's members, read
without ever unpickling.

This module knows the members, their dtypes and shapes (``check_shape`` is
the one shape rule, for the headers read and for pickled arrays alike) and
the values a model may hold; reading the archive, bounded against hostile
files, is ``binsum._npz``'s. ``check_fields`` is the one validation of a
model's fields: ``load`` runs it on what it read, and unpickling
(``BinarySumRNN.__setstate__``) on the state. Writes are atomic
(``binsum._atomic``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from binsum import _config, _npz, _validate
from binsum._atomic import atomic_write
from binsum._config import Config
from binsum._fileerror import ModelFileError

FORMAT_VERSION = 1

# key -> dtype as written (little-endian); arrays also a shape spec: "H" is
# hidden_size, "M" any length (checked against the bytes present), ints are
# fixed sizes. The history holds the losses of the last iterations trained:
# all of them, or fewer (none in a file saved with history=False), never more
# than "iterations" (checked in check_fields).
_SETTINGS: dict[str, str] = {
    "hidden_size": "<i8",
    "bits": "<i8",
    "learning_rate": "<f8",
    "clip": "<f8",
    "iterations": "<i8",
}
_SEED = "<U64"
_ARRAYS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "wi": ("<f8", (2, "H")),
    "wh": ("<f8", ("H", "H")),
    "wo": ("<f8", ("H", 1)),
    "history": ("<f8", ("M",)),
    "pending": ("<i8", ("M", 2)),
    "rng_state": ("<u8", (6,)),
}
#: What a model is made of: the fields of ``check_fields`` (and of a pickle).
FIELDS = (*_SETTINGS, "seed", *_ARRAYS)
#: The members of a model file.
MEMBERS = ("format_version", *FIELDS)
_DTYPES = {"format_version": "<i8", **_SETTINGS, "seed": _SEED} | {
    k: d for k, (d, _) in _ARRAYS.items()
}

_WHAT = "model file"  # how messages name it


@dataclass(frozen=True)
class Fields:
    """A model's fields after ``check_fields``: its configuration, and fresh
    arrays."""

    config: Config
    iterations: int
    wi: NDArray[np.float64]
    wh: NDArray[np.float64]
    wo: NDArray[np.float64]
    history: NDArray[np.float64]
    pending: NDArray[np.int64]
    rng_state: NDArray[np.uint64]


def save(path: str | os.PathLike[str], fields: Mapping[str, Any]) -> None:
    """Write ``fields`` (see FIELDS) to ``path`` atomically."""
    # Little-endian whatever the machine: load() reads exactly these dtypes.
    arrays = {k: np.asarray(v, dtype=_DTYPES[k]) for k, v in fields.items()}
    arrays["format_version"] = np.asarray(FORMAT_VERSION, dtype="<i8")
    with atomic_write(path) as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]


def load(path: str | os.PathLike[str]) -> Fields:
    """Read and validate a model file (a regular file; see ``_npz.open_regular``)."""
    name = os.fspath(path)
    with _npz.open_regular(name, _WHAT) as fh:
        size = os.fstat(fh.fileno()).st_size
        _npz.check_directory(fh, size, name, _WHAT, len(MEMBERS))
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, EOFError, ValueError) as exc:
            raise ModelFileError(
                f"{name!r} is not a binsum model file: {exc}"
            ) from None
        try:
            with zf:
                return _load_fields(zf, size)
        except _npz.READ_ERRORS as exc:
            if isinstance(exc, ModelFileError):
                raise
            raise ModelFileError(f"model file is corrupt: {exc}") from None


def _load_fields(zf: zipfile.ZipFile, size: int) -> Fields:
    def member(key: str, dtype: str, shape: tuple[int | None, ...]) -> NDArray[Any]:
        check = functools.partial(check_shape, _WHAT, key, shape)
        return _npz.read_member(zf, size, key, dtype, check, _WHAT)

    version = member("format_version", "<i8", ()).item()
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"unknown model format_version {version} "
            f"(this binsum reads version {FORMAT_VERSION})"
        )
    raw: dict[str, Any] = {
        key: member(key, dtype, ()) for key, dtype in _SETTINGS.items()
    }
    # The settings first: they give the arrays' shapes, checked in each
    # header before its data is read.
    settings = _check_settings(raw, _WHAT)
    raw["seed"] = member("seed", _SEED, ())
    for key, (dtype, shape) in _array_specs(settings["hidden_size"]).items():
        raw[key] = member(key, dtype, shape)
    return check_fields(raw, copy=False)  # the arrays just read are private


# ---------------------------------------------------------------- validation
def _array_specs(
    hidden_size: int,
) -> dict[str, tuple[str, tuple[int | None, ...]]]:
    """Each array's dtype and shape for this hidden size (None: any length)."""
    dims = {"H": hidden_size, "M": None}
    return {
        key: (dtype, tuple(dims[d] if isinstance(d, str) else d for d in spec))
        for key, (dtype, spec) in _ARRAYS.items()
    }


def check_shape(
    source: str, key: str, shape: tuple[int | None, ...], got: tuple[int, ...]
) -> None:
    """Refuse a ``got`` shape of ``key`` other than ``shape`` (None: any
    length), naming ``source``."""
    if len(got) != len(shape) or any(
        w is not None and w != g for w, g in zip(shape, got, strict=False)
    ):
        want_txt = tuple("any" if s is None else s for s in shape)
        raise ModelFileError(
            f"{source} key {key!r} must have shape {want_txt}, got {got}"
        )


def _array(
    source: str,
    key: str,
    value: Any,
    dtype: str,
    shape: tuple[int | None, ...],
    copy: bool,
) -> NDArray[Any]:
    """``value`` as a C-contiguous array of the native ``dtype``, after
    checking it is a numpy array of that kind, size and ``shape``."""
    if not isinstance(value, np.ndarray | np.generic):
        raise ModelFileError(
            f"{source} key {key!r} must be a numpy array, got {type(value).__name__}"
        )
    want = np.dtype(dtype)
    got = value.dtype
    # Kind and size, any byte order: a pickle made on a big-endian machine.
    if got.kind != want.kind or got.itemsize != want.itemsize or got.fields:
        raise ModelFileError(f"{source} key {key!r} must have dtype {want}, got {got}")
    check_shape(source, key, shape, value.shape)
    native = want.newbyteorder("=")
    # Copied before the values are checked: what is checked is what is used.
    if copy:
        return np.array(value, dtype=native, order="C", copy=True)
    return np.ascontiguousarray(value, dtype=native).reshape(value.shape)


def _check_settings(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The scalar settings, checked by the configuration's own checks."""
    out = {
        key: _array(source, key, raw[key], dtype, (), copy=False).item()
        for key, dtype in _SETTINGS.items()
    }
    with _invalid(source):
        for key in _SETTINGS:
            # iterations: what fit may reach in all
            check = _config.CHECKS.get(key, _validate.TOTAL_ITERATIONS)
            out[key] = check(out[key])
    return out


@contextlib.contextmanager
def _invalid(source: str) -> Iterator[None]:
    """A check's TypeError or ValueError as the file's ModelFileError."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{source} has an invalid value: {exc}") from None


def _check_seed(source: str, value: Any) -> int:
    codes = _array(source, "seed", value, _SEED, (), copy=True)
    # Check the raw code points: str() of an invalid one (> 0x10FFFF) raises
    # SystemError (found by fuzzing), and int() would take "-1" or " 1_0".
    words = codes.reshape(1).view(np.uint32)
    digits = words[: np.count_nonzero(words)]
    if not (
        digits.size
        and ((digits >= ord("0")) & (digits <= ord("9"))).all()
        and not words[digits.size :].any()
    ):
        raise ModelFileError(f"{source} key 'seed' is not a non-negative integer")
    return int(digits.astype(np.uint8).tobytes())


def _all_finite(arr: NDArray[np.float64]) -> bool:
    flat = arr.reshape(-1)
    step = _npz.CHUNK // 8  # isfinite's temporary stays small for a long history
    return all(np.isfinite(flat[i : i + step]).all() for i in range(0, flat.size, step))


def check_fields(
    raw: Mapping[str, Any], *, copy: bool = True, source: str = _WHAT
) -> Fields:
    """Validate a model's fields (see FIELDS) as ``load`` reads them: numpy
    arrays (or scalars) of the file's dtypes and shapes, the settings in the
    constructor's ranges, finite weights and losses, pending pairs in the
    training range and a PCG64 state. Raises ModelFileError (a ValueError)
    naming ``source`` and the key; returns plain values and C-contiguous
    arrays of the native dtype, copies unless ``copy`` is false (for arrays
    no one else holds).
    """
    if not isinstance(raw, Mapping):
        raise ModelFileError(
            f"{source} fields must be a mapping, got {type(raw).__name__}"
        )
    for key in FIELDS:
        if key not in raw:
            raise ModelFileError(f"{source} is missing the key {key!r}")
    unknown = sorted(repr(k) for k in raw if k not in FIELDS)
    if unknown:
        raise ModelFileError(f"{source} has unknown keys {', '.join(unknown[:5])}")

    settings = _check_settings(raw, source)
    size, bits = settings["hidden_size"], settings["bits"]
    seed = _check_seed(source, raw["seed"])
    with _invalid(source):
        config = Config(
            **{key: settings[key] for key in _config.KEYS if key != "seed"}, seed=seed
        )
    arrays = {
        key: _array(source, key, raw[key], dtype, shape, copy)
        for key, (dtype, shape) in _array_specs(size).items()
    }
    if len(arrays["history"]) > settings["iterations"]:
        raise ModelFileError(
            f"{source} key 'history' holds {len(arrays['history'])} losses, "
            f"more than its {settings['iterations']} iterations"
        )

    for key in ("wi", "wh", "wo", "history"):
        if not _all_finite(arrays[key]):
            raise ModelFileError(f"{source} key {key!r} holds non-finite values")
    pending: NDArray[np.int64] = arrays["pending"]
    largest = (1 << bits) - 1
    if pending.size and (
        pending.min() < 0
        or pending.max() >= largest
        or (pending[:, 0] + pending[:, 1] > largest).any()
    ):
        raise ModelFileError(
            f"{source} key 'pending' holds pairs outside the training range"
        )
    rng = arrays["rng_state"]
    if rng[4] > 1 or rng[5] >= 1 << 32:  # PCG64's has_uint32 flag and uint32 buffer
        raise ModelFileError(f"{source} key 'rng_state' is not a PCG64 state")
    return Fields(
        config=config,
        iterations=settings["iterations"],
        wi=arrays["wi"],
        wh=arrays["wh"],
        wo=arrays["wo"],
        history=arrays["history"],
        pending=pending,
        rng_state=rng,
    )
