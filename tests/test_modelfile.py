"""Attacks on model files: load() must refuse each with a clear ModelFileError
(a ValueError), never unpickle anything and never allocate what a file merely
claims. Files are crafted member by member from a valid save."""

from __future__ import annotations

import io
import os
import pickle
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import binsum
from binsum import BinarySumRNN, _modelfile
from binsum._modelfile import FIELDS, KEYS, ModelFileError, check_fields
from binsum._npz import _fill


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


def test_rebuilt_file_loads(
    members: dict[str, bytes], saved: Path, tmp_path: Path, backend: str
) -> None:
    """The crafting itself is sound: unmodified members make a loadable model,
    so each refusal below is caused by its attack alone."""
    assert set(members) == set(KEYS)
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


@pytest.mark.parametrize("key", KEYS)
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
        for key in KEYS:
            header = np.lib.format.read_array_header_1_0(
                io.BytesIO(zf.read(key + ".npy")[8:]))
            assert header[2] == _modelfile._DTYPES[key], key
    loaded = BinarySumRNN.load(path, backend=backend)
    original = BinarySumRNN.load(saved, backend=backend)
    assert loaded.iterations == original.iterations and loaded.seed == original.seed
    for key, w in original.weights.items():
        assert np.array_equal(loaded.weights[key], w)
