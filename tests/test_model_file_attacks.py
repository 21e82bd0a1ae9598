"""Attacks on model files: load() must refuse each with a clear ModelFileError
(a ValueError), never unpickle anything, never allocate what a file merely
claims, and never open what is not a regular file. Files are crafted member by
member from a valid save, and archives and headers are built to amplify.

Whatever could hang or crash runs in a child process with a timeout, killed
in a ``finally``; nothing here touches a real device (device nodes are made
with mknod inside tmp_path, as root only).
"""

from __future__ import annotations

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import binsum
from binsum import BinarySumRNN, _modelfile
from binsum._modelfile import FIELDS, MEMBERS, ModelFileError, check_fields
from binsum._npz import MAX_DIRECTORY, _fill, check_directory


@pytest.fixture
def backend() -> str:
    """Reading and checking a model file does not depend on the kernel:
    these tests run once, on the default backend."""
    return binsum.backend


H = 3  # hidden size of the model every attack starts from


def npy(arr: object, *, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr), allow_pickle=allow_pickle)
    return buf.getvalue()


def npy_header(descr: str, shape: tuple[int, ...], fortran: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": fortran, "shape": shape}
    )
    return buf.getvalue()


def write_zip(path: Path, members: dict[str, bytes], *, compress: bool = False) -> Path:
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as zf:
        for key, data in members.items():
            zf.writestr(key + ".npy", data)
    return path


@pytest.fixture
def saved(make_model: Callable[..., BinarySumRNN], tmp_path: Path) -> Path:
    path = tmp_path / "good.npz"
    make_model(hidden_size=H, bits=5, seed=3).fit(40).save(path)
    return path


@pytest.fixture
def members(saved: Path) -> dict[str, bytes]:
    """The raw .npy bytes of every member of a valid model file."""
    with zipfile.ZipFile(saved) as zf:
        return {name[: -len(".npy")]: zf.read(name) for name in zf.namelist()}


def refused(path: Path, backend: str, match: str) -> None:
    with pytest.raises(ModelFileError, match=match):
        BinarySumRNN.load(path, backend=backend)


# -------------------------------------------- members crafted from a valid save
def test_rebuilt_file_loads(
    members: dict[str, bytes], saved: Path, tmp_path: Path, backend: str
) -> None:
    """The crafting itself is sound: unmodified members make a loadable model,
    so each refusal below is caused by its attack alone."""
    assert set(members) == set(MEMBERS)
    model = BinarySumRNN.load(write_zip(tmp_path / "m.npz", members), backend=backend)
    original = BinarySumRNN.load(saved, backend=backend)
    assert model.iterations == original.iterations == 40
    for key, w in original.weights.items():
        assert np.array_equal(model.weights[key], w)
    assert np.array_equal(model.history, original.history)
    assert issubclass(ModelFileError, ValueError)


class _Payload:
    """Unpickling this creates ``marker``: proof that something was unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("key", ["wh", "hidden_size", "seed", "rng_state"])
def test_pickled_object_array_is_refused_without_unpickling(
    members: dict[str, bytes], tmp_path: Path, backend: str, key: str
) -> None:
    # The payload is live: unpickling it on its own creates its marker.
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Payload(str(probe)))).close()
    assert probe.exists()

    marker = tmp_path / "pwned"
    evil = np.empty((H, H) if key == "wh" else (), dtype=object)
    evil[...] = _Payload(str(marker))
    members[key] = npy(evil, allow_pickle=True)
    path = write_zip(tmp_path / "evil.npz", members)
    refused(path, backend, rf"{key}.*dtype.*got object")
    assert not marker.exists()


@pytest.mark.parametrize("cut", [0, 1, 22, 100, 0.5, -1, -22])
def test_truncated_file_is_refused(
    saved: Path, tmp_path: Path, backend: str, cut: float
) -> None:
    raw = saved.read_bytes()
    n = int(len(raw) * cut) if isinstance(cut, float) else cut % len(raw)
    path = tmp_path / "cut.npz"
    path.write_bytes(raw[:n])
    refused(path, backend, "not a binsum model file|corrupt|truncated|missing")


def test_corrupted_data_is_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    """A flipped byte inside a member's data fails the zip CRC check."""
    path = write_zip(tmp_path / "m.npz", members)
    raw = bytearray(path.read_bytes())
    at = bytes(raw).find(members["wh"]) + len(members["wh"]) - 3
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    refused(path, backend, "corrupt")


