"""KeyboardInterrupt during fit leaves the model at a whole block.

Weights, loss history and random state then all describe the same iteration,
so fitting the remaining iterations gives exactly the uninterrupted result.
Ctrl-C lands inside one sample even of the largest network, and predict stops
as promptly on any number of threads. The tests that interrupt a child pass
also when the parent ignores SIGINT (as under `cmd &`).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from _children import child

import binsum
from binsum import BinarySumRNN
from binsum._model import BLOCK

TESTS = Path(__file__).resolve().parent


def state_of(model: BinarySumRNN, folder: Path) -> dict[str, np.ndarray]:
    """Everything a model file records: weights, history, rng state, queue."""
    path = folder / "state.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def assert_same_state(a: BinarySumRNN, b: BinarySumRNN, folder: Path) -> None:
    sa, sb = state_of(a, folder), state_of(b, folder)
    assert sa.keys() == sb.keys()
    for key in sa:
        assert np.array_equal(sa[key], sb[key]), key


@pytest.mark.parametrize("stop_after", [1, 3])
def test_interrupt_from_a_callback_resumes_exactly(
    make_model: Callable[..., BinarySumRNN], backend: str, tmp_path: Path,
    stop_after: int,
) -> None:
    every, total = (3000, 20_000) if backend == "cython" else (20, 90)
    cfg = {"hidden_size": 5, "bits": 6, "seed": 21}
    model = make_model(**cfg)

    def interrupt(m: BinarySumRNN, i: int, loss: float) -> None:
        if i == stop_after * every:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(total, log_every=every, callback=interrupt)
    done = stop_after * every
    assert model.iterations == done and len(model.history) == done
    # Weights, history, rng state and sample queue all at iteration `done`.
    assert_same_state(model, make_model(**cfg).fit(done), tmp_path)

    model.fit(total - done)
    assert_same_state(model, make_model(**cfg).fit(total), tmp_path)


def test_interrupt_inside_the_kernel_discards_the_partial_block(
    make_model: Callable[..., BinarySumRNN], backend: str, tmp_path: Path
) -> None:
    """An interrupt while the kernel trains a block (the twin runs Python
    there) leaves the state of the block before, though the kernel had
    already changed its working copies of the weights."""
    cfg = {"hidden_size": 4, "bits": 5, "seed": 8}
    every = 10
    model = make_model(**cfg)
    real = model._kernel
    calls = [0]

    def train(wi: np.ndarray, wh: np.ndarray, wo: np.ndarray, *args: Any) -> None:
        calls[0] += 1
        real.train(wi, wh, wo, *args)
        if calls[0] == 3:  # the third block: trained, then interrupted
            raise KeyboardInterrupt

    model._kernel = SimpleNamespace(  # type: ignore[assignment]
        train=train, work_size=real.work_size
    )
    with pytest.raises(KeyboardInterrupt):
        model.fit(50, log_every=every, callback=lambda *args: None)
    model._kernel = real
    assert model.iterations == 2 * every
    assert_same_state(model, make_model(**cfg).fit(2 * every), tmp_path)
    model.fit(50 - 2 * every)
    assert_same_state(model, make_model(**cfg).fit(50), tmp_path)


_CHILD = textwrap.dedent(
    """
    import sys
    from tqdm import tqdm
    from binsum import BinarySumRNN
    path, backend = sys.argv[1], sys.argv[2]
    total, every, progress = map(int, sys.argv[3:])

    def started(model, iteration, loss):
        if iteration == every:  # the first block is done: fit is under way
            print("fitting", flush=True)

    model = BinarySumRNN(seed=5, backend=backend)
    try:
        model.fit(total, log_every=every, callback=started, progress=bool(progress))
        print("finished", model.iterations, flush=True)
    except KeyboardInterrupt:
        assert not tqdm._instances, "the progress bar was left open"
        print("interrupted", model.iterations, flush=True)
        model.fit(total - model.iterations)
    model.save(path)
    """
)


@pytest.mark.parametrize("progress", [False, True], ids=["no bar", "bar"])
def test_sigint_to_a_long_fit_resumes_exactly(
    make_model: Callable[..., BinarySumRNN], backend: str, tmp_path: Path,
    progress: bool,
) -> None:
    """SIGINT to a process in a long fit: it catches KeyboardInterrupt at a
    block boundary, trains the rest and saves; the result equals an
    uninterrupted run. With a progress bar too, which is then closed."""
    # cython: blocks of BLOCK as without a callback (the signal is handled
    # when a block returns to Python); twin: blocks of 50 iterations. SIGINT
    # is sent once the first block is done, so fit is surely under way.
    total, every = (200_000, BLOCK) if backend == "cython" else (1500, 50)
    path = tmp_path / "resumed.npz"
    with child(
        [sys.executable, "-c", _CHILD, str(path), backend, str(total), str(every),
         str(int(progress))],
        stdout=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "fitting\n"
        time.sleep(0.05)  # into a later block (most of the fit is still ahead)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    word, count = out.split()
    assert word == "interrupted", "the fit ended before SIGINT arrived"
    stopped = int(count)
    assert every <= stopped < total and stopped % every == 0
    resumed = BinarySumRNN.load(path, backend=backend)
    assert resumed.iterations == total
    assert_same_state(resumed, make_model(seed=5).fit(total), tmp_path)


_PREDICT_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from binsum import BinarySumRNN
    hidden, threads = map(int, sys.argv[1:])
    model = BinarySumRNN(hidden_size=hidden, bits=62, seed=0)
    a = np.full(2 * 65536 + 1, 2**62 - 1)  # every pair runs 63 steps
    print("predicting", flush=True)
    try:
        model.predict(a, a, threads=threads)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    """
)


