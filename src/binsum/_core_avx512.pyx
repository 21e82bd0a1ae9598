"""binsum._core compiled for x86-64 CPUs with AVX-512 (eight doubles per vector).

The same source as binsum._core, built with -mavx512f (/arch:AVX512 on MSVC)
and still no FMA contraction: the same operations in the same order, so the
same bits as binsum._core and binsum._pycore. binsum._backend uses it only
when the CPU reports AVX2 and AVX-512F.
"""

include "_core.pyx"
