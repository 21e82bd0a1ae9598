"""How fit divides its work and what it holds: blocks sized by the work of a
sample, each published before the next; a fit of the documented maximum
starts at once; the kernel's scratch is made once per model; the loss history
grows with what was trained, not with what was asked.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

import binsum
from binsum import BinarySumRNN, _model
from binsum._model import BLOCK, BLOCK_WORK, block_size

Make = Callable[..., BinarySumRNN]


# ------------------------------------------------------- blocks sized by work
def test_blocks_are_sized_by_work() -> None:
    assert block_size(16, 8) == BLOCK  # the default network: unchanged
    assert block_size(4096, 62) == 1 and block_size(1, 1) == BLOCK
    for hidden, bits in [(64, 8), (256, 62), (1024, 16), (100, 30)]:
        n = block_size(hidden, bits)
        per_sample = bits * (hidden * hidden + 4 * hidden)
        assert 1 <= n < BLOCK and n * per_sample <= BLOCK_WORK < (n + 1) * per_sample


def test_each_block_is_published(
    make_model: Make, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel is handed blocks of block_size() samples, and readers see
    the state of each one before the next begins."""
    hidden, bits = 64, 40
    if backend == "python":  # a block is ~2 s of the twin's time: smaller ones
        monkeypatch.setattr(_model, "BLOCK_WORK", BLOCK_WORK // 16)
    model = make_model(hidden_size=hidden, bits=bits, seed=3)
    real = model._kernel
    seen: list[tuple[int, int]] = []

    def train(*args: Any) -> None:
        seen.append((len(args[3]), model.iterations))
        real.train(*args)

    model._kernel = SimpleNamespace(train=train, work_size=real.work_size)
    n = block_size(hidden, bits)
    model.fit(2 * n + 3)
    assert seen == [(n, 0), (n, n), (3, 2 * n)]


# ------------------------------------------ memory: what was trained, once
@pytest.mark.parametrize("total", [2**33, 2**40])
def test_the_documented_maximum_starts_at_once(make_model: Make, total: int) -> None:
    """fit(2**40) no longer allocates its whole loss history up front: it
    starts, trains until its callback stops it, and holds what it trained."""
    model = make_model(hidden_size=2, bits=3, seed=1)
    tracemalloc.start()
    try:
        model.fit(total, log_every=100, callback=lambda m, i, loss: i < 300)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert model.iterations == 300 and len(model.history) == 300
    assert peak < 2**20  # a few blocks' worth of samples, not 8 TiB


@pytest.mark.skipif(not binsum.has_extension, reason="needs the compiled kernel")
def test_a_second_fit_does_not_allocate_its_scratch_again() -> None:
    """fit's kernel scratch (2 * H**2 doubles: 268 MB at hidden 4096) is made
    once per model, not on every call; a later fit allocates only the block's
    weight copies."""
    model = BinarySumRNN(hidden_size=512, bits=8, seed=1, backend="cython")
    scratch = 8 * model._kernel.work_size(512, 8)
    peaks = []
    for _ in range(2):
        tracemalloc.start()
        try:
            model.fit(1)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[0] > scratch > peaks[1] > 8 * 512 * 512  # wh's copy


def test_history_grows_with_what_was_trained(make_model: Make) -> None:
    model = make_model(hidden_size=2, bits=3, seed=1)
    for _ in range(50):
        model.fit(7)
    buffer = model._trainer.history_buffer
    assert buffer is not None and 350 <= len(buffer) <= 2 * 350 + 7
