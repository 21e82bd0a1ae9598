"""save(): atomic, with or without the history, which paths it writes, what it
may replace, and the mode the file gets.

The file at ``path`` is always either the previous model or the new one,
whatever interrupts the save.

An in-process failure (injected into np.savez, os.fsync or os.replace) leaves
the previous file and no temporary file. A SIGKILL can leave a hidden
temporary file (``.<name>.*.tmp`` in the same folder) that nothing is left to
delete; the model file itself is still whole.
"""

from __future__ import annotations

import errno
import os
import pickle
import re
import secrets
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from _children import child

import binsum
from binsum import BinarySumRNN, _atomic, cli
from binsum._atomic import atomic_write, check_target, file_kind


@pytest.fixture
def backend() -> str:
    """Saving does not depend on the kernel: these tests run once, on the
    default backend."""
    return binsum.backend



def same_model(a: BinarySumRNN, b: BinarySumRNN) -> bool:
    return (
        a.iterations == b.iterations
        and np.array_equal(a.history, b.history)
        and all(np.array_equal(w, b.weights[k]) for k, w in a.weights.items())
    )


@pytest.fixture
def old_and_new(
    make_model: Callable[..., BinarySumRNN], tmp_path: Path
) -> tuple[Path, BinarySumRNN, BinarySumRNN]:
    """``model.npz`` holding ``old``; ``new`` is the model a save will try to write."""
    old = make_model(hidden_size=4, bits=5, seed=1).fit(20)
    new = make_model(hidden_size=4, bits=5, seed=2).fit(30)
    path = tmp_path / "model.npz"
    old.save(path)
    return path, old, new


# -------------------------------------------------------------------- atomic
class Boom(Exception):
    pass


def test_failure_while_writing_keeps_the_previous_file(
    old_and_new: tuple[Path, BinarySumRNN, BinarySumRNN],
    monkeypatch: pytest.MonkeyPatch, backend: str,
) -> None:
    path, old, new = old_and_new
    real_savez = np.savez

    def half_then_fail(file, **arrays):  # type: ignore[no-untyped-def]
        real_savez(file, **arrays)
        file.seek(file.tell() // 2)
        file.truncate()
        raise Boom("disk full")

    monkeypatch.setattr(np, "savez", half_then_fail)
    with pytest.raises(Boom):
        new.save(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]
    assert same_model(BinarySumRNN.load(path, backend=backend), old)


@pytest.mark.parametrize("target", ["fsync", "replace"])
def test_failure_before_the_rename_keeps_the_previous_file(
    old_and_new: tuple[Path, BinarySumRNN, BinarySumRNN],
    monkeypatch: pytest.MonkeyPatch, backend: str, target: str,
) -> None:
    path, old, new = old_and_new

    def fail(*args: object) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, target, fail)
    with pytest.raises(OSError, match="I/O error"):
        new.save(path)
    monkeypatch.undo()
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]
    assert same_model(BinarySumRNN.load(path, backend=backend), old)


def test_keyboard_interrupt_during_save_keeps_the_previous_file(
    old_and_new: tuple[Path, BinarySumRNN, BinarySumRNN],
    monkeypatch: pytest.MonkeyPatch, backend: str,
) -> None:
    path, old, new = old_and_new

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        new.save(path)
    monkeypatch.undo()
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]
    assert same_model(BinarySumRNN.load(path, backend=backend), old)


def test_temporary_file_is_synced_in_the_same_folder_then_renamed(
    old_and_new: tuple[Path, BinarySumRNN, BinarySumRNN],
    monkeypatch: pytest.MonkeyPatch, backend: str,
) -> None:
    path, _, new = old_and_new
    calls: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append(("fsync", fd))
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append(("replace", (src, dst)))
        assert Path(src).read_bytes()[:2] == b"PK"  # complete before the rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    new.save(path)
    monkeypatch.undo()
    names = [name for name, _ in calls]
    assert "replace" in names and names.index("fsync") < names.index("replace")
    src, dst = dict(calls)["replace"]  # type: ignore[misc]
    assert Path(src).parent == path.parent and Path(dst) == path
    assert Path(src).name.startswith(".model.npz.") and src.endswith(".tmp")
    assert same_model(BinarySumRNN.load(path, backend=backend), new)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]


_SAVER = textwrap.dedent(
    """
    import sys
    from binsum import BinarySumRNN
    path, backend = sys.argv[1], sys.argv[2]
    models = [BinarySumRNN(hidden_size=384, bits=8, seed=s, backend=backend)
              for s in (10, 11)]
    i = 0
    while True:
        models[i % 2].save(path)
        i += 1
        if i == 2:
            print("saving", flush=True)
    """
)


