"""Atomic file writes: a reader sees the old file or the new one, never half.

``check_target`` is what may be replaced: a symlink is followed to the file it
names, and only a regular file (or nothing yet) is replaced, never a
directory, FIFO, device or socket (``os.replace`` would swap any of them for a
plain file: as root, ``/dev/null`` itself). A path is refused, too, when
it names no file (empty, or ending in a separator, ``.`` or ``..``) or is too
long for the system (a name over NAME_MAX, a path over PATH_MAX), so every
path saved to loads back as given. The CLI runs it before training,
``atomic_write`` again before writing, so the two behave the same.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from typing import BinaryIO


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, for messages."""
    for test, what in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return what
    return "not a regular file"


# The temporary file: ".NAME.TOKEN.tmp", or ".TOKEN.tmp" where that is too long.
_TOKEN_BYTES = 6  # 12 hex digits
_SHORT_TEMP = len(f".{'0' * 2 * _TOKEN_BYTES}.tmp")


def _size(name: str) -> int:
    """A name's length as the system limits it: bytes on POSIX, UTF-16 code
    units on Windows."""
    if os.name == "nt":
        return len(name.encode("utf-16-le", "surrogatepass")) // 2
    return len(os.fsencode(name))


def _limit(folder: str, key: str, default: int | None) -> int | None:
    """os.pathconf(folder, key): the folder's file system decides (None: no
    limit known)."""
    try:
        value = os.pathconf(folder, key)
    except (AttributeError, OSError, ValueError):  # Windows has no pathconf
        return default
    return value if value > 0 else None


def _temp_name(folder: str, base: str) -> str:
    """A fresh hidden name next to ``base`` that fits the system's limits:
    the target's name in it when that fits, a short random one otherwise."""
    token = secrets.token_hex(_TOKEN_BYTES)
    long = f".{base}.{token}.tmp"
    name_max = _limit(folder, "PC_NAME_MAX", 255)
    path_max = _limit(folder, "PC_PATH_MAX", None)
    fits = name_max is None or _size(long) <= name_max
    if fits and path_max is not None:
        fits = _size(os.path.join(folder, long)) < path_max
    return long if fits else f".{token}.tmp"


def _check_name(name: str) -> None:
    """Refuse a path that names no file."""
    if not name:
        raise FileNotFoundError(errno.ENOENT, "the path is empty", name)
    if os.path.basename(name) in ("", ".", ".."):
        raise IsADirectoryError(
            errno.EISDIR,
            "the path names a folder (it ends with a separator, . or ..), not a file",
            name,
        )


def _check_length(name: str, real: str) -> None:
    """Refuse a path (``real``, symlinks followed) too long to be written."""
    folder, base = os.path.split(real)
    unit = "UTF-16 code units" if os.name == "nt" else "bytes"
    name_max = _limit(folder, "PC_NAME_MAX", 255)
    if name_max is not None and _size(base) > name_max:
        raise OSError(
            errno.ENAMETOOLONG,
            f"the file name is {_size(base)} {unit} long, over the {name_max} "
            "a name may have here",
            name,
        )
    path_max = _limit(folder, "PC_PATH_MAX", None)
    # The longest path written: the target, or its folder and a short temp name.
    longest = max(_size(real), _size(folder) + 1 + _SHORT_TEMP)
    if path_max is not None and longest >= path_max:
        raise OSError(
            errno.ENAMETOOLONG,
            f"the full path is {_size(real)} {unit} long, too long for the "
            f"{path_max - 1} a path may have here",
            name,
        )


def check_target(path: str | os.PathLike[str]) -> tuple[str, os.stat_result | None]:
    """Where a write to ``path`` goes: (real path, its stat or None if new).

    Symlinks (a chain of them too) are followed, so the file they point to is
    replaced and the links stay links; a dangling link gets its target created
    (as ``open(path, "w")`` would). Raises an OSError naming ``path`` when the
    path names no file or is too long (see the module's docstring), the
    target exists but is not a regular file, or its folder is missing or not
    writable.
    """
    name = os.fspath(path)
    _check_name(name)
    real = os.path.realpath(name)
    _check_length(name, real)
    try:
        st: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # e.g. a symlink loop
        raise OSError(exc.errno, exc.strerror, name) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = file_kind(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory", name)
        raise FileExistsError(
            errno.EEXIST,
            f"it is {kind}; only a regular file is replaced (left untouched)",
            name,
        )
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"no folder {folder}", name)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "folder is not writable", name)
    return real, st


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only once fully written.

    ``check_target`` decides the real file (symlinks followed, only regular
    files replaced). The data goes to a temporary file in its folder (so
    ``os.replace`` is atomic), is flushed and fsynced, then renamed over it.
    On any error or interrupt the temporary file is removed and the target is
    untouched. A new file gets the usual permissions (0o666 less the umask),
    an existing one keeps its permission bits. OSErrors name ``path``, never
    the temporary file.
    """
    name = os.fspath(path)
    target, st = check_target(name)
    folder = os.path.dirname(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    # An existing file's data is never more readable than the file was: the
    # temporary file starts private and gets the old bits before the data.
    create_mode = 0o666 if st is None else 0o600
    tmp = ""
    try:
        while True:
            tmp = os.path.join(folder, _temp_name(folder, os.path.basename(target)))
            try:
                fd = os.open(tmp, flags, create_mode)
                break
            except FileExistsError:
                continue
        try:
            with os.fdopen(fd, "wb") as fh:
                if st is not None and os.name == "posix":
                    os.fchmod(fh.fileno(), st.st_mode & 0o777)
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            _still_replaceable(target, name)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        # Name the user's path, not the hidden temporary file (or the
        # link's target) that the failing call was given.
        if exc.filename in (None, tmp, target):
            exc.filename = name
        if exc.filename2 in (tmp, target):
            exc.filename2 = None
        raise
    _fsync_dir(folder)


def _still_replaceable(target: str, name: str) -> None:
    """Checked again just before the rename: a FIFO, directory or link put
    there during the write is not replaced either (os.replace would)."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        what = "a symlink" if stat.S_ISLNK(mode) else file_kind(mode)
        raise FileExistsError(
            errno.EEXIST, f"it became {what} during the write (left untouched)", name
        )


def _fsync_dir(folder: str) -> None:
    """Make the rename durable (POSIX; Windows has no directory fsync)."""
    if os.name != "posix":
        return
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
