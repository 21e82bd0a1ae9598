# The signal ticker: how the kernel's loops, which run without the GIL, still
# let Ctrl-C (and a caller's stop flag) interrupt them. The twin has none:
# Python checks for signals between bytecodes.

import threading

from cpython.pythread cimport PyThread_get_thread_ident
from libc.string cimport memcpy

# Signals are handled in the main thread only; its ident, read once here.
cdef unsigned long _MAIN_THREAD = threading.main_thread().ident

cdef extern from "Python.h":
    # The raw C function: returns -1 with the exception (KeyboardInterrupt,
    # or whatever the handler raised) set, which the caller re-raises.
    int _signals_pending "PyErr_CheckSignals" () noexcept

cdef extern from *:
    """
    static int binsum_flag_set(const unsigned char *flag) {
    #if defined(_MSC_VER)
        return *(const volatile unsigned char *)flag != 0;
    #else
        return __atomic_load_n(flag, __ATOMIC_RELAXED) != 0;
    #endif
    }
    """
    # A byte another thread may set while this one runs: read it afresh at
    # every check (the compiler may not keep it in a register).
    bint _flag_set "binsum_flag_set" (const unsigned char* flag) noexcept nogil

cdef enum:
    SIGNAL_WORK = 1 << 22     # multiply-adds between two signal checks
    # Work of one piece of a loop over H**2 elements (zeroing, a copy, the
    # SGD step: one unit per element; the gradient sums: one per
    # multiply-add), counted on the ticker between pieces.
    PIECE_WORK = 1 << 20
    # A transposed element's work: its reads cross a page each (at H = 4096
    # the transpose takes about as long as 8 multiply-adds per element).
    TRANSPOSE_WORK = 8


cdef struct Ticker:
    # Signal checks by work done, not by samples: a sample costs about
    # bits * H**2 multiply-adds, from ~1e3 (H = 16) to ~1e9 (H = 4096).
    bint enabled      # only the main thread handles signals
    Py_ssize_t left   # multiply-adds until the next check
    bint stopped      # a handler raised (the exception is set), or halted
    const unsigned char* stop  # the caller's stop flag, or NULL
    bint halted       # *stop became nonzero (no exception is set)


cdef inline void _ticker_init(Ticker* tk) noexcept:
    # A thread-ident comparison, no Python code: a signal handler that ran
    # here (say Ctrl-C just before the call) would raise into a noexcept
    # function, and the exception would be lost.
    tk.enabled = PyThread_get_thread_ident() == _MAIN_THREAD
    tk.left = SIGNAL_WORK
    tk.stopped = False
    tk.stop = NULL
    tk.halted = False


cdef inline bint _tick(Ticker* tk, Py_ssize_t work) noexcept nogil:
    # Count ``work`` multiply-adds; True once a signal handler has raised or
    # the stop flag is set (a worker thread's only way to stop early).
    # NULL (the C interface): never check, never stop.
    if tk == NULL or not (tk.enabled or tk.stop != NULL):
        return False
    tk.left -= work
    if tk.left > 0:
        return False
    tk.left = SIGNAL_WORK
    if tk.stop != NULL and _flag_set(tk.stop):
        tk.halted = True
        tk.stopped = True
    elif tk.enabled:
        with gil:
            if _signals_pending() != 0:
                tk.stopped = True
    return tk.stopped


cdef inline bint _stopped(Ticker* tk) noexcept nogil:
    return tk != NULL and tk.stopped


cdef inline Py_ssize_t _piece_rows(Py_ssize_t total, Py_ssize_t row_work,
                                   Py_ssize_t align) noexcept nogil:
    # Rows of ``row_work`` each in one piece of about PIECE_WORK: all
    # ``total`` rows if they fit (no division on small networks), else a
    # multiple of ``align``, at least ``align``.
    cdef Py_ssize_t rows
    if total * row_work <= PIECE_WORK:
        return total
    rows = PIECE_WORK // row_work
    rows -= rows % align
    return rows if rows > align else align


cdef int _raise_pending() except -1:
    # The exception is already set (by the signal handler): propagate it.
    return -1


cdef bint _copy_pieces(double* dst, const double* src, Py_ssize_t n,
                       Ticker* tk) noexcept nogil:
    # memcpy of n doubles a piece at a time (not on training's path).
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t m
    while i < n:
        m = PIECE_WORK if n - i > PIECE_WORK else n - i
        if _tick(tk, m):
            return True
        memcpy(dst + i, src + i, m * sizeof(double))
        i += m
    return False
