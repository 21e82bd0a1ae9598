"""Compiled kernel of binsum: BPTT training and inference over C arrays.

``binsum._pycore`` mirrors it block by block (the same function names,
constants and loop nests, the same operations in the same order); the two
must give bit-identical results, so any change to the arithmetic or its order
is made in both: read them side by side. The two matrix loops run with vector
lanes here (``_lanes.h``: many sums side by side, each still adding its terms
in order), and predict() advances pairs in lockstep; the twin computes the
same sums one at a time. Its typing is the twin's
(``_core.pyi`` re-exports the twin's signatures). Built with
-ffp-contract=off (no FMA) and never -ffast-math; its Cython directives
(no bounds checks, C division) are set in setup.py, CYTHON_DIRECTIVES.
Callers (binsum._model) validate every argument; each entry point still
checks in O(1) that the shapes it is handed agree and reads each operand once
into a local before range-checking it, so no call can make it read out of
bounds or shift past 63 bits, whatever the caller passes.
Loops run without the GIL; there is no module-level mutable state. In the
main thread they check for signals every SIGNAL_WORK multiply-adds (a few
milliseconds), so Ctrl-C interrupts even one sample of the largest network.

Other Cython extensions call the same functions through binsum's C interface
(kernel.pxd, included by _core.pxd): exponential, logistic, forward_step,
sequence_logits, predict_pair, predict_pairs, scratch_size, sample_gradients
and train_pairs, defined below. The Python entry points (train, predict, ...)
check their arguments and call the same internal functions, with a signal
ticker where the C interface passes none.
"""

import threading

from cpython.pythread cimport PyThread_get_thread_ident
from libc.math cimport NAN
from libc.stdlib cimport malloc, free
from libc.string cimport memset, memcpy

ctypedef long long i64

# Signals are handled in the main thread only; its ident, read once here.
cdef unsigned long _MAIN_THREAD = threading.main_thread().ident

cdef extern from *:
    """
    #if defined(_MSC_VER)
    #define BINSUM_RESTRICT __restrict
    #else
    #define BINSUM_RESTRICT __restrict__
    #endif
    """
    # Pointers that alias nothing else in scope: lets the C compiler keep
    # values in registers and vectorise the innermost loops.
    ctypedef double* dptr "double * BINSUM_RESTRICT"
    ctypedef const double* cdptr "const double * BINSUM_RESTRICT"

cdef extern from "_lanes.h" nogil:
    # The vector-matrix and outer-product loops, with vector lanes and
    # register-held sums; each sum still adds its terms in order.
    void _rows_into "binsum_rows_into" (double* acc, const double* x,
                                        const double* m, Py_ssize_t rows,
                                        Py_ssize_t stride, Py_ssize_t cols)
    void _prefetch "binsum_prefetch" (const void* p)
    void _add_masked "binsum_add_masked" (double* acc, const double* v,
                                          int flag, Py_ssize_t n)
    void _transpose_rows "binsum_transpose_rows" (
        double* dst, const double* src, Py_ssize_t n, Py_ssize_t begin,
        Py_ssize_t end)
    const Py_ssize_t TILE "BINSUM_TILE"  # rows of a tile of _transpose_rows
    const Py_ssize_t ROW_CHUNK "BINSUM_ROW_CHUNK"  # rows _rows_into takes together
    void _outer_sums_into "binsum_outer_sums_into" (
        double* g, const double* x, const double* y, Py_ssize_t terms,
        Py_ssize_t step, Py_ssize_t rows, Py_ssize_t cols)

cdef extern from *:
    """
    static const double BINSUM_LOG2E = 1.4426950408889634;
    static const double BINSUM_LN2_HI = 0.6931471803691238;
    static const double BINSUM_LN2_LO = 1.9082149292705877e-10;
    static const double BINSUM_SHIFTER = 6755399441055744.0;
    static const double BINSUM_EXP_LIMIT = 708.0;
    """
    # _exp(): Cody-Waite split of ln(2) (kd * LN2_HI is exact for |kd| < 2**11);
    # SHIFTER = 1.5 * 2**52: adding it rounds a double below 2**51 to an integer.
    const double LOG2E "BINSUM_LOG2E"
    const double LN2_HI "BINSUM_LN2_HI"
    const double LN2_LO "BINSUM_LN2_LO"
    const double SHIFTER "BINSUM_SHIFTER"
    # |x| clamped here: e**x and every step stay normal
    const double EXP_LIMIT "BINSUM_EXP_LIMIT"

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
    MAX_BITS = 62             # operands and sums stay below 2**62 (int64)
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


cdef Py_ssize_t _hidden_size(const double[:, ::1] wi, const double[:, ::1] wh,
                             const double[:, ::1] wo) except -1:
    # H from the weights, after checking (2, H), (H, H), (H, 1), H >= 1.
    cdef Py_ssize_t size = wh.shape[0]
    if (size < 1 or wh.shape[1] != size or wi.shape[0] != 2
            or wi.shape[1] != size or wo.shape[0] != size or wo.shape[1] != 1):
        raise ValueError(
            "weights must have shapes (2, H), (H, H), (H, 1) with H >= 1, got "
            f"({wi.shape[0]}, {wi.shape[1]}), ({wh.shape[0]}, {wh.shape[1]}), "
            f"({wo.shape[0]}, {wo.shape[1]})")
    return size


cdef int _same_length(str what, Py_ssize_t n, Py_ssize_t m) except -1:
    if n != m:
        raise ValueError(f"{what} must have equal lengths, got {n} and {m}")
    return 0


cdef int _check_bits(Py_ssize_t bits) except -1:
    if bits < 1 or bits > MAX_BITS:
        raise ValueError(f"bits must be in 1..{MAX_BITS}, got {bits}")
    return 0


cdef inline bint _pair_ok(i64 a, i64 b, Py_ssize_t bits) noexcept nogil:
    # A training pair: a, b >= 0 and a + b < 2**bits (no overflow: bits <= 62).
    return a >= 0 and b >= 0 and a < (<i64>1 << bits) and b < (<i64>1 << bits) \
        and a + b < (<i64>1 << bits)


