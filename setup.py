"""Build script: the compiled kernel ``binsum._core``.

Set BINSUM_NO_EXTENSIONS=1 to build the pure-Python package (the twin
``binsum._pycore`` is then used at run time); a value that is neither on nor
off fails the build. Otherwise a failure to compile the kernel fails the
build: a wheel is never silently shipped without it.

On CPython 3.11 and later (not free-threaded) the kernel is built against the
stable ABI and the wheel is tagged cp311-abi3: one wheel serves every later
CPython. BINSUM_NO_LIMITED_API=1 builds the version-specific module instead
(what benchmarks/abi3.py compares it with).
"""

import importlib.util
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, PlatformError

# Parity with the pure-Python twin needs plain IEEE double arithmetic: no
# fused multiply-add contraction and no fast-math. GCC (manylinux, musllinux;
# its C default is -ffp-contract=fast) and Clang (macOS; default "on") need
# -ffp-contract=off: aarch64 and arm64 have FMA in their base instruction set.
# MSVC (Windows AMD64 and ARM64) does not contract under /fp:precise since
# Visual Studio 2022 17.0, which cibuildwheel's Windows runners have.
# -fno-trapping-math changes no value (only FP exception flags): it lets GCC
# turn the exponential's clamp into min/max so loops of sigmoids vectorise.
UNIX_FLAGS = ["-O3", "-ffp-contract=off", "-fno-trapping-math", "-g0"]
MSVC_FLAGS = ["/O2", "/fp:precise"]


def _own(name: str):
    """src/binsum/<name>.py, loaded by its path (binsum itself is not
    importable here: its dependencies need not be installed for a build)."""
    path = Path(__file__).resolve().parent / "src" / "binsum" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_binsum_setup_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# The builds' flags, next to the CPU features they allow (binsum._builds),
# and the switches read as binsum reads them (binsum._switch).
_builds, _switch = _own("_builds"), _own("_switch")


# The kernel's Cython directives, for every build (_core_avx2.pyx and
# _core_avx512.pyx include _core.pyx, whose own header they would not
# read): no bounds, wraparound or initialisation checks and C division
# (every entry point checks its inputs itself), and safe to run without the
# GIL on a free-threaded interpreter.
CYTHON_DIRECTIVES = {
    "language_level": "3",
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
    "freethreading_compatible": True,
}


def limited_api() -> bool:
    """Whether this interpreter builds the kernel against the stable ABI
    (binsum._builds.LIMITED_API's)."""
    if _switch.is_set("BINSUM_NO_LIMITED_API", strict=True):
        return False
    return (
        sys.implementation.name == "cpython"
        and sys.version_info >= _builds.LIMITED_API
        and not sysconfig.get_config_var("Py_GIL_DISABLED")
    )


# binsum._core_avx2 and binsum._core_avx512, each with its flags per compiler.
X86_64_BUILDS = {
    name: flags for name, (variable, flags, _) in _builds.BUILDS.items() if variable
}
X86_64_PLATFORMS = ("x86_64", "amd64")


class BuildExt(build_ext):
    def build_extensions(self) -> None:
        msvc = self.compiler.compiler_type == "msvc"
        flags = MSVC_FLAGS if msvc else UNIX_FLAGS
        x86_64 = self.plat_name.lower().endswith(X86_64_PLATFORMS)
        if not x86_64:  # e.g. aarch64, arm64, universal2: baseline only
            self.extensions = [
                e for e in self.extensions if e.name not in X86_64_BUILDS
            ]
        for ext in self.extensions:
            extra = []
            if ext.name in X86_64_BUILDS:
                extra = list(X86_64_BUILDS[ext.name]["msvc" if msvc else "unix"])
            ext.extra_compile_args = flags + extra + list(ext.extra_compile_args)
        super().build_extensions()

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except (CCompilerError, ExecError, PlatformError) as exc:
            # Fail, never fall back: a wheel without the kernel is ~150x slower.
            raise CompileError(
                f"cannot compile the extension {ext.name}: {exc}\n"
                "Install a C compiler, or set BINSUM_NO_EXTENSIONS=1 to build "
                "the pure-Python package (same results, much slower)."
            ) from exc


# What every build of the kernel includes besides its .pyx: the parts of
# _core.pyx (one .pxi per job), the C interface and the vector loops.
# (Paths from the project root, where the build runs, as the sources'.)
KERNEL_PARTS = [
    *sorted(str(p) for p in Path("src/binsum").glob("_core_*.pxi")),
    "src/binsum/kernel.pxd",
    "src/binsum/_lanes.h",
]


def extensions(abi3: bool) -> list:
    if _switch.is_set("BINSUM_NO_EXTENSIONS", strict=True):
        return []
    from Cython.Build import cythonize

    version = "0x{:02X}{:02X}0000".format(*_builds.LIMITED_API)
    return cythonize(
        [
            Extension(
                name,
                [f"src/{name.replace('.', '/')}.pyx"],
                depends=KERNEL_PARTS,
                py_limited_api=abi3,
                define_macros=[("Py_LIMITED_API", version)] if abi3 else [],
            )
            for name in _builds.BUILDS
        ],
        compiler_directives=CYTHON_DIRECTIVES,
    )


abi3 = limited_api()
ext_modules = extensions(abi3)
# The wheel's tag follows its modules: cp311-abi3 when they use the stable ABI.
abi3_tag = {"py_limited_api": _builds.ABI3_TAG}
options = {"bdist_wheel": abi3_tag} if ext_modules and abi3 else {}
setup(ext_modules=ext_modules, cmdclass={"build_ext": BuildExt}, options=options)
