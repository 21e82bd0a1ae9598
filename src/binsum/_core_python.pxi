# The Python entry points: the twin's functions (binsum._pycore, block by
# block), each checking its arguments in O(1) and running the inner loops
# without the GIL, with a signal ticker. They keep the twin's names
# (work_size, train, loss_and_gradients, forward_logits, predict, exp,
# sigmoid), which binsum._backend.Kernel calls on either backend, rather
# than the C interface's: a def cannot share a module-level name with a
# cdef.

from libc.stdlib cimport malloc, free


# --- block: argument checks
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


# --- block: training

def work_size(Py_ssize_t size, Py_ssize_t bits):
    """Doubles of scratch that train() needs for hidden size H and ``bits``."""
    return _scratch_size(size, bits)


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
    if work.shape[0] < _scratch_size(size, bits):
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
        block = <double*>malloc(_scratch_size(size, bits) * sizeof(double))
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


# --- block: forward
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


# --- block: predict
cdef Py_ssize_t _prefix_depth_of(const double[:, ::1] states,
                                 const i64[::1] masks,
                                 Py_ssize_t size) except -1:
    # D of a prefix table handed in: 4**D masks (D in 0..MAX_PREFIX_DEPTH) and
    # states of shape (4**D, H).
    cdef Py_ssize_t depth = 0
    cdef Py_ssize_t count = 1
    while count < masks.shape[0] and depth < MAX_PREFIX_DEPTH:
        count *= 4
        depth += 1
    if count != masks.shape[0] or states.shape[0] != count or states.shape[1] != size:
        raise ValueError(
            f"a prefix table has 4**D masks and states of shape (4**D, {size}) "
            f"for D in 0..{MAX_PREFIX_DEPTH}, got {masks.shape[0]} masks and "
            f"states of shape ({states.shape[0]}, {states.shape[1]})")
    return depth


def prefix_depth(Py_ssize_t size, Py_ssize_t n):
    """Steps D of the prefix table worth building for n pairs at hidden size H."""
    return _prefix_depth(size, n)


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
    cdef Py_ssize_t depth = _prefix_depth_of(states, masks, size)
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
        depth = _prefix_depth_of(states, masks, size)
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


# --- block: exponential and logistic
def exp(double x):
    """The kernel's exponential (same bits as binsum._pycore.exp)."""
    return _exponential(x)


def sigmoid(double z):
    """The kernel's logistic function (same bits as binsum._pycore.sigmoid)."""
    return _logistic(z)
