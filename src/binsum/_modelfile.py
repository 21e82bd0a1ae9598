"""The model file: one ``.npz`` archive, read without ever unpickling.

Only a regular file is opened (never a FIFO or a device, which could block or
never end), and without blocking. Before zipfile parses anything, the zip's
end record is read by hand and a directory larger than a model's 13 entries
is refused. Each array's ``.npy`` header is parsed here, bounded and strict,
and checked (dtype, shape, declared size against the bytes actually stored)
before its data is read into an array of exactly that size, so a hostile file
can neither run code nor make binsum allocate more than the file holds.

``check_fields`` is the one validation of a model's fields: ``load`` runs it
on what it read, and unpickling (``BinarySumRNN.__setstate__``) on the state.
Writes are atomic (``binsum._atomic``).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import stat
import struct
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from binsum import _config, _validate
from binsum._atomic import atomic_write, file_kind
from binsum._config import Config

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
KEYS = ("format_version", *FIELDS)
_DTYPES = {"format_version": "<i8", **_SETTINGS, "seed": _SEED} | {
    k: d for k, (d, _) in _ARRAYS.items()
}

# binsum's central directory is ~750 bytes and its .npy headers 118; these
# bounds leave room for other zip writers and refuse amplification at once.
MAX_DIRECTORY = 4096
MAX_HEADER = 4096
_CHUNK = 1 << 20  # bytes per read: bounds the memory beyond the arrays

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO opens at once instead of blocking
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)  # Windows: no newline translation
)


class ModelFileError(ValueError):
    """A file (or pickled state) is not a valid binsum model.

    Raised by ``BinarySumRNN.load`` (and ``binsum add/eval --model``) for
    anything that is not a regular file in binsum's model layout: a FIFO,
    device, socket or directory; a damaged or oversized zip; object arrays,
    compressed members, missing keys, wrong shapes or dtypes, non-finite
    values, settings out of range or an unknown format version. The message
    names the path and the offending key. A ``ValueError``, so
    ``except ValueError`` catches it too.

    Examples
    --------
    >>> import binsum
    >>> try:
    ...     binsum.BinarySumRNN.load("/dev/null")
    ... except binsum.ModelFileError as exc:
    ...     print("refused")
    refused
    """


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


# What zipfile raises on damaged archives.
_READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError)


def save(path: str | os.PathLike[str], fields: Mapping[str, Any]) -> None:
    """Write ``fields`` (see FIELDS) to ``path`` atomically."""
    # Little-endian whatever the machine: load() reads exactly these dtypes.
    arrays = {k: np.asarray(v, dtype=_DTYPES[k]) for k, v in fields.items()}
    arrays["format_version"] = np.asarray(FORMAT_VERSION, dtype="<i8")
    with atomic_write(path) as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]


# ------------------------------------------------------------ opening a file
def _kind(mode: int) -> str | None:
    """What a file that is not a regular file is (None for a regular file)."""
    return None if stat.S_ISREG(mode) else file_kind(mode)


def _not_regular(name: str, kind: str, what: str = "model file") -> ModelFileError:
    return ModelFileError(
        f"{name!r} is {kind}, not a {what} (only regular files are read)"
    )


def open_regular(path: str | os.PathLike[str], what: str = "model file") -> IO[bytes]:
    """Open ``path`` for reading if it is a regular file, else ModelFileError.

    A FIFO, socket, device or directory could block forever or never end.
    ``stat`` first (opening some devices has effects of its own), then open
    without blocking and ``fstat`` what was really opened, which is what is
    read: a file swapped in between is caught, never read.
    """
    name = os.fspath(path)
    kind = _kind(os.stat(name).st_mode)  # a missing file: FileNotFoundError
    if kind:
        raise _not_regular(name, kind, what)
    fd = os.open(name, _OPEN_FLAGS)
    try:
        kind = _kind(os.fstat(fd).st_mode)
        if kind:
            raise _not_regular(name, kind, what)
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)  # plain reads from here on
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# ------------------------------------------------------ the zip's end record
_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_LOCATOR64 = struct.Struct("<4sLQL")  # zip64 end of central directory locator
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record


def _check_directory(
    fh: IO[bytes],
    size: int,
    name: str,
    what: str = "model file",
    entries: int = len(KEYS),
) -> None:
    """Refuse an archive whose central directory a model file cannot have.

    zipfile reads and parses the whole directory before anything can be
    checked (2 million entries: 28 s and 1 GB), so its end records are read
    here. binsum's files end with the end record (no comment), preceded by the
    zip64 records when over 2 GiB, preceded by the directory: requiring
    exactly that layout leaves zipfile (of any version) no other reading.
    """

    def bad(why: str) -> ModelFileError:
        return ModelFileError(f"{name!r} is not a binsum {what}: {why}")

    def read_at(at: int, n: int) -> bytes:
        fh.seek(at)
        data = fh.read(n)
        if len(data) != n:  # the file shrank meanwhile
            raise bad("truncated")
        return data

    if size < _EOCD.size:
        raise bad("too short for a zip archive")
    sig, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment = _EOCD.unpack(
        read_at(size - _EOCD.size, _EOCD.size)
    )
    if sig != b"PK\x05\x06" or comment:
        raise bad("no zip end record at its end")
    end = size - _EOCD.size  # where the directory (or the zip64 record) ends
    if end >= _LOCATOR64.size + _EOCD64.size:
        sig64, disk64, record_at, disks = _LOCATOR64.unpack(
            read_at(end - _LOCATOR64.size, _LOCATOR64.size)
        )
        if sig64 == b"PK\x06\x07":
            end -= _LOCATOR64.size + _EOCD64.size
            if disk64 != 0 or disks > 1 or record_at != end:
                raise bad("misplaced zip64 end record")
            record = _EOCD64.unpack(read_at(end, _EOCD64.size))
            if record[0] != b"PK\x06\x06":
                raise bad("misplaced zip64 end record")
            # The 32-bit fields must agree with the zip64 ones (or say "see
            # zip64"), so that zipfile cannot read either set differently.
            for small, big, full in zip(
                (disk, cd_disk, n_disk, n_total, cd_size, cd_offset),
                record[4:],
                (0xFFFF,) * 4 + (0xFFFFFFFF,) * 2,
                strict=True,
            ):
                if small not in (big, full):
                    raise bad("zip64 end record disagrees with the end record")
            disk, cd_disk, n_disk, n_total, cd_size, cd_offset = record[4:]
    if disk or cd_disk or n_disk != n_total:
        raise bad("multi-disk zip archive")
    if n_total > entries:
        raise bad(f"{n_total} entries (a {what} has {entries})")
    if cd_size > MAX_DIRECTORY:
        raise bad(f"zip directory of {cd_size} bytes (at most {MAX_DIRECTORY})")
    if cd_offset + cd_size != end:
        raise bad("zip directory is not where its end record says")


# ---------------------------------------------------------------- .npy data
# The header numpy writes, e.g. {'descr': '<f8', 'fortran_order': False,
# 'shape': (2, 16), } padded with spaces and a newline. Parsed with this
# regular expression, not evaluated: numpy's literal_eval recursed on
# thousands of minus signs and took (3, True) as a shape.
_HEADER = re.compile(
    r"\{\s*'descr'\s*:\s*'([^'\\]{1,32})'\s*,"
    r"\s*'fortran_order'\s*:\s*(True|False)\s*,"
    r"\s*'shape'\s*:\s*\(\s*((?:[0-9]{1,18}\s*,\s*)*(?:[0-9]{1,18}\s*)?)\)"
    r"\s*,?\s*\}\s*",
    re.ASCII,
)
_TUPLE1 = re.compile(r"[0-9]+\s*", re.ASCII)  # "(3)" is an int, not a shape


# A plain dtype string ('<f8', '|b1', '<U64'): the only kind _describe hands
# to numpy, whose parser of other strings (',i8', '(2,)i8') runs Python's
# literal_eval on them and can raise SyntaxError, among others.
_PLAIN_DESCR = re.compile(r"[<>|=]?[A-Za-z][0-9]{0,3}", re.ASCII)


def _describe(descr: str) -> str:
    """A dtype as numpy names it, for messages (the descr if not plain)."""
    if _PLAIN_DESCR.fullmatch(descr):
        try:
            return str(np.dtype(descr))
        except (TypeError, ValueError):
            pass
    return repr(descr)


def _read_exactly(fh: IO[bytes], n: int, key: str, what: str = "model file") -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise ModelFileError(f"{what} key {key!r} is truncated")
    return data


def _read_header(
    fh: IO[bytes],
    key: str,
    dtype: str,
    shape: tuple[int | None, ...],
    size: int,
    what: str = "model file",
) -> tuple[tuple[int, ...], bool]:
    """Parse and check one member's .npy header; returns (shape, fortran)."""

    def corrupt(why: str) -> ModelFileError:
        return ModelFileError(f"{what} key {key!r} is corrupt: {why}")

    magic = fh.read(8)
    if len(magic) != 8 or magic[:6] != b"\x93NUMPY":
        raise corrupt("not a .npy array")
    if magic[6:] == b"\x01\x00":
        length_format = "<H"
    elif magic[6:] == b"\x02\x00":
        length_format = "<I"  # a version 2.0 header may claim 4 GB
    else:
        raise corrupt(f"unsupported .npy version {magic[6]}.{magic[7]}")
    n = struct.calcsize(length_format)
    (length,) = struct.unpack(length_format, _read_exactly(fh, n, key, what))
    if length > MAX_HEADER:
        raise corrupt(f"header of {length} bytes (at most {MAX_HEADER})")
    text = _read_exactly(fh, length, key, what).decode("latin-1")
    match = _HEADER.fullmatch(text)
    if match is None or _TUPLE1.fullmatch(match[3]):
        raise corrupt(f"malformed header {text[:80]!r}")
    descr, fortran, dims = match[1], match[2] == "True", match[3]
    want = np.dtype(dtype)
    if descr != want.str:
        raise ModelFileError(
            f"{what} key {key!r} must have dtype {want}, got {_describe(descr)}"
        )
    got = tuple(int(d) for d in re.findall("[0-9]+", dims))
    if len(got) != len(shape) or any(
        w is not None and w != g for w, g in zip(shape, got, strict=False)
    ):
        want_txt = tuple("any" if s is None else s for s in shape)
        raise ModelFileError(
            f"{what} key {key!r} must have shape {want_txt}, got {got}"
        )
    need = math.prod(got) * want.itemsize
    have = size - (8 + n + length)
    if need != have:
        raise ModelFileError(
            f"{what} key {key!r} declares {need} bytes but holds {have}"
        )
    return got, fortran


