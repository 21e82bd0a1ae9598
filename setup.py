"""Build script: the compiled kernel ``binsum._core``.

Set BINSUM_NO_EXTENSIONS=1 to build the pure-Python package (the twin
``binsum._pycore`` is then used at run time). Otherwise a failure to compile
the kernel fails the build: a wheel is never silently shipped without it.
"""

import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# Parity with the pure-Python twin needs plain IEEE double arithmetic: no
# fused multiply-add contraction and no fast-math. MSVC's default /fp:precise
# does not contract; GCC and Clang need -ffp-contract=off.
UNIX_FLAGS = ["-O3", "-ffp-contract=off", "-fno-fast-math", "-g0"]
MSVC_FLAGS = ["/O2", "/fp:precise"]


class BuildExt(build_ext):
    def build_extensions(self) -> None:
        flags = MSVC_FLAGS if self.compiler.compiler_type == "msvc" else UNIX_FLAGS
        for ext in self.extensions:
            ext.extra_compile_args = flags + list(ext.extra_compile_args)
        super().build_extensions()


def extensions() -> list:
    if os.environ.get("BINSUM_NO_EXTENSIONS", "") not in ("", "0"):
        return []
    from Cython.Build import cythonize

    return cythonize(
        [Extension("binsum._core", ["src/binsum/_core.pyx"])],
        compiler_directives={"language_level": "3"},
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