def test_sigkill_during_saves_leaves_a_whole_model(
    tmp_path: Path, backend: str
) -> None:
    """A subprocess saves two ~1.2 MB models in turn to one path and is killed
    at some point in that loop: the file is always one of them, whole."""
    path = tmp_path / "model.npz"
    states = [
        BinarySumRNN(hidden_size=384, bits=8, seed=s, backend=backend) for s in (10, 11)
    ]
    for delay in (0.0, 0.013, 0.037):
        with child(
            [sys.executable, "-c", _SAVER, str(path), backend],
            stdout=subprocess.PIPE,
        ) as proc:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "saving\n"
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        loaded = BinarySumRNN.load(path, backend=backend)
        assert any(same_model(loaded, s) for s in states)
        # Only the model and possibly one orphaned temporary file of a save
        # cut short (a SIGKILL leaves nothing to clean it up).
        others = [p.name for p in tmp_path.iterdir() if p != path]
        assert all(n.startswith(".model.npz.") and n.endswith(".tmp") for n in others)
        for name in others:
            (tmp_path / name).unlink()


# ----------------------------------------------------- without the history
def test_save_without_history(tmp_path: Path, backend: str) -> None:
    """save(history=False) leaves the losses out (8 bytes per iteration): the
    loaded model has an empty history, the same iteration count, and trains on
    to exactly the weights of a model whose history was kept."""
    model = BinarySumRNN(seed=3, backend=backend).fit(3000)
    model.save(tmp_path / "full.npz")
    model.save(tmp_path / "lean.npz", history=False)
    full_size = (tmp_path / "full.npz").stat().st_size
    lean_size = (tmp_path / "lean.npz").stat().st_size
    assert full_size - lean_size >= 8 * 3000
    lean = BinarySumRNN.load(tmp_path / "lean.npz", backend)
    assert lean.iterations == 3000 and lean.history.shape == (0,)
    full = BinarySumRNN.load(tmp_path / "full.npz", backend)
    lean.fit(1500, callback=lambda m, i, loss: None, log_every=500)
    full.fit(1500)
    model.fit(1500)
    for key in ("wi", "wh", "wo"):
        assert np.array_equal(lean.weights[key], model.weights[key])
        assert np.array_equal(full.weights[key], model.weights[key])
    # the new losses are kept, the older ones stay unknown; saved again
    assert lean.iterations == 4500
    assert np.array_equal(lean.history, model.history[3000:])
    lean.save(tmp_path / "again.npz")
    again = BinarySumRNN.load(tmp_path / "again.npz", backend)
    assert np.array_equal(again.history, model.history[3000:])
    assert pickle.loads(pickle.dumps(lean)).history.shape == (1500,)
    with pytest.raises(TypeError, match="history must be True or False"):
        model.save(tmp_path / "x.npz", history="no")  # type: ignore[arg-type]


# ------------------------------------------------- which paths are written
POSIX_NAMES = pytest.mark.skipif(os.name == "nt", reason="POSIX counts names in bytes")
FOLDER = "the path names a folder (it ends with a separator, . or ..), not a file"


@POSIX_NAMES
@pytest.mark.parametrize("name", ["m" * 238, "m" * 255, "é" * 127],
                         ids=["238-bytes", "255-bytes", "254-bytes-utf8"])
def test_names_up_to_name_max_save_and_load_back(
    tmp_path: Path, backend: str, name: str
) -> None:
    """The temporary file's name must fit too (it is shortened here)."""
    model = BinarySumRNN(hidden_size=4, bits=5, seed=1, backend=backend).fit(20)
    model.save(tmp_path / name)
    assert same_model(BinarySumRNN.load(tmp_path / name, backend=backend), model)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


@POSIX_NAMES
@pytest.mark.parametrize("name", ["m" * 256, "é" * 128], ids=["ascii", "utf8"])
def test_a_name_over_name_max_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(OSError) as info:
        BinarySumRNN(bits=3, seed=0).save(tmp_path / name)
    assert info.value.errno == errno.ENAMETOOLONG
    assert info.value.strerror == (
        "the file name is 256 bytes long, over the 255 a name may have here"
    )
    assert info.value.filename == str(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [("", FileNotFoundError, "the path is empty"),
     ("model.npz/", IsADirectoryError, FOLDER),
     (f"model.npz{os.sep}", IsADirectoryError, FOLDER),
     ("sub/.", IsADirectoryError, FOLDER), ("sub/..", IsADirectoryError, FOLDER),
     (".", IsADirectoryError, FOLDER)],
    ids=["empty", "slash", "sep", "dot", "dot-dot", "cwd"],
)
def test_a_path_naming_no_file_is_refused(
    old_and_new: tuple[Path, BinarySumRNN, BinarySumRNN],
    monkeypatch: pytest.MonkeyPatch, path: str, error: type[OSError], message: str,
) -> None:
    """``save("model.npz/")`` must not replace model.npz: that path could
    never be loaded."""
    target, _, new = old_and_new
    folder = target.parent
    (folder / "sub").mkdir()
    monkeypatch.chdir(folder)
    before = target.read_bytes()
    with pytest.raises(error) as info:
        new.save(path)
    code = errno.ENOENT if error is FileNotFoundError else errno.EISDIR
    assert (info.value.errno, info.value.strerror, info.value.filename) == (
        code, message, path)
    assert target.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["model.npz", "sub"]


