"""Compiled kernel of binsum: BPTT training and inference over C arrays.

It gives the bits of its pure-Python twin ``binsum._pycore``: the contract
both keep is written in docs/algorithm.md ("Arithmetic shared by both
backends"). The kernel is split by job into the files included below; three
of them have a twin module with the same blocks (``# --- block:`` lines,
compared by tests/test_kernel_twin_layout.py), so a change to one shows
where the other must change:

- _core_lanes.pxi: the C types and the vector loops of ``_lanes.h``;
- _core_signals.pxi: the signal ticker (no twin: Python checks for signals
  by itself);
- _core_arithmetic.pxi, twin _pycore_arithmetic.py: e**x, the logistic,
  the forward step, BPTT's backward pass, SGD;
- _core_predict.pxi, twin _pycore_predict.py: predict's scheduler (prefix
  table, groups in lockstep, the queue of pairs waiting for a group);
- _core_capi.pxi: binsum's C interface (kernel.pxd, included by _core.pxd),
  which has no Python twin;
- _core_python.pxi, twin _pycore.py: the Python entry points.

Its typing is the twin's (``_core.pyi`` re-exports the twin's signatures).
Built with -ffp-contract=off (no FMA) and never -ffast-math; its Cython
directives (no bounds checks, C division) are set in setup.py,
CYTHON_DIRECTIVES. Callers (binsum._model) validate every argument; each
entry point still checks in O(1) that the shapes it is handed agree and
reads each operand once into a local before range-checking it, so no call
can make it read out of bounds or shift past 63 bits, whatever the caller
passes. Loops run without the GIL; there is no module-level mutable state.
In the main thread they check for signals every SIGNAL_WORK multiply-adds (a
few milliseconds), so Ctrl-C interrupts even one sample of the largest
network.
"""

include "_core_lanes.pxi"
include "_core_signals.pxi"
include "_core_arithmetic.pxi"
include "_core_predict.pxi"
include "_core_capi.pxi"
include "_core_python.pxi"