_LARGEST = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from binsum import BinarySumRNN

    def fresh():
        return BinarySumRNN(hidden_size=4096, bits=62, seed=3, backend="cython")

    for line in sys.stdin:
        if line == "fresh\\n":  # a first fit: its allocations are timed too
            model = fresh()
        try:  # a signal right after "go" lands in here too
            print("go", flush=True)
            model.fit(2**40)
        except KeyboardInterrupt:
            print(time.time(), model.iterations, len(model.history), flush=True)
    same = fresh().fit(model.iterations)
    print(all(np.array_equal(model.weights[k], same.weights[k]) for k in
              ("wi", "wh", "wo")) and np.array_equal(model.history, same.history))
    """
)


@pytest.mark.parametrize("threads", [2, 8])
def test_sigint_stops_a_threaded_predict_at_once(threads: int) -> None:
    """SIGINT while predict's worker threads run (hidden 512 at 62 bits:
    its 131,073 pairs take hours): KeyboardInterrupt, and the process is
    done, well within 2 s, without waiting for the workers' batches."""
    with child(
        [sys.executable, "-c", _PREDICT_CHILD, "512", str(threads)],
        stdout=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "predicting\n"
        time.sleep(1.5)  # past the prefix table (~0.3 s): the workers run
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("predict still ran 20 s after SIGINT")
        took = time.monotonic() - sent
    assert (out, proc.returncode) == ("interrupted\n", 0)
    assert took < 2.0, f"{took:.2f} s from SIGINT to exit"


@pytest.mark.skipif(not binsum.has_extension, reason="needs the compiled kernel")
def test_sigint_stops_a_fit_of_the_largest_network_at_any_moment() -> None:
    """Hidden 4096 x 62 bits, the largest network: SIGINT at the very start
    of a first fit (while its scratch and weight copies are made), and at
    random moments of later samples (their matrix loops, the gradient sums,
    the SGD step, between samples), is answered within a second (the kernel
    checks for signals every few milliseconds of work), and every stop
    leaves the model at a whole sample, equal to an uninterrupted fit."""
    rng = random.Random(18)
    moments = [("fresh", 0.0), ("fresh", 0.05), ("fresh", 0.3)]
    moments += [("again", rng.uniform(0.0, 2.5)) for _ in range(3)]
    with child(
        [sys.executable, "-c", _LARGEST],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        latencies = []
        for kind, delay in moments:
            proc.stdin.write(kind + "\n")
            proc.stdin.flush()
            assert proc.stdout.readline() == "go\n"
            time.sleep(delay)
            sent = time.time()
            proc.send_signal(signal.SIGINT)
            stamp, iterations, history = proc.stdout.readline().split()
            latencies.append(round(float(stamp) - sent, 3))
            assert iterations == history
        proc.stdin.close()  # the child then checks its model
        out = proc.stdout.read()
        assert proc.wait(timeout=300) == 0
    assert out == "True\n"
    assert max(latencies) < 1.0, latencies


_LARGEST_PREDICT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from binsum import BinarySumRNN

    model = BinarySumRNN(hidden_size=4096, bits=62, seed=2, backend="cython")
    st, kernel = model._trainer.state, model._kernel
    a = np.full(8, 2**62 - 1)  # every pair runs 63 steps
    out = np.empty(8, dtype=np.int64)

    def group_steps(steps):  # 8 pairs side by side in the kernel
        kernel.predict(st.wi, st.wh, st.wo, a >> (63 - steps), a >> (63 - steps),
                       out[:])

    calls = {"model": lambda: model.predict(a, a), "group": lambda: group_steps(63)}
    # A step's time, from 33 steps: what else a call does is a tiny part of
    # it, and a load that slows the call only raises this bound (a difference
    # of two timings, 33 steps less 17, went negative on a loaded machine).
    began = time.perf_counter()
    group_steps(33)
    print((time.perf_counter() - began) / 33, flush=True)
    for line in sys.stdin:
        try:  # a signal right after "go" lands in here too
            print("go", flush=True)
            calls[line.strip()]()
            print("finished", flush=True)
        except KeyboardInterrupt:
            print(time.time(), flush=True)
    """
)


def _predict_latencies(calls: list[tuple[str, float]]) -> tuple[float, list[float]]:
    """One group step's seconds, and the latency of SIGINT sent ``delay``
    seconds into each call of _LARGEST_PREDICT."""
    with child(
        [sys.executable, "-c", _LARGEST_PREDICT],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        step = float(proc.stdout.readline())
        latencies = []
        for call, delay in calls:
            proc.stdin.write(call + "\n")
            proc.stdin.flush()
            assert proc.stdout.readline() == "go\n"
            time.sleep(delay)
            sent = time.time()
            proc.send_signal(signal.SIGINT)
            latencies.append(float(proc.stdout.readline()) - sent)
    return step, latencies


@pytest.mark.skipif(not binsum.has_extension, reason="needs the compiled kernel")
def test_sigint_stops_a_predict_of_the_largest_network_within_a_step() -> None:
    """Hidden 4096 x 62 bits: SIGINT at random moments of a predict (the
    model's, a pair at a time, and the kernel's on 8 pairs side by side,
    ~10**8 multiply-adds a step) is answered well within one step of the 8
    pairs: the kernel checks for signals within a step, every 2**22
    multiply-adds (a step's 32nd part), not only between steps."""
    rng = random.Random(4096)
    calls = [("model", rng.uniform(0.0, 1.5)) for _ in range(3)]
    calls += [("group", rng.uniform(0.05, 2.0)) for _ in range(7)]
    step, latencies = _predict_latencies(calls)
    shown = f"step {step:.3f} s, latencies {[round(x, 3) for x in latencies]}"
    assert max(latencies) < 1.0, shown  # Ctrl-C is never slow
    # Checked once a step, a moment's latency is uniform over the step.
    assert sorted(latencies[3:])[3] < step / 4, shown


_REPEATED_PREDICT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from binsum import BinarySumRNN
    model = BinarySumRNN.pretrained()
    # 62-bit pairs: hundreds of small chunks a call, so the workers keep
    # taking the GIL while this thread waits for them
    a = np.random.default_rng(0).integers(0, 2**61, 1 << 17)
    for line in sys.stdin:
        try:  # a signal right after "go" lands in here too
            print("go", flush=True)
            while True:
                model.predict(a, a[::-1], threads=8)
        except KeyboardInterrupt:
            print("stopped", flush=True)
    """
)


def _read_line(stream: Any, into: list[str]) -> None:
    into.append(stream.readline())


def test_sigint_at_any_moment_of_threaded_predicts_never_hangs() -> None:
    """Ctrl-C at random moments of predict calls on 8 threads, one call after
    another (so signals also land while threads start, finish and report):
    every one is answered. (A KeyboardInterrupt inside
    ``concurrent.futures.wait`` can leave the futures' locks held, and the
    workers and the call then wait for ever: benchmarks/interrupt_latency.py
    --threads 8 hit it, and on 3.13t a KeyboardInterrupt inside
    ``Thread.start``'s condition wait released a lock it did not hold; this
    test guards the ``_thread`` workers that replaced both.)"""
    rng = random.Random(20)
    with child(
        [sys.executable, "-c", _REPEATED_PREDICT],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        for _ in range(40):
            proc.stdin.write("again\n")
            proc.stdin.flush()
            assert proc.stdout.readline() == "go\n"
            time.sleep(rng.uniform(0.0, 0.3))
            proc.send_signal(signal.SIGINT)
            answer: list[str] = []
            reader = threading.Thread(
                target=_read_line, args=(proc.stdout, answer), daemon=True
            )
            reader.start()
            reader.join(20)
            assert answer == ["stopped\n"], "predict hung after SIGINT"


@pytest.mark.skipif(not binsum.has_extension, reason="needs the compiled kernel")
def test_a_signal_handler_running_as_a_kernel_call_starts_is_not_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A compiled call runs no Python code before its loop (where a pending
    Ctrl-C's handler would raise into a function that cannot pass the
    exception on: "Exception ignored", then SystemError): here any Python
    function the kernel called to find its thread raises KeyboardInterrupt."""
    expected = BinarySumRNN(seed=0, backend="cython").fit(300)

    def interrupted() -> threading.Thread:
        raise KeyboardInterrupt

    monkeypatch.setattr(threading, "current_thread", interrupted)
    monkeypatch.setattr(threading, "main_thread", interrupted)
    model = BinarySumRNN(seed=0, backend="cython").fit(300)
    sums = model.predict(np.arange(100), 7)
    loss, _ = model.loss_and_gradients(3, 4)
    monkeypatch.undo()
    for key in ("wi", "wh", "wo"):
        assert np.array_equal(model.weights[key], expected.weights[key])
    assert np.array_equal(sums, expected.predict(np.arange(100), 7))
    assert loss == expected.loss_and_gradients(3, 4)[0]


_SLOW_FIT = """
import sys, time
from binsum import BinarySumRNN
model = BinarySumRNN(hidden_size=4096, bits=62, seed=1, backend="cython")
print("ready", flush=True)
try:
    model.fit(10**6)  # a sample takes seconds: 8,192 of them took hours
except KeyboardInterrupt:
    print("interrupted", time.time(), model.iterations, flush=True)
"""


@pytest.mark.skipif(not binsum.has_extension, reason="needs the compiled kernel")
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX")
def test_ctrl_c_lands_inside_one_sample_of_the_largest_network() -> None:
    """At hidden 4096 / 62 bits one sample takes seconds: Ctrl-C still stops
    the compiled fit at once (it used to wait for a block of 8,192 samples),
    typically inside the first sample (benchmarks/interrupt_latency.py)."""
    with child([sys.executable, "-c", _SLOW_FIT], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        threading.Event().wait(1.5)  # setup done: the kernel is in the sample
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    word, _, iterations = out.split()
    assert word == "interrupted" and int(iterations) < 10**6


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX")
def test_interrupt_tests_pass_with_sigint_ignored_by_the_parent() -> None:
    """Run as `cmd &` does (SIGINT ignored, inherited by children), the tests
    that interrupt a child still pass: children get SIGINT's default back."""
    tests = [
        "test_cli.py::test_interrupt_exits_130_and_leaves_the_old_file",
        "test_interrupts.py::test_sigint_to_a_long_fit_resumes_exactly",
    ]

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         *(str(TESTS / t) for t in tests)],
        capture_output=True, text=True, timeout=280, preexec_fn=ignore_sigint,
        cwd=TESTS,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
