"""fit's progress bar and verbosity levels, as notebook and script users pass them.

The bar changes nothing trained: the same weights with and without it, and an
interrupt or an error from a callback still leaves the model at a block and
closes the bar.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from tqdm import tqdm

from binsum import BinarySumRNN

Make = Callable[..., BinarySumRNN]
SMALL = {"hidden_size": 4, "bits": 4, "seed": 3}


def open_bars() -> list[Any]:
    """The tqdm bars not yet closed (tqdm tracks every open one)."""
    return [bar for bar in tqdm._instances if not bar.disable]  # type: ignore[attr-defined]


def same_weights(a: BinarySumRNN, b: BinarySumRNN) -> bool:
    return all(np.array_equal(a.weights[k], b.weights[k]) for k in ("wi", "wh", "wo"))


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
