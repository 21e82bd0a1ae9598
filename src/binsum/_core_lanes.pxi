# The C side of the kernel: its integer type, pointers that alias nothing,
# and the loops of _lanes.h (vector lanes; each sum still adds its terms in
# order, so they change no bit).

ctypedef long long i64

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
    void _add_masked "binsum_add_masked" (double* acc, const double* v,
                                          int flag, Py_ssize_t n)
    void _transpose_rows "binsum_transpose_rows" (
        double* dst, const double* src, Py_ssize_t n, Py_ssize_t begin,
        Py_ssize_t end)
    const Py_ssize_t TILE "BINSUM_TILE"  # rows of a tile of _transpose_rows
    # rows that _rows_into takes together
    const Py_ssize_t ROW_CHUNK "BINSUM_ROW_CHUNK"
    void _outer_sums_into "binsum_outer_sums_into" (
        double* g, const double* x, const double* y, Py_ssize_t terms,
        Py_ssize_t step, Py_ssize_t rows, Py_ssize_t cols)
    # a cache hint (predict's table rows): changes no value
    void _prefetch "binsum_prefetch" (const void* p)
