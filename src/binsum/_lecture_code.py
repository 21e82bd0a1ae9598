"""The lecture's numpy code with its two wrong update lines corrected.

Written for comparison, not for use (``binsum.lecture.lecture_code`` runs
it, ``benchmarks/numpy_reference.py`` re-exports it): this is how the
lecture's TP trains the network (one sample at a time, backpropagation
through time with clipped hidden deltas, plain SGD), kept in its structure
(``get_sample``, ``init_nn``, bit arrays stored most significant bit first, a
forward loop that runs from the least significant bit) so that the benchmark
measures binsum against what a numpy user writes. Two lines differ from the
lecture (docs/algorithm.md):

    wh_update += prev_ht.T @ ht_delta      # lecture: elementwise, and a second
    wi_update += x.T @ ht_delta            #   sigmoid derivative in both

Randomness comes from a ``numpy.random.Generator`` passed in, not numpy's
global state, so a test can hand the reference binsum's exact initial weights
and sample stream.

``forward_sums`` is the vectorised inference a numpy user would write: all
pairs go through the network at once, one matrix product per time step.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator

import numpy as np
from numpy.typing import NDArray

Bits = NDArray[np.int64]  # one number's bits, most significant first
Sample = tuple[Bits, Bits, Bits]


def sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1 / (1 + np.exp(-x))


def make_dataset(bits: int) -> dict[int, Bits]:
    """Every number 0 .. 2**bits - 1 as its bit array, most significant first."""
    numbers = np.arange(2**bits, dtype=np.int64)
    table = (numbers[:, None] >> np.arange(bits - 1, -1, -1)) & 1
    return {int(i): table[i] for i in numbers}


def get_sample(dataset: dict[int, Bits], rng: np.random.Generator) -> Sample:
    """The lecture's rejection sampler: a, b < largest and a + b <= largest."""
    largest_number = max(dataset.keys())
    while True:
        a = int(rng.integers(largest_number))
        b = int(rng.integers(largest_number))
        c = a + b
        if c <= largest_number:
            return dataset[a], dataset[b], dataset[c]


def samples(dataset: dict[int, Bits], rng: np.random.Generator) -> Iterator[Sample]:
    while True:
        yield get_sample(dataset, rng)


def samples_from_pairs(
    dataset: dict[int, Bits], a: Iterable[int], b: Iterable[int]
) -> Iterator[Sample]:
    """The samples for given pairs (to replay another sample stream)."""
    for x, y in zip(a, b, strict=True):
        yield dataset[int(x)], dataset[int(y)], dataset[int(x) + int(y)]