cdef union F64Bits:
    double d
    unsigned long long u


cdef inline double _exp(double x) noexcept nogil:
    # e**x from basic IEEE operations and an exact power-of-two scaling
    # (_pycore._exp says more). The clamp is branch-free, so loops of
    # sigmoids vectorise; NaN stays NaN through every operation below.
    cdef F64Bits t, scale
    cdef double kd, r, p, r2, r4
    x = EXP_LIMIT if x > EXP_LIMIT else x
    x = -EXP_LIMIT if x < -EXP_LIMIT else x
    t.d = x * LOG2E + SHIFTER
    kd = t.d - SHIFTER
    r = (x - kd * LN2_HI) - kd * LN2_LO
    # Taylor polynomial of degree 12 in Estrin's form: the same operations
    # as the twin, and a dependency chain a third as long as Horner's.
    r2 = r * r
    r4 = r2 * r2
    p = (((1.0 + r) + (0.5 + 0.16666666666666666 * r) * r2)
         + ((0.041666666666666664 + 0.008333333333333333 * r)
            + (0.001388888888888889 + 0.0001984126984126984 * r) * r2) * r4) \
        + ((((2.48015873015873e-05 + 2.7557319223985893e-06 * r)
             + (2.755731922398589e-07 + 2.505210838544172e-08 * r) * r2)
            + 2.08767569878681e-09 * r4) * (r4 * r4))
    # t.d == 1.5 * 2**52 + k, so its low mantissa bits hold k; build 2**k
    # directly (k is in [-1021, 1021], so 2**k and p * 2**k are normal).
    scale.u = (t.u + 1023) << 52
    return p * scale.d


cdef inline double _sigmoid(double z) noexcept nogil:
    return 1.0 / (1.0 + _exp(-z))


cdef inline bint _stopped(Ticker* tk) noexcept nogil:
    return tk != NULL and tk.stopped


# Each *_pieces function below does one job over H**2 elements a piece at a
# time, with a signal check between pieces, and returns True if tk stopped
# it. Those called every step are inline and, below one piece of work, the
# plain call; their loops over pieces are apart, called on large networks.

cdef bint _rows_in_pieces(double* acc, const double* x, const double* m,
                          Py_ssize_t size, Ticker* tk) noexcept nogil:
    cdef Py_ssize_t rows = _piece_rows(size, size, ROW_CHUNK)
    cdef Py_ssize_t k = 0
    cdef Py_ssize_t n
    while k < size:
        n = rows if k + rows < size else size - k
        if _tick(tk, n * size):
            return True
        _rows_into(acc, x + k, m + k * size, n, size, size)
        k += n
    return False


cdef inline bint _rows_pieces(double* acc, const double* x, const double* m,
                              Py_ssize_t size, Ticker* tk) noexcept nogil:
    # _rows_into(acc, x, m, size, size, size), a piece of rows at a time: the
    # next piece's terms are added after the last's (the sums' order is
    # unchanged).
    if size * size > PIECE_WORK:
        return _rows_in_pieces(acc, x, m, size, tk)
    _rows_into(acc, x, m, size, size, size)
    return _tick(tk, size * size)


cdef inline double _step_ticked(cdptr wi, cdptr wh, cdptr wo,
                                Py_ssize_t size, double x0, double x1,
                                cdptr hp, dptr hc, bint first,
                                Ticker* tk) noexcept nogil:
    # h_t = sigmoid(x_t . wi + h_{t-1} . wh) into hc; returns o_t = h_t . wo
    # (meaningless if tk stopped it). Each hc[j] sums k = 0..H-1 in order;
    # _rows_into runs the H sums side by side without changing any of them.
    # At the first step h_0 = 0 and the recurrent term is skipped.
    cdef Py_ssize_t j, k
    cdef double o
    for j in range(size):
        hc[j] = x0 * wi[j] + x1 * wi[size + j]
    if not first and _rows_pieces(hc, hp, wh, size, tk):
        return 0.0
    for j in range(size):
        hc[j] = _sigmoid(hc[j])
    o = 0.0
    for k in range(size):
        o = o + hc[k] * wo[k]
    return o


cdef inline double _step(cdptr wi, cdptr wh, cdptr wo,
                         Py_ssize_t size, double x0, double x1,
                         cdptr hp, dptr hc, bint first) noexcept nogil:
    # _step_ticked without signal checks.
    return _step_ticked(wi, wh, wo, size, x0, x1, hp, hc, first, NULL)


cdef enum:
    GROUP = 8                # states that _steps_together advances at once


cdef bint _steps_together(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                          Py_ssize_t m, const double* x0, const double* x1,
                          const double** hp, dptr hc, bint first,
                          i64* bit, Ticker* tk) noexcept nogil:
    # _step for m <= GROUP independent states at once: state p from hp[p]
    # (not read at the first step) with inputs x0[p], x1[p] into
    # hc + p * size, and bit[p] = 1 if its output o > 0 else 0. Each state's
    # operations are _step's, in its order; the states lie side by side, so
    # their sigmoids form one loop and their chains overlap. Returns True if
    # tk stopped it (NULL on small steps: the caller ticks once per step).
    cdef Py_ssize_t p, j, k
    cdef double o
    cdef double* row
    for p in range(m):
        row = hc + p * size
        for j in range(size):
            row[j] = x0[p] * wi[j] + x1[p] * wi[size + j]
        if not first and _rows_pieces(row, hp[p], wh, size, tk):
            return True
    for j in range(m * size):
        hc[j] = _sigmoid(hc[j])
    for p in range(m):
        row = hc + p * size
        o = 0.0
        for k in range(size):
            o = o + row[k] * wo[k]
        bit[p] = o > 0.0  # no branch on the bit
    return False


