"""Build the example's extension with OpenMP (prange runs its threads).

binsum is needed only for its .pxd at build time (Cython finds binsum/kernel.pxd
in the installed package) and its compiled kernel at run time: there is no
link step against binsum.
"""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

if sys.platform == "win32":
    OPENMP = {"extra_compile_args": ["/openmp"], "extra_link_args": []}
elif sys.platform == "darwin":  # Apple clang has no OpenMP: threads run one by one
    OPENMP = {"extra_compile_args": [], "extra_link_args": []}
else:
    OPENMP = {"extra_compile_args": ["-fopenmp"], "extra_link_args": ["-fopenmp"]}

setup(
    ext_modules=cythonize(
        [
            Extension(
                "binsum_grader._grader", ["src/binsum_grader/_grader.pyx"], **OPENMP
            )
        ],
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "freethreading_compatible": True,
        },
    )
)
