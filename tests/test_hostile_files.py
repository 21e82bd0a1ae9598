"""Files that are not model files, archives and headers built to amplify,
save targets that must not be replaced, and pickles that lie (issue 9).

Whatever could hang or crash runs in a child process with a timeout, killed
in a ``finally``; nothing here touches a real device (device nodes are made
with mknod inside tmp_path, as root only).
"""

from __future__ import annotations

import copyreg
import errno
import io
import os
import pickle
import signal
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import binsum
from binsum import BinarySumRNN, cli
from binsum._atomic import atomic_write, check_target, file_kind
from binsum._modelfile import KEYS, ModelFileError
from binsum._npz import MAX_DIRECTORY, check_directory


@pytest.fixture
def backend() -> str:
    """Files, save targets and pickles are refused before any kernel runs:
    these tests run once, on the default backend."""
    return binsum.backend


H = 3
POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX file types")
ROOT = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod needs root"
)


def child(
    code: str, *args: str, timeout: float = 20.0
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (SIGINT at its default), killed at
    ``timeout`` and in any case before returning."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        if os.name == "posix" else None,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"child still running after {timeout} s: {args}")
    finally:
        proc.kill()
        proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# The child times load() and reports what it raised and its peak memory.
_LOAD = """
    import sys, time, tracemalloc
    from binsum import BinarySumRNN
    tracemalloc.start()
    start = time.perf_counter()
    try:
        BinarySumRNN.load(sys.argv[1], backend=sys.argv[2])
        what = "loaded"
    except Exception as exc:
        what = f"{type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    print(f"{elapsed:.6f} {peak} {what}")
"""


def load_in_child(path: Path | str, backend: str) -> tuple[float, int, str]:
    proc = child(_LOAD, str(path), backend)
    assert proc.returncode == 0, proc.stderr
    elapsed, peak, what = proc.stdout.strip().split(" ", 2)
    return float(elapsed), int(peak), what


# --------------------------------------------------- 1. not regular files
@pytest.fixture
def special(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A FIFO with no writer, a listening socket, a directory or a device."""
    kind: str = request.param
    path = tmp_path / kind
    sock = None
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.listen()
    elif kind == "directory":
        path.mkdir()
    elif kind == "zero-device":
        if os.geteuid() != 0:
            pytest.skip("mknod needs root")
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # like /dev/zero
    else:
        path = Path(kind)  # a real device, only ever read
        if not path.exists():
            pytest.skip(f"no {kind}")
    try:
        yield path
    finally:
        if sock is not None:
            sock.close()


@POSIX
@pytest.mark.parametrize(
    "special",
    ["fifo", "socket", "directory", "zero-device", "/dev/zero", "/dev/urandom"],
    indirect=True,
)
def test_load_refuses_what_is_not_a_regular_file_at_once(
    special: Path, backend: str
) -> None:
    """Was: a FIFO hung forever, /dev/zero and /dev/urandom read without end."""
    elapsed, peak, what = load_in_child(special, backend)
    kind = {"fifo": "a FIFO (named pipe)", "socket": "a socket",
            "directory": "a directory"}.get(special.name, "a character device")
    assert what == (
        f"ModelFileError: {str(special)!r} is {kind}, not a model file "
        "(only regular files are read)"
    )
    assert elapsed < 1.0 and peak < 1 << 20


@POSIX
def test_load_through_a_symlink_to_a_fifo_is_refused(
    tmp_path: Path, backend: str
) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link.npz").symlink_to("fifo")
    _, _, what = load_in_child(tmp_path / "link.npz", backend)
    assert what.startswith("ModelFileError: ") and "a FIFO" in what, what


def test_missing_model_is_still_a_file_not_found_error(
    tmp_path: Path, backend: str
) -> None:
    with pytest.raises(FileNotFoundError):
        BinarySumRNN.load(tmp_path / "absent.npz", backend=backend)


@POSIX
@pytest.mark.parametrize("command", [["add", "1", "2"], ["eval"]])
def test_cli_model_fifo_is_one_line_error(tmp_path: Path, command: list[str]) -> None:
    os.mkfifo(tmp_path / "fifo")
    args = [command[0], "--model", str(tmp_path / "fifo"), *command[1:]]
    proc = child("from binsum.cli import main; import sys; sys.exit(main())",
                 *args, timeout=20)
    # `python -c CODE ARGS`: sys.argv[1:] are the command's arguments.
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "is a FIFO" in lines[0] and proc.stdout == ""


# ------------------------------------------------- 2. zip amplification
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # one central directory entry


def zip_with_directory(path: Path, entries: int, *, zip64: bool) -> Path:
    """A zip whose central directory has ``entries`` entries (built with
    struct, no data): what zipfile would parse entirely before any check."""
    entry = _CENTRAL.pack(
        b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0
    ) + b"a"
    directory = entry * entries
    with open(path, "wb") as fh:
        fh.write(directory)
        end = len(directory)
        if zip64:
            fh.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0,
                                 entries, entries, len(directory), 0))
            fh.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1))
        small = min(entries, 0xFFFF)
        fh.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, small, small,
                             min(len(directory), 0xFFFFFFFF), 0, 0))
    return path


@pytest.mark.parametrize(
    ("entries", "zip64"), [(2_000_000, True), (0xFFFF, False), (14, False)]
)
def test_huge_zip_directory_is_refused_before_zipfile_parses_it(
    tmp_path: Path, backend: str, entries: int, zip64: bool
) -> None:
    """Was: 2 million entries (94 MB) cost 28 s and ~1 GB before any check."""
    path = zip_with_directory(tmp_path / "many.npz", entries, zip64=zip64)
    elapsed, peak, what = load_in_child(path, backend)
    assert what.startswith("ModelFileError: ") and f"{entries} entries" in what, what
    assert elapsed < 0.5 and peak < 1 << 20, (elapsed, peak)


def test_large_zip_directory_with_few_entries_is_refused(
    tmp_path: Path, backend: str
) -> None:
    """13 entries, but names of 60 KB each: the directory's size is bounded."""
    entry = _CENTRAL.pack(
        b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 60_000, 0, 0, 0, 0, 0, 0
    ) + b"a" * 60_000
    directory = entry * 13
    path = tmp_path / "wide.npz"
    path.write_bytes(directory + struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, 13, 13, len(directory), 0, 0))
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=f"at most {MAX_DIRECTORY}"):
            BinarySumRNN.load(path, backend=backend)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200_000