def test_corrupted_npy_header_is_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    members = dict(members)  # several values in turn: not in the shared fixture
    header = b"{'descr': 1, }\n"
    members["wi"] = b"\x93NUMPY\x01\x00" + bytes([len(header), 0]) + header
    refused(write_zip(tmp_path / "m.npz", members), backend, "'wi' is corrupt")
    members["wi"] = b"not an npy file at all"
    refused(write_zip(tmp_path / "m.npz", members), backend, "'wi' is corrupt")
    # An unclosed brace: numpy's parser raised tokenize.TokenError (fuzzing).
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), \n"
    members["wi"] = b"\x93NUMPY\x01\x00" + bytes([len(header), 0]) + header
    refused(write_zip(tmp_path / "m.npz", members), backend, "'wi' is corrupt")


@pytest.mark.parametrize("size", [0, 1, 64, 4096])
def test_random_bytes_are_refused(tmp_path: Path, backend: str, size: int) -> None:
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(size).bytes(size))
    refused(path, backend, "not a binsum model file")


@pytest.mark.parametrize("key", MEMBERS)
def test_missing_key_is_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str, key: str
) -> None:
    members = {k: v for k, v in members.items() if k != key}  # fixture unchanged
    refused(write_zip(tmp_path / "m.npz", members), backend, f"missing the key '{key}'")


WRONG_SHAPES = {
    "wi": np.zeros((3, H)),
    "wh": np.zeros((H, H + 1)),
    "wo": np.zeros(H),
    "history": np.zeros((40, 1)),
    "pending": np.zeros((2, 3), dtype=np.int64),
    "rng_state": np.zeros(5, dtype=np.uint64),
    "hidden_size": np.array([H], dtype=np.int64),
    "seed": np.array(["3"], dtype="<U64"),
}


@pytest.mark.parametrize("key", sorted(WRONG_SHAPES))
def test_wrong_shape_is_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str, key: str
) -> None:
    members[key] = npy(WRONG_SHAPES[key])
    refused(write_zip(tmp_path / "m.npz", members), backend, f"'{key}' must have shape")


WRONG_DTYPES = {
    "wi": np.zeros((2, H), dtype=np.float32),
    "wh": np.zeros((H, H), dtype=np.int64),
    "wo": np.zeros((H, 1), dtype=">f8"),  # big-endian
    "history": np.zeros(40, dtype=np.complex128),
    "pending": np.zeros((0, 2), dtype=np.float64),
    "rng_state": np.zeros(6, dtype=np.int64),
    "hidden_size": np.float64(H),
    "learning_rate": np.int64(1),
    "format_version": np.bool_(True),
    "seed": np.bytes_(b"3"),
}


@pytest.mark.parametrize("key", sorted(WRONG_DTYPES))
def test_wrong_dtype_is_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str, key: str
) -> None:
    members[key] = npy(WRONG_DTYPES[key])
    refused(write_zip(tmp_path / "m.npz", members), backend, f"'{key}' must have dtype")


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("key", ["wi", "wh", "wo", "history"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused(
    members: dict[str, bytes], saved: Path, tmp_path: Path, backend: str,
    key: str, bad: float, where: str,
) -> None:
    with zipfile.ZipFile(saved) as zf:
        arr = np.load(io.BytesIO(zf.read(key + ".npy")), allow_pickle=False)
    at = {"first": 0, "middle": arr.size // 2, "last": arr.size - 1}[where]
    arr.flat[at] = bad
    members[key] = npy(arr)
    path = write_zip(tmp_path / "m.npz", members)
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(path, backend=backend)
    assert str(info.value) == f"model file key '{key}' holds non-finite values"


# The finiteness check reads a long history in chunks of this many losses.
_CHUNK_LOSSES = (1 << 20) // 8


@pytest.mark.parametrize(
    "at",
    [0, _CHUNK_LOSSES - 1, _CHUNK_LOSSES, 2 * _CHUNK_LOSSES, 2 * _CHUNK_LOSSES + 4],
)
def test_a_non_finite_loss_anywhere_in_a_long_history_is_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str, at: int
) -> None:
    """First and last of each chunk, and the last loss of all."""
    n = 2 * _CHUNK_LOSSES + 5
    history = np.linspace(0.0, 1.0, n)
    members["iterations"] = npy(np.int64(n))
    members["history"] = npy(history)
    model = BinarySumRNN.load(write_zip(tmp_path / "m.npz", members), backend=backend)
    assert np.array_equal(model.history, history)  # finite: loads
    history[at] = np.nan
    members["history"] = npy(history)
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(write_zip(tmp_path / "m.npz", members), backend=backend)
    assert str(info.value) == "model file key 'history' holds non-finite values"


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("learning_rate", np.float64("nan"), "learning_rate"),
        ("learning_rate", np.float64(-0.1), "learning_rate"),
        ("clip", np.float64("inf"), "clip"),
        ("clip", np.float64(0.0), "clip"),
        ("bits", np.int64(0), "bits"),
        ("bits", np.int64(63), "bits"),
        ("hidden_size", np.int64(-H), "hidden_size"),
        ("iterations", np.int64(-1), "iterations"),
        ("seed", np.array("-3", dtype="<U64"), "seed"),
        ("seed", np.array("", dtype="<U64"), "seed"),
        ("seed", np.array(" 3", dtype="<U64"), "seed"),
        ("seed", np.array("1_0", dtype="<U64"), "seed"),
        ("pending", np.array([[31, 0]], dtype=np.int64), "pending"),
        ("pending", np.array([[-1, 0]], dtype=np.int64), "pending"),
        ("pending", np.array([[20, 20]], dtype=np.int64), "pending"),
        ("rng_state", np.array([0, 1, 0, 1, 2, 0], dtype=np.uint64), "rng_state"),
        ("rng_state", np.array([0, 1, 0, 1, 1, 2**32], dtype=np.uint64), "rng_state"),
    ],
)
def test_invalid_values_are_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str,
    key: str, value: np.ndarray, match: str,
) -> None:
    members[key] = npy(value)
    refused(write_zip(tmp_path / "m.npz", members), backend, match)


