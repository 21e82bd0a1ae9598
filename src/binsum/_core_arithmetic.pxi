# The arithmetic that must give the twin's bits (docs/algorithm.md,
# "Arithmetic shared by both backends"): read it beside _pycore_arithmetic.py,
# block by block. What only makes this fast without changing a sum (vector
# lanes, the signal checks between pieces of a loop) lives inside the block
# it speeds up.

from libc.string cimport memset, memcpy


# --- block: constants
cdef enum:
    MAX_BITS = 62             # operands and sums stay below 2**62 (int64)

cdef extern from *:
    """
    static const double BINSUM_LOG2E = 1.4426950408889634;
    static const double BINSUM_LN2_HI = 0.6931471803691238;
    static const double BINSUM_LN2_LO = 1.9082149292705877e-10;
    static const double BINSUM_SHIFTER = 6755399441055744.0;
    static const double BINSUM_EXP_LIMIT = 708.0;
    """
    # _exponential(): Cody-Waite split of ln(2) (kd * LN2_HI is exact for
    # |kd| < 2**11); SHIFTER = 1.5 * 2**52: adding it rounds a double below
    # 2**51 to an integer.
    const double LOG2E "BINSUM_LOG2E"
    const double LN2_HI "BINSUM_LN2_HI"
    const double LN2_LO "BINSUM_LN2_LO"
    const double SHIFTER "BINSUM_SHIFTER"
    # |x| clamped here: e**x and every step stay normal
    const double EXP_LIMIT "BINSUM_EXP_LIMIT"


# --- block: exponential
cdef union F64Bits:
    double d
    unsigned long long u


cdef inline double _exponential(double x) noexcept nogil:
    # e**x from basic IEEE operations and an exact power-of-two scaling
    # (the twin's _exponential says more). The clamp is branch-free, so loops
    # of logistics vectorise; NaN stays NaN through every operation below.
    cdef F64Bits t, scale
    cdef double kd, r, p, r2, r4
    x = EXP_LIMIT if x > EXP_LIMIT else x
    x = -EXP_LIMIT if x < -EXP_LIMIT else x
    t.d = x * LOG2E + SHIFTER
    kd = t.d - SHIFTER
    r = (x - kd * LN2_HI) - kd * LN2_LO
    # Taylor polynomial of degree 12 in Estrin's form: a dependency chain a
    # third as long as Horner's.
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


# --- block: logistic
cdef inline double _logistic(double z) noexcept nogil:
    return 1.0 / (1.0 + _exponential(-z))


# --- block: forward step
# Each *_pieces function in this file does one job over H**2 elements a
# piece at a time, with a signal check between pieces, and returns True if
# tk stopped it. Those called every step are inline and, below one piece of
# work, the plain call; their loops over pieces are apart, called on large
# networks.

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


cdef inline double _forward_step_ticked(cdptr wi, cdptr wh, cdptr wo,
                                        Py_ssize_t size, double x0, double x1,
                                        cdptr hp, dptr hc, bint first,
                                        Ticker* tk) noexcept nogil:
    # h_t = logistic(x_t . wi + h_{t-1} . wh) into hc; returns o_t = h_t . wo
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
        hc[j] = _logistic(hc[j])
    o = 0.0
    for k in range(size):
        o = o + hc[k] * wo[k]
    return o


cdef inline double _forward_step(cdptr wi, cdptr wh, cdptr wo,
                                 Py_ssize_t size, double x0, double x1,
                                 cdptr hp, dptr hc, bint first) noexcept nogil:
    # _forward_step_ticked without signal checks.
    return _forward_step_ticked(wi, wh, wo, size, x0, x1, hp, hc, first, NULL)


# --- block: sequences
cdef void _sequence_logits(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                           const i64* xa, const i64* xb, Py_ssize_t steps,
                           double* logits, double* scratch,
                           Ticker* tk) noexcept nogil:
    cdef Py_ssize_t t
    cdef double* hp = scratch  # not read at the first step (h_0 = 0)
    cdef double* hc = scratch + size
    cdef double* tmp
    for t in range(steps):
        logits[t] = _forward_step_ticked(wi, wh, wo, size, <double>xa[t],
                                         <double>xb[t], hp, hc, t == 0, tk)
        if _stopped(tk):
            return
        tmp = hp
        hp = hc
        hc = tmp


cdef void _sequence_states(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                           const i64* xa, const i64* xb, Py_ssize_t steps,
                           double* states, double* logits,
                           Ticker* tk) noexcept nogil:
    # _sequence_logits keeping every state: h_t into row t of states (row 0
    # is h_0 = 0), each step read from the row before.
    cdef Py_ssize_t t
    memset(states, 0, size * sizeof(double))
    for t in range(steps):
        logits[t] = _forward_step_ticked(wi, wh, wo, size, <double>xa[t],
                                         <double>xb[t], states + t * size,
                                         states + (t + 1) * size, t == 0, tk)
        if _stopped(tk):
            return


# --- block: scratch
cdef struct Work:
    # Scratch memory for one pair's BPTT, carved from one block of doubles.
    double* hs       # (bits + 1) * H hidden states, h_0 = 0
    double* yh       # bits outputs
    double* das      # bits * H: the hidden deltas of every step
    double* gwi      # 2 * H
    double* gwh      # H * H
    double* gwo      # H
    double* wht      # H * H: wh transposed, for the backward sums


cdef inline Py_ssize_t _scratch_size(Py_ssize_t size,
                                     Py_ssize_t bits) noexcept nogil:
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


# --- block: backward pass
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
    cdef Py_ssize_t t, k
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
        yh[t] = _forward_step_ticked(wi, wh, wo, size, x0, x1, hs + t * size,
                                     hs + (t + 1) * size, t == 0, tk)  # o_t
        if _stopped(tk):
            return 0.0
    # The outputs' logistics off the steps' path, all in one loop.
    for t in range(bits):
        yh[t] = _logistic(yh[t])
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
        # Terms that are exactly +-0 (input bits of 0, and below h_0 = 0)
        # are skipped: an accumulator that starts at +0 never becomes -0, so
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


# --- block: SGD
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


# --- block: training
cdef inline bint _pair_ok(i64 a, i64 b, Py_ssize_t bits) noexcept nogil:
    # A training pair: a, b >= 0 and a + b < 2**bits (no overflow: bits
    # <= 62).
    return a >= 0 and b >= 0 and a < (<i64>1 << bits) and b < (<i64>1 << bits) \
        and a + b < (<i64>1 << bits)


cdef void _gradients_into(const double* wi, const double* wh, const double* wo,
                          Py_ssize_t size, i64 a, i64 b, Py_ssize_t bits,
                          double clip, double* gwi, double* gwh, double* gwo,
                          double* work, double* loss, Ticker* tk) noexcept nogil:
    # _sample_gradients of a checked pair; the gradients are written in full
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