def _descend(folder: Path, length: int) -> None:
    """chdir into new folders below ``folder`` until the working folder's
    absolute path is ``length`` bytes: deeper than one path could name, so
    each level is made and entered through a descriptor."""
    name_max = os.pathconf(folder, "PC_NAME_MAX")
    fd = os.open(folder, os.O_RDONLY)
    remaining = length - len(os.fsencode(str(folder)))
    try:
        while remaining > 0:
            # each level adds "/" and its name; never leave 1 byte (no name fits)
            size = remaining - 1 if remaining - 1 <= name_max else name_max - 2
            os.mkdir("d" * size, dir_fd=fd)
            sub = os.open("d" * size, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = sub
            remaining -= 1 + size
        os.chdir(fd)
    finally:
        os.close(fd)
    assert len(os.fsencode(os.getcwd())) == length


@pytest.mark.skipif(not hasattr(os, "pathconf"), reason="no PATH_MAX to reach")
def test_paths_up_to_path_max_save_and_load_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """A file whose full path is 10 bytes short of PATH_MAX is saved (its
    temporary file, named after it, would not fit: a short name is used); one
    whose path reaches PATH_MAX is refused, naming it."""
    path_max = os.pathconf(tmp_path, "PC_PATH_MAX")
    monkeypatch.chdir(tmp_path)  # restored after the test
    folder = path_max - 200
    _descend(tmp_path, folder)
    model = BinarySumRNN(hidden_size=4, bits=5, seed=1, backend=backend).fit(20)
    fits = "m" * (path_max - 10 - folder - 1)
    model.save(fits)
    assert same_model(BinarySumRNN.load(fits, backend=backend), model)
    assert os.listdir(".") == [fits]
    too_long = "n" * (path_max - folder - 1)
    with pytest.raises(OSError) as info:
        model.save(too_long)
    assert info.value.errno == errno.ENAMETOOLONG
    assert info.value.strerror == (
        f"the full path is {path_max} bytes long, too long for the "
        f"{path_max - 1} a path may have here"
    )
    assert info.value.filename == too_long
    assert os.listdir(".") == [fits]


def test_the_folder_is_fsynced_after_the_rename(
    old_and_new: tuple[Path, BinarySumRNN, BinarySumRNN],
    monkeypatch: pytest.MonkeyPatch, backend: str,
) -> None:
    """The rename is made durable: the folder is opened read-only, fsynced
    after os.replace, and closed."""
    path, _, new = old_and_new
    calls: list[tuple[str, object]] = []
    folder_fds: list[int] = []
    real_open, real_fsync, real_replace, real_close = (
        os.open, os.fsync, os.replace, os.close)

    def open_(name: str, flags: int, *args: int) -> int:
        fd = real_open(name, flags, *args)
        if name == str(path.parent):
            calls.append(("open folder", flags))
            folder_fds.append(fd)
        return fd

    def fsync(fd: int) -> None:
        calls.append(("fsync folder" if fd in folder_fds else "fsync file", fd))
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append(("replace", dst))
        real_replace(src, dst)

    def close(fd: int) -> None:
        if fd in folder_fds:
            calls.append(("close folder", fd))
        real_close(fd)

    for name, fake in (("open", open_), ("fsync", fsync), ("replace", replace),
                       ("close", close)):
        monkeypatch.setattr(os, name, fake)
    new.save(path)
    monkeypatch.undo()
    assert len(folder_fds) == 1
    fd = folder_fds[0]
    assert [name for name, _ in calls] == [
        "fsync file", "replace", "open folder", "fsync folder", "close folder"]
    assert calls[2:] == [("open folder", os.O_RDONLY), ("fsync folder", fd),
                         ("close folder", fd)]
    assert same_model(BinarySumRNN.load(path, backend=backend), new)


@pytest.mark.parametrize("failing", ["open", "fsync"])
def test_a_folder_that_cannot_be_fsynced_still_saves(
    old_and_new: tuple[Path, BinarySumRNN, BinarySumRNN],
    monkeypatch: pytest.MonkeyPatch, backend: str, failing: str,
) -> None:
    """Some file systems refuse a directory fsync (or opening the folder):
    the file is already renamed into place, so the save succeeds, and the
    folder's descriptor is closed."""
    path, _, new = old_and_new
    real_open, real_fsync, real_close = os.open, os.fsync, os.close
    opened: list[int] = []
    closed: list[int] = []

    def open_(name: str, flags: int, *args: int) -> int:
        if name == str(path.parent):
            if failing == "open":
                raise PermissionError(errno.EACCES, "no", name)
            opened.append(real_open(name, flags, *args))
            return opened[-1]
        return real_open(name, flags, *args)

    def fsync(fd: int) -> None:
        if fd in opened:
            raise OSError(errno.EINVAL, "not on this file system")
        real_fsync(fd)

    def close(fd: int) -> None:
        closed.append(fd)
        real_close(fd)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "close", close)
    new.save(path)
    monkeypatch.undo()
    assert len(opened) == (failing == "fsync")
    assert all(fd in closed for fd in opened)
    assert same_model(BinarySumRNN.load(path, backend=backend), new)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _directory(path: Path) -> None:
    path.mkdir()


