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
from typing import NamedTuple

from check_dist import ABI3_TAG, LIMITED_API  # beside this script

EXPECTED = Path(__file__).resolve().parent / "expected-wheels.txt"
IDENTIFIER = re.compile(r"cp3(\d+)(t?)-(manylinux|musllinux|macosx|win)_(\w+)")
# A wheel file's platform tag: kind, versions (manylinux_2_17, macosx_11_0), arch.
WHEEL = re.compile(
    r"binsum-[^-]+-(cp3\d+-(?:abi3|cp3\d+t?))-(manylinux|musllinux|macosx|win)"
    r"[^-]*?(x86_64|aarch64|arm64|amd64|universal2)\.whl"
)


class Build(NamedTuple):
    """One line of expected-wheels.txt, with the wheel the rule gives it."""

    pair: str  # 'platform identifier', as cibuildwheel prints it
    wheel: tuple[str, str, str]  # (the listed tag, kind, arch)
    rule: str  # the tag of the wheel that serves the identifier


def build(line: str) -> Build:
    platform, identifier, tag = line.split()
    m = IDENTIFIER.fullmatch(identifier)
    if not m:
        raise ValueError(f"not a CPython build identifier: {identifier}")
    minor, threaded = int(m.group(1)), m.group(2)
    abi3 = (3, minor) >= LIMITED_API and not threaded
    rule = f"{ABI3_TAG}-abi3" if abi3 else f"cp3{minor}-cp3{minor}{threaded}"
    return Build(
        f"{platform} {identifier}", (tag, m.group(3), m.group(4).lower()), rule
    )


def expected() -> list[Build]:
    lines = EXPECTED.read_text(encoding="utf-8").splitlines()
    return [build(line) for line in lines if line.strip() and not line.startswith("#")]


def rule_problems(builds: list[Build]) -> list[str]:
    return [
        f"{b.pair} is served by {b.rule}, not {b.wheel[0]}"
        for b in builds
        if b.wheel[0] != b.rule
    ]


def check(dist: Path, builds: list[Build]) -> list[str]:
    wanted = {b.wheel for b in builds}
    problems = rule_problems(builds)
    found: dict[tuple[str, str, str], list[str]] = {}
    for path in sorted(dist.glob("*.whl")):
        if path.name.endswith("-py3-none-any.whl"):
            continue
        m = WHEEL.fullmatch(path.name)
        if not m:
            problems.append(f"not a compiled binsum wheel name: {path.name}")
            continue
        key = (m.group(1), m.group(2), m.group(3).lower())
        found.setdefault(key, []).append(path.name)
    for key in sorted(wanted - found.keys()):
        problems.append("missing the {} wheel for {} {}".format(*key))
    for key in sorted(found.keys() - wanted):
        problems.append(f"unexpected wheels {found[key]}")
    problems += [
        f"several wheels for one build: {n}" for n in found.values() if len(n) > 1
    ]
    return problems


def main(argv: list[str]) -> int:
    builds = expected()
    if argv == ["identifiers"]:
        print("\n".join(b.pair for b in builds))
        problems = rule_problems(builds)
    elif len(argv) == 2 and argv[0] == "check":
        problems = check(Path(argv[1]), builds)
        if not problems:
            count = len({b.wheel for b in builds})
            print(f"release_wheels: {count} compiled wheels, as expected")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for problem in problems:
        print(f"release_wheels: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
