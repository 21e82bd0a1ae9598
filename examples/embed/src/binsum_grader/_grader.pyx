"""A course's grading tool, in Cython: many student networks scored at once.

Every function calls binsum's C interface (``from binsum cimport kernel``)
without the GIL; the batch functions spread the networks over OpenMP threads
with ``prange``. Networks are stacked: wi (M, 2, H), wh (M, H, H), wo (M, H, 1),
C-contiguous float64, exactly as ``BinarySumRNN.weights`` gives them.
"""

from cython.parallel cimport parallel, prange, threadid
from libc.stdlib cimport free, malloc

import numpy as np

from binsum cimport kernel


cdef Py_ssize_t _networks(const double[:, :, ::1] wi, const double[:, :, ::1] wh,
                          const double[:, :, ::1] wo) except -1:
    # H after checking the stacked shapes (M, 2, H), (M, H, H), (M, H, 1).
    cdef Py_ssize_t m = wh.shape[0], h = wh.shape[1]
    if (h < 1 or wh.shape[2] != h or wi.shape[0] != m or wi.shape[1] != 2
            or wi.shape[2] != h or wo.shape[0] != m or wo.shape[1] != h
            or wo.shape[2] != 1):
        raise ValueError("weights must be stacked as (M, 2, H), (M, H, H), (M, H, 1)")
    return h


def predict_batch(const double[:, :, ::1] wi, const double[:, :, ::1] wh,
                  const double[:, :, ::1] wo, const long long[::1] a,
                  const long long[::1] b, int threads=1):
    """out[m, i]: network m's sum of (a[i], b[i]), networks over ``threads``."""
    cdef Py_ssize_t h = _networks(wi, wh, wo)
    cdef Py_ssize_t m, count = wh.shape[0], n = a.shape[0]
    if b.shape[0] != n:
        raise ValueError("a and b must have equal lengths")
    out = np.zeros((count, n), dtype=np.int64)
    status = np.zeros(count, dtype=np.intc)
    cdef long long[:, ::1] o = out
    cdef int[::1] st = status
    if n == 0:
        return out
    with nogil:
        for m in prange(count, num_threads=threads, schedule="static"):
            st[m] = kernel.predict_pairs(&wi[m, 0, 0], &wh[m, 0, 0], &wo[m, 0, 0],
                                         h, &a[0], &b[0], n, &o[m, 0])
    if (status == -1).any():
        raise ValueError("operands must be in 0..2**62 - 1")
    if (status != 0).any():
        raise MemoryError()
    return out


def gradients_batch(const double[:, :, ::1] wi, const double[:, :, ::1] wh,
                    const double[:, :, ::1] wo, long long a, long long b,
                    Py_ssize_t bits, double clip, int threads=1):
    """Each network's loss and gradients for one training pair."""
    cdef Py_ssize_t h = _networks(wi, wh, wo)
    cdef Py_ssize_t m, count = wh.shape[0]
    loss = np.empty(count)
    gwi, gwh, gwo = np.empty((count, 2, h)), np.empty((count, h, h)), np.empty((count, h, 1))
    cdef double[::1] lv = loss
    cdef double[:, :, ::1] gi = gwi, gh = gwh, go = gwo
    cdef double* work
    cdef Py_ssize_t need = kernel.scratch_size(h, bits)
    with nogil, parallel(num_threads=threads):
        work = <double*>malloc(need * sizeof(double))  # one scratch per thread
        for m in prange(count, schedule="static"):
            if work == NULL:
                lv[m] = -1.0
            else:
                lv[m] = kernel.sample_gradients(
                    &wi[m, 0, 0], &wh[m, 0, 0], &wo[m, 0, 0], h, a, b, bits, clip,
                    &gi[m, 0, 0], &gh[m, 0, 0], &go[m, 0, 0], work)
        free(work)
    if (loss == -1.0).any():
        raise MemoryError()
    if np.isnan(loss).any():
        raise ValueError(f"({a}, {b}) is not a training pair of bits={bits}")
    return loss, {"wi": gwi, "wh": gwh, "wo": gwo}


def train_on(double[:, ::1] wi, double[:, ::1] wh, double[:, ::1] wo,
             const long long[::1] a, const long long[::1] b, Py_ssize_t bits,
             double learning_rate, double clip):
    """SGD on the pairs in order, updating one network's weights in place;
    returns the loss of each pair."""
    cdef Py_ssize_t h = wh.shape[0], n = a.shape[0], done
    loss = np.zeros(n)
    cdef double[::1] lv = loss
    work = np.empty(kernel.scratch_size(h, bits))
    cdef double[::1] wv = work
    if n == 0:
        return loss
    with nogil:
        done = kernel.train_pairs(&wi[0, 0], &wh[0, 0], &wo[0, 0], h, &a[0], &b[0],
                                  n, bits, learning_rate, clip, &lv[0], &wv[0])
    if done != n:
        raise ValueError(f"pair {done} is not a training pair of bits={bits}")
    return loss


def logits_of(const double[:, ::1] wi, const double[:, ::1] wh,
              const double[:, ::1] wo, const long long[::1] xa,
              const long long[::1] xb):
    """The output logits over the bit sequences xa, xb (least significant first)."""
    cdef Py_ssize_t h = wh.shape[0], steps = xa.shape[0]
    logits = np.zeros(steps)
    scratch = np.empty(2 * h)
    cdef double[::1] lv = logits, sv = scratch
    if steps:
        with nogil:
            kernel.sequence_logits(&wi[0, 0], &wh[0, 0], &wo[0, 0], h, &xa[0],
                                   &xb[0], steps, &lv[0], &sv[0])
    return logits


def predict_one(const double[:, ::1] wi, const double[:, ::1] wh,
                const double[:, ::1] wo, long long a, long long b):
    """One pair's sum through predict_pair (-1 if an operand is out of range)."""
    scratch = np.empty(2 * wh.shape[0])
    cdef double[::1] sv = scratch
    cdef long long total
    with nogil:
        total = kernel.predict_pair(&wi[0, 0], &wh[0, 0], &wo[0, 0], wh.shape[0],
                                    a, b, &sv[0])
    return total


def step_logit(const double[:, ::1] wi, const double[:, ::1] wh,
               const double[:, ::1] wo, double x0, double x1):
    """o_1 of the first step from h_0 = 0, and o_2 of a second step from it."""
    h = np.empty((2, wh.shape[0]))
    cdef double[:, ::1] hv = h
    cdef double o1, o2
    with nogil:
        o1 = kernel.forward_step(&wi[0, 0], &wh[0, 0], &wo[0, 0], wh.shape[0],
                                 x0, x1, NULL, &hv[0, 0])
        o2 = kernel.forward_step(&wi[0, 0], &wh[0, 0], &wo[0, 0], wh.shape[0],
                                 x0, x1, &hv[0, 0], &hv[1, 0])
    return o1, o2


def exp_sigmoid(double x):
    """(kernel.exponential(x), kernel.logistic(x))."""
    return kernel.exponential(x), kernel.logistic(x)


def threads_in_parallel(int threads):
    """How many threads a parallel region asked for ``threads`` really ran
    (1 where the extension was built without OpenMP)."""
    seen = np.zeros(max(threads, 1), dtype=np.intc)
    cdef int[::1] s = seen
    with nogil, parallel(num_threads=threads):
        s[threadid()] = 1
    return int(seen.sum())