def _symlink(path: Path) -> None:
    path.symlink_to(path.parent / "elsewhere.npz")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file types")
@pytest.mark.parametrize(
    ("swap", "kind"),
    [(_fifo, "a FIFO (named pipe)"), (_directory, "a directory"),
     (_symlink, "a symlink")],
)
def test_a_target_swapped_during_the_write_is_left_untouched(
    old_and_new: tuple[Path, BinarySumRNN, BinarySumRNN],
    monkeypatch: pytest.MonkeyPatch,
    swap: Callable[[Path], None], kind: str,
) -> None:
    """check_target runs before the write; while the data is written,
    something else replaces the file: it is checked again before the rename,
    refused and left as it is (os.replace would swap any of them)."""
    path, _, new = old_and_new
    real_savez = np.savez

    def savez_then_swap(file, **arrays):  # type: ignore[no-untyped-def]
        real_savez(file, **arrays)
        path.unlink()
        swap(path)

    monkeypatch.setattr(np, "savez", savez_then_swap)
    with pytest.raises(FileExistsError) as info:
        new.save(path)
    monkeypatch.undo()
    exc = info.value
    assert exc.errno == errno.EEXIST
    assert exc.strerror == f"it became {kind} during the write (left untouched)"
    assert exc.filename == str(path) and exc.filename2 is None
    assert os.lstat(path).st_mode & 0o170000 == {
        "a FIFO (named pipe)": 0o010000, "a directory": 0o040000,
        "a symlink": 0o120000}[kind]
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]


def test_a_target_removed_during_the_write_is_created(
    old_and_new: tuple[Path, BinarySumRNN, BinarySumRNN],
    monkeypatch: pytest.MonkeyPatch, backend: str,
) -> None:
    path, _, new = old_and_new
    real_savez = np.savez

    def savez_then_remove(file, **arrays):  # type: ignore[no-untyped-def]
        real_savez(file, **arrays)
        path.unlink()

    monkeypatch.setattr(np, "savez", savez_then_remove)
    new.save(path)
    monkeypatch.undo()
    assert same_model(BinarySumRNN.load(path, backend=backend), new)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]