def test_zip64_model_file_still_loads(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model over 2 GiB is written with zip64 end records (np.savez allows
    zip64): forced here on a small file, it loads the same."""
    model = BinarySumRNN(hidden_size=H, bits=5, seed=3, backend=backend).fit(40)
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 100)
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    model.save(tmp_path / "m.npz")
    monkeypatch.undo()
    raw = (tmp_path / "m.npz").read_bytes()
    assert raw[-42:-38] == b"PK\x06\x07"  # the zip64 locator is really there
    loaded = BinarySumRNN.load(tmp_path / "m.npz", backend=backend)
    assert np.array_equal(loaded.weights["wh"], model.weights["wh"])
    assert np.array_equal(loaded.history, model.history)


# The end of a model file, written by hand: the end record, and before it
# (zip64) the zip64 end record and its locator, each field chosen per case.
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR = struct.Struct("<4sLQL")
_FULL = {"disk": 0xFFFF, "cd_disk": 0xFFFF, "n_disk": 0xFFFF, "n_total": 0xFFFF,
         "cd_size": 0xFFFFFFFF, "cd_offset": 0xFFFFFFFF}


def rebuilt_end(
    raw: bytes, *, zip64: bool, small: dict[str, int] | None = None,
    big: dict[str, int] | None = None, locator: dict[str, int] | None = None,
    record_sig: bytes = b"PK\x06\x06", comment: bytes = b"",
) -> bytes:
    """``raw`` (a zip with a plain end record, as np.savez writes a model)
    with a new end: the 32-bit end record's fields default to the true ones
    (``small`` overrides them), and with ``zip64`` the zip64 record (``big``)
    and its locator (``locator``: disk, record_at, disks) come before it."""
    sig, *values, comment_len = _EOCD.unpack(raw[-_EOCD.size:])
    assert sig == b"PK\x05\x06" and comment_len == 0
    body = raw[: -_EOCD.size]
    true = dict(zip(_FULL, values, strict=True))
    tail = b""
    if zip64:
        b = {**true, **(big or {})}
        tail += _EOCD64.pack(record_sig, 44, 45, 45, b["disk"], b["cd_disk"],
                             b["n_disk"], b["n_total"], b["cd_size"], b["cd_offset"])
        loc = {"disk": 0, "record_at": len(body), "disks": 1, **(locator or {})}
        tail += _LOCATOR.pack(b"PK\x06\x07", loc["disk"], loc["record_at"],
                              loc["disks"])
    s = {**true, **(small or {})}
    tail += _EOCD.pack(b"PK\x05\x06", s["disk"], s["cd_disk"], s["n_disk"],
                       s["n_total"], s["cd_size"], s["cd_offset"], len(comment))
    return body + tail + comment


@pytest.fixture
def plain_zip(tmp_path: Path, backend: str) -> bytes:
    path = tmp_path / "plain.npz"
    BinarySumRNN(hidden_size=H, bits=5, seed=3, backend=backend).fit(40).save(path)
    return path.read_bytes()


@pytest.mark.parametrize(
    "end",
    [
        {"zip64": False},
        {"zip64": True},  # the 32-bit fields hold the true values
        {"zip64": True, "small": _FULL},  # ... or say "see the zip64 record"
        {"zip64": True, "small": {"n_disk": 0xFFFF, "cd_offset": 0xFFFFFFFF}},
    ],
    ids=["plain", "zip64-same", "zip64-full", "zip64-mixed"],
)
def test_model_files_with_each_valid_end_load(
    plain_zip: bytes, tmp_path: Path, backend: str, end: dict[str, Any]
) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(rebuilt_end(plain_zip, **end))
    model = BinarySumRNN.load(path, backend=backend)
    assert model.iterations == 40 and model.hidden_size == H


@pytest.mark.parametrize(
    ("end", "why"),
    [
        ({"zip64": False, "comment": b"x"}, "no zip end record at its end"),
        ({"zip64": False, "small": {"disk": 1}}, "multi-disk zip archive"),
        ({"zip64": False, "small": {"cd_disk": 1}}, "multi-disk zip archive"),
        ({"zip64": False, "small": {"n_disk": 12}}, "multi-disk zip archive"),
        ({"zip64": False, "small": {"n_disk": 14, "n_total": 14}},
         "14 entries (a model file has 13)"),
        ({"zip64": False, "small": {"cd_offset": 1}},
         "zip directory is not where its end record says"),
        ({"zip64": True, "locator": {"disk": 1}}, "misplaced zip64 end record"),
        ({"zip64": True, "locator": {"disks": 2}}, "misplaced zip64 end record"),
        ({"zip64": True, "locator": {"record_at": 0}}, "misplaced zip64 end record"),
        ({"zip64": True, "record_sig": b"PK\x06\x05"}, "misplaced zip64 end record"),
        *(
            ({"zip64": True, "small": {key: 7}},
             "zip64 end record disagrees with the end record")
            for key in _FULL
        ),
        ({"zip64": True, "small": {"disk": 1}, "big": {"disk": 1}},
         "multi-disk zip archive"),
        ({"zip64": True, "small": _FULL, "big": {"cd_disk": 1}},
         "multi-disk zip archive"),
        ({"zip64": True, "small": _FULL, "big": {"n_disk": 12}},
         "multi-disk zip archive"),
        ({"zip64": True, "small": _FULL, "big": {"n_disk": 2**40, "n_total": 2**40}},
         f"{2**40} entries (a model file has 13)"),
        ({"zip64": True, "small": _FULL, "big": {"cd_size": 2**33}},
         f"zip directory of {2**33} bytes (at most {MAX_DIRECTORY})"),
        ({"zip64": True, "small": _FULL, "big": {"cd_offset": 0}},
         "zip directory is not where its end record says"),
    ],
)
def test_each_bad_end_record_is_refused_with_its_reason(
    plain_zip: bytes, tmp_path: Path, backend: str, end: dict[str, Any], why: str
) -> None:
    """zipfile is never handed an archive whose end records it could read
    otherwise than this check did."""
    path = tmp_path / "m.npz"
    path.write_bytes(rebuilt_end(plain_zip, **end))
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(path, backend=backend)
    assert str(info.value) == f"{str(path)!r} is not a binsum model file: {why}"


def test_trailing_bytes_after_the_end_record_are_refused(
    plain_zip: bytes, tmp_path: Path, backend: str
) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(plain_zip + b"\0" * 30)
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(path, backend=backend)
    assert str(info.value) == (
        f"{str(path)!r} is not a binsum model file: no zip end record at its end"
    )


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "too short for a zip archive"),
        (b"PK\x05\x06" + b"\0" * 17, "too short for a zip archive"),  # 21 bytes
        # The smallest archives: their end records are accepted, and then
        # they lack every member.
        (_EOCD.pack(b"PK\x05\x06", 0, 0, 0, 0, 0, 0, 0), None),
        (_EOCD64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, 0, 0, 0, 0)
         + _LOCATOR.pack(b"PK\x06\x07", 0, 0, 1)
         + _EOCD.pack(b"PK\x05\x06", *_FULL.values(), 0), None),
    ],
    ids=["empty", "21-bytes", "empty-zip", "empty-zip64"],
)
def test_the_shortest_files(
    tmp_path: Path, backend: str, data: bytes, why: str | None
) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(data)
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(path, backend=backend)
    if why is None:
        assert str(info.value) == "model file is missing the key 'format_version'"
    else:
        assert str(info.value) == f"{str(path)!r} is not a binsum model file: {why}"


def test_a_file_that_shrinks_while_read_is_refused(plain_zip: bytes) -> None:
    """The size is taken once (fstat); a file cut shorter before its end
    record is read gives fewer bytes than asked for."""
    with pytest.raises(ModelFileError) as info:
        check_directory(io.BytesIO(plain_zip[:-10]), len(plain_zip), "m.npz",
                        "model file", len(KEYS))
    assert str(info.value) == "'m.npz' is not a binsum model file: truncated"


def with_central_comment(members: dict[str, bytes], path: Path, pad: int) -> Path:
    """A model zip whose central directory is ``pad`` bytes longer (an entry
    comment: it is stored in the directory only)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i, (key, data) in enumerate(members.items()):
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            if i == 0:
                info.comment = b"c" * pad
            zf.writestr(info, data)
    return path


def test_the_largest_zip_directory_allowed_loads(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    plain = with_central_comment(members, tmp_path / "p.npz", 0).read_bytes()
    cd_size = _EOCD.unpack(plain[-_EOCD.size:])[5]
    path = with_central_comment(members, tmp_path / "m.npz", MAX_DIRECTORY - cd_size)
    assert _EOCD.unpack(path.read_bytes()[-_EOCD.size:])[5] == MAX_DIRECTORY
    assert BinarySumRNN.load(path, backend=backend).iterations == 40
    path = with_central_comment(
        members, tmp_path / "m.npz", MAX_DIRECTORY - cd_size + 1)
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(path, backend=backend)
    assert str(info.value) == (
        f"{str(path)!r} is not a binsum model file: zip directory of "
        f"{MAX_DIRECTORY + 1} bytes (at most {MAX_DIRECTORY})"
    )


@pytest.fixture
def members(tmp_path: Path, backend: str) -> dict[str, bytes]:
    path = tmp_path / "good.npz"
    BinarySumRNN(hidden_size=H, bits=5, seed=3, backend=backend).fit(40).save(path)
    with zipfile.ZipFile(path) as zf:
        return {name[: -len(".npy")]: zf.read(name) for name in zf.namelist()}


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for key, data in members.items():
            zf.writestr(key + ".npy", data)
    return path


def npy(arr: object) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def npy_v1(header: str, body: bytes = b"") -> bytes:
    raw = header.encode("latin-1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(raw)) + raw + body


def minuses(n: int) -> str:
    return "{'descr': '<f8', 'fortran_order': False, 'shape': (" + "-" * n + "3, 3), }"


@pytest.mark.parametrize(
    ("key", "member"),
    [
        ("wh", npy_v1(minuses(3000), b"\0" * 72)),
        ("wh", npy_v1(minuses(60000), b"\0" * 72)),
        ("wo", npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (3, True), }",
                      b"\0" * 24)),
        ("pending", npy_v1(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (True, 2), }",
            b"\0" * 16)),
        ("wo", npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1.0), }",
                      b"\0" * 24)),
        ("wh", npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (9), }",
                      b"\0" * 72)),
        ("wh", npy_v1("{'descr': '<f8', 'fortran_order': 0, 'shape': (3, 3), }",
                      b"\0" * 72)),
        ("wh", npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), "
                      "'extra': [[[[[[]]]]]]}", b"\0" * 72)),
        # version 2.0: a 4-byte header length, here claiming 4 GB
        ("wh", b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFFF) + b" " * 100),
        ("wh", b"\x93NUMPY\x03\x00" + struct.pack("<I", 10) + b" " * 10),
    ],
    ids=["3000-minus", "60000-minus", "3-True", "True-2", "float-dim", "int-shape",
         "int-fortran", "extra-key", "v2-4GB-header", "v3"],
)
def test_malformed_headers_are_model_file_errors(
    members: dict[str, bytes], tmp_path: Path, backend: str, key: str, member: bytes
) -> None:
    """Was: RecursionError / MemoryError for the minus signs, TypeError for
    (3, True): the CLI called them internal errors."""
    members[key] = member
    path = write_zip(tmp_path / "m.npz", members)
    _, peak, what = load_in_child(path, backend)
    assert what.startswith("ModelFileError: ") and f"'{key}' is corrupt" in what, what
    assert peak < 1 << 20


