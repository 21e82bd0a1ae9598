"""One model shared by many threads stays consistent.

Concurrent fit calls are serialised by the model's lock, and the sample stream
does not depend on how training is split, so eight fit(n) equal one fit(8n).
Readers (weights, predict) see the state of a whole training block: fit
publishes one immutable snapshot per block.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from binsum import BinarySumRNN
from binsum._model import BLOCK


def snapshot(model: BinarySumRNN) -> bytes:
    w = model.weights  # one read of the published state
    return b"".join(w[k].tobytes() for k in ("wi", "wh", "wo"))


def test_eight_threads_fitting_one_model_equal_one_long_fit(
    make_model: Callable[..., BinarySumRNN], backend: str
) -> None:
    n = 10_000 if backend == "cython" else 25  # cython: blocks of 8192 + 1808
    shared = make_model(hidden_size=6, bits=6, seed=11)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            shared.fit(n)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    alone = make_model(hidden_size=6, bits=6, seed=11).fit(8 * n)
    assert shared.iterations == alone.iterations == 8 * n
    assert np.array_equal(shared.history, alone.history)
    assert snapshot(shared) == snapshot(alone)


def test_readers_during_fit_see_whole_blocks(
    make_model: Callable[..., BinarySumRNN], backend: str
) -> None:
    # The kernel's own blocks on cython; small blocks (log_every) on the twin.
    block, blocks = (BLOCK, 5) if backend == "cython" else (15, 6)
    cfg = {"hidden_size": 6, "bits": 6, "seed": 4}
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 32, size=(2, 64))

    # Every state fit may publish: the weights after each whole block.
    ref = make_model(**cfg)
    states = {snapshot(ref)}
    sums = {ref.predict(a, b).tobytes()}
    for _ in range(blocks):
        ref.fit(block)
        states.add(snapshot(ref))
        sums.add(ref.predict(a, b).tobytes())
    assert len(states) == blocks + 1

    model = make_model(**cfg)
    seen_w: list[bytes] = []
    seen_p: list[bytes] = []
    reads = [0]
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen_w.append(snapshot(model))
            seen_p.append(model.predict(a, b).tobytes())
            reads[0] += 1

    def after_block(m: BinarySumRNN, i: int, loss: float) -> None:
        # Let the reader see this block's state before the next one starts
        # (it also keeps reading while the next block trains).
        target, deadline = reads[0] + 2, time.monotonic() + 30
        while reads[0] < target and time.monotonic() < deadline:
            time.sleep(0.0005)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        model.fit(block * blocks, log_every=block, callback=after_block)
    finally:
        stop.set()
        thread.join()
    assert set(seen_w) <= states, "a reader saw weights between blocks (torn)"
    assert set(seen_p) <= sums, "predict saw weights between blocks (torn)"
    assert len(set(seen_w)) >= blocks  # every published block was observed
    assert snapshot(model) == snapshot(ref)


def test_two_models_train_in_parallel_as_they_would_alone(
    make_model: Callable[..., BinarySumRNN], backend: str
) -> None:
    n = 20_000 if backend == "cython" else 40
    models = [make_model(hidden_size=5, bits=7, seed=s) for s in (1, 2)]
    threads = [threading.Thread(target=m.fit, args=(n,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s, m in zip((1, 2), models, strict=True):
        alone = make_model(hidden_size=5, bits=7, seed=s).fit(n)
        assert snapshot(m) == snapshot(alone)
        assert np.array_equal(m.history, alone.history)
