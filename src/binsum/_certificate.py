"""Certificates: a proof that a network adds exactly, re-checkable without the search.

``certify`` looks for a counterexample first (``binsum._hardcases``), then for
base sets that ``binsum._invariant.check`` accepts (``binsum._certify``). A
proof is stored as those sets; ``Certificate.check`` runs the check again
(seconds, no search) and also refuses a certificate whose numbers were edited
(a SHA-256 digest of its content) or that was made for other weights.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from binsum import _certify, _modelfile, _npz
from binsum import _invariant as inv
from binsum._atomic import atomic_write
from binsum._fileerror import ModelFileError
from binsum._reach import Boxes, Network
from binsum._rules import MAX_HIDDEN

if TYPE_CHECKING:
    from binsum._model import BinarySumRNN

__all__ = ["Certificate", "certify"]

FORMAT_VERSION = 1
WHAT = "certificate file"
#: Most bases a certificate may hold (a certificate file is refused beyond).
MAX_BASES = 64 * 2 * inv.WORDS
_SCALARS = {
    "format_version": "<i8",
    "hidden_size": "<i8",
    "proven": "<i8",
    "slack": "<f8",
    "margin": "<f8",
    "weights_sha256": "<U64",
    "digest": "<U64",
}
_SCHEME = ("window", "transient", "run")
_ENTRIES = (
    len(_SCALARS) + 7
)  # scheme, owner, center, inverse, basis, reason, counterexample


def weights_digest(
    wi: NDArray[np.float64], wh: NDArray[np.float64], wo: NDArray[np.float64]
) -> str:
    """SHA-256 of the weights' shapes and little-endian values."""
    h = hashlib.sha256()
    for arr in (wi, wh, wo):
        h.update(repr(arr.shape).encode())
        h.update(np.ascontiguousarray(arr, dtype="<f8").tobytes())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class Certificate:
    """The verdict of ``BinarySumRNN.certify``, and when proven, its proof.

    Attributes
    ----------
    proven : bool
        True: for every pair of non-negative integers, of any length, the
        network's output is the exact sum (final carry included), for the
        arithmetic binsum runs (IEEE doubles, no fused multiply-add, the
        kernel's exponential, its fixed order of sums).
    reason : str
        Why not, when not proven (empty when proven).
    counterexample : tuple of int or None
        A pair the network adds wrongly, when one was found.
    slack, margin : float
        The proof's worst inclusion (at most 1 holds) and smallest output
        logit margin (above 0 holds); NaN when no proof was found.
    seconds : float
        How long ``certify`` took (not part of the proof).
    """

    proven: bool
    reason: str
    counterexample: tuple[int, int] | None
    slack: float
    margin: float
    weights_sha256: str
    scheme: tuple[int, int, int] = (inv.WINDOW, inv.TRANSIENT, 0)
    owner: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, np.int64), repr=False
    )
    center: NDArray[np.float64] = field(
        default_factory=lambda: np.zeros((0, 0)), repr=False
    )
    inverse: NDArray[np.float64] = field(
        default_factory=lambda: np.zeros((0, 0, 0)), repr=False
    )
    basis: NDArray[np.float64] = field(
        default_factory=lambda: np.zeros((0, 0, 0)), repr=False
    )
    seconds: float = field(default=float("nan"), compare=False)
    digest: str = ""

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", self._content_digest())

    def __repr__(self) -> str:
        if self.proven:
            return (
                f"Certificate(proven=True, bases={len(self.owner)}, "
                f"slack={self.slack:.4f}, margin={self.margin:.4f})"
            )
        return (
            f"Certificate(proven=False, reason={self.reason!r}, "
            f"counterexample={self.counterexample!r})"
        )

    def _content_digest(self) -> str:
        h = hashlib.sha256()
        h.update(
            repr((self.proven, self.reason, self.counterexample, self.scheme)).encode()
        )
        h.update(repr((float(self.slack), float(self.margin))).encode())
        h.update(self.weights_sha256.encode())
        for arr in (self.owner, self.center, self.inverse, self.basis):
            h.update(repr(arr.shape).encode())
            h.update(
                np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
            )
        return h.hexdigest()

    def check(self, model: BinarySumRNN) -> bool:
        """Whether this certificate proves that ``model`` adds exactly.

        Re-runs the proof's check on the model's weights (seconds, no
        search). False for a certificate that proves nothing, was made for
        other weights, or whose content was changed after it was made.
        """
        w = model.weights
        if (
            not self.proven
            or self.digest != self._content_digest()
            or self.weights_sha256 != weights_digest(w["wi"], w["wh"], w["wo"])
            or self.scheme[:2] != (inv.WINDOW, inv.TRANSIENT)
        ):
            return False
        net = Network.of(w["wi"], w["wh"], w["wo"])
        try:
            boxes = Boxes(self.center, self.inverse, self.basis)
            keys = inv.Keys.of(self.scheme[2])
            if self.owner.size and int(self.owner.max()) >= keys.size:
                return False
            return inv.check(net, boxes, self.owner, keys).ok
        except ValueError:  # a basis far from its matrix's inverse
            return False

    # ------------------------------------------------------------- files
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the certificate to ``path`` (a ``.npz`` archive), atomically."""
        arrays: dict[str, Any] = {
            "format_version": np.asarray(FORMAT_VERSION, "<i8"),
            "hidden_size": np.asarray(
                self.center.shape[1] if self.center.ndim == 2 else 0, "<i8"
            ),
            "proven": np.asarray(int(self.proven), "<i8"),
            "slack": np.asarray(self.slack, "<f8"),
            "margin": np.asarray(self.margin, "<f8"),
            "weights_sha256": np.asarray(self.weights_sha256, "<U64"),
            "digest": np.asarray(self.digest, "<U64"),
            "scheme": np.asarray(self.scheme, "<i8"),
            "owner": np.asarray(self.owner, "<i8"),
            "center": np.asarray(self.center, "<f8"),
            "inverse": np.asarray(self.inverse, "<f8"),
            "basis": np.asarray(self.basis, "<f8"),
            "reason": np.frombuffer(self.reason.encode(), np.uint8),
            "counterexample": np.frombuffer(
                _pair_text(self.counterexample).encode(), np.uint8
            ),
        }
        with atomic_write(path) as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Certificate:
        """Read a certificate written by ``save``; ``check`` says if it holds.

        Raises ``binsum.ModelFileError`` (a ValueError) for anything that is
        not a regular file in this layout, as ``BinarySumRNN.load`` does.
        """
        name = os.fspath(path)
        with _npz.open_regular(name, WHAT) as fh:
            size = os.fstat(fh.fileno()).st_size
            _npz.check_directory(fh, size, name, WHAT, _ENTRIES)
            try:
                with zipfile.ZipFile(fh) as zf:
                    return cls._read(zf, size)
            except ModelFileError:
                raise
            except (
                zipfile.BadZipFile,
                EOFError,
                OSError,
                ValueError,
                NotImplementedError,
            ) as exc:
                raise ModelFileError(f"{WHAT} {name!r} is corrupt: {exc}") from None

    @classmethod
    def _read(cls, zf: zipfile.ZipFile, size: int) -> Certificate:
        def member(key: str, dtype: str, shape: tuple[int | None, ...]) -> NDArray[Any]:
            check = functools.partial(_modelfile.check_shape, WHAT, key, shape)
            return _npz.read_member(zf, size, key, dtype, check, WHAT)

        raw = {k: member(k, d, ()).item() for k, d in _SCALARS.items()}
        if raw["format_version"] != FORMAT_VERSION:
            raise ModelFileError(
                f"unknown {WHAT} format_version {raw['format_version']} "
                f"(this binsum reads version {FORMAT_VERSION})"
            )
        hidden = raw["hidden_size"]
        if not 0 <= hidden <= MAX_HIDDEN:
            raise ModelFileError(
                f"{WHAT} hidden_size must be in 0..{MAX_HIDDEN}, got {hidden}"
            )
        owner = member("owner", "<i8", (None,))
        bases = len(owner)
        if bases > MAX_BASES:
            raise ModelFileError(f"{WHAT} holds {bases} bases (at most {MAX_BASES})")
        fields = {
            **raw,
            "scheme": member("scheme", "<i8", (3,)),
            "owner": owner,
            "center": member("center", "<f8", (bases, hidden)),
            "inverse": member("inverse", "<f8", (bases, hidden, hidden)),
            "basis": member("basis", "<f8", (bases, hidden, hidden)),
            "reason": member("reason", "|u1", (None,))
            .tobytes()
            .decode("utf-8", "replace"),
            "counterexample": member("counterexample", "|u1", (None,))
            .tobytes()
            .decode("ascii", "replace"),
        }
        return _from_fields(fields, WHAT)

    # ------------------------------------------------------------ pickle
    def __reduce__(self) -> tuple[Any, ...]:
        return (_unpickle, (self._fields(),))

    def _fields(self) -> dict[str, Any]:
        return {
            "proven": int(self.proven),
            "reason": self.reason,
            "counterexample": _pair_text(self.counterexample),
            "slack": float(self.slack),
            "margin": float(self.margin),
            "weights_sha256": self.weights_sha256,
            "digest": self.digest,
            "scheme": np.asarray(self.scheme, np.int64),
            "owner": self.owner.copy(),
            "center": self.center.copy(),
            "inverse": self.inverse.copy(),
            "basis": self.basis.copy(),
        }


def _unpickle(fields: Any) -> Certificate:
    # A pickle is data from outside: checked as a certificate file is.
    if not isinstance(fields, dict):
        raise ModelFileError(
            f"pickled certificate must be a dict, got {type(fields).__name__}"
        )
    return _from_fields(fields, "pickled certificate")


def _pair_text(pair: tuple[int, int] | None) -> str:
    return "" if pair is None else f"{pair[0]:x},{pair[1]:x}"


def _from_fields(f: dict[str, Any], source: str) -> Certificate:
    try:
        scheme = tuple(int(v) for v in np.asarray(f["scheme"], np.int64).reshape(3))
        owner = np.array(f["owner"], dtype=np.int64).reshape(-1)
        center = np.array(f["center"], dtype=np.float64)
        bases = len(owner)
        hidden = center.shape[1] if center.ndim == 2 else -1
        inverse = np.array(f["inverse"], dtype=np.float64)
        basis = np.array(f["basis"], dtype=np.float64)
        text = str(f["counterexample"])
        pair = None
        if text:
            a, b = text.split(",")
            pair = (int(a, 16), int(b, 16))
        cert = Certificate(
            proven=bool(int(f["proven"])),
            reason=str(f["reason"]),
            counterexample=pair,
            slack=float(f["slack"]),
            margin=float(f["margin"]),
            weights_sha256=str(f["weights_sha256"]),
            scheme=(scheme[0], scheme[1], scheme[2]),
            owner=owner,
            center=center,
            inverse=inverse,
            basis=basis,
            digest=str(f["digest"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{source} is not a binsum certificate: {exc}") from None
    if (
        center.shape != (bases, hidden)
        or inverse.shape != (bases, hidden, hidden)
        or basis.shape != (bases, hidden, hidden)
        or bases > MAX_BASES
        or (bases and (owner.min() < 0 or owner.max() >= MAX_BASES))
        or not 0 <= scheme[2] <= 4096
    ):
        raise ModelFileError(f"{source} has inconsistent shapes or ranges")
    return cert


def certify(model: BinarySumRNN, max_bits: int = 4096) -> Certificate:
    """See ``BinarySumRNN.certify``."""
    started = time.perf_counter()
    w = model.weights
    digest = weights_digest(w["wi"], w["wh"], w["wo"])

    def refused(reason: str, pair: tuple[int, int] | None = None) -> Certificate:
        return Certificate(
            proven=False,
            reason=reason,
            counterexample=pair,
            slack=float("nan"),
            margin=float("nan"),
            weights_sha256=digest,
            seconds=time.perf_counter() - started,
        )

    pair = model.counterexample(max_bits)
    if pair is not None:
        return refused(f"the network adds {pair[0]} + {pair[1]} wrongly", pair)
    net = Network.of(w["wi"], w["wh"], w["wo"])
    keys = inv.Keys.of(0)
    found = _certify.search(net, keys)
    v = found.verdict
    if not v.ok:
        return refused(f"no invariant found: {v.failure}")
    return Certificate(
        proven=True,
        reason="",
        counterexample=None,
        slack=v.slack,
        margin=v.margin,
        weights_sha256=digest,
        scheme=(inv.WINDOW, inv.TRANSIENT, keys.run),
        owner=found.owner,
        center=found.boxes.center,
        inverse=found.boxes.inverse,
        basis=found.boxes.basis,
        seconds=time.perf_counter() - started,
    )
