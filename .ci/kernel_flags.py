"""Print the compiler flags setup.py gives the kernel (GCC/Clang), one line.

    python .ci/kernel_flags.py                       # UNIX_FLAGS
    python .ci/kernel_flags.py --avx2                # + the AVX2 build's flags
    python .ci/kernel_flags.py --allow-contraction   # -ffp-contract=fast instead
                                                     # of =off (the teeth check)
    python .ci/kernel_flags.py --cython              # cython's -X options: the
                                                     # CYTHON_DIRECTIVES

Read from setup.py's assignments (it calls setup() when imported) and the
builds' table it reads (src/binsum/_builds.py), so the emulated and
second-compiler builds in .ci/ use exactly the project's flags.
"""

from __future__ import annotations

import ast
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "setup.py"
BUILDS = ROOT / "src" / "binsum" / "_builds.py"


def constants() -> dict[str, object]:
    found: dict[str, object] = {}
    for node in ast.parse(SETUP.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:  # not a literal
                    continue
    return found


def main(argv: list[str]) -> int:
    unknown = set(argv) - {"--avx2", "--allow-contraction", "--cython"}
    if unknown:
        print(__doc__, file=sys.stderr)
        return 2
    found = constants()
    if "--cython" in argv:
        directives = found["CYTHON_DIRECTIVES"]
        assert isinstance(directives, dict)
        print(" ".join(f"-X {k}={v}" for k, v in directives.items()))
        return 0
    flags = list(found["UNIX_FLAGS"])  # type: ignore[call-overload]
    if "--avx2" in argv:
        _, per_compiler, _ = runpy.run_path(str(BUILDS))["BUILDS"]["binsum._core_avx2"]
        flags += per_compiler["unix"]
    if "--allow-contraction" in argv:
        if "-ffp-contract=off" not in flags:
            print("setup.py's UNIX_FLAGS lack -ffp-contract=off", file=sys.stderr)
            return 1
        flags = [f for f in flags if f != "-ffp-contract=off"] + ["-ffp-contract=fast"]
    print(" ".join(flags))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