def _fill(
    fh: IO[bytes], arr: NDArray[Any], fortran: bool, key: str, what: str = "model file"
) -> None:
    """Read ``arr``'s bytes from ``fh`` straight into it, a chunk at a time
    (no second full copy of the data: loading needs about the file's size)."""
    if not fortran or arr.ndim < 2:
        view = arr.reshape(-1).view(np.uint8).data
        start = 0
        while start < len(view):
            data = fh.read(min(_CHUNK, len(view) - start))
            if not data:
                raise ModelFileError(f"{what} key {key!r} is truncated")
            view[start : start + len(data)] = data
            start += len(data)
        return
    # Fortran order is arr.T's C order: fill that through a small buffer,
    # so the result is C-contiguous without a second full-size array.
    flat = arr.T.flat
    step = max(1, _CHUNK // arr.itemsize)
    buf = np.empty(min(step, arr.size), dtype=arr.dtype)
    for start in range(0, arr.size, step):
        chunk = buf[: min(step, arr.size - start)]
        _fill(fh, chunk, False, key, what)
        flat[start : start + chunk.size] = chunk


def _read_member(
    zf: zipfile.ZipFile,
    size: int,
    key: str,
    dtype: str,
    shape: tuple[int | None, ...],
    what: str = "model file",
) -> NDArray[Any]:
    """Read one array after checking its header; ``shape`` may contain None."""
    try:
        info = zf.getinfo(key + ".npy")
    except KeyError:
        raise ModelFileError(f"{what} is missing the key {key!r}") from None
    if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
        # binsum writes stored members; refusing others bounds every read by
        # the bytes really present (no decompression bombs).
        raise ModelFileError(f"{what} key {key!r} is not stored uncompressed")
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{what} key {key!r} is encrypted")
    if info.header_offset + info.compress_size > size:
        # The zip directory's sizes are claims: check them against the file
        # before reading the claimed size.
        raise ModelFileError(
            f"{what} key {key!r} claims more bytes than the file holds"
        )
    with zf.open(info) as fh:
        got, fortran = _read_header(fh, key, dtype, shape, info.file_size, what)
        arr = np.empty(got, dtype=np.dtype(dtype))
        _fill(fh, arr, fortran, key, what)  # reading the last byte checks the CRC
    return arr


def load(path: str | os.PathLike[str]) -> Fields:
    """Read and validate a model file (a regular file; see ``open_regular``)."""
    name = os.fspath(path)
    with open_regular(name) as fh:
        size = os.fstat(fh.fileno()).st_size
        _check_directory(fh, size, name)
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, EOFError, ValueError) as exc:
            raise ModelFileError(
                f"{name!r} is not a binsum model file: {exc}"
            ) from None
        try:
            with zf:
                return _load_fields(zf, size)
        except _READ_ERRORS as exc:
            if isinstance(exc, ModelFileError):
                raise
            raise ModelFileError(f"model file is corrupt: {exc}") from None