def npy_with_header(text: str, body: bytes, version: bytes = b"\x01\x00") -> bytes:
    raw = text.encode("latin-1")
    size = struct.pack("<H" if version == b"\x01\x00" else "<I", len(raw))
    return b"\x93NUMPY" + version + size + raw + body


WH = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }"


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (npy_with_header(WH, b"\0" * 72, b"\x01\x01"), "unsupported .npy version 1.1"),
        (npy_with_header(WH, b"\0" * 72, b"\x02\x01"), "unsupported .npy version 2.1"),
        (npy_with_header(WH, b"\0" * 72, b"\x03\x00"), "unsupported .npy version 3.0"),
        (npy_with_header(WH, b"\0" * 72, b"\x00\x00"), "unsupported .npy version 0.0"),
        (b"\x93NUMPY", "not a .npy array"),  # the magic, no version
        (b"\x93NUMPX\x01\x00" + npy_with_header(WH, b"\0" * 72)[8:],
         "not a .npy array"),
        (b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFFF) + b" " * 100,
         "header of 4294967295 bytes (at most 4096)"),
        (npy_with_header(WH + " " * (4097 - len(WH)), b"\0" * 72),
         "header of 4097 bytes (at most 4096)"),
    ],
    ids=["v1.1", "v2.1", "v3.0", "v0.0", "magic-only", "bad-magic", "v2-4GB-header",
         "4097-byte-header"],
)
def test_npy_versions_and_header_sizes_are_refused_exactly(
    members: dict[str, bytes], tmp_path: Path, backend: str, member: bytes, why: str
) -> None:
    members["wh"] = member
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(write_zip(tmp_path / "m.npz", members), backend=backend)
    assert str(info.value) == f"model file key 'wh' is corrupt: {why}"


