"""Check what a binsum distribution ships; exit 1 naming every problem.

    python .ci/check_dist.py sdist    dist/binsum-X.tar.gz
    python .ci/check_dist.py compiled wheelhouse/binsum-X-cp311-...manylinux....whl
    python .ci/check_dist.py pure     dist/binsum-X-py3-none-any.whl

Every wheel: the package modules, the kernels' stubs and py.typed (PEP 561),
the C interface's .pxd files;
no generated C, no Cython source, no build/ or src/ paths, no bytecode. The
compiled wheel: one binsum._core (and on x86-64 one binsum._core_avx2 and one
binsum._core_avx512), tagged cp311-abi3 with stable-ABI modules or
version-specific (cp310-cp310, cp313-cp313t) without them, a
repaired platform tag (never linux_*), on Linux no libraries grafted by
auditwheel (the kernels need only libc). The pure wheel: py3-none-any, nothing
compiled. The sdist: the Cython sources, every file of the tests and what they
read from elsewhere (its own tests run in .ci/run), the documentation's
sources and CHANGELOG.md (in a git checkout: every file git tracks in src/,
tests/, docs/ and examples/, which MANIFEST.in names by kind of file), no
generated C and nothing compiled; its metadata
has the project URLs, and its long description (the README: PyPI's project
page) links only to absolute URLs (relative links and images break on PyPI).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path, PurePosixPath

# What every distribution must hold, read from the package's source folder:
# each module, each stub, the PEP 561 marker and the shipped network.
PACKAGE = Path(__file__).resolve().parent.parent / "src" / "binsum"
MODULES = sorted(p.name for p in PACKAGE.glob("*.py")) + ["pretrained.npz"]
TYPING = sorted(p.name for p in PACKAGE.glob("*.pyi")) + ["py.typed"]
# The C interface for other Cython extensions (kernel.pxd, and the kernels'
# own .pxd files that export it): in every wheel, so cimport finds it.
CYTHON_API = sorted(p.name for p in PACKAGE.glob("*.pxd"))
# The test suite, and the files its tests read outside tests/: the sdist's
# tests run from the unpacked sdist (.ci/run), so every one ships.
ROOT = PACKAGE.parent.parent
TESTS = sorted(
    p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").iterdir() if p.is_file()
)
TESTS_READ = ["benchmarks/numpy_reference.py"]  # test_reference.py
# The AVX2 and AVX-512 builds of the kernel exist only in x86-64 wheels
# (setup.py).
X86_64 = ("x86_64", "amd64")
# The stable ABI's wheel tag: binsum._builds, loaded by its path (only the
# standard library there; binsum itself need not be importable).
_spec = importlib.util.spec_from_file_location("_binsum_builds", PACKAGE / "_builds.py")
assert _spec is not None and _spec.loader is not None
_builds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_builds)
ABI3_TAG: str = _builds.ABI3_TAG
LIMITED_API: tuple[int, int] = _builds.LIMITED_API
X86_64_KERNELS = ("_core_avx2", "_core_avx512")
COMPILED = (".so", ".pyd", ".dylib", ".dll")
ENTRY = "_binsum_command.py"  # the console script's top-level entry module
LEFTOVERS = (".c", ".pyx", ".h", ".o", ".obj", ".pyc", ".pyo")
# Folders whose every tracked file the sdist ships (MANIFEST.in).
SHIPPED_FOLDERS = ("src", "tests", "docs", "examples")


def bad_paths(names: list[str]) -> list[str]:
    problems = []
    for name in names:
        parts = PurePosixPath(name).parts
        if name.endswith(LEFTOVERS) or "__pycache__" in parts:
            problems.append(f"build leftover {name}")
        if "build" in parts or parts[0] in ("src", "tests"):
            problems.append(f"stray path {name}")
    return problems


def check_wheel(path: str, kind: str) -> list[str]:
    filename = PurePosixPath(path).name
    m = re.fullmatch(r"binsum-([^-]+)-([^-]+)-([^-]+)-([^-]+)\.whl", filename)
    if not m:
        return [f"not a binsum wheel name: {filename}"]
    version, python, abi, platform = m.groups()
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]  # no dirs
        dist_info = f"binsum-{version}.dist-info"
        wheel_meta = Parser().parsestr(zf.read(f"{dist_info}/WHEEL").decode())
        metadata = Parser().parsestr(zf.read(f"{dist_info}/METADATA").decode())
        record = zf.read(f"{dist_info}/RECORD").decode()
    problems = bad_paths(names)
    for module in MODULES + TYPING + CYTHON_API:
        if f"binsum/{module}" not in names:
            problems.append(f"missing binsum/{module}")
    if ENTRY not in names:
        problems.append(f"missing {ENTRY}")
    recorded = {line.split(",")[0] for line in record.splitlines() if line}
    problems += [f"{n} not in RECORD" for n in names if n not in recorded]
    if not any(r.startswith("numpy") for r in metadata.get_all("Requires-Dist", [])):
        problems.append("METADATA does not require numpy")
    compiled = [n for n in names if n.endswith(COMPILED)]
    purelib = wheel_meta["Root-Is-Purelib"].strip().lower()
    if kind == "pure":
        if (python, abi, platform) != ("py3", "none", "any"):
            problems.append(f"pure wheel tagged {python}-{abi}-{platform}")
        if compiled:
            problems.append(f"pure wheel ships compiled files {compiled}")
        if purelib != "true":
            problems.append("pure wheel has Root-Is-Purelib: false")
        return problems
    kernels = {
        m: [n for n in compiled if n.startswith(f"binsum/{m}.")]
        for m in ("_core", *X86_64_KERNELS)
    }
    x86 = 1 if platform.lower().endswith(X86_64) else 0
    if len(kernels["_core"]) != 1 or any(
        len(kernels[m]) != x86 for m in X86_64_KERNELS
    ):
        problems.append(
            f"expected _core and {x86} of each of {X86_64_KERNELS}, got {compiled}"
        )
    if len(compiled) != 1 + x86 * len(X86_64_KERNELS):
        problems.append(f"unexpected compiled files {compiled}")
    if abi == "abi3":
        if python != ABI3_TAG:
            problems.append(f"stable-ABI wheel tagged {python}-{abi}, not {ABI3_TAG}-abi3")
        if not platform.startswith("win"):  # Windows names both kinds *.pyd
            problems += [f"{n} is no abi3 module" for n in compiled if ".abi3." not in n]
    elif not re.fullmatch(r"cp3\d+", python) or not abi.startswith(python):
        problems.append(f"compiled wheel tagged {python}-{abi}")
    elif any(".abi3." in n for n in compiled):
        problems.append(f"version-specific wheel {python}-{abi} ships abi3 modules")
    if not platform.startswith(("manylinux", "musllinux", "macosx", "win")):
        problems.append(f"platform tag {platform} (a Linux wheel not repaired?)")
    linux = platform.startswith(("manylinux", "musllinux"))
    if linux and any(n.startswith("binsum.libs/") for n in names):
        problems.append("auditwheel grafted shared libraries into the wheel")
    if purelib != "false":
        problems.append("compiled wheel has Root-Is-Purelib: true")
    return problems


def tracked() -> list[str]:
    """The files git tracks in the folders MANIFEST.in lists by kind of file
    (src, tests, docs, examples): all ship, a new kind included. None outside a
    git checkout (the clone's .ci/run and the workflow's checkouts are)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--", *SHIPPED_FOLDERS],
            capture_output=True, check=True, text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        print("check_dist: not a git checkout: the sdist is not compared with "
              f"the tracked files of {', '.join(SHIPPED_FOLDERS)}", file=sys.stderr)
        return []
    return [name for name in out.split("\0") if name]


