"""Build script: the compiled kernel ``binsum._core``.

Set BINSUM_NO_EXTENSIONS=1 to build the pure-Python package (the twin
``binsum._pycore`` is then used at run time). Otherwise a failure to compile
the kernel fails the build: a wheel is never silently shipped without it.
"""

import os

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


# The kernel's Cython directives, for every build (_core_avx2.pyx and
# _core_avx512.pyx include _core.pyx, whose own header they would not read): no bounds, wraparound or
# initialisation checks and C division (every entry point checks its inputs
# itself), and safe to run without the GIL on a free-threaded interpreter.
CYTHON_DIRECTIVES = {
    "language_level": "3",
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
    "freethreading_compatible": True,
}

# binsum._core_avx2 and binsum._core_avx512: the same kernel for x86-64 CPUs
# with AVX2 (4 doubles a vector) and with AVX-512 (8), picked at run time.
# Neither flag set enables FMA, and contraction is off anyway. 512-bit vectors
# are asked for explicitly: GCC and Clang may otherwise stay at 256 bits.
AVX2_FLAGS = {"msvc": ["/arch:AVX2"], "unix": ["-mavx2"]}
AVX512_FLAGS = {
    "msvc": ["/arch:AVX512"],
    "unix": ["-mavx2", "-mavx512f", "-mprefer-vector-width=512"],
}
X86_64_BUILDS = {"binsum._core_avx2": AVX2_FLAGS, "binsum._core_avx512": AVX512_FLAGS}
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
                extra = X86_64_BUILDS[ext.name]["msvc" if msvc else "unix"]
            ext.extra_compile_args = flags + extra + list(ext.extra_compile_args)
        try:
            super().build_extensions()
        except (CCompilerError, ExecError, PlatformError) as exc:
            # Fail, never fall back: a wheel without the kernel is ~150x slower.
            raise CompileError(
                f"cannot compile the extension binsum._core: {exc}\n"
                "Install a C compiler, or set BINSUM_NO_EXTENSIONS=1 to build "
                "the pure-Python package (same results, much slower)."
            ) from exc


# The kernel's vector loops (a C header next to the .pyx that includes it).
LANES = ["src/binsum/_lanes.h"]


def extensions() -> list:
    if os.environ.get("BINSUM_NO_EXTENSIONS", "") not in ("", "0"):
        return []
    from Cython.Build import cythonize

    return cythonize(
        [
            Extension("binsum._core", ["src/binsum/_core.pyx"], depends=LANES),
            Extension(
                "binsum._core_avx2", ["src/binsum/_core_avx2.pyx"], depends=LANES
            ),
            Extension(
                "binsum._core_avx512", ["src/binsum/_core_avx512.pyx"], depends=LANES
            ),
        ],
        compiler_directives=CYTHON_DIRECTIVES,
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
