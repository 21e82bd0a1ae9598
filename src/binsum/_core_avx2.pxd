# binsum._core_avx2 (the AVX2 build of _core.pyx) exports the same C interface.
include "kernel.pxd"