def test_a_temporary_name_already_taken_is_skipped_not_reused(
    old_and_new: tuple[Path, BinarySumRNN, BinarySumRNN],
    monkeypatch: pytest.MonkeyPatch, backend: str,
) -> None:
    """The temporary file is created exclusively: a file that already has
    the drawn name (another save's) is never written, another name is drawn."""
    path, _, new = old_and_new
    taken = path.parent / ".model.npz.aaaaaaaaaaaa.tmp"
    taken.write_bytes(b"another save's")
    draws = iter(["aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(draws))
    new.save(path)
    monkeypatch.undo()
    assert taken.read_bytes() == b"another save's"
    assert next(draws, "all drawn") == "all drawn"
    assert same_model(BinarySumRNN.load(path, backend=backend), new)
    assert sorted(p.name for p in path.parent.iterdir()) == [taken.name, "model.npz"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("exists", [False, True])
def test_the_temporary_file_is_private_until_it_has_the_old_bits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    make_model: Callable[..., BinarySumRNN], exists: bool,
) -> None:
    """A new file is created 0o666 (less the umask); over an existing file
    the temporary starts 0o600 and has the old file's permission bits (not
    its set-id bits) before any data is written."""
    path = tmp_path / "m.npz"
    if exists:
        path.write_bytes(b"old")
        path.chmod(0o4754)  # set-user-id: not carried over
    created: list[int] = []
    real_open = os.open

    def open_(name: str, flags: int, mode: int = 0o777) -> int:
        if name.endswith(".tmp"):
            created.append(mode)
        return real_open(name, flags, mode)

    seen: list[int] = []
    real_savez = np.savez

    def savez(file, **arrays):  # type: ignore[no-untyped-def]
        seen.append(stat.S_IMODE(os.fstat(file.fileno()).st_mode))
        real_savez(file, **arrays)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(np, "savez", savez)
    old_umask = os.umask(0o022)
    try:
        make_model(hidden_size=2, seed=0).save(path)
    finally:
        os.umask(old_umask)
    monkeypatch.undo()
    assert created == [0o600 if exists else 0o666]
    assert seen == [0o754 if exists else 0o644]
    assert stat.S_IMODE(path.stat().st_mode) == (0o754 if exists else 0o644)


# The limits' edges, with the file system's answers faked: pathconf reports
# NAME_MAX and PATH_MAX (None: it fails, as on Windows or a folder it cannot
# ask), any other key is unknown to it.
def _limits(monkeypatch: pytest.MonkeyPatch, name_max: int | None,
            path_max: int | None) -> None:
    def pathconf(folder: str, key: str) -> int:
        limits = {"PC_NAME_MAX": name_max, "PC_PATH_MAX": path_max}
        if key not in limits:
            raise ValueError(f"unrecognized configuration name {key!r}")
        value = limits[key]
        if value is None:
            raise OSError(errno.EINVAL, "Invalid argument")
        return value
    monkeypatch.setattr(os, "pathconf", pathconf, raising=False)


@pytest.mark.parametrize(("reported", "limit"),
                         [(-1, None), (0, None), (1, 1), (4096, 4096)])
def test_a_limit_is_what_pathconf_reports_and_none_below_one(
    monkeypatch: pytest.MonkeyPatch, reported: int, limit: int | None,
) -> None:
    """pathconf gives -1 for "no limit"; 0 would refuse every name."""
    monkeypatch.setattr(os, "pathconf", lambda folder, key: reported, raising=False)
    assert _atomic._limit("folder", "PC_PATH_MAX", 7) == limit


def test_a_limit_pathconf_cannot_give_is_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _limits(monkeypatch, None, None)
    assert _atomic._limit("folder", "PC_NAME_MAX", 255) == 255
    assert _atomic._limit("folder", "PC_PATH_MAX", None) is None


def test_a_name_is_measured_in_bytes_on_posix_and_utf16_units_on_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "a\U0001f600é"  # 1 + 4 + 2 bytes; 1 + 2 (a surrogate pair) + 1 units
    posix = _atomic._size(name) if os.name == "posix" else 7
    monkeypatch.setattr(os, "name", "nt")
    windows = _atomic._size(name)
    monkeypatch.undo()
    assert (posix, windows) == (7, 4)
    assert type(windows) is int


def test_a_name_too_long_on_windows_is_counted_in_utf16_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = os.path.join(str(tmp_path), "é" * 256)  # 512 bytes, 256 units
    _limits(monkeypatch, 255, None)
    monkeypatch.setattr(os, "name", "nt")
    with pytest.raises(OSError) as info:
        _atomic._check_length("given", real)
    monkeypatch.undo()
    assert (info.value.errno, info.value.strerror, info.value.filename) == (
        errno.ENAMETOOLONG,
        "the file name is 256 UTF-16 code units long, over the 255 a name may "
        "have here", "given")


def test_the_temporary_name_is_the_targets_and_12_hex_digits() -> None:
    assert re.fullmatch(r"\.model\.npz\.[0-9a-f]{12}\.tmp",
                        _atomic._temp_name(".", "model.npz"))


# ".NAME.TOKEN.tmp" is the name's length + 18; ".TOKEN.tmp" 17.
@pytest.mark.parametrize(
    ("name_max", "path_max", "folder", "length", "kept"),
    [(40, None, "/f", 22, True), (40, None, "/f", 23, False),
     (None, None, "/f", 237, True), (None, None, "/f", 238, False),  # 255 then
     (255, 32, "/f", 10, True), (255, 31, "/f", 10, False)],  # "/f/" + 28
    ids=["name-max", "name-max+1", "default-name-max", "default-name-max+1",
         "path-max-1", "path-max"],
)
def test_the_temporary_name_drops_the_targets_once_it_would_not_fit(
    monkeypatch: pytest.MonkeyPatch, name_max: int | None, path_max: int | None,
    folder: str, length: int, kept: bool,
) -> None:
    _limits(monkeypatch, name_max, path_max)
    base = "m" * length
    temp = _atomic._temp_name(folder, base)
    monkeypatch.undo()
    token = r"\.[0-9a-f]{12}\.tmp"
    assert re.fullmatch(rf"\.{base}{token}" if kept else token, temp)


@pytest.mark.parametrize(
    ("name_max", "length", "limit"),
    [(100, 100, None), (100, 101, 100), (None, 255, None), (None, 256, 255)],
    ids=["name-max", "name-max+1", "default-name-max", "default-name-max+1"],
)
def test_a_name_is_refused_only_over_name_max(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    name_max: int | None, length: int, limit: int | None,
) -> None:
    """Where pathconf cannot tell, NAME_MAX is taken as 255."""
    _limits(monkeypatch, name_max, None)
    real = os.path.join(str(tmp_path), "m" * length)
    if limit is None:
        _atomic._check_length("given", real)
        return
    with pytest.raises(OSError) as info:
        _atomic._check_length("given", real)
    assert (info.value.errno, info.value.strerror, info.value.filename) == (
        errno.ENAMETOOLONG,
        f"the file name is {length} bytes long, over the {limit} a name may "
        "have here", "given")


@pytest.mark.parametrize(
    ("extra", "length", "refused"),
    [(1, 1, False), (0, 1, True), (1, 100, False), (0, 100, True)],
    ids=["short-temp-fits", "short-temp-reaches-path-max",
         "path-max-1", "path-max"],
)
def test_a_path_is_refused_once_it_or_its_short_temporary_reaches_path_max(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    extra: int, length: int, refused: bool,
) -> None:
    """PATH_MAX counts the terminating NUL. The temporary file is written
    too: a short name is refused when "FOLDER/.TOKEN.tmp" (folder + 18) would
    not fit. ``extra`` is PATH_MAX less the longer of the two."""
    folder = len(os.fsencode(str(tmp_path)))
    real = os.path.join(str(tmp_path), "m" * length)
    path_max = max(folder + 1 + length, folder + 18) + extra
    _limits(monkeypatch, 255, path_max)
    if not refused:
        _atomic._check_length("given", real)
        return
    with pytest.raises(OSError) as info:
        _atomic._check_length("given", real)
    assert (info.value.errno, info.value.strerror, info.value.filename) == (
        errno.ENAMETOOLONG,
        f"the full path is {folder + 1 + length} bytes long, too long for the "
        f"{path_max - 1} a path may have here", "given")


def test_a_target_that_became_a_folder_is_refused_naming_the_given_path(
    tmp_path: Path,
) -> None:
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(FileExistsError) as info:
        _atomic._still_replaceable(str(tmp_path / "model.npz"), "given.npz")
    assert (info.value.errno, info.value.strerror, info.value.filename) == (
        errno.EEXIST, "it became a directory during the write (left untouched)",
        "given.npz")


# ----------------------------------------------- what save() may replace
H = 3
POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX file types")
ROOT = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod needs root"
)


def same(a: BinarySumRNN, b: BinarySumRNN) -> bool:
    return a.iterations == b.iterations and all(
        np.array_equal(w, b.weights[k]) for k, w in a.weights.items()
    )


@pytest.fixture
def model(backend: str) -> BinarySumRNN:
    return BinarySumRNN(hidden_size=H, bits=5, seed=4, backend=backend).fit(30)


def no_temporaries(*folders: Path) -> None:
    for folder in folders:
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@POSIX
def test_save_through_a_symlink_replaces_its_target(
    tmp_path: Path, model: BinarySumRNN, backend: str
) -> None:
    """Was: the link became a plain file, its target left stale."""
    real_dir = tmp_path / "store"
    real_dir.mkdir()
    BinarySumRNN(hidden_size=H, seed=0).save(real_dir / "real.npz")
    link = tmp_path / "model.npz"
    link.symlink_to(Path("store") / "real.npz")  # relative, another folder
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("store", "real.npz")
    assert same(BinarySumRNN.load(real_dir / "real.npz", backend=backend), model)
    no_temporaries(tmp_path, real_dir)


@POSIX
def test_save_through_a_chain_of_symlinks(
    tmp_path: Path, model: BinarySumRNN, backend: str
) -> None:
    (tmp_path / "real.npz").write_bytes(b"old")
    (tmp_path / "b.npz").symlink_to("real.npz")
    (tmp_path / "a.npz").symlink_to("b.npz")
    model.save(tmp_path / "a.npz")
    assert (tmp_path / "a.npz").is_symlink() and (tmp_path / "b.npz").is_symlink()
    assert same(BinarySumRNN.load(tmp_path / "real.npz", backend=backend), model)
    no_temporaries(tmp_path)


@POSIX
def test_save_through_a_dangling_symlink_creates_its_target(
    tmp_path: Path, model: BinarySumRNN, backend: str
) -> None:
    """Decided: like open(link, "w"), the target is created, the link kept."""
    (tmp_path / "link.npz").symlink_to("new.npz")
    model.save(tmp_path / "link.npz")
    assert (tmp_path / "link.npz").is_symlink()
    assert same(BinarySumRNN.load(tmp_path / "new.npz", backend=backend), model)


@POSIX
def test_save_into_a_symlink_loop_is_an_os_error(
    tmp_path: Path, model: BinarySumRNN
) -> None:
    (tmp_path / "a.npz").symlink_to("b.npz")
    (tmp_path / "b.npz").symlink_to("a.npz")
    with pytest.raises(OSError) as info:
        model.save(tmp_path / "a.npz")
    exc = info.value
    assert (exc.errno, exc.strerror) == (errno.ELOOP, os.strerror(errno.ELOOP))
    assert exc.filename == str(tmp_path / "a.npz") and exc.filename2 is None
    assert (tmp_path / "a.npz").is_symlink() and (tmp_path / "b.npz").is_symlink()
    no_temporaries(tmp_path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saved_model_honours_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "m.npz"
        BinarySumRNN(hidden_size=2, seed=0, backend="python").save(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


@POSIX
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_save_keeps_an_existing_files_permissions(
    tmp_path: Path, model: BinarySumRNN, mode: int
) -> None:
    """Was: a 0600 file came back 0644."""
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    path.chmod(mode)
    old = os.umask(0o022)
    try:
        model.save(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


@POSIX
def test_new_file_gets_0666_less_the_umask(tmp_path: Path, model: BinarySumRNN) -> None:
    old = os.umask(0o027)
    try:
        model.save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.npz").stat().st_mode) == 0o640


@pytest.fixture
def target(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """An existing save target that is not a regular file."""
    kind: str = request.param
    path = tmp_path / "m.npz"
    sock = None
    if kind == "directory":
        path.mkdir()
        (path / "inside").write_text("keep")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
    elif kind == "char-device":  # like /dev/null, but our own node
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    elif kind == "block-device":  # like /dev/loop0: only ever stat'ed here
        os.mknod(path, stat.S_IFBLK | 0o600, os.makedev(7, 0))
    elif kind == "link-to-fifo":
        os.mkfifo(tmp_path / "fifo")
        path.symlink_to("fifo")
    try:
        yield path
    finally:
        if sock is not None:
            sock.close()


def _identity(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_ino, stat.S_IFMT(st.st_mode), st.st_rdev


TARGETS = [
    "directory",
    pytest.param("fifo", marks=POSIX),
    pytest.param("socket", marks=POSIX),
    pytest.param("char-device", marks=[POSIX, ROOT]),
    pytest.param("block-device", marks=[POSIX, ROOT]),
    pytest.param("link-to-fifo", marks=POSIX),
]
# What each refusal promises: the error type, its errno and its text.
_KINDS = {
    "fifo": "a FIFO (named pipe)",
    "socket": "a socket",
    "char-device": "a character device",
    "block-device": "a block device",
    "link-to-fifo": "a FIFO (named pipe)",
}


def expected_refusal(target: Path, kind: str) -> tuple[type[OSError], int, str]:
    if kind == "directory":
        return IsADirectoryError, errno.EISDIR, "it is a directory"
    return (
        FileExistsError,
        errno.EEXIST,
        f"it is {_KINDS[kind]}; only a regular file is replaced (left untouched)",
    )


def assert_refusal(exc: BaseException, target: Path, kind: str) -> None:
    error, number, text = expected_refusal(target, kind)
    assert type(exc) is error, repr(exc)
    assert (exc.errno, exc.strerror, exc.filename) == (number, text, str(target))  # type: ignore[attr-defined]
    assert exc.filename2 is None  # type: ignore[attr-defined]
    assert str(exc) == f"[Errno {number}] {text}: {str(target)!r}"


@pytest.mark.parametrize("target", TARGETS, indirect=True)
def test_save_refuses_a_target_that_is_not_a_regular_file(
    target: Path, model: BinarySumRNN, request: pytest.FixtureRequest
) -> None:
    """Was: os.replace swapped a device node, a FIFO or a socket for a plain
    file (as root, `binsum train --out /dev/null` destroyed /dev/null)."""
    kind = request.node.callspec.params["target"]
    before = _identity(target)
    with pytest.raises(OSError) as info:
        model.save(target)
    assert_refusal(info.value, target, kind)  # the user's path, never the .tmp
    assert _identity(target) == before
    no_temporaries(target.parent)


@pytest.mark.parametrize("target", TARGETS, indirect=True)
def test_atomic_write_and_check_target_refuse_the_same(
    target: Path, request: pytest.FixtureRequest
) -> None:
    """The plot is written with atomic_write; the CLI checks with
    check_target before training: both refuse what save() refuses, in the
    same words, before anything is written."""
    kind = request.node.callspec.params["target"]
    with pytest.raises(OSError) as info:
        check_target(target)
    assert_refusal(info.value, target, kind)
    entered = []
    with pytest.raises(OSError) as info, atomic_write(target) as fh:
        entered.append(fh)
    assert_refusal(info.value, target, kind)
    assert entered == []
    no_temporaries(target.parent)


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (stat.S_IFDIR, "a directory"),
        (stat.S_IFIFO, "a FIFO (named pipe)"),
        (stat.S_IFSOCK, "a socket"),
        (stat.S_IFCHR, "a character device"),
        (stat.S_IFBLK, "a block device"),
        (0, "not a regular file"),  # a type this list does not know
    ],
)
def test_file_kind_names_each_file_type(mode: int, kind: str) -> None:
    assert file_kind(mode | 0o644) == kind


def test_check_target_of_a_new_file_in_a_folder(tmp_path: Path) -> None:
    assert check_target(tmp_path / "new.npz") == (str(tmp_path / "new.npz"), None)
    (tmp_path / "old.npz").write_bytes(b"old")
    real, st = check_target(tmp_path / "old.npz")
    assert real == str(tmp_path / "old.npz") and st is not None
    assert st.st_ino == (tmp_path / "old.npz").stat().st_ino


def test_save_into_a_missing_folder_is_refused_naming_it(
    tmp_path: Path, model: BinarySumRNN
) -> None:
    path = tmp_path / "absent" / "m.npz"
    with pytest.raises(FileNotFoundError) as info:
        model.save(path)
    exc = info.value
    assert (exc.errno, exc.strerror) == (errno.ENOENT, f"no folder {path.parent}")
    assert exc.filename == str(path) and exc.filename2 is None
    assert list(tmp_path.iterdir()) == []


def test_save_into_a_folder_without_write_access_is_refused(
    tmp_path: Path, model: BinarySumRNN, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder must be writable and searchable (as root every folder is:
    os.access is replaced to say what a plain user's would)."""
    asked: list[tuple[str, int]] = []

    def access(path: str, mode: int) -> bool:
        asked.append((path, mode))
        return False

    monkeypatch.setattr(os, "access", access)
    path = tmp_path / "m.npz"
    with pytest.raises(PermissionError) as info:
        model.save(path)
    monkeypatch.undo()
    exc = info.value
    assert (exc.errno, exc.strerror) == (errno.EACCES, "folder is not writable")
    assert exc.filename == str(path)
    assert asked == [(str(tmp_path), os.W_OK | os.X_OK)]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "names",
    [
        ("src", "dst"),  # os.replace's own error: the temporary and the target
        ("src", None),
        ("dst", None),
        (None, None),
        ("elsewhere", None),  # another file's name is kept
        ("src", "elsewhere"),
    ],
)
def test_write_errors_name_the_users_path(
    tmp_path: Path, model: BinarySumRNN, monkeypatch: pytest.MonkeyPatch,
    names: tuple[str | None, str | None],
) -> None:
    """Was: a failing rename named the hidden temporary file. The path is
    given through a link in another folder (relative to the working folder),
    so the user's path, the link's target and the temporary file all differ."""
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "real.npz").write_bytes(b"old")
    (tmp_path / "m.npz").symlink_to(Path("store") / "real.npz")
    monkeypatch.chdir(tmp_path)
    elsewhere = str(tmp_path / "elsewhere")
    real_replace = os.replace

    def cross_device(src: str, dst: str) -> None:
        pick = {"src": src, "dst": dst, "elsewhere": elsewhere, None: None}
        # The five-argument form: OSError(errno, strerror, filename, winerror,
        # filename2) (with four, the fourth is winerror and filename2 is None).
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), pick[names[0]], None,
                      pick[names[1]])

    monkeypatch.setattr(os, "replace", cross_device)
    with pytest.raises(OSError) as info:
        model.save("m.npz")
    monkeypatch.setattr(os, "replace", real_replace)
    exc = info.value
    assert exc.errno == errno.EXDEV
    assert exc.filename == (elsewhere if names[0] == "elsewhere" else "m.npz")
    assert exc.filename2 == (elsewhere if names[1] == "elsewhere" else None)
    assert ".tmp" not in str(exc) and "real.npz" not in str(exc)
    assert (tmp_path / "store" / "real.npz").read_bytes() == b"old"
    assert (tmp_path / "m.npz").is_symlink()
    no_temporaries(tmp_path, tmp_path / "store")


@pytest.mark.parametrize("target", TARGETS, indirect=True)
def test_cli_train_refuses_before_training(
    target: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _identity(target)
    trained: list[int] = []
    monkeypatch.setattr(BinarySumRNN, "fit", lambda self, n, **k: trained.append(n))
    argv: Sequence[str] = ["train", "--iterations", "10", "--out", str(target)]
    assert cli.main(list(argv)) == 1
    out, err = capsys.readouterr()
    assert out == "" and trained == []
    lines = err.splitlines()
    assert len(lines) == 1 and f"cannot write --out {target}" in lines[0], err
    assert _identity(target) == before