def _load_fields(zf: zipfile.ZipFile, size: int) -> Fields:
    version = _read_member(zf, size, "format_version", "<i8", ()).item()
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"unknown model format_version {version} "
            f"(this binsum reads version {FORMAT_VERSION})"
        )
    raw: dict[str, Any] = {
        key: _read_member(zf, size, key, dtype, ()) for key, dtype in _SETTINGS.items()
    }
    # The settings first: they give the arrays' shapes, checked in each
    # header before its data is read.
    settings = _check_settings(raw, "model file")
    raw["seed"] = _read_member(zf, size, "seed", _SEED, ())
    for key, (dtype, shape) in _array_specs(settings["hidden_size"]).items():
        raw[key] = _read_member(zf, size, key, dtype, shape)
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
    if len(value.shape) != len(shape) or any(
        w is not None and w != g for w, g in zip(shape, value.shape, strict=False)
    ):
        want_txt = tuple("any" if s is None else s for s in shape)
        raise ModelFileError(
            f"{source} key {key!r} must have shape {want_txt}, got {value.shape}"
        )
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
            check = _config.CHECKS.get(key, _ITERATIONS)
            out[key] = check(out[key])
    return out


_ITERATIONS = _validate.TOTAL_ITERATIONS  # fit never trains past it


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
    step = _CHUNK // 8  # isfinite's temporary stays small for a long history
    return all(np.isfinite(flat[i : i + step]).all() for i in range(0, flat.size, step))


def check_fields(
    raw: Mapping[str, Any], *, copy: bool = True, source: str = "model file"
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
