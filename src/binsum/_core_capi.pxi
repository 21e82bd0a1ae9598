# binsum's C interface: declared, with each argument's meaning, in
# kernel.pxd; each function checks what its pointers cannot (bits, operand
# ranges) and calls the inner loops with no ticker (NULL: no signal checks).

from libc.math cimport NAN


cdef double exponential(double x) noexcept nogil:
    return _exponential(x)


cdef double logistic(double z) noexcept nogil:
    return _logistic(z)


cdef double forward_step(const double* wi, const double* wh, const double* wo,
                         Py_ssize_t size, double x0, double x1,
                         const double* h_prev, double* h) noexcept nogil:
    return _forward_step(wi, wh, wo, size, x0, x1, h_prev, h, h_prev == NULL)


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
    return _predict_pair(wi, wh, wo, size, a, b, 0, 0, scratch + size, scratch,
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
    return _scratch_size(size, bits)


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