MOST = 2**63 - 1  # a model's iterations in all: the file's int64 field


def at_iterations(members: dict[str, bytes], path: Path, n: int) -> Path:
    members["iterations"] = npy(np.int64(n))
    return write_zip(path, members)


def test_a_model_trained_to_the_most_iterations_saves_and_pickles_back(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    model = BinarySumRNN.load(
        at_iterations(members, tmp_path / "m.npz", MOST - 5), backend=backend
    )
    model.fit(5)
    assert model.iterations == MOST
    model.save(tmp_path / "most.npz")
    for back in (
        BinarySumRNN.load(tmp_path / "most.npz", backend=backend),
        pickle.loads(pickle.dumps(model)),
    ):
        assert back.iterations == MOST
        assert np.array_equal(back.history, model.history)
        for key, w in model.weights.items():
            assert np.array_equal(back.weights[key], w), key


@pytest.mark.parametrize(("start", "more"), [(MOST, 1), (MOST - 3, 4), (MOST - 1, 100)])
def test_fit_past_the_most_iterations_is_refused_before_training(
    members: dict[str, bytes], tmp_path: Path, backend: str, start: int, more: int
) -> None:
    model = BinarySumRNN.load(
        at_iterations(members, tmp_path / "m.npz", start), backend=backend
    )
    before = model.weights
    room = MOST - start
    with pytest.raises(ValueError) as info:
        model.fit(more)
    assert str(info.value) == (
        f"iterations must be in 0..{room} for this model, got {more} (it has "
        f"trained {start}, and a model's iterations in all must be in "
        "0..2**63-1)"
    )
    assert model.iterations == start and len(model.history) == 40
    for key, w in before.items():
        assert np.array_equal(model.weights[key], w), key
    model.fit(room)  # up to the most is fine
    assert model.iterations == MOST
    model.save(tmp_path / "again.npz")
    assert pickle.loads(pickle.dumps(model)).iterations == MOST


def test_a_pickled_model_past_the_most_iterations_is_refused(
    make_model: Callable[..., BinarySumRNN],
) -> None:
    """Unpickling checks iterations with load's range: no int64 holds more,
    and a state claiming more (as a Python int) is refused by name."""
    state = make_model(hidden_size=H, bits=5, seed=3).fit(4).__getstate__()
    state["fields"]["iterations"] = np.uint64(MOST + 1)
    with pytest.raises(ModelFileError, match="'iterations' must have dtype int64"):
        BinarySumRNN.__new__(BinarySumRNN).__setstate__(state)


@pytest.mark.parametrize("version", [0, 2, -1, 2**62])
def test_unknown_format_version_is_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str, version: int
) -> None:
    members["format_version"] = npy(np.int64(version))
    path = write_zip(tmp_path / "m.npz", members)
    refused(path, backend, "unknown model format_version")


def test_compressed_members_are_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    path = write_zip(tmp_path / "m.npz", members, compress=True)
    refused(path, backend, "not stored uncompressed")


def test_encrypted_members_are_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    raw = bytearray(write_zip(tmp_path / "m.npz", members).read_bytes())
    name = b"wh.npy"
    # Set the "encrypted" flag bit in wh's local and central directory headers.
    for sig, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = raw.find(sig)
        while at >= 0:
            if raw[at + name_at : at + name_at + len(name)] == name:
                raw[at + flag_at] |= 1
            at = raw.find(sig, at + 4)
    path = tmp_path / "enc.npz"
    path.write_bytes(bytes(raw))
    refused(path, backend, "'wh' is encrypted")


