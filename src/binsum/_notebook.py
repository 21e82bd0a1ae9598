"""A model as a notebook shows it: a small HTML table (``_repr_html_``).

Settings, iterations, the recent loss and, when it is cheap, the score on
the training distribution. Built from one state snapshot and without the
model's lock, so a callback inside ``fit`` can display the model; no
training and nothing slow (the score only when it takes milliseconds).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from binsum._scoring import ScorePairs

if TYPE_CHECKING:
    from binsum._model import BinarySumRNN
    from binsum._state import State

LOSS_WINDOW = 1000  # the loss shown: the mean of the last this many iterations
# The score is shown when every pair of the training width can be checked in
# at most this many multiply-adds on the compiled kernel (a few ms: the
# lecture's network at 8 bits is 95 million); otherwise the table says how.
SCORE_WORK = 1 << 27


def _score_text(model: BinarySumRNN, state: State) -> str:
    pairs = ScorePairs.choose(model.bits)
    h = model.hidden_size
    work = pairs.count * (model.bits + 1) * h * (h + 4)
    if pairs.sample is not None or model.backend != "cython" or work > SCORE_WORK:
        return "not computed here: call score()"
    score = model.score()
    if model._trainer.state is not state:  # trained meanwhile (another thread)
        return "not computed here: call score()"
    return f"{score:.2%} of {pairs.describe()}"


def _loss_text(state: State) -> str:
    history = state.history
    if not history.size:
        return "no history"
    tail = history[-LOSS_WINDOW:]
    return f"{float(tail.mean()):.3g} (mean of the last {len(tail):,} iterations)"


def html_table(model: BinarySumRNN) -> str:
    """The model's table (of one state snapshot); every value escaped."""
    state = model._trainer.state
    rows = [
        ("hidden_size", str(model.hidden_size)),
        ("bits", str(model.bits)),
        ("learning_rate", repr(model.learning_rate)),
        ("clip", repr(model.clip)),
        ("seed", str(model.seed)),
        ("backend", model.backend),
        ("iterations", f"{state.iterations:,}"),
        ("loss", _loss_text(state)),
        ("score", _score_text(model, state)),
    ]
    body = "".join(
        f'<tr><th style="text-align:left">{html.escape(k)}</th>'
        f'<td style="text-align:left">{html.escape(v)}</td></tr>'
        for k, v in rows
    )
    return (
        '<table class="binsum-model">'
        f"<caption>{html.escape(type(model).__name__)}</caption>"
        f"<tbody>{body}</tbody></table>"
    )
