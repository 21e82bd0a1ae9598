/* The kernel's matrix loops, written with vector lanes (and two small
 * helpers: a masked add and a prefetch hint).
 *
 * Each loop keeps every sum in the twin's order (docs/algorithm.md, the
 * arithmetic shared by both backends): element j of a result adds its terms
 * k = 0, 1, ... one after the other, one rounding per multiply and per add
 * (the kernel is built with -ffp-contract=off). The
 * lanes only run many such sums side by side, and the column blocks keep
 * their running values in registers instead of memory, which is what makes
 * these loops fast: a sum kept in memory costs a store and a reload on every
 * term of its chain.
 *
 * GCC and Clang build the vectors from their vector extensions, on every
 * CPU (where a target has no vector unit they become scalar operations, with
 * the same results). Other compilers (MSVC) take the plain loops below,
 * which give the same bits.
 */
#ifndef BINSUM_LANES_H
#define BINSUM_LANES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(_MSC_VER)
#define BINSUM_LANES_RESTRICT __restrict
#else
#define BINSUM_LANES_RESTRICT __restrict__
#endif

#if (defined(__GNUC__) || defined(__clang__)) && !defined(BINSUM_SCALAR_LANES)
#define BINSUM_HAVE_LANES 1
#if defined(__AVX512F__)
#define BINSUM_LANES 8
#elif defined(__AVX__)
#define BINSUM_LANES 4
#else
#define BINSUM_LANES 2 /* SSE2, NEON, z/Architecture vectors */
#endif
typedef double binsum_vec
    __attribute__((vector_size(BINSUM_LANES * sizeof(double))));

