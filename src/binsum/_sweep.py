"""sweep: train many configurations, on threads, processes or a cluster.

Each configuration is trained by ``_train_one``, a module-level function that
takes and returns plain data (dicts of Python scalars), so any
``concurrent.futures.Executor`` can run it: the default thread pool (the kernel
releases the GIL, so threads run in parallel), a ``ProcessPoolExecutor``,
``dask.distributed.Client.get_executor()`` or mpi4py's ``MPIPoolExecutor``.
A model depends only on its configuration (seed included) and the iterations
trained, so the records do not depend on the executor.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import numpy as np
from numpy.typing import NDArray

from binsum import _backend
from binsum._config import KEYS, Config
from binsum._hardcases import DEFAULT_MAX_BITS
from binsum._model import BinarySumRNN
from binsum._rules import Sweep
from binsum._scoring import ScorePairs
from binsum._types import SweepRecord

__all__ = ["sweep"]

ALLOWED = (*KEYS, "backend")  # BinarySumRNN's keyword arguments


def _config(index: int, config: Any) -> dict[str, Any]:
    """A validated configuration as plain Python values, defaults filled in."""
    where = f"configs[{index}]"
    if not isinstance(config, Mapping):
        raise TypeError(
            f"{where} must be a mapping of BinarySumRNN keyword arguments, "
            f"got {type(config).__name__}"
        )
    unknown = sorted(str(k) for k in config if k not in ALLOWED)
    if unknown:
        allowed = sorted(ALLOWED)
        raise ValueError(f"{where} has unknown keys {unknown}; allowed: {allowed}")
    if config.get("seed") is None:
        raise ValueError(
            f"{where} needs a 'seed' (an integer >= 0): a sweep is reproducible "
            "only with explicit seeds"
        )
    try:
        backend = config.get("backend")
        if backend is not None and backend not in _backend.BACKENDS:
            _backend.kernel(backend)  # raises the backend's own clear error
        settings = Config(**{k: v for k, v in config.items() if k in KEYS})
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{where}: {exc}") from None
    return {**asdict(settings), "backend": backend}


def _perfect(model: BinarySumRNN, a: NDArray[np.int64], b: NDArray[np.int64]) -> bool:
    """Whether score() would be 1.0, stopping at the first wrong sum.

    An unsolved network usually fails within the first chunk, so a
    checkpoint costs far less than a full score().
    """
    start, size = 0, 1024
    while start < len(a):
        stop = start + size
        if not np.array_equal(
            model.predict(a[start:stop], b[start:stop]), a[start:stop] + b[start:stop]
        ):
            return False
        start, size = stop, min(size * 2, 1 << 16)
    return True


def _train_one(
    config: dict[str, Any],
    iterations: int,
    check_every: int,
    hard_bits: int = DEFAULT_MAX_BITS,
    certify: bool = False,
) -> SweepRecord:
    """Train one configuration; return its record (plain data only)."""
    model = BinarySumRNN(**config)
    a, b = ScorePairs.choose(model.bits).shuffled()
    solved_at: list[int] = []

    def checkpoint(m: BinarySumRNN, done: int, _loss: float) -> None:
        if not solved_at and _perfect(m, a, b):
            solved_at.append(done)

    model.fit(iterations, log_every=check_every, callback=checkpoint)
    score = model.score()
    if not solved_at and score == 1.0 and iterations % check_every:
        solved_at.append(iterations)  # the final iteration is a checkpoint too
    tail = model.history[-check_every:]
    found = model.counterexample(hard_bits) if hard_bits else None
    proven = None
    if certify:
        # a network with a counterexample has no proof: skip the search
        proven = found is None and model.certify().proven
    return {
        "hidden_size": config["hidden_size"],
        "bits": config["bits"],
        "learning_rate": config["learning_rate"],
        "clip": config["clip"],
        "seed": config["seed"],
        "backend": config["backend"],
        "iterations": iterations,
        "score": score,
        "solved_at": solved_at[0] if solved_at else None,
        "final_loss": float(np.mean(tail)) if len(tail) else None,
        "counterexample": None if found is None else [found[0], found[1]],
        "proven": proven,
    }


def sweep(
    configs: Iterable[Mapping[str, Any]],
    iterations: int,
    executor: Executor | None = None,
    *,
    check_every: int = 500,
    hard_bits: int = DEFAULT_MAX_BITS,
    certify: bool = False,
) -> list[SweepRecord]:
    """Train every configuration for ``iterations`` samples; one record each.

    Parameters
    ----------
    configs : iterable of dict
        ``BinarySumRNN`` keyword arguments (``hidden_size``, ``bits``,
        ``learning_rate``, ``clip``, ``seed``, ``backend``); each must give a
        ``seed``.
    iterations : int
        Samples each configuration is trained, ``0..2**40`` as for ``fit``
        (always all of them).
    executor : concurrent.futures.Executor or None, default None
        Runs the training: a ``ProcessPoolExecutor``, a dask
        ``Client.get_executor()``, mpi4py's ``MPIPoolExecutor``, ... (not
        shut down). None uses a thread pool over all cores. The records do not
        depend on the executor.
    check_every : int, default 500
        Iterations between checkpoints, >= 1.
    hard_bits : int, default 4096
        Search each trained network's hard cases up to operands of this many
        bits (``counterexample(hard_bits)``), ``0..2**16``; 0 skips it.
    certify : bool, default False
        Also try to prove each trained network exact (``certify()``: seconds
        per network, far longer than training at small sizes).

    Returns
    -------
    list of SweepRecord
        One dict of plain Python values per configuration, in input order:
        the configuration with defaults filled in, ``iterations``, ``score``
        (the final ``score()``), ``solved_at`` (the first checkpoint, every
        ``check_every`` iterations and at the end, where ``score()`` was 1.0;
        None if none was), ``final_loss`` (the mean loss of the last
        ``check_every`` iterations; None when ``iterations`` is 0) and
        ``counterexample`` (``[a, b]``, the smallest pair found that the
        network adds wrong, or None: none found, or ``hard_bits`` is 0)
        and ``proven`` (``certify().proven`` when ``certify`` is True: True
        means proven exact for every pair of any length; None when not
        asked).
        ``score`` counts only pairs with ``a + b < 2**bits``: a network with
        score 1.0 may still have a counterexample.

    Raises
    ------
    ValueError
        If a configuration has no seed, an unknown key or a value out of
        range (the message names ``configs[i]``).
    TypeError
        If ``configs`` is not an iterable of mappings, or ``executor`` not an
        Executor.

    Notes
    -----
    A checkpoint checks ``score()``'s pairs in a shuffled order and stops at
    the first wrong sum, so it costs little until a network is nearly solved.

    Examples
    --------
    >>> import binsum
    >>> records = binsum.sweep([{"hidden_size": 8, "seed": s} for s in (0, 1)], 1000)
    >>> [r["seed"] for r in records]
    [0, 1]
    """
    # Every argument is checked here, before anything reaches a worker.
    iterations = Sweep.iterations(iterations)
    check_every = Sweep.check_every(check_every)
    hard_bits = Sweep.hard_bits(hard_bits)
    certify = Sweep.certify(certify)
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(
            "executor must be a concurrent.futures.Executor or None, "
            f"got {type(executor).__name__}"
        )
    if isinstance(configs, Mapping | str | bytes):
        raise TypeError("configs must be an iterable of configuration dicts")
    checked = [_config(i, c) for i, c in enumerate(configs)]
    if not checked:
        return []
    if executor is not None:
        return _run(executor, checked, iterations, check_every, hard_bits, certify)
    workers = min(len(checked), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return _run(pool, checked, iterations, check_every, hard_bits, certify)


def _run(
    executor: Executor,
    configs: list[dict[str, Any]],
    iterations: int,
    check_every: int,
    hard_bits: int,
    certify: bool,
) -> list[SweepRecord]:
    futures: list[Future[SweepRecord]] = [
        executor.submit(_train_one, c, iterations, check_every, hard_bits, certify)
        for c in configs
    ]
    try:
        return [f.result() for f in futures]
    except BaseException:
        for f in futures:
            f.cancel()  # do not leave queued work running after a failure
        raise
