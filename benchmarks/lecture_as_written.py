"""The lecture's TP code as written, its two wrong update lines included.

Trains it for each seed (numpy's global generator, as the lecture does) and
prints its exact-sum accuracy over every pair with a + b < 2**8, for the
README's "how binsum differs" section:

    python benchmarks/lecture_as_written.py 6
"""

from __future__ import annotations

import copy
import sys

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def train(seed: int, bits: int = 8, hidden: int = 16, iterations: int = 10_000,
          alpha: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    np.random.seed(seed)
    binary = np.unpackbits(
        np.array([range(2**bits)], dtype=np.uint8).T, axis=1
    )  # most significant bit first, as in the lecture
    dataset = {i: binary[i] for i in range(2**bits)}
    largest = max(dataset)
    wi = 2 * np.random.random((2, hidden)) - 1
    wh = 2 * np.random.random((hidden, hidden)) - 1
    wo = 2 * np.random.random((hidden, 1)) - 1
    for _ in range(iterations):
        while True:
            ai = np.random.randint(largest)
            bi = np.random.randint(largest)
            if ai + bi <= largest:
                break
        a, b, c = dataset[ai], dataset[bi], dataset[ai + bi]
        wi_update = np.zeros_like(wi)
        wh_update = np.zeros_like(wh)
        wo_update = np.zeros_like(wo)
        n = len(c)
        o_deltas = []
        ht_values = [np.zeros((1, hidden))]
        for pos in range(n):
            index = n - pos - 1
            x = np.array([[a[index], b[index]]])
            y = np.array([[c[index]]])
            ht = sigmoid(x @ wi + ht_values[-1] @ wh)
            yt = sigmoid(ht @ wo)
            o_deltas.append(2 * (yt - y) * yt * (1 - yt))
            ht_values.append(copy.deepcopy(ht))
        future = np.zeros_like(ht_values[-1])
        for i in range(n):
            x = np.array([[a[i], b[i]]])
            ht = ht_values[-i - 1]
            prev_ht = ht_values[-i - 2]
            o_delta = o_deltas[-i - 1]
            ht_delta = np.clip(
                (o_delta @ wo.T + future @ wh.T) * (ht * (1 - ht)), -5, 5
            )
            wo_update += (o_delta @ ht).T
            # The two lines binsum corrects: elementwise where an outer
            # product is meant, and the sigmoid derivative applied twice.
            wh_update += prev_ht * ht * (1 - ht) * ht_delta
            wi_update += x.T @ (ht * (1 - ht) * ht_delta)
            future = copy.deepcopy(ht_delta)
        wi -= wi_update * alpha
        wh -= wh_update * alpha
        wo -= wo_update * alpha
    return wi, wh, wo


def exact_fraction(wi: np.ndarray, wh: np.ndarray, wo: np.ndarray,
                   bits: int = 8) -> float:
    """Exact sums over every pair with a + b < 2**bits (bit = logit > 0)."""
    correct = total = 0
    for a in range(2**bits):
        b = np.arange(2**bits - a)
        h = np.zeros((len(b), wh.shape[0]))
        pred = np.zeros(len(b), dtype=np.int64)
        for t in range(bits):
            x = np.stack([np.full(len(b), (a >> t) & 1), (b >> t) & 1], axis=1)
            h = sigmoid(x @ wi + h @ wh)
            pred |= ((h @ wo)[:, 0] > 0).astype(np.int64) << t
        correct += int((pred == a + b).sum())
        total += len(b)
    return correct / total


if __name__ == "__main__":
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    print([round(exact_fraction(*train(s)), 3) for s in range(seeds)])
