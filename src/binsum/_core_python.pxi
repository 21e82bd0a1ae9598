# The Python entry points: the twin's functions (binsum._pycore, block by
# block), each checking its arguments in O(1) and running the inner loops
# without the GIL, with a signal ticker. They keep the twin's names
# (work_size, train, loss_and_gradients, forward_logits, predict, exp,
# sigmoid), which binsum._backend.Kernel calls on either backend, rather
# than the C interface's: a def cannot share a module-level name with a
# cdef.
#
# Arrays come in through the buffer protocol itself (_Arrays), not typed
# memoryviews: a memoryview is an object made per array per call, and under
# the Limited API (the abi3 wheels) Cython makes it through a generic call
# with an argument tuple, which cost the smallest calls (predict of one
# pair, logits) 3 to 5 % more instructions than the version-specific build
# (benchmarks/abi3.py --callgrind).

from cpython.buffer cimport (PyBUF_C_CONTIGUOUS, PyBUF_FORMAT, PyBUF_WRITABLE,
                             PyBuffer_Release, PyObject_GetBuffer)
from libc.stdlib cimport malloc, free
from libc.string cimport memset


# --- block: argument checks
cdef enum:
    _MOST_ARRAYS = 9  # the most a call takes: predict's


cdef struct _Arrays:
    # The buffers one call holds, released together when it returns.
    Py_buffer views[_MOST_ARRAYS]
    int held


cdef bint _format_is(const char* format, Py_ssize_t itemsize, char kind) noexcept:
    # Whether a buffer's items are C doubles ('d'), 64-bit integers ('i': C
    # long or long long of 8 bytes) or bytes ('B'), in native order.
    cdef unsigned int one = 1
    cdef char native = b'<' if (<char*>&one)[0] == 1 else b'>'
    if format == NULL:  # what PyBUF_FORMAT's absence means: bytes
        return kind == b'B'
    if format[0] == b'@' or format[0] == b'=' or format[0] == native:
        format += 1
    if format[0] == 0 or format[1] != 0:
        return False
    if kind == b'i':
        return itemsize == 8 and (format[0] == b'l' or format[0] == b'q')
    return format[0] == kind and itemsize == (8 if kind == b'd' else 1)


cdef Py_buffer* _array(_Arrays* arrays, object obj, str name, int ndim,
                       char kind, bint writable) except NULL:
    # obj's buffer, C-contiguous with ndim dimensions of `kind` items (and
    # writable if asked), held in arrays until _release.
    cdef Py_buffer* view = &arrays.views[arrays.held]
    cdef int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT
    if writable:
        flags |= PyBUF_WRITABLE
    try:
        PyObject_GetBuffer(obj, view, flags)
    except Exception as exc:  # not a buffer, not contiguous, read-only
        raise (TypeError if isinstance(exc, TypeError) else ValueError)(
            f"{name} must be {_array_kind(ndim, kind, writable)}: {exc}") from exc
    arrays.held += 1
    if view.ndim != ndim or not _format_is(view.format, view.itemsize, kind):
        raise ValueError(
            f"{name} must be {_array_kind(ndim, kind, writable)}, got a "
            f"{view.ndim}-d buffer of format "
            f"{'B' if view.format == NULL else view.format.decode('ascii', 'replace')!r}")
    return view


cdef str _array_kind(int ndim, char kind, bint writable):
    items = "float64" if kind == b'd' else "int64" if kind == b'i' else "uint8"
    return f"a {'writable ' if writable else ''}{ndim}-d C-contiguous {items} array"


cdef void _release(_Arrays* arrays) noexcept:
    while arrays.held > 0:
        arrays.held -= 1
        PyBuffer_Release(&arrays.views[arrays.held])


cdef inline double* _doubles(Py_buffer* view) noexcept nogil:
    return <double*>view.buf


cdef inline i64* _ints(Py_buffer* view) noexcept nogil:
    return <i64*>view.buf