def check_sdist(path: str) -> list[str]:
    with tarfile.open(path) as tf:
        names = [m.name.split("/", 1)[1] for m in tf.getmembers() if "/" in m.name]
        top = tf.getmembers()[0].name.split("/", 1)[0]
        member = tf.extractfile(f"{top}/PKG-INFO")
        pkg_info = member.read().decode() if member else ""
    problems = []
    for needed in [
        "pyproject.toml",
        "setup.py",
        "README.md",
        "LICENSE",
        "PKG-INFO",
        "src/binsum/_core.pyx",
        "src/binsum/_core_avx2.pyx",
        "src/binsum/_core_avx512.pyx",
        "src/binsum/_lanes.h",  # the kernel's vector loops, which it includes
        # its parts, which _core.pyx includes
        *(f"src/binsum/_core_{part}.pxi"
          for part in ("lanes", "signals", "arithmetic", "predict", "capi", "python")),
        *TESTS,  # golden.json among them: the bits every wheel's tests compare
        *TESTS_READ,
        f"src/{ENTRY}",
        "CHANGELOG.md",
        "docs/conf.py",
        "docs/index.md",
        "docs/algorithm.md",
        "docs/api.md",
        "examples/embed/pyproject.toml",  # the C interface's worked example
    ] + [f"src/binsum/{m}" for m in MODULES + TYPING + CYTHON_API] + tracked():
        if needed not in names:
            problems.append(f"sdist lacks {needed}")
    for name in names:
        if name.endswith((*COMPILED, ".c", ".o", ".pyc")) or "/build/" in f"/{name}":
            problems.append(f"sdist ships build output {name}")
        if name.startswith("docs/_build/"):
            problems.append(f"sdist ships a built documentation site: {name}")
    return problems + check_metadata(pkg_info)


# Markdown links and images: [text](target), ![alt](target), <target>.
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)|<((?:https?|mailto):[^>\s]+)>")
URLS = ("Source", "Documentation", "Issues", "Changelog")


def check_metadata(pkg_info: str) -> list[str]:
    """Project URLs present; the long description links absolutely."""
    meta = Parser().parsestr(pkg_info)
    problems = []
    labels = [u.split(",", 1)[0].strip() for u in meta.get_all("Project-URL", [])]
    problems += [f"no Project-URL {label}" for label in URLS if label not in labels]
    description = str(meta.get_payload() or "")
    if meta.get("Description-Content-Type", "") != "text/markdown":
        problems.append("long description is not text/markdown")
    for m in LINK.finditer(description):
        target = m.group(1) or m.group(2)
        if not target.startswith(("https://", "http://", "mailto:", "#")):
            problems.append(f"relative link in the long description: {target}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("sdist", "compiled", "pure"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, path = argv
    problems = check_sdist(path) if kind == "sdist" else check_wheel(path, kind)
    for problem in problems:
        print(f"check_dist: {PurePosixPath(path).name}: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_dist: {kind} {PurePosixPath(path).name}: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