cdef struct Work:
    # Scratch memory for one pair's BPTT, carved from one block of doubles.
    double* hs       # (bits + 1) * H hidden states, h_0 = 0
    double* yh       # bits outputs
    double* das      # bits * H: the hidden deltas of every step
    double* gwi      # 2 * H
    double* gwh      # H * H
    double* gwo      # H
    double* wht      # H * H: wh transposed, for the backward sums


cdef inline Py_ssize_t _work_size(Py_ssize_t size, Py_ssize_t bits) noexcept nogil:
    return (2 * bits + 1) * size + bits + 3 * size + 2 * size * size


cdef void _work_init(Work* w, double* block, Py_ssize_t size,
                     Py_ssize_t bits) noexcept nogil:
    # Every part is written before it is read (the gradients at the start of
    # each sample), except h_0, which no step reads; it is zeroed only to
    # keep hs what it says. No memset of the whole: it is 2 * H**2 doubles.
    memset(block, 0, size * sizeof(double))
    w.hs = block
    w.yh = w.hs + (bits + 1) * size
    w.das = w.yh + bits
    w.gwi = w.das + bits * size
    w.gwo = w.gwi + 2 * size
    w.gwh = w.gwo + size
    w.wht = w.gwh + size * size


cdef bint _transpose_pieces(double* wht, const double* wh, Py_ssize_t size,
                            Ticker* tk) noexcept nogil:
    # wht = wh transposed, a piece of rows of wht at a time (whole tiles).
    cdef Py_ssize_t rows = _piece_rows(size, size * TRANSPOSE_WORK, TILE)
    cdef Py_ssize_t k = 0
    cdef Py_ssize_t n
    while k < size:
        n = rows if k + rows < size else size - k
        if _tick(tk, n * size * TRANSPOSE_WORK):
            return True
        _transpose_rows(wht, wh, size, k, k + n)
        k += n
    return False


cdef bint _gwh_pieces(double* gwh, const double* hs, const double* das,
                      Py_ssize_t size, Py_ssize_t bits,
                      Ticker* tk) noexcept nogil:
    # gwh = the sum of outer products of the bits - 1 hidden states from hs
    # and the deltas from das, both stepping back a row each term; zeroed
    # and summed a piece of rows at a time (rows of 4: the sums' row blocks).
    cdef Py_ssize_t rows = _piece_rows(size, size * bits, 4)
    cdef Py_ssize_t k = 0
    cdef Py_ssize_t n
    while k < size:
        n = rows if k + rows < size else size - k
        if _tick(tk, n * size * bits):
            return True
        memset(gwh + k * size, 0, n * size * sizeof(double))
        _outer_sums_into(gwh + k * size, hs + k, das, bits - 1, -size, n, size)
        k += n
    return False


cdef inline double _sample_gradients(const double* wi, const double* wh,
                                     const double* wo, Py_ssize_t size,
                                     i64 a, i64 b, Py_ssize_t bits,
                                     double clip, Work* w,
                                     Ticker* tk) noexcept nogil:
    # Loss of (a, b) and its BPTT gradients into w.gwi, w.gwh, w.gwo; stops
    # early (the result is then meaningless) when tk reports a signal.
    cdef i64 c = a + b
    cdef Py_ssize_t t, j, k
    cdef double x0, x1, y, yhat, err, do, d
    cdef double loss = 0.0
    cdef double* hc
    cdef double* da
    # w's pointers in locals: held in registers, never reloaded after a
    # store through a double* (the extension is built without strict
    # aliasing, and this function is not always inlined).
    cdef double* hs = w.hs
    cdef double* yh = w.yh
    cdef double* das = w.das
    cdef double* gwi = w.gwi
    cdef double* gwh = w.gwh
    cdef double* gwo = w.gwo
    cdef double* wht = w.wht

    for t in range(bits):
        x0 = <double>((a >> t) & 1)
        x1 = <double>((b >> t) & 1)
        yh[t] = _step_ticked(wi, wh, wo, size, x0, x1, hs + t * size,
                             hs + (t + 1) * size, t == 0, tk)  # o_t
        if _stopped(tk):
            return 0.0
    # The outputs' sigmoids off the steps' path, all in one loop.
    for t in range(bits):
        yh[t] = _sigmoid(yh[t])
    for t in range(bits):
        err = yh[t] - <double>((c >> t) & 1)
        loss = loss + err * err

    memset(gwi, 0, 2 * size * sizeof(double))
    memset(gwo, 0, size * sizeof(double))
    # wht[j * H + k] = wh[k * H + j]: the sum over j below for every k at
    # once is then a vector-matrix product (the sums' order is unchanged).
    if _transpose_pieces(wht, wh, size, tk):
        return 0.0
    for t in range(bits - 1, -1, -1):
        x0 = <double>((a >> t) & 1)
        x1 = <double>((b >> t) & 1)
        y = <double>((c >> t) & 1)
        yhat = yh[t]
        do = 2.0 * (yhat - y) * yhat * (1.0 - yhat)
        hc = hs + (t + 1) * size
        da = das + t * size
        # delta_k = clip((do * wo[k] + sum_j da_next[j] * wh[k, j]) * h'),
        # the sum over j in order for each k.
        for k in range(size):
            da[k] = do * wo[k]
        # delta_a after the last step is zero
        if t != bits - 1 and _rows_pieces(da, da + size, wht, size, tk):
            return 0.0
        for k in range(size):
            d = da[k] * (hc[k] * (1.0 - hc[k]))
            if d > clip:
                d = clip
            elif d < -clip:
                d = -clip
            da[k] = d
        for k in range(size):
            gwo[k] = gwo[k] + hc[k] * do
        # Terms that are exactly +-0 (input bits of 0, and below h_0 = 0) are
        # skipped: an accumulator that starts at +0 never becomes -0, so
        # adding +-0 would leave it unchanged (_add_masked adds +0 instead
        # of branching on the bit).
        _add_masked(gwi, da, x0 != 0.0, size)
        _add_masked(gwi + size, da, x1 != 0.0, size)
    # gwh = sum over t = bits-1 .. 1 of h_{t-1} da_t^T, each element adding
    # its terms in that order (h_0 = 0: t = 0 adds nothing), after the loop
    # so that each element's sum stays in a register.
    if _gwh_pieces(gwh, hs + (bits - 1) * size, das + (bits - 1) * size,
                   size, bits, tk):
        return 0.0
    return loss


