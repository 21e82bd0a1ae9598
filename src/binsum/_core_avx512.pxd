# binsum._core_avx512 (the AVX-512 build of _core.pyx) exports the same C interface.
include "kernel.pxd"
