"""Run the test suite against the *installed* binsum, as every wheel build does.

    python tests/run_both.py            # compiled wheel: one pytest run tests
                                        # the kernel and its twin side by side
    python tests/run_both.py --pure     # pure wheel: the suite on the twin
                                        # (BINSUM_NO_EXTENSIONS=1)
    python tests/run_both.py --lean     # tests needing matplotlib or dask skip
                                        # where those are not installed

Run it from a folder outside the source tree (cibuildwheel's test-command and
.ci/run do), so `import binsum` finds the installed wheel, never src/. A script
rather than `VAR=1 pytest` so the same command works in cmd.exe on Windows.
Extra arguments go to pytest.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def check_installed(pure: bool) -> str | None:
    """Why the installed binsum is not the wheel under test, or None."""
    import binsum

    where = Path(binsum.__file__).resolve()
    if TESTS.parent in where.parents:
        return f"binsum imported from the source tree ({where}), not the wheel"
    installed = importlib.metadata.version("binsum")
    if installed != binsum.__version__:
        return f"binsum.__version__ {binsum.__version__} != package version {installed}"
    if pure:
        if binsum.has_extension:
            return "the pure wheel contains the compiled extension"
        return None
    if not binsum.has_extension:
        return "the compiled extension binsum._core is missing"
    # A free-threaded interpreter re-enables the GIL when it imports a module
    # that does not declare itself free-threading compatible.
    if sysconfig.get_config_var("Py_GIL_DISABLED") and "PYTHON_GIL" not in os.environ:
        if getattr(sys, "_is_gil_enabled", lambda: True)():
            return "importing binsum (its compiled kernel) re-enabled the GIL"
    print(f"binsum {binsum.__version__} from {where.parent}, backend {binsum.backend}")
    return None


def pytest(pure: bool, args: list[str]) -> int:
    env = dict(os.environ)
    env.pop("BINSUM_NO_EXTENSIONS", None)
    label = "the compiled kernel and its pure-Python twin"
    if pure:
        # Without a kernel the backend fixture's "cython" cases skip.
        env["BINSUM_NO_EXTENSIONS"] = "1"
        label = "the pure-Python twin (BINSUM_NO_EXTENSIONS=1)"
    print(f"== pytest: {label}", flush=True)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(TESTS)]
    code = subprocess.call([*cmd, *args], env=env)
    if code == 5:  # pytest: no tests were collected
        print("run_both: pytest collected no tests", file=sys.stderr)
        return 1
    return code


def main(argv: list[str]) -> int:
    pure = "--pure" in argv
    if "--lean" in argv:  # cibuildwheel installs only pytest and hypothesis
        os.environ["BINSUM_LEAN_TESTS"] = "1"
    os.environ.pop("BINSUM_NO_EXTENSIONS", None)  # check the wheel as installed
    args = [a for a in argv if a not in ("--pure", "--lean")]
    problem = check_installed(pure)
    if problem:
        print(f"run_both: {problem}", file=sys.stderr)
        return 1
    return pytest(pure, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