LIMIT = 8 * 2**20  # loading a tiny model never needs more than a few MB


def refused_cheaply(path: Path, backend: str, match: str) -> None:
    """Refused, and the attempt allocated (Python or numpy) under LIMIT."""
    tracemalloc.start()
    try:
        refused(path, backend, match)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < LIMIT, f"loading allocated {peak} bytes"


@pytest.mark.parametrize(
    ("key", "hidden", "shape", "match"),
    [
        ("hidden_size", 10**9, None, "hidden_size must be in"),
        ("wh", H, (10**9, 10**9), "'wh' must have shape"),
        ("wh", 10**9, (10**9, 10**9), "hidden_size must be in"),
        ("history", H, (10**15,), "'history' declares"),
    ],
)
def test_absurd_sizes_are_refused_before_allocating(
    members: dict[str, bytes], tmp_path: Path, backend: str,
    key: str, hidden: int, shape: tuple[int, ...] | None, match: str,
) -> None:
    members["hidden_size"] = npy(np.int64(hidden))
    if shape is not None:
        members[key] = npy_header("<f8", shape) + b"\0" * 64  # tiny body
    path = write_zip(tmp_path / "huge.npz", members)
    refused_cheaply(path, backend, match)


def test_history_claiming_its_size_is_refused_before_allocating(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    """iterations and the history header agree on 10**15 entries, but the
    member holds 64 bytes: refused from the header, nothing read."""
    members["iterations"] = npy(np.int64(10**15))
    members["history"] = npy_header("<f8", (10**15,)) + b"\0" * 64
    path = write_zip(tmp_path / "huge.npz", members)
    refused_cheaply(path, backend, "'history' declares")


def test_zip_directory_lying_about_sizes_is_refused_before_allocating(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    """The zip directory claims a 4 GB history member (header consistent with
    it) in a file of a few KB: zipfile would allocate the claimed size."""
    n = 500_000_000
    members["iterations"] = npy(np.int64(n))
    header = npy_header("<f8", (n,))
    members["history"] = header + b"\0" * 64
    raw = bytearray(write_zip(tmp_path / "m.npz", members).read_bytes())
    claim = len(header) + 8 * n
    assert claim < 2**32
    name = b"history.npy"
    for sig, size_at, name_at in ((b"PK\x03\x04", 18, 30), (b"PK\x01\x02", 20, 46)):
        at = raw.find(sig)
        while at >= 0:
            if raw[at + name_at : at + name_at + len(name)] == name:
                struct.pack_into("<II", raw, at + size_at, claim, claim)
            at = raw.find(sig, at + 4)
    path = tmp_path / "liar.npz"
    path.write_bytes(bytes(raw))
    refused_cheaply(path, backend, "'history' claims more bytes than the file holds")


def test_fortran_order_members_load_with_the_same_values(
    members: dict[str, bytes], saved: Path, tmp_path: Path, backend: str
) -> None:
    """A valid array written in Fortran order is read correctly, C-contiguous."""
    original = BinarySumRNN.load(saved, backend=backend)
    members["wh"] = npy(np.asfortranarray(original.weights["wh"]))
    assert b"'fortran_order': True" in members["wh"][:128]
    model = BinarySumRNN.load(write_zip(tmp_path / "f.npz", members), backend=backend)
    assert np.array_equal(model.weights["wh"], original.weights["wh"])
    assert model.weights["wh"].flags.c_contiguous


def test_missing_file_raises_os_error_and_directory_is_refused(
    tmp_path: Path, backend: str
) -> None:
    with pytest.raises(FileNotFoundError):
        BinarySumRNN.load(tmp_path / "absent.npz", backend=backend)
    assert load_error(tmp_path, backend) == (
        f"{str(tmp_path)!r} is a directory, not a model file "
        "(only regular files are read)"
    )
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX file types")
def test_a_fifo_is_refused_from_its_stat_without_being_opened(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening some special files has effects of its own (a FIFO's writer
    sees a reader, a tape rewinds): what stat says is not a regular file is
    never opened."""
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    opened: list[str] = []
    real_open = os.open

    def open_(path: str, flags: int, *args: int) -> int:
        opened.append(os.fspath(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", open_)
    assert load_error(fifo, backend) == (
        f"{str(fifo)!r} is a FIFO (named pipe), not a model file "
        "(only regular files are read)"
    )
    monkeypatch.undo()
    assert opened == []


def test_seed_with_invalid_code_points_is_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    """str() of a <U64 holding a code point above 0x10FFFF raised SystemError
    in numpy (found by fuzzing): the seed is checked code point by code point."""
    body = struct.pack("<64I", 0x31, 0x110000, *([0] * 62))
    members["seed"] = npy_header("<U64", ()) + body
    refused(write_zip(tmp_path / "m.npz", members), backend, "'seed' is not")
    body = struct.pack("<64I", 0x31, 0, 0x32, *([0] * 61))  # NUL inside
    members["seed"] = npy_header("<U64", ()) + body
    refused(write_zip(tmp_path / "m.npz", members), backend, "'seed' is not")


def load_error(path: Path, backend: str) -> str:
    with pytest.raises(ModelFileError) as info:
        BinarySumRNN.load(path, backend=backend)
    return str(info.value)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("history", np.zeros((40, 1)),
         "model file key 'history' must have shape ('any',), got (40, 1)"),
        ("pending", np.zeros((2, 3), dtype=np.int64),
         "model file key 'pending' must have shape ('any', 2), got (2, 3)"),
        ("wh", np.zeros((H, H + 1)),
         f"model file key 'wh' must have shape ({H}, {H}), got ({H}, {H + 1})"),
        ("wi", np.zeros((2, H), dtype=np.float32),
         "model file key 'wi' must have dtype float64, got float32"),
        ("format_version", np.int64(2),
         "unknown model format_version 2 (this binsum reads version 1)"),
        ("bits", np.int64(63),
         "model file has an invalid value: bits must be in 1..62, got 63"),
        ("iterations", np.int64(-1),
         "model file has an invalid value: iterations must be in 0..2**63-1, got -1"),
        ("history", np.zeros(41),
         "model file key 'history' holds 41 losses, more than its 40 iterations"),
        ("pending", np.array([[31, 0]], dtype=np.int64),
         "model file key 'pending' holds pairs outside the training range"),
        ("pending", np.array([[16, 16]], dtype=np.int64),
         "model file key 'pending' holds pairs outside the training range"),
        ("rng_state", np.array([0, 1, 0, 1, 2, 0], dtype=np.uint64),
         "model file key 'rng_state' is not a PCG64 state"),
        ("rng_state", np.array([0, 1, 0, 1, 1, 2**32], dtype=np.uint64),
         "model file key 'rng_state' is not a PCG64 state"),
        ("seed", np.array("-3", dtype="<U64"),
         "model file key 'seed' is not a non-negative integer"),
    ],
)
def test_each_refusal_says_exactly_what_is_wrong(
    members: dict[str, bytes], tmp_path: Path, backend: str,
    key: str, value: np.ndarray, message: str,
) -> None:
    members[key] = npy(value)
    assert load_error(write_zip(tmp_path / "m.npz", members), backend) == message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("pending", np.array([[30, 1], [0, 30], [16, 15], [0, 0]], dtype=np.int64)),
        ("pending", np.zeros((0, 2), dtype=np.int64)),
        ("rng_state", None),  # has_uint32 set, the largest uint32 buffered
        ("seed", np.array("9087654321", dtype="<U64")),  # every digit
        ("history", np.zeros(40)),  # as many losses as iterations
    ],
)
def test_values_at_the_edge_of_each_range_load(
    members: dict[str, bytes], saved: Path, tmp_path: Path, backend: str,
    key: str, value: np.ndarray | None,
) -> None:
    """bits is 5: pending operands below 31 whose sum is at most 31."""
    if value is None:
        with zipfile.ZipFile(saved) as zf:
            value = np.load(io.BytesIO(zf.read("rng_state.npy")))
        value[4:] = [1, 2**32 - 1]
    members[key] = npy(value)
    model = BinarySumRNN.load(write_zip(tmp_path / "m.npz", members), backend=backend)
    if key == "seed":
        assert model.seed == 9087654321
    elif key == "history":
        assert np.array_equal(model.history, value)
    model.fit(2)  # and it trains on
    assert model.iterations == 42


def test_a_stored_member_whose_directory_sizes_differ_is_refused(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    """Stored (not compressed), but the zip directory gives it two sizes."""
    raw = bytearray(write_zip(tmp_path / "m.npz", members).read_bytes())
    at = raw.find(b"PK\x01\x02")
    while raw[at + 46 : at + 46 + 6] != b"wh.npy":
        at = raw.find(b"PK\x01\x02", at + 4)
    (size,) = struct.unpack_from("<I", raw, at + 24)
    struct.pack_into("<I", raw, at + 24, size + 1)  # uncompressed size
    path = tmp_path / "sizes.npz"
    path.write_bytes(bytes(raw))
    assert load_error(path, backend) == "model file key 'wh' is not stored uncompressed"


def test_a_damaged_zip_directory_is_a_model_file_error(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    """Its end record is sound, so zipfile is asked to read it, and fails."""
    raw = bytearray(write_zip(tmp_path / "m.npz", members).read_bytes())
    at = raw.find(b"PK\x01\x02")
    raw[at + 3] = 0x09
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(raw))
    message = load_error(path, backend)
    assert message.startswith(f"{str(path)!r} is not a binsum model file: ")
    assert "central directory" in message


def test_a_failing_crc_is_named_corrupt(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    path = write_zip(tmp_path / "m.npz", members)
    raw = bytearray(path.read_bytes())
    at = bytes(raw).find(members["wh"]) + len(members["wh"]) - 3
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert load_error(path, backend) == (
        "model file is corrupt: Bad CRC-32 for file 'wh.npy'"
    )


@pytest.mark.skipif(os.name != "posix", reason="POSIX file types")
def test_a_file_swapped_for_a_fifo_after_its_stat_is_refused_and_closed(
    tmp_path: Path, backend: str, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stat said a regular file; what was opened (without blocking) is a
    FIFO: refused from fstat, and the descriptor is closed."""
    fifo = tmp_path / "swapped.npz"
    os.mkfifo(fifo)
    real_stat, real_close = os.stat, os.close
    closed: list[int] = []
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: real_stat(
        saved if os.fspath(p) == str(fifo) else p, *a, **k))
    monkeypatch.setattr(os, "close", lambda fd: (closed.append(fd), real_close(fd)))
    message = load_error(fifo, backend)
    monkeypatch.undo()
    assert message == (
        f"{str(fifo)!r} is a FIFO (named pipe), not a model file "
        "(only regular files are read)"
    )
    assert len(closed) == 1
    with pytest.raises(OSError):
        os.fstat(closed[0])


@pytest.mark.parametrize("copy", [True, False])
def test_check_fields_returns_native_c_ordered_arrays(
    saved: Path, copy: bool
) -> None:
    """Whatever the layout and byte order of the fields given (a pickle made
    on another machine), the checked fields are C-ordered native arrays with
    the same values; with copy (a pickle's state) they share nothing with
    what was given."""
    with np.load(saved, allow_pickle=False) as data:
        raw = {key: data[key] for key in FIELDS}
    wh = np.arange(H * H, dtype=np.float64).reshape(H, H) / 10
    raw["wh"] = np.asfortranarray(wh)
    raw["wi"] = raw["wi"].astype(">f8")
    raw["pending"] = np.array([[1, 2], [3, 4]], dtype=">i8")
    fields = check_fields(raw, copy=copy)
    for key, want in (("wh", wh), ("wi", raw["wi"]), ("pending", raw["pending"])):
        got = getattr(fields, key)
        assert got.flags.c_contiguous and got.dtype.isnative, key
        assert got.dtype == want.dtype.newbyteorder("=") and got.shape == want.shape
        assert np.array_equal(got, want), key
        if copy:
            assert not np.shares_memory(got, raw[key]), key
    for key in ("wo", "history", "rng_state"):
        got = getattr(fields, key)
        assert np.array_equal(got, raw[key]) and got.shape == raw[key].shape
        assert np.shares_memory(got, raw[key]) != copy, key  # no needless copy


def test_check_fields_names_the_shape_it_wants(saved: Path) -> None:
    with np.load(saved, allow_pickle=False) as data:
        raw = {key: data[key] for key in FIELDS}
    raw["wh"] = np.zeros((H, H + 1))
    with pytest.raises(ModelFileError) as info:
        check_fields(raw, source="pickled model")
    assert str(info.value) == (
        f"pickled model key 'wh' must have shape ({H}, {H}), got ({H}, {H + 1})"
    )


def test_fortran_order_integers_and_arrays_of_several_chunks_load_exactly(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    """Fortran-order members are read a chunk (1 MiB) at a time: integer
    pending pairs, and a wh of 363 x 363 (one full chunk and a partial one)."""
    rng = np.random.default_rng(5)
    pending = np.array([[1, 2], [3, 4], [30, 1]], dtype=np.int64)
    members["pending"] = npy(np.asfortranarray(pending))
    model = BinarySumRNN.load(write_zip(tmp_path / "p.npz", members), backend=backend)
    assert model.__getstate__()["fields"]["pending"].tolist() == pending.tolist()
    h = 363
    big = {"hidden_size": np.int64(h), "wi": rng.random((2, h)),
           "wh": np.asfortranarray(rng.random((h, h))), "wo": rng.random((h, 1))}
    for key, value in big.items():
        members[key] = npy(value)
    assert b"'fortran_order': True" in members["wh"][:128]
    model = BinarySumRNN.load(write_zip(tmp_path / "f.npz", members), backend=backend)
    assert np.array_equal(model.weights["wh"], big["wh"])


@pytest.mark.parametrize("fortran", [False, True])
def test_a_member_ending_early_is_truncated(fortran: bool) -> None:
    """zipfile itself raises EOFError on a member cut short; _fill still
    stops at a read that returns nothing instead of looping."""
    arr = np.empty((2, 3), order="F" if fortran else "C")
    with pytest.raises(ModelFileError) as info:
        _fill(io.BytesIO(b"\0" * 20), arr, fortran, "wh", "model file")
    assert str(info.value) == "model file key 'wh' is truncated"


def test_malformed_and_oversized_headers_are_named(
    members: dict[str, bytes], tmp_path: Path, backend: str
) -> None:
    text = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + "-" * 100 + "3,3)}"
    raw = text.encode()
    members["wh"] = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(raw)) + raw
    assert load_error(write_zip(tmp_path / "m.npz", members), backend) == (
        f"model file key 'wh' is corrupt: malformed header {text[:80]!r}"
    )
    # A 2-byte length of 40,000 (above 2**15: an unsigned field).
    members["wh"] = b"\x93NUMPY\x01\x00" + struct.pack("<H", 40_000) + b" " * 100
    assert load_error(write_zip(tmp_path / "m.npz", members), backend) == (
        "model file key 'wh' is corrupt: header of 40000 bytes (at most 4096)"
    )


def test_save_writes_every_field_in_the_dtype_load_reads(
    saved: Path, tmp_path: Path, backend: str
) -> None:
    """Fields in another byte order or width (as a big-endian machine holds
    them, or plain Python numbers) are written little-endian in the file's
    own dtypes, so the file loads anywhere."""
    with np.load(saved, allow_pickle=False) as data:
        fields = {key: data[key] for key in FIELDS}
    given = dict(fields)
    for key in ("wi", "wh", "wo", "history"):
        given[key] = fields[key].astype(">f8")
    given["pending"] = fields["pending"].astype(">i8")
    given["rng_state"] = fields["rng_state"].astype(">u8")
    given["iterations"] = int(fields["iterations"])
    given["learning_rate"] = float(fields["learning_rate"])
    given["seed"] = str(fields["seed"])
    path = tmp_path / "m.npz"
    _modelfile.save(path, given)
    with zipfile.ZipFile(path) as zf:
        for key in MEMBERS:
            header = np.lib.format.read_array_header_1_0(
                io.BytesIO(zf.read(key + ".npy")[8:]))
            assert header[2] == _modelfile._DTYPES[key], key
    loaded = BinarySumRNN.load(path, backend=backend)
    original = BinarySumRNN.load(saved, backend=backend)
    assert loaded.iterations == original.iterations and loaded.seed == original.seed
    for key, w in original.weights.items():
        assert np.array_equal(loaded.weights[key], w)


# ------------------------------------------------------- load() in a child
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

# ----------------------------------------------- files that are not regular
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


# ------------------------------------------------------ zip amplification
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
        check_directory(
            io.BytesIO(plain_zip[:-10]), len(plain_zip), "m.npz",
            "model file", len(MEMBERS),
        )  # fmt: skip
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


# ----------------------------------------------- the seed's whole range
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


def test_model_file_keys_unchanged() -> None:
    """The format is unchanged: the same 13 members."""
    assert len(MEMBERS) == 13


# ------------------------------------ well-formed files with fields that lie
def saved_fields(tmp_path: Path, backend: str) -> dict[str, np.ndarray]:
    path = tmp_path / "good.npz"
    BinarySumRNN(hidden_size=3, bits=4, seed=1, backend=backend).fit(10).save(path)
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def write(tmp_path: Path, fields: dict[str, Any]) -> Path:
    path = tmp_path / "bad.npz"
    np.savez(path, **fields)  # plain arrays only: nothing is pickled
    return path


def test_crafted_good_file_loads(backend: str, tmp_path: Path) -> None:
    """The rewriting below is faithful: unchanged fields load fine."""
    fields = saved_fields(tmp_path, backend)
    assert set(fields) == set(MEMBERS)
    model = BinarySumRNN.load(write(tmp_path, fields), backend=backend)
    assert model.iterations == 10 and model.hidden_size == 3


@pytest.mark.parametrize("key", MEMBERS)
def test_model_file_missing_key(backend: str, tmp_path: Path, key: str) -> None:
    fields = saved_fields(tmp_path, backend)
    del fields[key]
    with pytest.raises(ValueError, match=rf"model file is missing the key '{key}'"):
        BinarySumRNN.load(write(tmp_path, fields), backend=backend)


LYING_SHAPES = {
    "wi": np.zeros((3, 3)),
    "wh": np.zeros((3, 4)),
    "wo": np.zeros(3),
    "history": np.zeros((10, 1)),  # 1-D; more losses than iterations: below
    "pending": np.zeros((4, 3), dtype=np.int64),
    "rng_state": np.zeros(5, dtype=np.uint64),
    "hidden_size": np.array([3]),
    "seed": np.array(["1", "2"], dtype="<U64"),
}


@pytest.mark.parametrize("key", list(LYING_SHAPES))
def test_model_file_wrong_shape(backend: str, tmp_path: Path, key: str) -> None:
    fields = saved_fields(tmp_path, backend)
    fields[key] = LYING_SHAPES[key]
    with pytest.raises(ValueError, match=rf"model file key '{key}' must have shape"):
        BinarySumRNN.load(write(tmp_path, fields), backend=backend)


def test_model_file_more_losses_than_iterations(backend: str, tmp_path: Path) -> None:
    fields = saved_fields(tmp_path, backend)
    fields["history"] = np.zeros(fields["iterations"] + 1)
    with pytest.raises(ValueError, match=r"losses, more than its \d+ iterations"):
        BinarySumRNN.load(write(tmp_path, fields), backend=backend)


def test_model_file_weights_not_matching_hidden_size(
    backend: str, tmp_path: Path
) -> None:
    fields = saved_fields(tmp_path, backend)
    fields["hidden_size"] = np.int64(4)
    with pytest.raises(
        ValueError, match=r"model file key 'wi' must have shape \(2, 4\)"
    ):
        BinarySumRNN.load(write(tmp_path, fields), backend=backend)


LYING_DTYPES = {
    "wi": np.float32,
    "wh": np.int64,
    "wo": np.float16,
    "history": np.float32,
    "pending": np.float64,
    "rng_state": np.int64,
    "iterations": np.float64,
    "bits": np.int32,
    "learning_rate": np.float32,
    "format_version": np.float64,
    "seed": np.int64,
}


@pytest.mark.parametrize("key", list(LYING_DTYPES))
def test_model_file_wrong_dtype(backend: str, tmp_path: Path, key: str) -> None:
    fields = saved_fields(tmp_path, backend)
    if key == "seed":
        fields[key] = np.int64(1)
    else:
        fields[key] = fields[key].astype(LYING_DTYPES[key])
    with pytest.raises(ValueError, match=rf"model file key '{key}' must have dtype"):
        BinarySumRNN.load(write(tmp_path, fields), backend=backend)


@pytest.mark.parametrize("key", ["wi", "wh", "wo", "history"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_model_file_non_finite(
    backend: str, tmp_path: Path, key: str, bad: float
) -> None:
    fields = saved_fields(tmp_path, backend)
    fields[key] = fields[key].copy()
    fields[key].flat[-1] = bad
    with pytest.raises(ValueError, match=rf"model file key '{key}' holds non-finite"):
        BinarySumRNN.load(write(tmp_path, fields), backend=backend)


@pytest.mark.parametrize("version", [0, 2, -1, 2**40])
def test_model_file_unknown_format_version(
    backend: str, tmp_path: Path, version: int
) -> None:
    fields = saved_fields(tmp_path, backend)
    fields["format_version"] = np.int64(version)
    with pytest.raises(ValueError, match=rf"unknown model format_version {version}"):
        BinarySumRNN.load(write(tmp_path, fields), backend=backend)


LYING_VALUES = {
    "hidden_size": (np.int64(0), r"hidden_size must be in 1\.\.4096"),
    "bits": (np.int64(63), r"bits must be in 1\.\.62"),
    "learning_rate": (np.float64(np.nan), r"learning_rate must be finite and > 0"),
    "clip": (np.float64(-1.0), r"clip must be finite and > 0"),
    "iterations": (np.int64(-1), r"iterations must be in 0\.\.2\*\*63-1, got -1"),
    "seed": (np.array("-5", dtype="<U64"), r"'seed' is not a non-negative integer"),
    "pending": (np.array([[15, 1]], dtype=np.int64), r"'pending' holds pairs outside"),
}


@pytest.mark.parametrize("key", list(LYING_VALUES))
def test_model_file_invalid_values(backend: str, tmp_path: Path, key: str) -> None:
    fields = saved_fields(tmp_path, backend)
    fields[key], message = LYING_VALUES[key]
    with pytest.raises(ValueError, match=rf"model file .*{message}"):
        BinarySumRNN.load(write(tmp_path, fields), backend=backend)


def test_not_a_model_file(backend: str, tmp_path: Path) -> None:
    path = tmp_path / "junk.npz"
    path.write_bytes(b"definitely not a zip archive" * 10)
    with pytest.raises(ValueError, match=r"is not a binsum model file"):
        BinarySumRNN.load(path, backend=backend)