cdef inline void _sgd(double* wv, const double* g, Py_ssize_t n,
                      double lr) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        wv[i] = wv[i] - lr * g[i]


cdef bint _sgd_in_pieces(double* wv, const double* g, Py_ssize_t n,
                         double lr, Ticker* tk) noexcept nogil:
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t m
    while i < n:
        m = PIECE_WORK if n - i > PIECE_WORK else n - i
        if _tick(tk, m):
            return True
        _sgd(wv + i, g + i, m, lr)
        i += m
    return False


cdef inline bint _sgd_pieces(double* wv, const double* g, Py_ssize_t n,
                             double lr, Ticker* tk) noexcept nogil:
    # _sgd a piece at a time (if stopped, part of wv is updated).
    if n > PIECE_WORK:
        return _sgd_in_pieces(wv, g, n, lr, tk)
    _sgd(wv, g, n, lr)
    return _tick(tk, n)


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


cdef inline Py_ssize_t _bit_length(i64 v) noexcept nogil:
    cdef Py_ssize_t n = 0
    while v > 0:
        v >>= 1
        n += 1
    return n


cdef inline Py_ssize_t _pair_steps(i64 a, i64 b) noexcept nogil:
    # Steps a pair runs: its larger bit length, plus one for the carry.
    cdef Py_ssize_t la = _bit_length(a)
    cdef Py_ssize_t lb = _bit_length(b)
    return (la if la > lb else lb) + 1


cdef enum:
    MAX_PREFIX_BITS = 8      # prefix table: at most 4**8 states
    PREFIX_TABLE_BYTES = 8388608


cdef Py_ssize_t _prefix_bits(Py_ssize_t size, Py_ssize_t n) noexcept nogil:
    # Depth D of the prefix table: its last level must fit in
    # PREFIX_TABLE_BYTES and be worth building: 4**D states cost about
    # 4**D * 4 / 3 steps, and each level saves the batch up to n steps.
    cdef Py_ssize_t d = 0
    cdef Py_ssize_t states = 4
    while (d < MAX_PREFIX_BITS and states * size * 8 <= PREFIX_TABLE_BYTES
           and states * 2 <= n):
        d += 1
        states *= 4
    return d


