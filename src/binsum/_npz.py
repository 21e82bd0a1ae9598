"""A bounded reader of ``.npz`` archives from files that may be hostile.

It knows zip and ``.npy``, not what a file should hold: the caller names the
members, their dtypes and a rule for their shapes. Only a regular file is
opened (never a FIFO or a device, which could block or never end), and
without blocking. Before zipfile parses anything, the zip's end record is
read by hand and a directory larger than the caller's entries is refused.
Each array's ``.npy`` header is parsed here, bounded and strict, and checked
(dtype, shape, declared size against the bytes actually stored) before its
data is read into an array of exactly that size, so a hostile file can
neither run code nor make binsum allocate more than the file holds.
"""

from __future__ import annotations

import math
import os
import re
import stat
import struct
import zipfile
from collections.abc import Callable
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from binsum._atomic import file_kind
from binsum._fileerror import ModelFileError

# The caller's rule for a member's shape: raises ModelFileError to refuse one.
ShapeCheck = Callable[[tuple[int, ...]], None]

# What zipfile raises on damaged archives.
READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError)

# binsum's central directory is ~750 bytes and its .npy headers 118; these
# bounds leave room for other zip writers and refuse amplification at once.
MAX_DIRECTORY = 4096
MAX_HEADER = 4096
CHUNK = 1 << 20  # bytes per read: bounds the memory beyond the arrays

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO opens at once instead of blocking
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)  # Windows: no newline translation
)


# ------------------------------------------------------------ opening a file
def _kind(mode: int) -> str | None:
    """What a file that is not a regular file is (None for a regular file)."""
    return None if stat.S_ISREG(mode) else file_kind(mode)


def _not_regular(name: str, kind: str, what: str) -> ModelFileError:
    return ModelFileError(
        f"{name!r} is {kind}, not a {what} (only regular files are read)"
    )


def open_regular(path: str | os.PathLike[str], what: str) -> IO[bytes]:
    """Open ``path`` (a ``what``) for reading if it is a regular file, else
    ModelFileError.

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


def check_directory(
    fh: IO[bytes], size: int, name: str, what: str, entries: int
) -> None:
    """Refuse an archive whose central directory a ``what`` of at most
    ``entries`` members cannot have.

    zipfile reads and parses the whole directory before anything can be
    checked (2 million entries: 28 s and 1 GB), so its end records are read
    here. np.savez's files end with the end record (no comment), preceded by
    the zip64 records when over 2 GiB, preceded by the directory: requiring
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


def _read_exactly(fh: IO[bytes], n: int, key: str, what: str) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise ModelFileError(f"{what} key {key!r} is truncated")
    return data


def _read_header(
    fh: IO[bytes], key: str, dtype: str, check_shape: ShapeCheck, size: int, what: str
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
    check_shape(got)
    need = math.prod(got) * want.itemsize
    have = size - (8 + n + length)
    if need != have:
        raise ModelFileError(
            f"{what} key {key!r} declares {need} bytes but holds {have}"
        )
    return got, fortran


def _fill(fh: IO[bytes], arr: NDArray[Any], fortran: bool, key: str, what: str) -> None:
    """Read ``arr``'s bytes from ``fh`` straight into it, a chunk at a time
    (no second full copy of the data: loading needs about the file's size)."""
    if not fortran or arr.ndim < 2:
        view = arr.reshape(-1).view(np.uint8).data
        start = 0
        while start < len(view):
            data = fh.read(min(CHUNK, len(view) - start))
            if not data:
                raise ModelFileError(f"{what} key {key!r} is truncated")
            view[start : start + len(data)] = data
            start += len(data)
        return
    # Fortran order is arr.T's C order: fill that through a small buffer,
    # so the result is C-contiguous without a second full-size array.
    flat = arr.T.flat
    step = max(1, CHUNK // arr.itemsize)
    buf = np.empty(min(step, arr.size), dtype=arr.dtype)
    for start in range(0, arr.size, step):
        chunk = buf[: min(step, arr.size - start)]
        _fill(fh, chunk, False, key, what)
        flat[start : start + chunk.size] = chunk


def read_member(
    zf: zipfile.ZipFile,
    size: int,
    key: str,
    dtype: str,
    check_shape: ShapeCheck,
    what: str,
) -> NDArray[Any]:
    """Read the array ``key`` of the archive ``zf`` (of ``size`` bytes on disk)
    after checking its header: its dtype must be exactly ``dtype``, and
    ``check_shape`` (the caller's rule) raises for a shape it refuses."""
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
        got, fortran = _read_header(fh, key, dtype, check_shape, info.file_size, what)
        arr = np.empty(got, dtype=np.dtype(dtype))
        _fill(fh, arr, fortran, key, what)  # reading the last byte checks the CRC
    return arr
