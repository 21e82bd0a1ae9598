"""Fuzz binsum's two doors for outside data: load() and predict().

Hypothesis with a large budget (no atheris needed):

    python fuzz/fuzz_binsum.py [--examples N] [--backend cython|python]

* load(): arbitrary bytes, byte-level mutations of a valid model file, and
  member-level mutations (a member's bytes changed, the zip rebuilt with
  correct CRCs so the damage reaches numpy's header parser and binsum's
  checks). A file either loads as a working model or raises ModelFileError.
* predict(): arbitrary arrays (every dtype, shape, layout, byte order) and
  array-likes. It either returns the right int64 sums or raises ValueError /
  TypeError.

Anything else (another exception, a crash, a sanitizer report when run from
.ci/sanitize) is a bug. Exits non-zero with hypothesis's minimal example.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import zipfile

import numpy as np
from hypothesis import HealthCheck, given, reporting, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst

from binsum import BinarySumRNN
from binsum._modelfile import ModelFileError


def _valid_file(backend: str) -> bytes:
    model = BinarySumRNN(hidden_size=3, bits=5, seed=1, backend=backend).fit(30)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.npz")
        model.save(path)
        with open(path, "rb") as fh:
            return fh.read()


def _members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _rezip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@st.composite
def _mutated(draw: st.DrawFn, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(len(buf) - 1, 0)))
        if op == "flip" and buf:
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and buf:
            chunk = draw(st.binary(min_size=1, max_size=8))
            buf[at : at + len(chunk)] = chunk
        elif op == "cut":
            del buf[at:]
        elif op == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del buf[at : at + draw(st.integers(1, 16))]
    return bytes(buf)


def _file_bytes(valid: bytes) -> st.SearchStrategy[bytes]:
    members = _members(valid)
    names = sorted(members)

    @st.composite
    def member_level(draw: st.DrawFn) -> bytes:
        out = dict(members)
        for _ in range(draw(st.integers(1, 2))):
            name = draw(st.sampled_from(names))
            out[name] = draw(_mutated(out[name]))
        return _rezip(out)

    return st.one_of(st.binary(max_size=2048), _mutated(valid), member_level())


def fuzz_load(examples: int, backend: str) -> None:
    valid = _valid_file(backend)
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "fuzz.npz")

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(raw=_file_bytes(valid))
    def target(raw: bytes) -> None:
        with open(path, "wb") as fh:
            fh.write(raw)
        try:
            model = BinarySumRNN.load(path, backend=backend)
        except ModelFileError:
            return
        # Whatever loaded must be a working model.
        model.predict([1, 2], [3, 0])
        model.fit(3)

    target()


_arrays = npst.arrays(
    st.one_of(npst.scalar_dtypes(), npst.byte_string_dtypes(max_len=3),
              npst.unicode_string_dtypes(max_len=3),
              npst.integer_dtypes(endianness="="), npst.integer_dtypes(endianness=">")),
    npst.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
)
_any_operand = st.one_of(
    _arrays,
    _arrays.map(lambda a: a[::-1] if a.ndim else a),
    _arrays.map(lambda a: np.asfortranarray(a)),
    npst.arrays(np.int64, npst.array_shapes(max_dims=3, max_side=5),
                elements=st.integers(0, 2**62 - 1)).map(lambda a: a[..., ::2]),
    npst.arrays(np.uint64, npst.array_shapes(max_dims=2, max_side=5)),
    st.lists(st.one_of(st.integers(), st.floats(), st.booleans(), st.none())),
    st.integers(),
    st.floats(),
)


def fuzz_predict(examples: int, backend: str) -> None:
    model = BinarySumRNN(hidden_size=3, bits=5, seed=1, backend=backend).fit(30)

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(a=_any_operand, b=_any_operand)
    def target(a: object, b: object) -> None:
        try:
            got = model.predict(a, b)
        except (ValueError, TypeError):
            return
        assert got.dtype == np.int64
        assert got.shape == np.broadcast_shapes(np.shape(a), np.shape(b))
        aa, bb = np.broadcast_arrays(np.asarray(a), np.asarray(b))
        for x, y, s in zip(aa.ravel().tolist(), bb.ravel().tolist(),
                           got.ravel().tolist(), strict=True):
            assert model.add(int(x), int(y)) == s

    target()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000,
                        help="examples per target (default 20,000)")
    parser.add_argument("--backend", default=None, help="cython or python")
    args = parser.parse_args(argv)
    backend = args.backend or BinarySumRNN(seed=0).backend
    for name, target in (("load", fuzz_load), ("predict", fuzz_predict)):
        print(f"fuzz {name}: {args.examples} examples on {backend}", flush=True)
        # A falsifying model file is ~40 kB of repr: print its start only.
        with reporting.with_reporter(lambda text: print(str(text)[:3000])):
            target(args.examples, backend)
    print("fuzz: no failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