def init_nn(
    inp_dim: int, hid_dim: int, out_dim: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    inp_layer = 2 * rng.random((inp_dim, hid_dim)) - 1
    hid_layer = 2 * rng.random((hid_dim, hid_dim)) - 1
    out_layer = 2 * rng.random((hid_dim, out_dim)) - 1
    return inp_layer, hid_layer, out_layer


def train(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    iterations: int,
    stream: Iterator[Sample],
    hidden_dimension: int,
    alpha: float = 0.1,
    clip: float = 5.0,
    as_written: bool = False,
) -> NDArray[np.float64]:
    """Train in place on ``iterations`` samples; returns each sample's loss.

    The loss is sum_t (y_hat_t - y_t)**2, as binsum's history records it.
    ``as_written=True`` uses the lecture's two wrong update lines instead
    (``binsum.lecture.lecture_code`` shows what they cost).
    """
    losses = np.empty(iterations)
    for iteration in range(iterations):
        wi_update = np.zeros_like(wi)
        wh_update = np.zeros_like(wh)
        wo_update = np.zeros_like(wo)

        a, b, c = next(stream)
        number_bits = len(c)

        loss = 0.0
        o_deltas = []
        ht_values = [np.zeros((1, hidden_dimension))]
        for pos in range(number_bits):
            index = number_bits - pos - 1
            x = np.array([[a[index], b[index]]])
            y = np.array([[c[index]]])

            at = x @ wi + ht_values[-1] @ wh
            ht = sigmoid(at)
            ot = ht @ wo
            yt = sigmoid(ot)

            prediction_error = 2 * (yt - y)
            o_deltas.append(prediction_error * yt * (1 - yt))
            loss += float(((yt - y) ** 2)[0, 0])
            ht_values.append(copy.deepcopy(ht))

        future_ht_delta = np.zeros_like(ht_values[-1])
        for i in range(number_bits):
            x = np.array([[a[i], b[i]]])
            ht = ht_values[-i - 1]
            prev_ht = ht_values[-i - 2]
            o_delta = o_deltas[-i - 1]

            ht_delta = np.clip(
                (o_delta @ wo.T + future_ht_delta @ wh.T) * (ht * (1 - ht)),
                -clip,
                clip,
            )

            wo_update += (o_delta @ ht).T
            if as_written:  # the lecture's lines, kept for comparison
                wh_update += prev_ht * ht * (1 - ht) * ht_delta
                wi_update += x.T @ (ht * (1 - ht) * ht_delta)
            else:
                wh_update += prev_ht.T @ ht_delta  # corrected: outer product
                wi_update += x.T @ ht_delta  # corrected: no second derivative

            future_ht_delta = copy.deepcopy(ht_delta)

        wi -= wi_update * alpha
        wh -= wh_update * alpha
        wo -= wo_update * alpha
        losses[iteration] = loss
    return losses


def forward_sums(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    bits: int,
) -> NDArray[np.int64]:
    """The network's sums of all pairs at once, over bits + 1 steps.

    The extra step, with zero input bits, emits the carry. A bit is 1 when
    its logit is positive (y_hat > 0.5).
    """
    h = np.zeros((len(a), wh.shape[0]))
    out = np.zeros(len(a), dtype=np.int64)
    for t in range(bits + 1):
        x = np.stack([(a >> t) & 1, (b >> t) & 1], axis=1).astype(np.float64)
        h = sigmoid(x @ wi + h @ wh)
        out |= ((h @ wo)[:, 0] > 0).astype(np.int64) << t
    return out


def train_quick(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    pairs: NDArray[np.int64],
    bits: int,
    alpha: float = 0.1,
    clip: float = 5.0,
    as_written: bool = False,
) -> NDArray[np.float64]:
    """``train`` on the pairs (a, b) of ``pairs``, giving the same bits faster.

    The same numpy operations on arrays of the same shapes in the same order
    (tests compare the two with ``array_equal``), without what costs time
    and changes nothing: the deep copies of arrays nothing else holds, the
    bit arrays built per step, np.clip's dispatch.
    """
    columns = np.arange(bits)
    xs = np.stack([(pairs[:, :1] >> columns) & 1, (pairs[:, 1:] >> columns) & 1], 2)
    ys = ((pairs[:, 0] + pairs[:, 1])[:, None] >> columns) & 1
    x_rows = xs.astype(np.float64)[:, :, None, :]  # (n, bits, 1, 2)
    y_rows = ys.astype(np.float64)[:, :, None, None]  # (n, bits, 1, 1)
    hidden = wh.shape[0]
    losses = np.empty(len(pairs))
    for iteration in range(len(pairs)):
        wi_update = np.zeros_like(wi)
        wh_update = np.zeros_like(wh)
        wo_update = np.zeros_like(wo)
        x_t, y_t = x_rows[iteration], y_rows[iteration]
        loss = 0.0
        o_deltas = []
        ht_values = [np.zeros((1, hidden))]
        for t in range(bits):
            at = x_t[t] @ wi + ht_values[-1] @ wh
            ht = 1 / (1 + np.exp(-at))
            yt = 1 / (1 + np.exp(-(ht @ wo)))
            o_deltas.append(2 * (yt - y_t[t]) * yt * (1 - yt))
            loss += float(((yt - y_t[t]) ** 2)[0, 0])
            ht_values.append(ht)
        future_ht_delta = np.zeros((1, hidden))
        for t in range(bits - 1, -1, -1):
            ht, prev_ht, o_delta = ht_values[t + 1], ht_values[t], o_deltas[t]
            slope = ht * (1 - ht)
            ht_delta = np.minimum(
                np.maximum((o_delta @ wo.T + future_ht_delta @ wh.T) * slope, -clip),
                clip,
            )
            wo_update += (o_delta @ ht).T
            if as_written:
                wh_update += prev_ht * ht * (1 - ht) * ht_delta  # its order
                wi_update += x_t[t].T @ (slope * ht_delta)
            else:
                wh_update += prev_ht.T @ ht_delta
                wi_update += x_t[t].T @ ht_delta
            future_ht_delta = ht_delta
        wi -= wi_update * alpha
        wh -= wh_update * alpha
        wo -= wo_update * alpha
        losses[iteration] = loss
    return losses