@pytest.mark.parametrize("version", [b"\x01\x00", b"\x02\x00"])
def test_npy_versions_1_and_2_and_the_largest_header_load(
    members: dict[str, bytes], tmp_path: Path, backend: str, version: bytes
) -> None:
    wh = np.arange(9.0).reshape(3, 3) / 7
    for text in (WH, WH + " " * (4095 - len(WH)) + "\n"):  # 4096 bytes: allowed
        members["wh"] = npy_with_header(text, wh.tobytes(), version)
        model = BinarySumRNN.load(write_zip(tmp_path / "m.npz", members),
                                  backend=backend)
        assert np.array_equal(model.weights["wh"], wh)


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (npy_with_header(WH, b"\0" * 73), "'wh' declares 72 bytes but holds 73"),
        (npy_with_header(WH, b"\0" * 71), "'wh' declares 72 bytes but holds 71"),
        (npy_with_header(WH, b""), "'wh' declares 72 bytes but holds 0"),
        (b"\x93NUMPY\x01\x00\x10", "'wh' is truncated"),  # half the length
        (b"\x93NUMPY\x02\x00\x10\x00\x00", "'wh' is truncated"),
        (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(WH) + 1) + WH.encode(),
         "'wh' is truncated"),  # the header is one byte short
    ],
    ids=["one-more", "one-less", "no-data", "v1-length", "v2-length", "header"],
)
def test_members_whose_sizes_disagree_are_refused_exactly(
    members: dict[str, bytes], tmp_path: Path, backend: str, member: bytes,
    message: str,
) -> None:
    members["wh"] = member
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(write_zip(tmp_path / "m.npz", members), backend=backend)
    assert str(info.value) == f"model file key {message}"


