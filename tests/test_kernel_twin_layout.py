"""The kernel and its twin read side by side: the same blocks in the same order.

Each kernel file that has a twin module marks its blocks with a line
``# --- block: NAME``; the twin marks the same names in the same order, so a
reader (and a change) can go from a block of one to the block of the other.
The arithmetic, where every bit must agree, stays short enough to read so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "binsum"

# kernel file -> twin module, in the order _core.pyx includes them
TWINS = {
    "_core_arithmetic.pxi": "_pycore_arithmetic.py",
    "_core_predict.pxi": "_pycore_predict.py",
    "_core_python.pxi": "_pycore.py",
}
# The kernel's parts that have no twin (the docstring of _core.pyx says why).
KERNEL_ONLY = ["_core_lanes.pxi", "_core_signals.pxi", "_core_capi.pxi"]
# Lines of each side of the arithmetic, at most: about 400, with room for a
# fix but not for another job.
SHORT = 420

pytestmark = pytest.mark.skipif(
    not (PACKAGE / "_core.pyx").exists(),
    reason=f"no kernel source beside the tests ({PACKAGE})",
)

BLOCK = re.compile(r"^# --- block: (.+)$", re.MULTILINE)


def blocks(name: str) -> list[str]:
    return BLOCK.findall((PACKAGE / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("kernel, twin", TWINS.items())
def test_twin_has_the_kernels_blocks_in_its_order(kernel: str, twin: str) -> None:
    names = blocks(kernel)
    assert names, f"{kernel} marks no blocks"
    assert len(set(names)) == len(names), f"{kernel} repeats a block: {names}"
    assert blocks(twin) == names


def test_core_includes_every_part_in_order() -> None:
    source = (PACKAGE / "_core.pyx").read_text(encoding="utf-8")
    included = re.findall(r'^include "(.+)"$', source, re.MULTILINE)
    assert sorted(included) == sorted(p.name for p in PACKAGE.glob("_core_*.pxi"))
    twinned = [name for name in included if name in TWINS]
    assert twinned == list(TWINS)
    assert sorted(set(included) - set(TWINS)) == sorted(KERNEL_ONLY)


def test_only_twinned_kernel_parts_mark_blocks() -> None:
    for name in KERNEL_ONLY:
        assert blocks(name) == [], f"{name} has no twin to mark blocks against"


@pytest.mark.parametrize("name", ["_core_arithmetic.pxi", "_pycore_arithmetic.py"])
def test_arithmetic_reads_in_one_sitting(name: str) -> None:
    lines = (PACKAGE / name).read_text(encoding="utf-8").count("\n")
    assert lines <= SHORT, f"{name}: {lines} lines, more than {SHORT}"