cdef Py_ssize_t _hidden_size(_Arrays* arrays, object wi, object wh, object wo,
                             bint writable, str prefix="") except -1:
    # Takes wi, wh, wo (in that order; named prefix + "wi", ...) into
    # arrays; H from their shapes, after checking (2, H), (H, H), (H, 1),
    # H >= 1.
    cdef Py_buffer* i = _array(arrays, wi, prefix + "wi", 2, b'd', writable)
    cdef Py_buffer* h = _array(arrays, wh, prefix + "wh", 2, b'd', writable)
    cdef Py_buffer* o = _array(arrays, wo, prefix + "wo", 2, b'd', writable)
    cdef Py_ssize_t size = h.shape[0]
    if (size < 1 or h.shape[1] != size or i.shape[0] != 2
            or i.shape[1] != size or o.shape[0] != size or o.shape[1] != 1):
        raise ValueError(
            "weights must have shapes (2, H), (H, H), (H, 1) with H >= 1, got "
            f"({i.shape[0]}, {i.shape[1]}), ({h.shape[0]}, {h.shape[1]}), "
            f"({o.shape[0]}, {o.shape[1]})")
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


def train(wi, wh, wo, a, b, Py_ssize_t bits, double learning_rate,
          double clip, loss, work):
    """Train on the pairs (a[i], b[i]) in order, one SGD step per pair.

    Updates wi, wh, wo in place and writes each pair's loss into loss[i].
    ``work`` is scratch of at least work_size(H, bits) doubles, so a caller
    training block after block allocates it once. A pair outside the training
    range (a, b >= 0, a + b < 2**bits) stops training before it: the weights
    then hold the pairs before it, and ValueError is raised.
    """
    cdef _Arrays arrays
    arrays.held = 0
    cdef Py_ssize_t size, n, done
    cdef Ticker tk
    cdef Py_buffer *va
    cdef Py_buffer *vb
    cdef Py_buffer *vloss
    cdef Py_buffer *vwork
    try:
        size = _hidden_size(&arrays, wi, wh, wo, True)
        va = _array(&arrays, a, "a", 1, b'i', False)
        vb = _array(&arrays, b, "b", 1, b'i', False)
        vloss = _array(&arrays, loss, "loss", 1, b'd', True)
        vwork = _array(&arrays, work, "work", 1, b'd', True)
        n = va.shape[0]
        _check_bits(bits)
        _same_length("a and b", n, vb.shape[0])
        _same_length("a and loss", n, vloss.shape[0])
        if n == 0:
            return
        if vwork.shape[0] < _scratch_size(size, bits):
            raise ValueError(f"work must hold work_size({size}, {bits}) doubles")
        _ticker_init(&tk)
        with nogil:
            done = _train_pairs(_doubles(&arrays.views[0]), _doubles(&arrays.views[1]),
                                _doubles(&arrays.views[2]), size, _ints(va), _ints(vb),
                                n, bits, learning_rate, clip, _doubles(vloss),
                                _doubles(vwork), &tk)
        if tk.stopped:
            _raise_pending()
        if done < n:
            raise ValueError(f"pair {done} is outside the training range of "
                             f"bits={bits}: ({_ints(va)[done]}, {_ints(vb)[done]})")
    finally:
        _release(&arrays)


def loss_and_gradients(wi, wh, wo, i64 a, i64 b, Py_ssize_t bits, double clip,
                       gwi, gwh, gwo):
    """Loss of the pair (a, b) over ``bits`` steps; gradients into gwi, gwh, gwo."""
    cdef _Arrays arrays
    arrays.held = 0
    cdef Py_ssize_t size
    cdef Ticker tk
    cdef double loss = 0.0
    cdef double* block
    cdef Py_buffer* v = arrays.views
    try:
        size = _hidden_size(&arrays, wi, wh, wo, False)
        _check_bits(bits)
        if not _pair_ok(a, b, bits):
            raise ValueError(f"({a}, {b}) is outside the training range of "
                             f"bits={bits}")
        if _hidden_size(&arrays, gwi, gwh, gwo, True, "g") != size:
            raise ValueError("gradients must have the weights' shapes")
        _ticker_init(&tk)
        with nogil:
            block = <double*>malloc(_scratch_size(size, bits) * sizeof(double))
            if block != NULL:
                _gradients_into(_doubles(&v[0]), _doubles(&v[1]), _doubles(&v[2]),
                                size, a, b, bits, clip, _doubles(&v[3]),
                                _doubles(&v[4]), _doubles(&v[5]), block, &loss,
                                &tk)
                free(block)
        if tk.stopped:
            _raise_pending()
        if block == NULL:
            raise MemoryError()
        return loss
    finally:
        _release(&arrays)


