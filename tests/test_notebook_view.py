"""A model's HTML table in a notebook: its settings, iterations, loss and score,
escaped, cheap, and safe to show from inside fit."""

from __future__ import annotations

import html.parser
import re
import threading
from collections.abc import Callable

import pytest

import binsum
from binsum import BinarySumRNN

Make = Callable[..., BinarySumRNN]


class _Cells(html.parser.HTMLParser):
    """The (header, value) rows of the table, as a browser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self._tag, self._key = "", ""

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._tag = tag

    def handle_data(self, data: str) -> None:
        if self._tag == "th":
            self._key = data
        elif self._tag == "td":
            self.rows[self._key] = self.rows.get(self._key, "") + data


def cells(model: BinarySumRNN) -> dict[str, str]:
    parser = _Cells()
    parser.feed(model._repr_html_())
    return parser.rows


def test_table_of_the_shipped_network(backend: str) -> None:
    model = BinarySumRNN.pretrained(backend=backend)  # type: ignore[arg-type]
    rows = cells(model)
    assert rows["hidden_size"] == "16" and rows["bits"] == "8"
    assert rows["learning_rate"] == "0.1" and rows["clip"] == "5.0"
    assert rows["seed"] == "0" and rows["backend"] == backend
    assert rows["iterations"] == "10,000"
    loss = float(model.history[-1000:].mean())
    assert rows["loss"] == f"{loss:.3g} (mean of the last 1,000 iterations)"
    if backend == "python":  # the twin takes seconds where the kernel takes ms
        assert rows["score"] == "not computed here: call score()"
    else:
        assert rows["score"] == "100.00% of all 32,896 pairs with a + b < 2**8"


def test_values_are_escaped_and_the_table_is_whole(backend: str) -> None:
    text = BinarySumRNN.pretrained(backend=backend)._repr_html_()  # type: ignore[arg-type]
    if backend == "cython":  # the one "<" of a value (a + b < 2**8), escaped
        assert "a + b &lt; 2**8" in text and "a + b < 2" not in text
    opened = re.findall(r"<(\w+)", text)
    closed = re.findall(r"</(\w+)", text)
    assert sorted(opened) == sorted(closed)


def test_untrained_and_slow_to_score_models_say_so(
    make_model: Make, backend: str
) -> None:
    rows = cells(make_model(hidden_size=3, bits=4, seed=1))
    assert rows["iterations"] == "0" and rows["loss"] == "no history"
    if backend == "python":  # the twin takes seconds where the kernel takes ms
        assert rows["score"] == "not computed here: call score()"
    else:
        assert rows["score"].endswith("of all 136 pairs with a + b < 2**4")
    wide = make_model(hidden_size=3, bits=20, seed=1)  # scored from a sample
    assert cells(wide)["score"] == "not computed here: call score()"


def test_table_shown_from_a_callback_during_fit() -> None:
    """The view takes no lock: a callback (holding fit's) can display it."""
    seen: list[dict[str, str]] = []

    def show(m: BinarySumRNN, i: int, loss: float) -> None:
        seen.append(cells(m))

    done = threading.Event()
    model = BinarySumRNN(hidden_size=4, bits=4, seed=2)

    def train() -> None:
        model.fit(3000, log_every=1000, callback=show)
        done.set()

    worker = threading.Thread(target=train, daemon=True)
    worker.start()
    assert done.wait(120), "the view deadlocked inside fit"
    assert [r["iterations"] for r in seen] == ["1,000", "2,000", "3,000"]
    assert seen[-1]["score"] == cells(model)["score"]


@pytest.mark.parametrize("seed", [0, 2**128 - 1])
def test_the_text_repr_is_unchanged(seed: int) -> None:
    model = BinarySumRNN(hidden_size=2, seed=seed)
    assert repr(model) == (
        f"BinarySumRNN(hidden_size=2, bits=8, learning_rate=0.1, clip=5.0, "
        f"seed={seed}, backend={binsum.backend!r}) # 0 iterations trained"
    )
    assert cells(model)["seed"] == str(seed)  # in full, not rounded
