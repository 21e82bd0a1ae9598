"""The compiled wheels a release builds, as .ci/expected-wheels.txt lists them.

    python .ci/release_wheels.py identifiers   # its 'platform identifier' pairs
    python .ci/release_wheels.py check DIST    # DIST's compiled wheels are those

Each line of .ci/expected-wheels.txt is 'platform identifier wheel': one of
cibuildwheel's build identifiers and the tag of the wheel that serves it.
CPython 3.11 and later share one cp311-abi3 wheel per platform (built for
cp311, reused and tested by cibuildwheel for cp312 and later); CPython 3.10
and the free-threaded interpreters get their own (setup.py's limited_api()).
`check` exits 1 naming each wheel missing from DIST, each unexpected one and
each line whose wheel tag breaks that rule.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

EXPECTED = Path(__file__).resolve().parent / "expected-wheels.txt"
IDENTIFIER = re.compile(r"cp3(\d+)(t?)-(manylinux|musllinux|macosx|win)_(\w+)")
# A wheel file's platform tag: kind, versions (manylinux_2_17, macosx_11_0), arch.
WHEEL = re.compile(
    r"binsum-[^-]+-(cp3\d+-(?:abi3|cp3\d+t?))-(manylinux|musllinux|macosx|win)"
    r"[^-]*?(x86_64|aarch64|arm64|amd64|universal2)\.whl"
)


def served_by(identifier: str) -> str:
    """The tag of the wheel that serves a build identifier."""
    m = IDENTIFIER.fullmatch(identifier)
    if not m:
        raise ValueError(f"not a CPython build identifier: {identifier}")
    minor, threaded = int(m.group(1)), m.group(2)
    if minor >= 11 and not threaded:
        return "cp311-abi3"
    return f"cp3{minor}-cp3{minor}{threaded}"


def expected() -> tuple[list[str], set[tuple[str, str, str]], list[str]]:
    """The 'platform identifier' pairs, the wheels as (tag, kind, arch), and
    the lines whose wheel tag is not the rule's."""
    pairs, wheels, problems = [], set(), []
    for line in EXPECTED.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        platform, identifier, tag = line.split()
        pairs.append(f"{platform} {identifier}")
        if tag != served_by(identifier):
            problems.append(
                f"{identifier} is served by {served_by(identifier)}, not {tag}"
            )
        m = IDENTIFIER.fullmatch(identifier)
        assert m is not None  # served_by checked it
        wheels.add((tag, m.group(3), m.group(4).lower()))
    return pairs, wheels, problems


def check(dist: Path) -> list[str]:
    _, wanted, problems = expected()
    found: dict[tuple[str, str, str], list[str]] = {}
    for path in sorted(dist.glob("*.whl")):
        if path.name.endswith("-py3-none-any.whl"):
            continue
        m = WHEEL.fullmatch(path.name)
        if not m:
            problems.append(f"not a compiled binsum wheel name: {path.name}")
            continue
        found.setdefault((m.group(1), m.group(2), m.group(3).lower()), []).append(
            path.name
        )
    for key in sorted(wanted - found.keys()):
        problems.append("missing the {} wheel for {} {}".format(*key))
    for key in sorted(found.keys() - wanted):
        problems.append(f"unexpected wheels {found[key]}")
    problems += [
        f"several wheels for one build: {n}" for n in found.values() if len(n) > 1
    ]
    return problems


def main(argv: list[str]) -> int:
    if argv == ["identifiers"]:
        pairs, _, problems = expected()
        print("\n".join(pairs))
    elif len(argv) == 2 and argv[0] == "check":
        problems = check(Path(argv[1]))
        if not problems:
            print(f"release_wheels: {len(expected()[1])} compiled wheels, as expected")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for problem in problems:
        print(f"release_wheels: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
