"""Model files across machines: saved on one, loaded and trained on another.

    python .ci/crossfile.py train OUT N         a new model (CONFIG), fit(N), save
    python .ci/crossfile.py resume IN N OUT     load IN, fit(N) more, save OUT
    python .ci/crossfile.py compare A B         load both: the same bits, and the
                                                same bits after training both on

.ci/emulated runs these on the host and under qemu-user (a little-endian
aarch64 or a big-endian s390x), so a file written by either machine is read by
the other and training resumes exactly where it stopped: weights, loss
history and random state are compared bit for bit.
"""

from __future__ import annotations

import hashlib
import platform
import sys

import numpy as np

from binsum import BinarySumRNN

# An odd hidden size, more bits than the default, a clip that binds at times
# and a seed beyond 64 bits: every saved field matters.
CONFIG = dict(hidden_size=13, bits=10, learning_rate=0.2, clip=1.0, seed=2**100 + 7)


def where(model: BinarySumRNN) -> str:
    return f"{platform.machine()}/{sys.byteorder}-endian/{model.backend}"


def fingerprint(model: BinarySumRNN) -> str:
    parts = [model.weights[k] for k in ("wi", "wh", "wo")] + [model.history]
    data = b"".join(np.ascontiguousarray(p).astype("<f8").tobytes() for p in parts)
    return hashlib.sha256(data).hexdigest()[:16]


def same(a: BinarySumRNN, b: BinarySumRNN) -> list[str]:
    differ = []
    for key in ("hidden_size", "bits", "learning_rate", "clip", "seed", "iterations"):
        if getattr(a, key) != getattr(b, key):
            differ.append(key)
    for key in ("wi", "wh", "wo"):
        if not np.array_equal(a.weights[key], b.weights[key]):
            differ.append(key)
    if not np.array_equal(a.history, b.history):
        differ.append("history")
    return differ


def main(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    if command == "train":
        out, n = args[0], int(args[1])
        model = BinarySumRNN(**CONFIG).fit(n)  # type: ignore[arg-type]
        model.save(out)
        print(
            f"crossfile: {where(model)} trained {n}, saved {out}: {fingerprint(model)}"
        )
        return 0
    if command == "resume":
        src, n, out = args[0], int(args[1]), args[2]
        model = BinarySumRNN.load(src).fit(n)
        model.save(out)
        print(
            f"crossfile: {where(model)} loaded {src}, trained {n} more "
            f"({model.iterations}), saved {out}: {fingerprint(model)}"
        )
        return 0
    if command == "compare":
        a, b = BinarySumRNN.load(args[0]), BinarySumRNN.load(args[1])
        differ = same(a, b)
        a.fit(300)  # the random state and pending samples were saved too
        b.fit(300)
        differ += [f"{key} after fit(300)" for key in same(a, b)]
        if differ:
            print(f"crossfile: {args[0]} and {args[1]} differ in {differ}")
            return 1
        print(f"crossfile: {where(a)}: {args[0]} == {args[1]}, also after fit(300)")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