cdef double* _build_prefixes(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                             Py_ssize_t depth, double* big, double* small,
                             i64* big_mask, i64* small_mask, i64** mask_out,
                             Ticker* tk) noexcept nogil:
    # The hidden state h_D and the output bits of steps 0..D-1 for every
    # pair of D-bit prefixes (a_low, b_low), at index a_low | b_low << D:
    # exactly what _step computes for each pair on its own, computed once.
    # Level d (4**d states) is computed from level d - 1; the levels
    # alternate between two buffers so that level D lands in ``big`` (4**D
    # states of size doubles, 4**D masks) and level D - 1 in ``small`` (a
    # quarter of that). Returns the states of level D and sets *mask_out to
    # its masks; NULL if tk stopped it.
    cdef Py_ssize_t d, e, e0, m, p, al, bl, low
    cdef Py_ssize_t parent[GROUP]
    cdef const double* hp[GROUP]
    cdef double x0[GROUP]
    cdef double x1[GROUP]
    cdef i64 bit[GROUP]
    cdef double* prev = small  # not read at level 1 (h_0 = 0)
    cdef double* cur
    cdef i64* pmask = small_mask
    cdef i64* cmask
    # States a step: GROUP, fewer where GROUP of them would run past
    # 4 * SIGNAL_WORK multiply-adds between two checks (H > 1448).
    cdef Py_ssize_t group = max(1, min(<Py_ssize_t>GROUP,
                                       4 * SIGNAL_WORK // (size * size)))
    # a step of one state past SIGNAL_WORK (H > 2048) is checked within
    cdef Ticker* within = tk if group * size * size > SIGNAL_WORK else NULL
    for d in range(1, depth + 1):
        cur = big if (depth - d) % 2 == 0 else small
        cmask = big_mask if (depth - d) % 2 == 0 else small_mask
        low = (<Py_ssize_t>1 << (d - 1)) - 1
        # the states of a level are independent: group at a time
        e0 = 0
        while e0 < (<Py_ssize_t>1 << (2 * d)):
            m = min(group, (<Py_ssize_t>1 << (2 * d)) - e0)
            if within == NULL and _tick(tk, m * size * size):
                return NULL
            for p in range(m):
                e = e0 + p
                al = e & ((<Py_ssize_t>1 << d) - 1)
                bl = e >> d
                parent[p] = (al & low) | ((bl & low) << (d - 1))
                x0[p] = <double>((al >> (d - 1)) & 1)
                x1[p] = <double>((bl >> (d - 1)) & 1)
                hp[p] = prev + parent[p] * size
            if _steps_together(wi, wh, wo, size, m, x0, x1, hp,
                               cur + e0 * size, d == 1, bit, within):
                return NULL
            for p in range(m):
                cmask[e0 + p] = ((0 if d == 1 else pmask[parent[p]])
                                 | (bit[p] << (d - 1)))
            e0 += m
        prev = cur
        pmask = cmask
    mask_out[0] = pmask
    return prev


# ------------------------------------------------------------ inner loops
# Each takes a Ticker (NULL from the C interface) and is shared by the C
# interface and the Python entry points below.

cdef inline i64 _run_pair(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                          i64 a, i64 b, Py_ssize_t start, i64 total,
                          const double* hp, double* hc, double* other,
                          Ticker* tk) noexcept nogil:
    # Steps start .. max bit length of the pair: from hidden state hp (not
    # read when start == 0) and the output bits ``total`` of steps < start.
    # Returns the sum, or -1 if tk stopped it.
    cdef Py_ssize_t t
    cdef Py_ssize_t steps = _pair_steps(a, b)
    cdef double* tmp
    cdef double o
    if steps < start:
        total &= (<i64>1 << steps) - 1
    for t in range(start, steps):
        o = _step_ticked(wi, wh, wo, size, <double>((a >> t) & 1),
                         <double>((b >> t) & 1), hp, hc, t == 0, tk)
        if _stopped(tk):
            return -1
        if o > 0.0:
            total |= (<i64>1) << t
        hp = hc
        tmp = other
        other = hc
        hc = tmp
    return total


cdef inline bint _operand_ok(i64 v) noexcept nogil:
    return v >= 0 and v < (<i64>1 << MAX_BITS)


cdef int _run_group(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                    const i64* a, const i64* b, const Py_ssize_t* index,
                    Py_ssize_t m, Py_ssize_t steps, Py_ssize_t depth,
                    const double* table, const i64* mask, double* buf,
                    i64* out, Ticker* tk) noexcept nogil:
    # out[index[p]] = _run_pair's sum of (a[p], b[p]) for p < m <= GROUP,
    # pairs (checked) that all run ``steps`` steps, the first ``depth`` of
    # them from the prefix table: the pairs advance together
    # (_steps_together), each with _run_pair's operations in its order, their
    # states in buf (2 * GROUP * size doubles). Returns 0, or -1 if tk
    # stopped it.
    cdef const double* hp[GROUP]
    cdef i64 total[GROUP]
    cdef i64 bit[GROUP]
    cdef double x0[GROUP]
    cdef double x1[GROUP]
    cdef Py_ssize_t p, t, e
    cdef i64 low = (<i64>1 << depth) - 1
    cdef double* hc = buf
    memset(x0, 0, sizeof(x0))  # all set below; the compiler cannot tell
    memset(x1, 0, sizeof(x1))
    cdef double* other = buf + GROUP * size
    cdef double* tmp
    for p in range(m):
        total[p] = 0
        hp[p] = NULL  # not read at step 0
        if depth > 0:
            e = <Py_ssize_t>((a[p] & low) | ((b[p] & low) << depth))
            total[p] = mask[e]
            hp[p] = table + e * size
    # A step of more than SIGNAL_WORK (m = 8 states at H > 724) is checked
    # within, a piece of rows at a time; smaller ones once per step.
    cdef Ticker* within = tk if m * size * size > SIGNAL_WORK else NULL
    for t in range(depth, steps):
        if within == NULL and _tick(tk, m * size * size):
            return -1
        for p in range(m):
            x0[p] = <double>((a[p] >> t) & 1)
            x1[p] = <double>((b[p] >> t) & 1)
        if _steps_together(wi, wh, wo, size, m, x0, x1, hp, hc, t == 0, bit,
                           within):
            return -1
        for p in range(m):
            total[p] |= bit[p] << t
            hp[p] = hc + p * size
        tmp = other
        other = hc
        hc = tmp
    for p in range(m):
        out[index[p]] = total[p]
    return 0


cdef struct Pending:
    # Pairs waiting for a group, by the number of steps they run (1..63).
    Py_ssize_t count[MAX_BITS + 2]
    Py_ssize_t index[MAX_BITS + 2][GROUP]
    i64 a[MAX_BITS + 2][GROUP]
    i64 b[MAX_BITS + 2][GROUP]


cdef double* _own_table(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                        Py_ssize_t depth, double* block, i64** mask,
                        Ticker* tk) noexcept nogil:
    # The prefix table of ``depth`` >= 1 steps in ``block`` (_table_size
    # doubles): returns its states and sets *mask, or NULL if tk stopped it.
    cdef Py_ssize_t states = <Py_ssize_t>1 << (2 * depth)
    cdef Py_ssize_t levels = states + states // 4
    return _build_prefixes(wi, wh, wo, size, depth, block,
                           block + states * size, <i64*>(block + levels * size),
                           <i64*>(block + levels * size) + states, mask, tk)


cdef inline Py_ssize_t _table_size(Py_ssize_t size, Py_ssize_t depth) noexcept nogil:
    # Doubles for a table's last two levels (4**D and 4**D / 4 states of
    # size doubles) and their masks (i64 = double).
    cdef Py_ssize_t levels = (<Py_ssize_t>1 << (2 * depth)) * 5 // 4
    return levels * size + levels


cdef int _predict_pairs(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                        const i64* a, const i64* b, Py_ssize_t n, i64* out,
                        Ticker* tk, Py_ssize_t* where, Py_ssize_t depth,
                        const double* table, const i64* mask) noexcept nogil:
    # The first D steps of a pair depend only on the D lowest bits of its
    # operands, so for large batches they are computed once per prefix (a
    # table of 4**D states, the same operations) and each pair continues
    # from there: ``table`` and ``mask`` of ``depth`` steps (prefix_table),
    # or table NULL to build one for this batch (_prefix_bits). Pairs that
    # run the same number of steps wait for each other and run GROUP at a
    # time in lockstep (_run_group). Returns 0; -1 for a pair out of range
    # (*where = its index; the pairs before it get their sums); -2 without
    # memory; -3 if tk stopped it.
    cdef Py_ssize_t i, steps, e
    cdef i64 ai, bi, low
    cdef double* own = NULL
    cdef i64* own_mask = NULL
    cdef int status = 0
    if table == NULL:
        depth = _prefix_bits(size, n)
    cdef double* group_buf = <double*>malloc(2 * GROUP * size * sizeof(double))
    cdef Pending* wait = <Pending*>malloc(sizeof(Pending))
    if table == NULL and depth > 0:
        own = <double*>malloc(_table_size(size, depth) * sizeof(double))
    if group_buf == NULL or wait == NULL or (
            table == NULL and depth > 0 and own == NULL):
        free(group_buf)
        free(wait)
        free(own)
        return -2
    memset(wait.count, 0, sizeof(wait.count))
    if own != NULL:
        table = _own_table(wi, wh, wo, size, depth, own, &own_mask, tk)
        mask = own_mask
        if table == NULL:
            free(group_buf)
            free(wait)
            free(own)
            return -3
    low = (<i64>1 << depth) - 1
    for i in range(n):
        ai = a[i]  # read once: checked values are the values used
        bi = b[i]
        if not (_operand_ok(ai) and _operand_ok(bi)):
            where[0] = i
            status = -1
            break
        steps = _pair_steps(ai, bi)
        if depth > 0:
            e = <Py_ssize_t>((ai & low) | ((bi & low) << depth))
            if steps <= depth:  # the table holds all of its output bits
                out[i] = mask[e] & ((<i64>1 << steps) - 1)
                continue
            _prefetch(table + e * size)  # its row, read when its group runs
            _prefetch(table + e * size + 8)
        wait.index[steps][wait.count[steps]] = i
        wait.a[steps][wait.count[steps]] = ai
        wait.b[steps][wait.count[steps]] = bi
        wait.count[steps] += 1
        if wait.count[steps] == GROUP:
            wait.count[steps] = 0
            if _run_group(wi, wh, wo, size, wait.a[steps], wait.b[steps],
                          wait.index[steps], GROUP, steps, depth, table, mask,
                          group_buf, out, tk) != 0:
                status = -3
                break
    # The pairs still waiting (all before a pair out of range, if any).
    for steps in range(1, MAX_BITS + 2):
        if status == -3:
            break
        if wait.count[steps] > 0 and _run_group(
                wi, wh, wo, size, wait.a[steps], wait.b[steps],
                wait.index[steps], wait.count[steps], steps, depth, table,
                mask, group_buf, out, tk) != 0:
            status = -3
    free(group_buf)
    free(wait)
    free(own)
    return status


cdef void _sequence_logits(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                           const i64* xa, const i64* xb, Py_ssize_t steps,
                           double* logits, double* scratch,
                           Ticker* tk) noexcept nogil:
    cdef Py_ssize_t t
    cdef double* hp = scratch  # not read at the first step (h_0 = 0)
    cdef double* hc = scratch + size
    cdef double* tmp
    for t in range(steps):
        logits[t] = _step_ticked(wi, wh, wo, size, <double>xa[t],
                                 <double>xb[t], hp, hc, t == 0, tk)
        if _stopped(tk):
            return
        tmp = hp
        hp = hc
        hc = tmp


cdef void _gradients_into(const double* wi, const double* wh, const double* wo,
                          Py_ssize_t size, i64 a, i64 b, Py_ssize_t bits,
                          double clip, double* gwi, double* gwh, double* gwo,
                          double* work, double* loss, Ticker* tk) noexcept nogil:
    # sample_gradients of a checked pair; the gradients are written in full
    # unless tk stopped it.
    cdef Work w
    _work_init(&w, work, size, bits)
    loss[0] = _sample_gradients(wi, wh, wo, size, a, b, bits, clip, &w, tk)
    if _stopped(tk):
        return
    memcpy(gwi, w.gwi, 2 * size * sizeof(double))
    memcpy(gwo, w.gwo, size * sizeof(double))
    _copy_pieces(gwh, w.gwh, size * size, tk)


cdef Py_ssize_t _train_pairs(double* wi, double* wh, double* wo,
                             Py_ssize_t size, const i64* a, const i64* b,
                             Py_ssize_t n, Py_ssize_t bits,
                             double learning_rate, double clip, double* loss,
                             double* work, Ticker* tk) noexcept nogil:
    # Returns the pairs trained: n, or the index of the first pair out of
    # range; if tk stopped it, the weights hold the pairs before the one in
    # progress and, if it stopped in the SGD step, part of that step (fit
    # trains copies and drops them).
    cdef Py_ssize_t i
    cdef i64 ai, bi
    cdef double l
    cdef Work w
    _work_init(&w, work, size, bits)
    for i in range(n):
        ai = a[i]  # read once: checked values are the values used
        bi = b[i]
        if not _pair_ok(ai, bi, bits):
            return i
        l = _sample_gradients(wi, wh, wo, size, ai, bi, bits, clip, &w, tk)
        if _stopped(tk):
            return i
        loss[i] = l
        _sgd(wi, w.gwi, 2 * size, learning_rate)
        if _sgd_pieces(wh, w.gwh, size * size, learning_rate, tk):
            return i
        _sgd(wo, w.gwo, size, learning_rate)
    return n


# ---------------------------------------------------------- C interface
# Declared, with each argument's meaning, in kernel.pxd.

cdef double exponential(double x) noexcept nogil:
    return _exp(x)


cdef double logistic(double z) noexcept nogil:
    return _sigmoid(z)


cdef double forward_step(const double* wi, const double* wh, const double* wo,
                         Py_ssize_t size, double x0, double x1,
                         const double* h_prev, double* h) noexcept nogil:
    return _step(wi, wh, wo, size, x0, x1, h_prev, h, h_prev == NULL)


cdef void sequence_logits(const double* wi, const double* wh, const double* wo,
                          Py_ssize_t size, const long long* xa, const long long* xb,
                          Py_ssize_t steps, double* logits,
                          double* scratch) noexcept nogil:
    _sequence_logits(wi, wh, wo, size, xa, xb, steps, logits, scratch, NULL)


cdef long long predict_pair(const double* wi, const double* wh, const double* wo,
                      Py_ssize_t size, long long a, long long b,
                      double* scratch) noexcept nogil:
    if not (_operand_ok(a) and _operand_ok(b)):
        return -1
    return _run_pair(wi, wh, wo, size, a, b, 0, 0, scratch + size, scratch,
                     scratch + size, NULL)


cdef int predict_pairs(const double* wi, const double* wh, const double* wo,
                       Py_ssize_t size, const long long* a, const long long* b,
                       Py_ssize_t n, long long* out) noexcept nogil:
    cdef Py_ssize_t where = 0
    if n <= 0:
        return 0
    return _predict_pairs(wi, wh, wo, size, a, b, n, out, NULL, &where, 0,
                          NULL, NULL)


cdef Py_ssize_t scratch_size(Py_ssize_t size, Py_ssize_t bits) noexcept nogil:
    return _work_size(size, bits)


cdef double sample_gradients(const double* wi, const double* wh,
                             const double* wo, Py_ssize_t size, long long a, long long b,
                             Py_ssize_t bits, double clip, double* gwi,
                             double* gwh, double* gwo,
                             double* work) noexcept nogil:
    cdef double loss
    if bits < 1 or bits > MAX_BITS or not _pair_ok(a, b, bits):
        return NAN
    _gradients_into(wi, wh, wo, size, a, b, bits, clip, gwi, gwh, gwo, work,
                    &loss, NULL)
    return loss


cdef Py_ssize_t train_pairs(double* wi, double* wh, double* wo,
                            Py_ssize_t size, const long long* a, const long long* b,
                            Py_ssize_t n, Py_ssize_t bits,
                            double learning_rate, double clip, double* loss,
                            double* work) noexcept nogil:
    if bits < 1 or bits > MAX_BITS:
        return 0
    return _train_pairs(wi, wh, wo, size, a, b, n, bits, learning_rate, clip,
                        loss, work, NULL)


# ------------------------------------------------------ Python interface
# The twin's functions (binsum._pycore), checked in O(1) and run without the
# GIL through the inner loops above.

def work_size(Py_ssize_t size, Py_ssize_t bits):
    """Doubles of scratch that train() needs for hidden size H and ``bits``."""
    return _work_size(size, bits)


def train(double[:, ::1] wi, double[:, ::1] wh, double[:, ::1] wo,
          const i64[::1] a, const i64[::1] b, Py_ssize_t bits,
          double learning_rate, double clip, double[::1] loss,
          double[::1] work):
    """Train on the pairs (a[i], b[i]) in order, one SGD step per pair.

    Updates wi, wh, wo in place and writes each pair's loss into loss[i].
    ``work`` is scratch of at least work_size(H, bits) doubles, so a caller
    training block after block allocates it once. A pair outside the training
    range (a, b >= 0, a + b < 2**bits) stops training before it: the weights
    then hold the pairs before it, and ValueError is raised.
    """
    cdef Py_ssize_t size = _hidden_size(wi, wh, wo)
    cdef Py_ssize_t n = a.shape[0]
    cdef Py_ssize_t done
    cdef Ticker tk
    _check_bits(bits)
    _same_length("a and b", n, b.shape[0])
    _same_length("a and loss", n, loss.shape[0])
    if n == 0:
        return
    if work.shape[0] < _work_size(size, bits):
        raise ValueError(f"work must hold work_size({size}, {bits}) doubles")
    _ticker_init(&tk)
    with nogil:
        done = _train_pairs(&wi[0, 0], &wh[0, 0], &wo[0, 0], size, &a[0], &b[0],
                            n, bits, learning_rate, clip, &loss[0], &work[0],
                            &tk)
    if tk.stopped:
        _raise_pending()
    if done < n:
        raise ValueError(f"pair {done} is outside the training range of "
                         f"bits={bits}: ({a[done]}, {b[done]})")


def loss_and_gradients(const double[:, ::1] wi, const double[:, ::1] wh,
                       const double[:, ::1] wo, i64 a, i64 b, Py_ssize_t bits,
                       double clip, double[:, ::1] gwi, double[:, ::1] gwh,
                       double[:, ::1] gwo):
    """Loss of the pair (a, b) over ``bits`` steps; gradients into gwi, gwh, gwo."""
    cdef Py_ssize_t size = _hidden_size(wi, wh, wo)
    cdef Ticker tk
    cdef double loss = 0.0
    cdef double* block
    _check_bits(bits)
    if not _pair_ok(a, b, bits):
        raise ValueError(f"({a}, {b}) is outside the training range of "
                         f"bits={bits}")
    if _hidden_size(gwi, gwh, gwo) != size:
        raise ValueError("gradients must have the weights' shapes")
    _ticker_init(&tk)
    with nogil:
        block = <double*>malloc(_work_size(size, bits) * sizeof(double))
        if block != NULL:
            _gradients_into(&wi[0, 0], &wh[0, 0], &wo[0, 0], size, a, b, bits,
                            clip, &gwi[0, 0], &gwh[0, 0], &gwo[0, 0], block,
                            &loss, &tk)
            free(block)
    if tk.stopped:
        _raise_pending()
    if block == NULL:
        raise MemoryError()
    return loss


def forward_logits(const double[:, ::1] wi, const double[:, ::1] wh,
                   const double[:, ::1] wo, const i64[::1] xa,
                   const i64[::1] xb, double[::1] logits):
    """Run the network over bit sequences xa, xb (LSB first); o_t into logits."""
    cdef Py_ssize_t size = _hidden_size(wi, wh, wo)
    cdef Py_ssize_t steps = xa.shape[0]
    cdef Ticker tk
    cdef double* h
    _same_length("xa and xb", steps, xb.shape[0])
    _same_length("xa and logits", steps, logits.shape[0])
    if steps == 0:
        return
    _ticker_init(&tk)
    with nogil:
        h = <double*>malloc(2 * size * sizeof(double))
        if h != NULL:
            _sequence_logits(&wi[0, 0], &wh[0, 0], &wo[0, 0], size, &xa[0],
                             &xb[0], steps, &logits[0], h, &tk)
            free(h)
    if tk.stopped:
        _raise_pending()
    if h == NULL:
        raise MemoryError()


cdef void _sequence_states(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                           const i64* xa, const i64* xb, Py_ssize_t steps,
                           double* states, double* logits,
                           Ticker* tk) noexcept nogil:
    # _sequence_logits keeping every state: h_t into row t of states (row 0
    # is h_0 = 0), each step read from the row before, by the same
    # _step_ticked (so the same bits as forward_logits and predict).
    cdef Py_ssize_t t
    memset(states, 0, size * sizeof(double))
    for t in range(steps):
        logits[t] = _step_ticked(wi, wh, wo, size, <double>xa[t],
                                 <double>xb[t], states + t * size,
                                 states + (t + 1) * size, t == 0, tk)
        if _stopped(tk):
            return


def hidden_states(const double[:, ::1] wi, const double[:, ::1] wh,
                  const double[:, ::1] wo, const i64[::1] xa,
                  const i64[::1] xb, double[:, ::1] states,
                  double[::1] logits):
    """forward_logits keeping the states: h_0 = 0 .. h_T into states (T + 1, H)."""
    cdef Py_ssize_t size = _hidden_size(wi, wh, wo)
    cdef Py_ssize_t steps = xa.shape[0]
    cdef Ticker tk
    _same_length("xa and xb", steps, xb.shape[0])
    _same_length("xa and logits", steps, logits.shape[0])
    _same_length("states and xa + 1", states.shape[0], steps + 1)
    _same_length("states' rows and the hidden size", states.shape[1], size)
    if steps == 0:
        states[0, :] = 0.0
        return
    _ticker_init(&tk)
    with nogil:
        _sequence_states(&wi[0, 0], &wh[0, 0], &wo[0, 0], size, &xa[0], &xb[0],
                         steps, &states[0, 0], &logits[0], &tk)
    if tk.stopped:
        _raise_pending()


cdef Py_ssize_t _table_depth(const double[:, ::1] states, const i64[::1] masks,
                             Py_ssize_t size) except -1:
    # D of a prefix table handed in: 4**D masks (D in 0..MAX_PREFIX_BITS) and
    # states of shape (4**D, H).
    cdef Py_ssize_t depth = 0
    cdef Py_ssize_t count = 1
    while count < masks.shape[0] and depth < MAX_PREFIX_BITS:
        count *= 4
        depth += 1
    if count != masks.shape[0] or states.shape[0] != count or states.shape[1] != size:
        raise ValueError(
            f"a prefix table has 4**D masks and states of shape (4**D, {size}) "
            f"for D in 0..{MAX_PREFIX_BITS}, got {masks.shape[0]} masks and "
            f"states of shape ({states.shape[0]}, {states.shape[1]})")
    return depth


def prefix_depth(Py_ssize_t size, Py_ssize_t n):
    """Steps D of the prefix table worth building for n pairs at hidden size H."""
    return _prefix_bits(size, n)


def prefix_table(const double[:, ::1] wi, const double[:, ::1] wh,
                 const double[:, ::1] wo, double[:, ::1] states,
                 i64[::1] masks):
    """Fill states (4**D, H) and masks (4**D,) with the prefix table of D steps.

    Row a_low | b_low << D holds the hidden state after the D steps of every
    pair whose operands' D lowest bits are a_low and b_low, and its mask the
    output bits of those steps: what predict() computes for each such pair.
    predict(..., states, masks) then starts every pair from there, so one
    table serves many calls (and threads) with the same weights.
    """
    cdef Py_ssize_t size = _hidden_size(wi, wh, wo)
    cdef Py_ssize_t depth = _table_depth(states, masks, size)
    cdef Py_ssize_t count
    cdef Ticker tk
    cdef double* small = NULL
    cdef i64* mask_out = NULL
    if depth == 0:
        return
    _ticker_init(&tk)
    with nogil:
        # level D goes into the caller's arrays, level D - 1 (a quarter of
        # the states, then their masks) into small
        count = masks.shape[0] // 4
        small = <double*>malloc(count * (size + 1) * sizeof(double))
        if small != NULL:
            _build_prefixes(&wi[0, 0], &wh[0, 0], &wo[0, 0], size, depth,
                            &states[0, 0], small, &masks[0],
                            <i64*>(small + count * size), &mask_out, &tk)
            free(small)
    if tk.stopped:
        _raise_pending()
    if small == NULL:
        raise MemoryError()


def predict(const double[:, ::1] wi, const double[:, ::1] wh,
            const double[:, ::1] wo, const i64[::1] a, const i64[::1] b,
            i64[::1] out, const double[:, ::1] states=None,
            const i64[::1] masks=None, const unsigned char[::1] stop=None):
    """The network's sum of each pair; a pair runs max bit length + 1 steps.

    ``states`` and ``masks``: a prefix table of these weights from
    prefix_table(), or None to build one for this batch. ``stop``: a
    one-byte array that another thread may set nonzero; the call then
    returns at its next signal check with ``out`` partly written (the thread
    that set it discards the output).
    """
    cdef Py_ssize_t size = _hidden_size(wi, wh, wo)
    cdef Py_ssize_t n = a.shape[0]
    cdef Py_ssize_t where = 0
    cdef Py_ssize_t depth = 0
    cdef const double* table = NULL
    cdef const i64* mask = NULL
    cdef int status
    cdef Ticker tk
    _same_length("a and b", n, b.shape[0])
    _same_length("a and out", n, out.shape[0])
    if (states is None) != (masks is None):
        raise ValueError("states and masks must be given together")
    if states is not None:
        depth = _table_depth(states, masks, size)
        table = &states[0, 0]
        mask = &masks[0]
    if stop is not None and stop.shape[0] != 1:
        raise ValueError(f"stop must hold one byte, got {stop.shape[0]}")
    if n == 0:
        return
    _ticker_init(&tk)
    if stop is not None:
        tk.stop = &stop[0]
    with nogil:
        status = _predict_pairs(&wi[0, 0], &wh[0, 0], &wo[0, 0], size, &a[0],
                                &b[0], n, &out[0], &tk, &where, depth, table,
                                mask)
    if tk.halted:
        return
    if tk.stopped:
        _raise_pending()
    if status == -1:
        raise ValueError(f"operands must be in 0..2**{MAX_BITS} - 1, got "
                         f"({a[where]}, {b[where]}) at index {where}")
    if status == -2:
        raise MemoryError()


def exp(double x):
    """The kernel's exponential (same bits as binsum._pycore.exp)."""
    return _exp(x)


def sigmoid(double z):
    """The kernel's logistic function (same bits as binsum._pycore.sigmoid)."""
    return _sigmoid(z)
