"""binsum._core compiled for x86-64 CPUs with AVX2 (four doubles per vector).

The same source as binsum._core, built with -mavx2 (/arch:AVX2 on MSVC) and
still no FMA contraction, so the same bits as binsum._core and
binsum._pycore (docs/algorithm.md, "Arithmetic shared by both backends").
binsum._backend uses it only when the CPU reports AVX2.
"""

include "_core.pyx"
