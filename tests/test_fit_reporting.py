"""What fit reports while it trains: the lecture's log (verbose, to the given
file), the callback every log_every iterations, the verbosity levels and the
progress bar, as notebook and script users pass them.

The bar changes nothing trained: the same weights with and without it, and an
interrupt or an error from a callback still leaves the model at a block and
closes the bar.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Callable
from typing import Any

import _reference
import numpy as np
import pytest
from tqdm import tqdm

from binsum import BinarySumRNN

Make = Callable[..., BinarySumRNN]
SMALL = {"hidden_size": 4, "bits": 4, "seed": 3}
LOGGED = dict(hidden_size=3, bits=6, seed=4)  # cheap on the twin


def open_bars() -> list[Any]:
    """The tqdm bars not yet closed (tqdm tracks every open one)."""
    return [bar for bar in tqdm._instances if not bar.disable]  # type: ignore[attr-defined]


def same_weights(a: BinarySumRNN, b: BinarySumRNN) -> bool:
    return all(np.array_equal(a.weights[k], b.weights[k]) for k in ("wi", "wh", "wo"))


# ---------------------------------------------------------- the lecture's log
LOG_HEAD = re.compile(r"^\[(\d+)\|(\d+)\] Error: (\d+\.\d+)$")


BITS = r"\[([01](?: [01])*)\]"


LOG_TRUE = re.compile(rf"^\tTrue: {BITS} = {BITS} \+ {BITS}$")


LOG_PRED = re.compile(rf"^\tPred: {BITS}$")


def parse_log(text: str) -> list[dict[str, Any]]:
    lines = text.splitlines()
    assert len(lines) % 3 == 0, text
    entries = []
    for head, true, pred in zip(lines[::3], lines[1::3], lines[2::3], strict=True):
        h, t, p = LOG_HEAD.match(head), LOG_TRUE.match(true), LOG_PRED.match(pred)
        assert h and t and p, (head, true, pred)
        digits = [*t.groups(), p.group(1)]
        assert len({len(d) for d in digits}) == 1  # all bits wide
        c, a, b, got = (int(d.replace(" ", ""), 2) for d in digits)  # MSB first
        entries.append(
            {"i": int(h[1]), "total": int(h[2]), "error": float(h[3]), "a": a,
             "b": b, "c": c, "pred": got, "width": (len(digits[0]) + 1) // 2}
        )  # fmt: skip
    return entries


def test_verbose_prints_the_lecture_log(
    make_model: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    model = make_model(**LOGGED)
    replay = make_model(**LOGGED)
    model.fit(30, verbose=True, log_every=10)
    entries = parse_log(capsys.readouterr().out)
    assert [e["i"] for e in entries] == [0, 10, 20]
    for e in entries:
        assert e["total"] == 30 and e["width"] == model.bits
        assert e["c"] == e["a"] + e["b"] < 2**model.bits
        # The line shows the sample about to be trained, on the weights then.
        replay.fit(e["i"] - replay.iterations)
        w = replay.weights
        o = _reference.logits(w["wi"], w["wh"], w["wo"], e["a"], e["b"], model.bits)
        bits = [(e["c"] >> t) & 1 for t in range(model.bits)]
        error = sum(abs(2 * (_reference.sigmoid(o) - bits)))
        assert e["error"] == pytest.approx(error, abs=2e-6)
        assert e["pred"] == sum(1 << t for t in range(model.bits) if o[t] > 0)


def test_verbose_log_of_a_trained_model_is_right(
    trained: BinarySumRNN, capsys: pytest.CaptureFixture[str]
) -> None:
    model = copy.deepcopy(trained)
    model.fit(3, verbose=True, log_every=1)
    entries = parse_log(capsys.readouterr().out)
    assert [e["i"] for e in entries] == [0, 1, 2]
    for e in entries:
        assert e["pred"] == e["c"]


def test_log_goes_to_the_given_file(
    make_model: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    make_model(**LOGGED).fit(25, verbose=True, log_every=10, file=out)
    assert [e["i"] for e in parse_log(out.getvalue())] == [0, 10, 20]
    make_model(**LOGGED).fit(25)  # quiet by default
    assert capsys.readouterr().out == ""


# ------------------------------------------------------------- the callback
def test_callback_is_called_every_log_every_iterations(make_model: Make) -> None:
    model = make_model(**LOGGED).fit(7)
    calls: list[tuple[int, int, float]] = []

    def callback(m: BinarySumRNN, iteration: int, loss: float) -> None:
        assert m is model
        calls.append((iteration, m.iterations, loss))

    model.fit(50, log_every=10, callback=callback)
    assert [c[0] for c in calls] == [10, 20, 30, 40, 50]  # counted in this call
    history = model.history
    for iteration, trained_so_far, loss in calls:
        assert trained_so_far == 7 + iteration  # the model is up to date
        assert isinstance(loss, float)  # the mean loss of the last log_every
        assert loss == history[trained_so_far - 10 : trained_so_far].mean()


def test_callback_returning_false_stops_training(make_model: Make) -> None:
    model = make_model(**LOGGED)
    seen: list[int] = []

    def stop_at_30(m: BinarySumRNN, iteration: int, loss: float) -> bool:
        seen.append(iteration)
        return iteration < 30

    assert model.fit(100, log_every=10, callback=stop_at_30) is model
    assert seen == [10, 20, 30]
    assert model.iterations == 30 and model.history.shape == (30,)
    # stopping is a clean pause: going on gives the uninterrupted model
    model.fit(70)
    whole = make_model(**LOGGED).fit(100)
    assert np.array_equal(model.history, whole.history)
    assert np.array_equal(model.weights["wh"], whole.weights["wh"])


def test_callback_exception_keeps_the_trained_part(make_model: Make) -> None:
    model = make_model(**LOGGED)

    def boom(m: BinarySumRNN, iteration: int, loss: float) -> None:
        if iteration == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(50, log_every=10, callback=boom)
    assert model.iterations == 20
    model.fit(30)
    assert np.array_equal(model.history, make_model(**LOGGED).fit(50).history)


def test_callback_loss_is_the_mean_over_log_every_beyond_a_block(
    make_model: Callable[..., BinarySumRNN],
) -> None:
    # log_every larger than a training block (8,192): the mean still covers
    # all log_every iterations, not only the last block's.
    seen: list[tuple[int, float]] = []
    model = make_model(hidden_size=2, bits=3, seed=4)
    model.fit(
        20_000, log_every=9_000, callback=lambda m, i, loss: seen.append((i, loss))
    )
    history = model.history
    assert [i for i, _ in seen] == [9_000, 18_000]
    assert seen[0][1] == float(history[:9_000].mean())
    assert seen[1][1] == float(history[9_000:18_000].mean())


# ----------------------------------------------- verbosity and the progress bar
def test_progress_shows_a_bar_on_stderr_and_trains_the_same(
    make_model: Make, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    total = 3000 if backend == "cython" else 60
    plain = make_model(**SMALL).fit(total)
    assert capsys.readouterr() == ("", "")  # no bar unless asked for
    shown = make_model(**SMALL).fit(total, progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    done = f"{total / 1000:.2f}k/{total / 1000:.2f}k" if total >= 1000 else f"{total}"
    assert "training: 100%|" in err and done in err and "loss=" in err
    assert same_weights(plain, shown)
    assert np.array_equal(plain.history, shown.history)
    assert open_bars() == []


def test_log_scrolls_above_the_bar(capsys: pytest.CaptureFixture[str]) -> None:
    log = io.StringIO()
    BinarySumRNN(**SMALL).fit(30, verbose=True, log_every=10, progress=True, file=log)
    lines = log.getvalue().splitlines()
    # Whole log lines, three per log point, in order, and no bar among them.
    assert len(lines) == 9 and "\r" not in log.getvalue()
    assert [x.split("]")[0] for x in lines[::3]] == ["[0|30", "[10|30", "[20|30"]
    assert all(x.startswith("\tTrue: ") for x in lines[1::3])
    assert all(x.startswith("\tPred: ") for x in lines[2::3])
    assert "training: 100%|" in capsys.readouterr().err


@pytest.mark.parametrize("error", [KeyboardInterrupt, ValueError])
def test_bar_closes_when_fit_is_stopped(
    make_model: Make, backend: str, error: type[BaseException]
) -> None:
    every = 500 if backend == "cython" else 10
    model = make_model(**SMALL)

    def stop(m: BinarySumRNN, i: int, loss: float) -> None:
        if i == 2 * every:
            raise error("stop")

    with pytest.raises(error):
        model.fit(10 * every, log_every=every, callback=stop, progress=True)
    assert open_bars() == []
    # Stopped at a block, as without a bar: the rest trains to the same model.
    assert model.iterations == 2 * every
    model.fit(8 * every)
    assert same_weights(model, make_model(**SMALL).fit(10 * every))


LEVELS = [1, 2, np.int64(1), np.uint8(3), True, np.bool_(True)]


@pytest.mark.parametrize("level", LEVELS)
def test_any_positive_verbosity_prints_the_log(level: object) -> None:
    log = io.StringIO()
    BinarySumRNN(**SMALL).fit(20, verbose=level, log_every=10, file=log)  # type: ignore[arg-type]
    assert log.getvalue().count("Error:") == 2


@pytest.mark.parametrize("level", [0, np.int32(0), False, np.bool_(False)])
def test_verbosity_zero_is_silent(level: object) -> None:
    log = io.StringIO()
    BinarySumRNN(**SMALL).fit(20, verbose=level, log_every=10, file=log)  # type: ignore[arg-type]
    assert log.getvalue() == ""


def test_progress_accepts_numpy_bools(capsys: pytest.CaptureFixture[str]) -> None:
    BinarySumRNN(**SMALL).fit(10, progress=np.bool_(True))  # type: ignore[arg-type]
    assert "training: 100%|" in capsys.readouterr().err