@pytest.mark.parametrize(
    "descr",
    [",i8", "i8,", "(2,)i8", "2i8,f8", "<i8,<i8", "O", "|V8", "<U9999", "x9", "<f8"],
)
def test_a_member_of_another_dtype_is_named_in_a_model_file_error(
    members: dict[str, bytes], tmp_path: Path, backend: str, descr: str
) -> None:
    """Was (found by fuzz/fuzz_binsum.py): SyntaxError from numpy's parser of
    comma-separated dtype strings, called to name the dtype in the message."""
    members["bits"] = npy_v1(
        "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (), }",
        b"\0" * 8,
    )
    path = write_zip(tmp_path / "m.npz", members)
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(path, backend=backend)
    # A plain dtype string numpy knows by its name, anything else as given.
    shown = {"O": "object", "|V8": "|V8", "<f8": "float64"}.get(descr, repr(descr))
    assert str(info.value) == (
        f"model file key 'bits' must have dtype int64, got {shown}"
    )


def load_measured(path: Path, backend: str) -> tuple[BinarySumRNN, int]:
    """The loaded model and the peak memory (bytes) that loading it took."""
    tracemalloc.start()
    try:
        model = BinarySumRNN.load(path, backend=backend)
        return model, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_load_needs_about_the_file_size_in_memory(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    """Was 2x: the bytes read, then a copy of them as the array."""
    n = 4 << 20  # 32 MiB of history
    members["iterations"] = npy(np.int64(n))
    members["history"] = npy(np.linspace(0.0, 1.0, n))
    path = write_zip(tmp_path / "big.npz", members)
    size = path.stat().st_size
    model, peak = load_measured(path, backend)
    assert model.iterations == n and model.history[-1] == 1.0
    assert peak < 1.05 * size + (4 << 20), (peak, size)


def test_fortran_order_member_loads_without_a_second_copy(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    """A Fortran-order wh (8 MiB) is read into a C-order array through a
    small buffer: was 2x (the bytes, then a C copy)."""
    h = 1024
    rng = np.random.default_rng(0)
    wh = rng.random((h, h))
    members["hidden_size"] = npy(np.int64(h))
    members["wi"] = npy(rng.random((2, h)))
    members["wh"] = npy(np.asfortranarray(wh))
    members["wo"] = npy(rng.random((h, 1)))
    path = write_zip(tmp_path / "f.npz", members)
    size = path.stat().st_size
    model, peak = load_measured(path, backend)
    assert np.array_equal(model.weights["wh"], wh)
    assert peak < 1.05 * size + (4 << 20), (peak, size)


# -------------------------------------------------------- 9. loose ends
def test_seed_above_the_constructors_range_is_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    members = dict(members)  # two values in turn: not in the shared fixture
    members["seed"] = npy(np.array(str(2**128), dtype="<U64"))
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(write_zip(tmp_path / "m.npz", members), backend=backend)
    assert str(info.value) == (
        f"model file has an invalid value: seed must be in 0..2**128-1, got {2**128}"
    )
    members["seed"] = npy(np.array(str(2**128 - 1), dtype="<U64"))
    model = BinarySumRNN.load(write_zip(tmp_path / "m.npz", members), backend=backend)
    assert model.seed == 2**128 - 1


# --------------------------------------------------- 4. lying pickles
class _Crafted:
    """Pickles as a BinarySumRNN with ``state`` (NEWOBJ + BUILD, as a real
    model pickles), so unpickling runs BinarySumRNN.__setstate__(state)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # pickle checks NEWOBJ's class is obj's
        return BinarySumRNN

    def __reduce__(self) -> tuple[Any, ...]:
        return (copyreg.__newobj__, (BinarySumRNN,), self.state)  # type: ignore[attr-defined]


class AllowList(pickle.Unpickler):
    """An unpickler admitting only binsum's and numpy's classes."""

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] in ("binsum", "numpy"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed")


def allow_list_loads(data: bytes) -> Any:
    return AllowList(io.BytesIO(data)).load()


def state_of(backend: str) -> dict[str, Any]:
    model = BinarySumRNN(hidden_size=H, bits=5, seed=3, backend=backend).fit(40)
    state: dict[str, Any] = model.__getstate__()
    return state


def _tamper(fields: dict[str, Any], key: str, value: Any) -> None:
    if value is _MISSING:
        del fields[key]
    else:
        fields[key] = value


_MISSING = object()
TAMPERED: dict[str, tuple[str, Any, str]] = {
    "wo-shape": ("wo", np.zeros((H + 1, 1)), "'wo' must have shape"),
    "wo-1d": ("wo", np.zeros(H), "'wo' must have shape"),
    "wh-shape": ("wh", np.zeros((H, H + 1)), "'wh' must have shape"),
    "hidden-size": ("hidden_size", np.int64(64), "'wi' must have shape"),
    "hidden-size-huge": ("hidden_size", np.int64(10**6), "hidden_size must be in"),
    "bits-200": ("bits", np.int64(200), "bits must be in"),
    "pending-huge": ("pending", np.array([[2**62, 2**62]], dtype=np.int64),
                     "'pending' holds pairs outside"),
    "pending-negative": ("pending", np.array([[-1, 0]], dtype=np.int64),
                         "'pending' holds pairs outside"),
    "pending-shape": ("pending", np.zeros((2, 3), dtype=np.int64),
                      "'pending' must have shape"),
    "wh-float32": ("wh", np.zeros((H, H), dtype=np.float32), "'wh' must have dtype"),
    "wi-int": ("wi", np.zeros((2, H), dtype=np.int64), "'wi' must have dtype"),
    "pending-float": ("pending", np.zeros((0, 2)), "'pending' must have dtype"),
    "history-object": ("history", np.zeros(40, dtype=object),
                       "'history' must have dtype"),
    "wi-list": ("wi", [[0.0] * H] * 2, "'wi' must be a numpy array"),
    "hidden-int": ("hidden_size", H, "'hidden_size' must be a numpy array"),
    "seed-str": ("seed", "3", "'seed' must be a numpy array"),
    "seed-huge": ("seed", np.array(str(2**128), dtype="<U64"), "seed must be in"),
    "seed-minus": ("seed", np.array("-3", dtype="<U64"), "'seed' is not"),
    "iterations": ("iterations", np.int64(39), "'history' holds 40 losses, more"),
    "iterations-negative": (
        "iterations", np.int64(-1), r"iterations must be in 0\.\.2\*\*63-1, got -1"
    ),
    "wh-nan": ("wh", np.full((H, H), np.nan), "'wh' holds non-finite"),
    "lr-nan": ("learning_rate", np.float64("nan"), "learning_rate must be"),
    "clip-zero": ("clip", np.float64(0.0), "clip must be"),
    "rng-state": ("rng_state", np.array([0, 1, 0, 1, 5, 0], dtype=np.uint64),
                  "'rng_state' is not a PCG64 state"),
    "missing-wo": ("wo", _MISSING, "missing the key 'wo'"),
    "extra-key": ("extra", np.zeros(3), "unknown keys 'extra'"),
}


def tampered_state(backend: str, case: str) -> dict[str, Any]:
    key, value, _ = TAMPERED[case]
    state = state_of(backend)
    _tamper(state["fields"], key, value)
    return state


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_lying_pickle_state_is_refused(backend: str, case: str) -> None:
    """Was: copied unchecked into the kernel (heap overflows under ASan)."""
    match = TAMPERED[case][2]
    obj = BinarySumRNN.__new__(BinarySumRNN)
    with pytest.raises(ValueError, match=match):
        obj.__setstate__(tampered_state(backend, case))
    data = pickle.dumps(_Crafted(tampered_state(backend, case)))
    with pytest.raises(ValueError, match=match):
        pickle.loads(data)
    with pytest.raises(ValueError, match=match):
        allow_list_loads(data)


BAD_STATES: dict[str, tuple[Callable[[dict[str, Any]], Any], type, str]] = {
    "not-a-dict": (lambda s: [s["fields"], s["backend"]], TypeError, "must be a dict"),
    "no-backend": (lambda s: {"fields": s["fields"]}, ValueError, "keys"),
    "extra": (lambda s: {**s, "x": 1}, ValueError, "keys"),
    "fields-list": (lambda s: {**s, "fields": list(s["fields"].items())},
                    ValueError, "must be a mapping"),
    "backend-int": (lambda s: {**s, "backend": 42}, TypeError, "backend must be"),
    "backend-name": (lambda s: {**s, "backend": "fortran"}, ValueError,
                     "backend must be"),
}


@pytest.mark.parametrize("case", sorted(BAD_STATES))
def test_malformed_pickle_state_is_refused(backend: str, case: str) -> None:
    make, error, match = BAD_STATES[case]
    obj = BinarySumRNN.__new__(BinarySumRNN)
    with pytest.raises(error, match=match):
        obj.__setstate__(make(state_of(backend)))
    with pytest.raises(error, match=match):
        allow_list_loads(pickle.dumps(_Crafted(make(state_of(backend)))))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.update(wh=np.zeros((H, H), dtype=("<f8", [("a", "<f8")]))),
         "pickled model key 'wh' must have dtype float64, got "
         "(numpy.float64, [('a', '<f8')])"),  # kind and size of float64, and fields
        (lambda f: f.update(wi=[[0.0] * H] * 2),
         "pickled model key 'wi' must be a numpy array, got list"),
        (lambda f: f.update(history=np.zeros((40, 1))),
         "pickled model key 'history' must have shape ('any',), got (40, 1)"),
        (lambda f: f.update({f"x{i}": 0 for i in range(7)}),
         "pickled model has unknown keys 'x0', 'x1', 'x2', 'x3', 'x4'"),
        (lambda f: f.pop("clip"), "pickled model is missing the key 'clip'"),
        (lambda f: f.update(bits=np.float64(5)),
         "pickled model key 'bits' must have dtype int64, got float64"),
        (lambda f: f.update(seed=np.int64(3)),
         "pickled model key 'seed' must have dtype <U64, got int64"),
        (lambda f: f.update(clip=np.float64(0.0)),
         "pickled model has an invalid value: clip must be finite and > 0, got 0.0"),
    ],
)
def test_each_pickle_refusal_says_exactly_what_is_wrong(
    backend: str, change: Callable[[dict[str, Any]], Any], message: str
) -> None:
    state = state_of(backend)
    change(state["fields"])
    with pytest.raises(ModelFileError) as info:
        pickle.loads(pickle.dumps(_Crafted(state)))
    assert str(info.value) == message


def test_pickled_fields_that_are_not_a_mapping_are_refused(backend: str) -> None:
    obj = BinarySumRNN.__new__(BinarySumRNN)
    with pytest.raises(ModelFileError) as info:
        obj.__setstate__({**state_of(backend), "fields": [1]})
    assert str(info.value) == "pickled model fields must be a mapping, got list"


def test_pickled_arrays_of_any_layout_and_byte_order_are_taken_as_c_arrays(
    backend: str,
) -> None:
    """A pickle made elsewhere: a Fortran-order wh, a big-endian wi; the model
    holds native C-ordered copies with the same values."""
    state = state_of(backend)
    fields = state["fields"]
    wh = np.arange(H * H, dtype=np.float64).reshape(H, H) / 10
    fields["wh"] = np.asfortranarray(wh)
    fields["wi"] = fields["wi"].astype(">f8")
    model = pickle.loads(pickle.dumps(_Crafted(state)))
    for key, want in (("wh", wh), ("wi", fields["wi"])):
        got = model.weights[key]
        assert got.flags.c_contiguous and got.dtype == np.float64, key
        assert got.dtype.isnative and np.array_equal(got, want), key
        assert not np.shares_memory(got, fields[key])
    fields["wh"][...] = 7  # the model's copy does not see it
    assert np.array_equal(model.weights["wh"], wh)


def test_pickles_round_trip_through_an_allow_list(backend: str) -> None:
    model = BinarySumRNN(hidden_size=H, bits=5, seed=3, backend=backend).fit(40)
    for again in (pickle.loads(pickle.dumps(model)),
                  allow_list_loads(pickle.dumps(model)),
                  allow_list_loads(pickle.dumps(_Crafted(state_of(backend))))):
        assert again.backend == backend and again.iterations == 40
        assert np.array_equal(again.history, model.history)
        for key, w in model.weights.items():
            assert np.array_equal(again.weights[key], w)
        assert np.array_equal(again.predict(np.arange(9), 3), model.predict(
            np.arange(9), 3))
        again.fit(10)
        model_more = pickle.loads(pickle.dumps(model)).fit(10)
        assert np.array_equal(again.weights["wh"], model_more.weights["wh"])


def test_getstate_returns_copies_and_setstate_keeps_its_own(backend: str) -> None:
    model = BinarySumRNN(hidden_size=H, bits=5, seed=3, backend=backend).fit(40)
    before = model.weights
    state = model.__getstate__()
    for key in ("wi", "wh", "wo", "history", "pending"):
        state["fields"][key] = np.array(state["fields"][key])  # writable either way
    fields = model.__getstate__()["fields"]
    for key in ("wi", "wh", "wo", "history", "pending"):
        assert fields[key].flags.writeable and fields[key].flags.owndata, key
        fields[key][...] = 7  # the live model must not see this
    assert all(np.array_equal(model.weights[k], w) for k, w in before.items())

    other = BinarySumRNN.__new__(BinarySumRNN)
    other.__setstate__(state)
    state["fields"]["wh"][...] = 7  # nor a model made from a state
    assert np.array_equal(other.weights["wh"], before["wh"])


# ------------------------------------------- 3. what save() may replace
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


def test_model_file_keys_unchanged() -> None:
    """The format is unchanged: the same 13 members."""
    assert len(KEYS) == 13