# --- block: forward
def forward_logits(wi, wh, wo, xa, xb, logits):
    """Run the network over bit sequences xa, xb (LSB first); o_t into logits."""
    cdef _Arrays arrays
    arrays.held = 0
    cdef Py_ssize_t size, steps
    cdef Ticker tk
    cdef double* h
    cdef Py_buffer* v = arrays.views
    try:
        size = _hidden_size(&arrays, wi, wh, wo, False)
        steps = _array(&arrays, xa, "xa", 1, b'i', False).shape[0]
        _same_length("xa and xb", steps,
                     _array(&arrays, xb, "xb", 1, b'i', False).shape[0])
        _same_length("xa and logits", steps,
                     _array(&arrays, logits, "logits", 1, b'd', True).shape[0])
        if steps == 0:
            return
        _ticker_init(&tk)
        with nogil:
            h = <double*>malloc(2 * size * sizeof(double))
            if h != NULL:
                _sequence_logits(_doubles(&v[0]), _doubles(&v[1]), _doubles(&v[2]),
                                 size, _ints(&v[3]), _ints(&v[4]), steps,
                                 _doubles(&v[5]), h, &tk)
                free(h)
        if tk.stopped:
            _raise_pending()
        if h == NULL:
            raise MemoryError()
    finally:
        _release(&arrays)


def hidden_states(wi, wh, wo, xa, xb, states, logits):
    """forward_logits keeping the states: h_0 = 0 .. h_T into states (T + 1, H)."""
    cdef _Arrays arrays
    arrays.held = 0
    cdef Py_ssize_t size, steps
    cdef Ticker tk
    cdef Py_buffer* v = arrays.views
    cdef Py_buffer* vstates
    try:
        size = _hidden_size(&arrays, wi, wh, wo, False)
        steps = _array(&arrays, xa, "xa", 1, b'i', False).shape[0]
        _same_length("xa and xb", steps,
                     _array(&arrays, xb, "xb", 1, b'i', False).shape[0])
        vstates = _array(&arrays, states, "states", 2, b'd', True)
        _same_length("xa and logits", steps,
                     _array(&arrays, logits, "logits", 1, b'd', True).shape[0])
        _same_length("states and xa + 1", vstates.shape[0], steps + 1)
        _same_length("states' rows and the hidden size", vstates.shape[1], size)
        if steps == 0:
            memset(vstates.buf, 0, size * sizeof(double))  # h_0 = 0
            return
        _ticker_init(&tk)
        with nogil:
            _sequence_states(_doubles(&v[0]), _doubles(&v[1]), _doubles(&v[2]),
                             size, _ints(&v[3]), _ints(&v[4]), steps,
                             _doubles(vstates), _doubles(&v[6]), &tk)
        if tk.stopped:
            _raise_pending()
    finally:
        _release(&arrays)


