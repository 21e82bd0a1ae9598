"""Write tests/golden.json: the twin's digests of every golden configuration.

    python tests/make_golden.py            # rewrite tests/golden.json
    python tests/make_golden.py --check    # compare the twin with the file

The digests come from the pure-Python twin (backend="python"), the reference
every build must reproduce; tests/test_golden.py checks each backend and
kernel build against them, on every platform a wheel is tested on.

Regenerate ONLY when the arithmetic changes deliberately: a new summation
order, a different exp(), a change to how samples are drawn or weights
initialised, or a new or resized configuration in tests/_golden.py. Commit the
new file together with that change and say why in the message. Never
regenerate to make a failing platform pass: a difference there is a bug in
that build (e.g. a compiler contracting a*b+c into a fused multiply-add).
Runs in well under a minute.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _golden  # noqa: E402

GOLDEN = HERE / "golden.json"


def generate() -> dict[str, object]:
    return {
        "format": _golden.FORMAT,
        "producer": "tests/make_golden.py with backend='python' (the twin)",
        "hash": "sha256 of little-endian '<f8' / '<i8' bytes",
        "configs": _golden.CONFIGS,
        "functions": _golden.compute_functions("python"),
        "digests": {name: _golden.compute(name, "python") for name in _golden.CONFIGS},
    }


def main(argv: list[str]) -> int:
    data = generate()
    text = json.dumps(data, indent=1, sort_keys=False) + "\n"
    if "--check" in argv:
        same = GOLDEN.read_text() == text
        print(f"{GOLDEN}: {'matches' if same else 'DIFFERS from'} the twin")
        return 0 if same else 1
    GOLDEN.write_text(text)
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
