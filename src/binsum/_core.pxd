# binsum._core exports the C interface declared (and documented) in kernel.pxd.
include "kernel.pxd"