/* memcpy: unaligned loads and stores, without aliasing questions. */
static inline binsum_vec binsum_load(const double *p)
{
    binsum_vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void binsum_store(double *p, binsum_vec v)
{
    memcpy(p, &v, sizeof v);
}
#endif

/* The matrix loops are inlined at every call: each call site's sizes then
 * shape its code (GCC would otherwise keep one shared copy of a loop called
 * from several places, a call per step on small networks). */
#if defined(__GNUC__) || defined(__clang__)
#define BINSUM_INLINE static inline __attribute__((always_inline))
#else
#define BINSUM_INLINE static inline
#endif

/* Rows of m taken together by binsum_rows_into: the sums stay in registers
 * for this many terms, and this many rows of m (read side by side) stay in
 * the first-level cache even when the rows are far apart. */
#define BINSUM_ROW_CHUNK 16

/* acc[j] = acc[j] + x[k] * m[k * stride + j] for k = 0 .. rows - 1 in
 * order, for every j < cols: a vector-matrix product added into acc, one
 * term at a time. */
BINSUM_INLINE void binsum_rows_into(double *BINSUM_LANES_RESTRICT acc,
                                    const double *BINSUM_LANES_RESTRICT x,
                                    const double *BINSUM_LANES_RESTRICT m,
                                    ptrdiff_t rows, ptrdiff_t stride,
                                    ptrdiff_t cols)
{
    ptrdiff_t k0, k, kend, j, i;
    for (k0 = 0; k0 < rows; k0 = kend) {
        kend = rows - k0 > BINSUM_ROW_CHUNK ? k0 + BINSUM_ROW_CHUNK : rows;
        j = 0;
#ifdef BINSUM_HAVE_LANES
        {
            const ptrdiff_t L = BINSUM_LANES;
            /* Four vectors of columns at a time: four independent chains in
             * flight, each row's block read once. */
            for (; j + 4 * L <= cols; j += 4 * L) {
                binsum_vec a0 = binsum_load(acc + j);
                binsum_vec a1 = binsum_load(acc + j + L);
                binsum_vec a2 = binsum_load(acc + j + 2 * L);
                binsum_vec a3 = binsum_load(acc + j + 3 * L);
                for (k = k0; k < kend; k++) {
                    const double *r = m + k * stride + j;
                    const double xk = x[k];
                    a0 = a0 + xk * binsum_load(r);
                    a1 = a1 + xk * binsum_load(r + L);
                    a2 = a2 + xk * binsum_load(r + 2 * L);
                    a3 = a3 + xk * binsum_load(r + 3 * L);
                }
                binsum_store(acc + j, a0);
                binsum_store(acc + j + L, a1);
                binsum_store(acc + j + 2 * L, a2);
                binsum_store(acc + j + 3 * L, a3);
            }
            for (; j + L <= cols; j += L) {
                binsum_vec a0 = binsum_load(acc + j);
                for (k = k0; k < kend; k++)
                    a0 = a0 + x[k] * binsum_load(m + k * stride + j);
                binsum_store(acc + j, a0);
            }
        }
#endif
        /* The columns left (all of them without lanes): row by row. */
        for (k = k0; k < kend && j < cols; k++) {
            const double xk = x[k];
            const double *r = m + k * stride;
            for (i = j; i < cols; i++)
                acc[i] = acc[i] + xk * r[i];
        }
    }
}

/* dst[j * n + k] = src[k * n + j] for the rows j = begin .. end - 1 of dst
 * (columns of src) of an n x n matrix, in square tiles so that both sides
 * are read and written a cache line at a time (begin a multiple of
 * BINSUM_TILE: whole tiles). A band of dst's rows is one stretch of memory:
 * a fresh dst is paged in a band at a time. */
#define BINSUM_TILE 8

static inline void binsum_transpose_rows(double *BINSUM_LANES_RESTRICT dst,
                                         const double *BINSUM_LANES_RESTRICT src,
                                         ptrdiff_t n, ptrdiff_t begin,
                                         ptrdiff_t end)
{
    ptrdiff_t k0, j0, k, j, kend, jend;
    for (j0 = begin; j0 < end; j0 += BINSUM_TILE) {
        jend = end - j0 > BINSUM_TILE ? j0 + BINSUM_TILE : end;
        for (k0 = 0; k0 < n; k0 += BINSUM_TILE) {
            kend = n - k0 > BINSUM_TILE ? k0 + BINSUM_TILE : n;
            for (k = k0; k < kend; k++)
                for (j = j0; j < jend; j++)
                    dst[j * n + k] = src[k * n + j];
        }
    }
}

/* g[k * cols + j] = g[k * cols + j] + x_i[k] * y_i[j] for i = 0 .. terms - 1
 * in order, where x_i = x + i * step and y_i = y + i * step (step may be
 * negative), for k < rows and j < cols: a sum of outer products added into
 * g, each element's sum kept in a register until its last term. */
static inline void binsum_outer_sums_into(double *BINSUM_LANES_RESTRICT g,
                                          const double *BINSUM_LANES_RESTRICT x,
                                          const double *BINSUM_LANES_RESTRICT y,
                                          ptrdiff_t terms, ptrdiff_t step,
                                          ptrdiff_t rows, ptrdiff_t cols)
{
    ptrdiff_t k, j = 0, i;
    if (terms <= 0)
        return;
#ifdef BINSUM_HAVE_LANES
    {
        /* Four rows at a time, a vector of columns after another (g is
         * walked row-wise): four chains in flight, each block of y_i read
         * once for the four rows. */
        const ptrdiff_t L = BINSUM_LANES, vcols = cols - cols % BINSUM_LANES;
        for (k = 0; k < rows; k += 4) {
            const ptrdiff_t n = rows - k < 4 ? rows - k : 4;
            for (j = 0; j < vcols; j += L) {
                double *r = g + k * cols + j;
                if (n == 4) {
                    binsum_vec a0 = binsum_load(r), a1 = binsum_load(r + cols);
                    binsum_vec a2 = binsum_load(r + 2 * cols);
                    binsum_vec a3 = binsum_load(r + 3 * cols);
                    for (i = 0; i < terms; i++) {
                        const double *xi = x + i * step + k;
                        const binsum_vec yi = binsum_load(y + i * step + j);
                        a0 = a0 + xi[0] * yi;
                        a1 = a1 + xi[1] * yi;
                        a2 = a2 + xi[2] * yi;
                        a3 = a3 + xi[3] * yi;
                    }
                    binsum_store(r, a0);
                    binsum_store(r + cols, a1);
                    binsum_store(r + 2 * cols, a2);
                    binsum_store(r + 3 * cols, a3);
                } else {
                    ptrdiff_t q;
                    for (q = 0; q < n; q++) {
                        binsum_vec a0 = binsum_load(r + q * cols);
                        for (i = 0; i < terms; i++)
                            a0 = a0 + x[i * step + k + q]
                                          * binsum_load(y + i * step + j);
                        binsum_store(r + q * cols, a0);
                    }
                }
            }
        }
        j = vcols;
    }
#endif
    /* The columns left (all of them without lanes). */
    for (k = 0; k < rows && j < cols; k++) {
        ptrdiff_t c;
        for (c = j; c < cols; c++) {
            double s = g[k * cols + c];
            for (i = 0; i < terms; i++)
                s = s + x[i * step + k] * y[i * step + c];
            g[k * cols + c] = s;
        }
    }
}

/* acc[j] = acc[j] + (flag ? v[j] : +0.0) for j < n, without a branch on
 * flag (an input bit: unpredictable). Adding +0.0 changes no sum that
 * starts at +0.0 (it never becomes -0.0), so this equals adding v only
 * where flag is set, bit for bit (and +0.0 is exact: no 0 * inf = NaN). */
static inline void binsum_add_masked(double *BINSUM_LANES_RESTRICT acc,
                                     const double *BINSUM_LANES_RESTRICT v,
                                     int flag, ptrdiff_t n)
{
    const uint64_t mask = (uint64_t)0 - (uint64_t)(flag != 0);
    ptrdiff_t j;
    for (j = 0; j < n; j++) {
        uint64_t u;
        double d;
        memcpy(&u, v + j, sizeof u);
        u &= mask;
        memcpy(&d, &u, sizeof d);
        acc[j] = acc[j] + d;
    }
}

/* Ask for the cache line at p ahead of its use (a hint: no effect on any
 * value, and nothing where the compiler has no such builtin). */
#if defined(__GNUC__) || defined(__clang__)
#define binsum_prefetch(p) __builtin_prefetch(p)
#else
#define binsum_prefetch(p) ((void)(p))
#endif

#endif /* BINSUM_LANES_H */
