# The predict scheduler: how predict() shares and batches the forward
# steps of many pairs. Read it beside _pycore_predict.py, block by block,
# which runs the pairs one by one; the lockstep groups here (GROUP pairs
# advanced together, each with its own pair's operations in its order) and
# the queue of pairs waiting for a group have no twin.

from libc.stdlib cimport malloc, free
from libc.string cimport memset


# --- block: pair steps
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


cdef inline bint _operand_ok(i64 v) noexcept nogil:
    return v >= 0 and v < (<i64>1 << MAX_BITS)


# --- block: prefix depth
cdef enum:
    MAX_PREFIX_DEPTH = 8      # prefix table: at most 4**8 states
    PREFIX_TABLE_BYTES = 8388608


cdef Py_ssize_t _prefix_depth(Py_ssize_t size, Py_ssize_t n) noexcept nogil:
    # Depth D of the prefix table: its last level must fit in
    # PREFIX_TABLE_BYTES and be worth building: 4**D states cost about
    # 4**D * 4 / 3 steps, and each level saves the batch up to n steps.
    cdef Py_ssize_t d = 0
    cdef Py_ssize_t states = 4
    while (d < MAX_PREFIX_DEPTH and states * size * 8 <= PREFIX_TABLE_BYTES
           and states * 2 <= n):
        d += 1
        states *= 4
    return d


# --- block: prefix table
cdef enum:
    GROUP = 8                # states that _steps_together advances at once


cdef bint _steps_together(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                          Py_ssize_t m, const double* x0, const double* x1,
                          const double** hp, dptr hc, bint first,
                          i64* bit, Ticker* tk) noexcept nogil:
    # _forward_step for m <= GROUP independent states at once (the prefix
    # table's states, and _run_group's pairs): state p from hp[p] (not read
    # at the first step) with inputs x0[p], x1[p] into hc + p * size, and
    # bit[p] = 1 if its output o > 0 else 0. Each state's operations are
    # _forward_step's, in its order; the states lie side by side, so their
    # logistics form one loop and their chains overlap. Returns True if tk
    # stopped it (NULL on small steps: the caller ticks once per step).
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
        hc[j] = _logistic(hc[j])
    for p in range(m):
        row = hc + p * size
        o = 0.0
        for k in range(size):
            o = o + row[k] * wo[k]
        bit[p] = o > 0.0  # no branch on the bit
    return False


cdef double* _build_prefixes(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                             Py_ssize_t depth, double* big, double* small,
                             i64* big_mask, i64* small_mask, i64** mask_out,
                             Ticker* tk) noexcept nogil:
    # The hidden state h_D and the output bits of steps 0..D-1 for every
    # pair of D-bit prefixes (a_low, b_low), at index a_low | b_low << D:
    # exactly what _forward_step computes for each pair on its own, computed
    # once.
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


cdef double* _own_table(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                        Py_ssize_t depth, double* block, i64** mask,
                        Ticker* tk) noexcept nogil:
    # The prefix table of ``depth`` >= 1 steps in ``block`` (_prefix_table_size
    # doubles): returns its states and sets *mask, or NULL if tk stopped it.
    cdef Py_ssize_t states = <Py_ssize_t>1 << (2 * depth)
    cdef Py_ssize_t levels = states + states // 4
    return _build_prefixes(wi, wh, wo, size, depth, block,
                           block + states * size, <i64*>(block + levels * size),
                           <i64*>(block + levels * size) + states, mask, tk)


cdef inline Py_ssize_t _prefix_table_size(Py_ssize_t size,
                                          Py_ssize_t depth) noexcept nogil:
    # Doubles for a table's last two levels (4**D and 4**D / 4 states of
    # size doubles) and their masks (i64 = double).
    cdef Py_ssize_t levels = (<Py_ssize_t>1 << (2 * depth)) * 5 // 4
    return levels * size + levels


# --- block: one pair
cdef inline i64 _predict_pair(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
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
        o = _forward_step_ticked(wi, wh, wo, size, <double>((a >> t) & 1),
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


# --- block: pairs
cdef int _run_group(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                    const i64* a, const i64* b, const Py_ssize_t* index,
                    Py_ssize_t m, Py_ssize_t steps, Py_ssize_t depth,
                    const double* table, const i64* mask, double* buf,
                    i64* out, Ticker* tk) noexcept nogil:
    # out[index[p]] = _predict_pair's sum of (a[p], b[p]) for p < m <= GROUP,
    # pairs (checked) that all run ``steps`` steps, the first ``depth`` of
    # them from the prefix table: the pairs advance together
    # (_steps_together), each with _predict_pair's operations in its order,
    # their states in buf (2 * GROUP * size doubles). Returns 0, or -1 if tk
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


cdef int _predict_pairs(cdptr wi, cdptr wh, cdptr wo, Py_ssize_t size,
                        const i64* a, const i64* b, Py_ssize_t n, i64* out,
                        Ticker* tk, Py_ssize_t* where, Py_ssize_t depth,
                        const double* table, const i64* mask) noexcept nogil:
    # The first D steps of a pair depend only on the D lowest bits of its
    # operands, so for large batches they are computed once per prefix (a
    # table of 4**D states, the same operations) and each pair continues
    # from there: ``table`` and ``mask`` of ``depth`` steps (prefix_table),
    # or table NULL to build one for this batch (_prefix_depth). Pairs that
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
        depth = _prefix_depth(size, n)
    cdef double* group_buf = <double*>malloc(2 * GROUP * size * sizeof(double))
    cdef Pending* wait = <Pending*>malloc(sizeof(Pending))
    if table == NULL and depth > 0:
        own = <double*>malloc(_prefix_table_size(size, depth) * sizeof(double))
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