# --- block: predict
cdef Py_ssize_t _prefix_depth_of(Py_buffer* states, Py_buffer* masks,
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


def prefix_table(wi, wh, wo, states, masks):
    """Fill states (4**D, H) and masks (4**D,) with the prefix table of D steps.

    Row a_low | b_low << D holds the hidden state after the D steps of every
    pair whose operands' D lowest bits are a_low and b_low, and its mask the
    output bits of those steps: what predict() computes for each such pair.
    predict(..., states, masks) then starts every pair from there, so one
    table serves many calls (and threads) with the same weights.
    """
    cdef _Arrays arrays
    arrays.held = 0
    cdef Py_ssize_t size, depth, count
    cdef Ticker tk
    cdef double* small = NULL
    cdef i64* mask_out = NULL
    cdef Py_buffer* v = arrays.views
    try:
        size = _hidden_size(&arrays, wi, wh, wo, False)
        depth = _prefix_depth_of(_array(&arrays, states, "states", 2, b'd', True),
                                 _array(&arrays, masks, "masks", 1, b'i', True), size)
        if depth == 0:
            return
        _ticker_init(&tk)
        with nogil:
            # level D goes into the caller's arrays, level D - 1 (a quarter of
            # the states, then their masks) into small
            count = v[4].shape[0] // 4
            small = <double*>malloc(count * (size + 1) * sizeof(double))
            if small != NULL:
                _build_prefixes(_doubles(&v[0]), _doubles(&v[1]), _doubles(&v[2]),
                                size, depth, _doubles(&v[3]), small, _ints(&v[4]),
                                <i64*>(small + count * size), &mask_out, &tk)
                free(small)
        if tk.stopped:
            _raise_pending()
        if small == NULL:
            raise MemoryError()
    finally:
        _release(&arrays)


def predict(wi, wh, wo, a, b, out, states=None, masks=None, stop=None):
    """The network's sum of each pair; a pair runs max bit length + 1 steps.

    ``states`` and ``masks``: a prefix table of these weights from
    prefix_table(), or None to build one for this batch. ``stop``: a
    one-byte array that another thread may set nonzero; the call then
    returns at its next signal check with ``out`` partly written (the thread
    that set it discards the output).
    """
    cdef _Arrays arrays
    arrays.held = 0
    cdef Py_ssize_t size, n
    cdef Py_ssize_t where = 0
    cdef Py_ssize_t depth = 0
    cdef const double* table = NULL
    cdef const i64* mask = NULL
    cdef int status
    cdef Ticker tk
    cdef Py_buffer* v = arrays.views
    cdef Py_buffer* vstates
    cdef Py_buffer* vmasks
    cdef Py_buffer* vstop
    try:
        size = _hidden_size(&arrays, wi, wh, wo, False)
        n = _array(&arrays, a, "a", 1, b'i', False).shape[0]
        _same_length("a and b", n, _array(&arrays, b, "b", 1, b'i', False).shape[0])
        _same_length("a and out", n,
                     _array(&arrays, out, "out", 1, b'i', True).shape[0])
        if (states is None) != (masks is None):
            raise ValueError("states and masks must be given together")
        if states is not None:
            vstates = _array(&arrays, states, "states", 2, b'd', False)
            vmasks = _array(&arrays, masks, "masks", 1, b'i', False)
            depth = _prefix_depth_of(vstates, vmasks, size)
            table = _doubles(vstates)
            mask = _ints(vmasks)
        _ticker_init(&tk)
        if stop is not None:
            vstop = _array(&arrays, stop, "stop", 1, b'B', False)
            if vstop.shape[0] != 1:
                raise ValueError(f"stop must hold one byte, got {vstop.shape[0]}")
            tk.stop = <const unsigned char*>vstop.buf
        if n == 0:
            return
        with nogil:
            status = _predict_pairs(_doubles(&v[0]), _doubles(&v[1]), _doubles(&v[2]),
                                    size, _ints(&v[3]), _ints(&v[4]), n,
                                    _ints(&v[5]), &tk, &where, depth, table, mask)
        if tk.halted:
            return
        if tk.stopped:
            _raise_pending()
        if status == -1:
            raise ValueError(f"operands must be in 0..2**{MAX_BITS} - 1, got "
                             f"({_ints(&v[3])[where]}, {_ints(&v[4])[where]}) "
                             f"at index {where}")
        if status == -2:
            raise MemoryError()
    finally:
        _release(&arrays)


# --- block: exponential and logistic
def exp(double x):
    """The kernel's exponential (same bits as binsum._pycore.exp)."""
    return _exponential(x)


def sigmoid(double z):
    """The kernel's logistic function (same bits as binsum._pycore.sigmoid)."""
    return _logistic(z)
