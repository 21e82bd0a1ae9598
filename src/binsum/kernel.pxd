# binsum's C interface: the compiled kernel's functions, for other Cython
# extensions to call with no Python in between.
#
#     from binsum cimport kernel          # or: from binsum.kernel cimport ...
#     with nogil:
#         total = kernel.predict_pair(wi, wh, wo, hidden, a, b, scratch)
#
# The functions are resolved when your extension is imported, from the
# compiled kernel binsum itself uses (binsum.kernel.BUILD names it: the
# AVX-512 build where the CPU has AVX-512, else the AVX2 build where it has
# AVX2, else the baseline); there is no link step against binsum. They are
# the very functions behind binsum's Python API, so they give the same bits
# as BinarySumRNN and the pure-Python twin.
#
# Stable API: names, signatures and meanings change only with a new major
# version of binsum (see CHANGELOG.md).
#
# Conventions, for every function:
# - Weights are C-contiguous float64 arrays of one network with hidden size
#   H = ``size`` >= 1: wi (2, H), wh (H, H), wo (H, 1) (row-major: wh[k, j] is
#   wh[k * H + j]); gradients gwi, gwh, gwo have the same shapes.
# - Operands are int64; predict_* accept 0 .. 2**62 - 1, the training
#   functions pairs with a, b >= 0 and a + b < 2**bits, for bits in 1..62.
# - Nothing is allocated except by predict_pairs; callers pass scratch memory
#   of the documented size, so one buffer can serve many calls.
# - All are nogil and noexcept: they never raise and never touch Python, so
#   they run inside prange. Errors come back as return values.
# - Pointers passed as outputs must not overlap any input.
# - Plain C types only (no ctypedefs), so the signatures Cython checks when
#   your extension is imported are the same whichever build provides them.

# e**x built from IEEE basic operations (identical on every platform; the
# argument is clamped to [-708, 708]; NaN passes through).
cdef double exponential(double x) noexcept nogil

# The logistic function 1 / (1 + e**-z), with exponential().
cdef double logistic(double z) noexcept nogil

# One time step: h = sigmoid(x0 * wi[0] + x1 * wi[1] + h_prev . wh) into
# ``h`` (H doubles), returns the output logit o = h . wo. h_prev is the
# previous hidden state (H doubles), or NULL for the first step (h_0 = 0).
cdef double forward_step(const double* wi, const double* wh, const double* wo,
                         Py_ssize_t size, double x0, double x1,
                         const double* h_prev, double* h) noexcept nogil

# The output logits of the network run over the bit sequences xa, xb (one
# bit, 0 or 1, per element, least significant first; ``steps`` of each) into
# logits[0 .. steps-1]. ``scratch`` holds 2 * H doubles.
cdef void sequence_logits(const double* wi, const double* wh, const double* wo,
                          Py_ssize_t size, const long long* xa, const long long* xb,
                          Py_ssize_t steps, double* logits,
                          double* scratch) noexcept nogil

# The network's sum of a and b (it runs max bit length + 1 steps, the last
# for the carry). Returns -1 if an operand is outside 0 .. 2**62 - 1.
# ``scratch`` holds 2 * H doubles.
cdef long long predict_pair(const double* wi, const double* wh, const double* wo,
                      Py_ssize_t size, long long a, long long b,
                      double* scratch) noexcept nogil

# predict_pair for out[i] = sum of (a[i], b[i]), i < n; large batches share
# the first steps of pairs with the same low bits (the same operations, done
# once), and pairs advance several at a time. Returns 0; -1 if a pair is out
# of range (out[j] is set for the pairs before it); -2 if it could not
# allocate its working memory (at most about 11 MiB + 128 * H bytes, for
# its table of first steps).
cdef int predict_pairs(const double* wi, const double* wh, const double* wo,
                       Py_ssize_t size, const long long* a, const long long* b,
                       Py_ssize_t n, long long* out) noexcept nogil

# Doubles of scratch ``work`` that sample_gradients and train_pairs need.
cdef Py_ssize_t scratch_size(Py_ssize_t size, Py_ssize_t bits) noexcept nogil

# The loss sum_t (sigmoid(o_t) - y_t)**2 of the training pair (a, b) over
# ``bits`` steps, and its BPTT gradients (hidden deltas clipped to [-clip,
# clip]) written into gwi, gwh, gwo. Returns NaN (gradients untouched) if the
# pair or bits is out of range. ``work`` holds scratch_size(H, bits) doubles.
cdef double sample_gradients(const double* wi, const double* wh,
                             const double* wo, Py_ssize_t size, long long a, long long b,
                             Py_ssize_t bits, double clip, double* gwi,
                             double* gwh, double* gwo,
                             double* work) noexcept nogil

# Plain SGD over the pairs (a[i], b[i]) in order: for each, sample_gradients
# then w -= learning_rate * gradient, updating wi, wh, wo in place; each
# pair's loss goes into loss[i]. Returns the number of pairs trained: n, or
# the index of the first pair out of range (training stops before it).
# ``work`` holds scratch_size(H, bits) doubles.
cdef Py_ssize_t train_pairs(double* wi, double* wh, double* wo,
                            Py_ssize_t size, const long long* a, const long long* b,
                            Py_ssize_t n, Py_ssize_t bits,
                            double learning_rate, double clip, double* loss,
                            double* work) noexcept nogil
