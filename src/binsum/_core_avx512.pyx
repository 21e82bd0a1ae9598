"""binsum._core compiled for x86-64 CPUs with AVX-512 (eight doubles per vector).

The same source as binsum._core, built with -mavx512f (/arch:AVX512 on MSVC)
and still no FMA contraction, so the same bits as binsum._core and
binsum._pycore (docs/algorithm.md, "Arithmetic shared by both backends").
binsum._backend uses it only when the CPU reports AVX2 and AVX-512F.
"""

include "_core.pyx"
