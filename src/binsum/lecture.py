"""The lecture's questions, as code that runs.

Three functions, each training small networks with the lecture's algorithm
(SGD after every sample, learning rate 0.1, deltas clipped to [-5, 5], weights
drawn as binsum draws them, the same sample stream as ``BinarySumRNN(seed)``)
and returning a small frozen result whose ``str()`` says what it shows:

- :func:`without_feedback`: the "less expressive" architecture of the
  lecture's question, each hidden state built from the current inputs alone.
  It cannot add: its output at a column is a function of that column's two
  bits, and the sum's bit also depends on the carry.
- :func:`lecture_code`: the lecture's TP code as written against the same
  code with its two update lines corrected, from the same seed.
- :func:`linear_rnn`: the linear RNN of the ARMA remark,
  ``h_t = h_{t-1} wh + x_t wi`` with a linear output. Its state can hold the
  whole past, but a linear read-out cannot turn it into the sum's bits.

Every accuracy is the fraction of exact sums over every pair with
``a + b < 2**bits``, each run ``bits + 1`` steps (the last one, with zero
inputs, emits the carry), compared with the integer sum.

>>> from binsum import lecture
>>> print(lecture.without_feedback(seeds=[0], iterations=2000))  # doctest: +ELLIPSIS
without feedback (h_t from x_t alone), 16 hidden units, 2,000 iterations, 8 bits:
  exact sums, seed 0: 19.94% (table 00->0 10->1 01->1 11->0)
...
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from binsum import _config, _lecture_code, _sampling, _state
from binsum._rules import Lecture

__all__ = [
    "LectureCode",
    "LinearRNN",
    "Run",
    "WithoutFeedback",
    "lecture_code",
    "linear_rnn",
    "without_feedback",
]

Array = NDArray[np.float64]

#: The four inputs (a's bit, b's bit) of a column, in the order of the tables.
INPUTS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (0, 1), (1, 1))
LOSS_WINDOW = 1000  # a run's final loss: the mean of its last this many samples


# ------------------------------------------------------------------ results
@dataclass(frozen=True, eq=False)
class Run:
    """One trained network: its accuracy, its per-sample losses, its weights."""

    accuracy: float
    losses: Array
    wi: Array
    wh: Array
    wo: Array

    @property
    def final_loss(self) -> float:
        """The mean loss of the last 1,000 samples (all, if fewer)."""
        return float(self.losses[-LOSS_WINDOW:].mean()) if self.losses.size else 0.0


@dataclass(frozen=True)
class WithoutFeedback:
    """What :func:`without_feedback` found.

    ``accuracies[i]`` is the network trained from ``seeds[i]``. ``bound`` is
    the best accuracy any output computed from the last ``window`` columns'
    bits can reach (the best of the tables from those bits to one, each
    evaluated on every pair); ``best_table`` is that table, and ``tables[i]``
    the one the network from ``seeds[i]`` computes. Entry p of a table is the
    answer to the columns whose inputs are p's base-4 digits, the lowest for
    column t: digit a_t + 2 b_t (so for window 1, the answers to (a_t, b_t) =
    (0, 0), (1, 0), (0, 1), (1, 1)).
    """

    hidden_size: int
    bits: int
    iterations: int
    window: int
    seeds: tuple[int, ...]
    accuracies: tuple[float, ...]
    tables: tuple[tuple[int, ...], ...]
    bound: float
    best_table: tuple[int, ...]

    def __str__(self) -> str:
        inputs = "x_t" if self.window == 1 else "x_t and x_(t-1)"
        lines = [
            f"without feedback (h_t from {inputs} alone), {self.hidden_size} "
            f"hidden units, {self.iterations:,} iterations, {self.bits} bits:"
        ]
        for seed, acc, table in zip(
            self.seeds, self.accuracies, self.tables, strict=True
        ):
            lines.append(
                f"  exact sums, seed {seed}: {acc:.2%} (table {_table(table)})"
            )
        lines.append(
            f"  best any such output can do: {self.bound:.2%} (table "
            f"{_table(self.best_table)}). The output at a column sees only "
            + ("that column" if self.window == 1 else "it and the one before")
            + ", but the sum's bit is a_t xor "
            "b_t xor carry, and the carry depends on every earlier column: "
            "pairs with the same bits there and different carries get the "
            "same answer, so one of them is wrong."
        )
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class LectureCode:
    """What :func:`lecture_code` found: both runs, from the same start.

    ``binsum_difference`` is the largest absolute difference between the
    corrected run's weights and those of ``BinarySumRNN(seed=seed)`` trained
    as long: the corrected code is binsum's algorithm, up to the rounding of
    numpy's exponential and matrix products.
    """

    seed: int
    hidden_size: int
    bits: int
    iterations: int
    as_written: Run
    corrected: Run
    binsum_difference: float

    @property
    def weight_difference(self) -> dict[str, float]:
        """The largest absolute difference of each weight matrix between the runs."""
        a, c = self.as_written, self.corrected
        return {
            "wi": float(np.abs(a.wi - c.wi).max()),
            "wh": float(np.abs(a.wh - c.wh).max()),
            "wo": float(np.abs(a.wo - c.wo).max()),
        }

    def __str__(self) -> str:
        a, c = self.as_written, self.corrected
        diff = ", ".join(f"{k} {v:.3g}" for k, v in self.weight_difference.items())
        return "\n".join(
            [
                f"the lecture's code, seed {self.seed}, {self.hidden_size} hidden "
                f"units, {self.iterations:,} iterations, {self.bits} bits:",
                f"  as written: exact sums {a.accuracy:.2%}, final loss "
                f"{a.final_loss:.4f}",
                f"  corrected:  exact sums {c.accuracy:.2%}, final loss "
                f"{c.final_loss:.4f}",
                f"  largest weight difference between them: {diff}",
                "  as written, wh_update multiplies elementwise where an outer "
                "product is meant, and both wi_update and wh_update apply the "
                "sigmoid's derivative a second time",
                f"  corrected vs binsum's own training: weights within "
                f"{self.binsum_difference:.1e}",
            ]
        )


@dataclass(frozen=True, eq=False)
class LinearRNN:
    """What :func:`linear_rnn` found.

    ``trained`` is the linear RNN trained with the lecture's algorithm (its
    weights may overflow to inf or nan: then ``diverged`` is True);
    ``columns[t]`` is the share of pairs whose bit t it gets right and
    ``spectral_radius`` the largest modulus of its ``wh``'s eigenvalues (above
    1, its state grows with every step). ``bound``
    is what any linear RNN with a threshold output can reach at most (see
    :func:`linear_rnn`). ``constructed`` is the accuracy of the linear state
    built by hand (wh = I/2, wi = I: the state is the value of each operand
    read so far) read out by three thresholds instead of one.
    """

    seed: int
    hidden_size: int
    bits: int
    iterations: int
    trained: Run
    diverged: bool
    columns: tuple[float, ...]
    spectral_radius: float
    bound: float
    constructed: float

    def __str__(self) -> str:
        state = " (its weights overflowed)" if self.diverged else ""
        return "\n".join(
            [
                f"linear RNN (h_t = h_(t-1) wh + x_t wi, o_t = h_t wo), seed "
                f"{self.seed}, {self.hidden_size} hidden units, "
                f"{self.iterations:,} iterations, {self.bits} bits:",
                f"  trained: exact sums {self.trained.accuracy:.2%}{state}; "
                "right bits by column: " + " ".join(f"{x:.0%}" for x in self.columns),
                f"  its wh's spectral radius: {self.spectral_radius:.3g} (the "
                "state grows like it to the power t: nothing squashes it)",
                f"  at most {self.bound:.2%} with any weights: o_t is linear in "
                "(a_t, b_t) given the past, and no threshold of a linear "
                "function computes a_t xor b_t",
                f"  the same linear state with a three-threshold read-out: "
                f"{self.constructed:.2%} (the state holds the past; the "
                "read-out must be nonlinear)",
            ]
        )


def _table(table: tuple[int, ...]) -> str:
    if len(table) > len(INPUTS):  # window 2: the 16 answers, entry 0 first
        return "".join(map(str, table))
    return " ".join(f"{x}{y}->{v}" for (x, y), v in zip(INPUTS, table, strict=True))


# -------------------------------------------------------------- the setting
@dataclass(frozen=True)
class _Setting:
    hidden_size: int
    bits: int
    iterations: int
    learning_rate: float
    clip: float

    @classmethod
    def check(
        cls,
        hidden_size: object,
        bits: object,
        iterations: object,
        learning_rate: object,
        clip: object,
    ) -> _Setting:
        return cls(
            Lecture.hidden_size(hidden_size),
            Lecture.bits(bits),
            Lecture.iterations(iterations),
            Lecture.learning_rate(learning_rate),
            Lecture.clip(clip),
        )

    def start(self, seed: int) -> tuple[Array, Array, Array, _sampling.Pairs]:
        """``BinarySumRNN(seed)``'s initial weights and its training pairs."""
        st = _state.initial(_config.Config(self.hidden_size, self.bits, seed=seed))
        rng = _state.generator(st.rng_state)
        pairs, _ = _sampling.draw(rng, st.pending, self.bits, self.iterations)
        return st.wi.copy(), st.wh.copy(), st.wo.copy(), pairs


def _columns(values: NDArray[np.int64], steps: int) -> Array:
    """(n, steps) of 0.0/1.0: bit t of each value, least significant first."""
    out: Array = ((values[:, None] >> np.arange(steps)) & 1).astype(np.float64)
    return out


def _every_pair(bits: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    return _sampling.all_pairs(bits, 0, 1 << bits)


def _sigmoid(z: Array) -> Array:
    out: Array = 1.0 / (1.0 + np.exp(-z))
    return out


# ---------------------------------------------------------- without feedback
def without_feedback(
    *,
    seeds: Iterable[int] = range(5),
    window: int = 1,
    hidden_size: int = _config.HIDDEN_SIZE,
    bits: int = _config.BITS,
    iterations: int = _config.ITERATIONS,
    learning_rate: float = _config.LEARNING_RATE,
    clip: float = _config.CLIP,
) -> WithoutFeedback:
    """Train the architecture without feedback, and say why it cannot add.

    The network is the lecture's with the recurrent weights removed:
    ``h_t = sigmoid(x_t wi)``, ``y_t = sigmoid(h_t wo)``. Training is the
    lecture's algorithm, where backpropagation through time degenerates to
    backpropagation at each step (``delta_a_t`` has no ``delta_a_{t+1} wh``
    term): the same loss, clip, learning rate, the same initial ``wi`` and
    ``wo`` as ``BinarySumRNN(seed)`` (its ``wh`` is drawn and unused) and the
    same training pairs. With ``window=2``, the lecture's picture
    (in0 + in1 -> hidden1, in1 + in2 -> hidden2, ...):
    ``h_t = sigmoid(x_t wi + x_{t-1} wi')``, ``wi'`` drawn from its own
    generator (``SeedSequence(seed, spawn_key=(1,))``, so that the pairs stay
    binsum's).

    Why it cannot add: its output at column t is a function of (a_t, b_t)
    only, one of 16 tables from two bits to one, the same at every column.
    The sum's bit is a_t xor b_t xor c_t, where the carry c_t depends on
    every earlier column. This function evaluates all 16 tables on every pair
    and reports the best one's accuracy as ``bound``: no network without
    feedback, however trained, does better, and the trained ones (whose
    tables are read from their outputs on the four inputs) do no better.
    For 8 bits the best table is xor, right exactly on the pairs that never
    carry (3**8 of 32,896, 19.94 %). A window of two columns knows the carry
    when the previous column is 00 or 11, not through a run of 01s and 10s:
    its best table reaches 47.91 %, and a wider window, longer carry chains.

    Parameters
    ----------
    seeds : iterable of int, default range(5)
        One network is trained from each, as ``BinarySumRNN(seed=...)`` starts.
    window : int, default 1
        The columns each hidden state is built from: 1 (the current one) or
        2 (the current and the previous one).
    hidden_size : int, default 16
        Hidden units, 1..4096.
    bits : int, default 8
        Operand size, 1..10: training pairs have ``a + b < 2**bits`` and every
        such pair is evaluated.
    iterations : int, default 10,000
        Training samples, one SGD step each.
    learning_rate, clip : float, default 0.1 and 5.0
        The SGD step and the bound of the hidden deltas, finite and > 0.

    Returns
    -------
    WithoutFeedback
        Each network's accuracy and table, the bound and the best table.
    """
    s = _Setting.check(hidden_size, bits, iterations, learning_rate, clip)
    window = Lecture.window(window)
    seed_list = tuple(Lecture.seed(x) for x in seeds)
    if not seed_list:
        raise ValueError("seeds must hold at least one seed")
    a, b = _every_pair(s.bits)
    patterns = _patterns(a, b, s.bits + 1, window)
    target = a + b
    bound, best = _best_table(patterns, target, 4**window)
    learned, accuracies = [], []
    for seed in seed_list:
        table = _train_without_feedback(s, seed, window)
        learned.append(table)
        accuracies.append(_table_accuracy(table, patterns, target))
    return WithoutFeedback(
        s.hidden_size,
        s.bits,
        s.iterations,
        window,
        seed_list,
        tuple(accuracies),
        tuple(learned),
        bound,
        best,
    )


def _patterns(
    a: NDArray[np.int64], b: NDArray[np.int64], steps: int, window: int
) -> NDArray[np.int64]:
    """(n, steps): what each column's output may see, as a table index: the
    base-4 digits a_(t-k) + 2 b_(t-k), k = 0 lowest (columns before 0 are 00)."""
    t = np.arange(steps)
    digit = ((a[:, None] >> t) & 1) + 2 * ((b[:, None] >> t) & 1)
    out = digit.copy()
    for k in range(1, window):
        earlier = np.zeros_like(digit)
        earlier[:, k:] = digit[:, :-k]
        out += earlier << (2 * k)
    return out


def _best_table(
    patterns: NDArray[np.int64], target: NDArray[np.int64], size: int
) -> tuple[float, tuple[int, ...]]:
    """The best exact-sum accuracy of any table of ``size`` entries, and the
    first table that reaches it. A pair is right under a table exactly when
    the table holds 1 where the pair needs 1 and 0 where it needs 0: each
    pair is two bit masks over the entries, and every table is checked
    against every distinct pair of masks."""
    steps = patterns.shape[1]
    bit = ((target[:, None] >> np.arange(steps)) & 1).astype(bool)
    entry = np.left_shift(1, patterns)
    ones = np.bitwise_or.reduce(np.where(bit, entry, 0), axis=1)
    zeros = np.bitwise_or.reduce(np.where(bit, 0, entry), axis=1)
    possible = (ones & zeros) == 0  # else the pair needs an entry to be both
    masks, counts = np.unique(
        np.stack([ones[possible], zeros[possible]], axis=1), axis=0, return_counts=True
    )
    tables = np.arange(1 << size, dtype=np.int64)
    right = np.zeros(len(tables), dtype=np.int64)
    for (one, zero), count in zip(masks.tolist(), counts.tolist(), strict=True):
        right += count * (((tables & zero) == 0) & ((~tables & one) == 0))
    best = int(np.argmax(right))
    return float(right[best]) / len(target), tuple((best >> i) & 1 for i in range(size))


def _table_accuracy(
    table: tuple[int, ...], inputs: NDArray[np.int64], target: NDArray[np.int64]
) -> float:
    """The exact-sum accuracy of an output that is ``table`` of each column's
    pattern."""
    bits = np.asarray(table, dtype=np.int64)[inputs]
    sums = (bits << np.arange(inputs.shape[1])).sum(axis=1)
    return float(np.mean(sums == target))


def _train_without_feedback(s: _Setting, seed: int, window: int) -> tuple[int, ...]:
    """Train from ``seed``; the table the network's output computes."""
    wi, _, wo, pairs = s.start(seed)
    if window > 1:  # the earlier columns' weights, beside binsum's stream
        more = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1,)))
        )
        wi = np.concatenate([wi, 2 * more.random((2 * (window - 1), wi.shape[1])) - 1])
    xa = _columns(pairs[:, 0], s.bits)
    xb = _columns(pairs[:, 1], s.bits)
    ys = _columns(pairs[:, 0] + pairs[:, 1], s.bits)
    for i in range(len(pairs)):
        x = _window_inputs(xa[i], xb[i], window)  # (bits, 2 window): all steps
        h = _sigmoid(x @ wi)
        y_hat = _sigmoid(h @ wo)[:, 0]
        d_o = 2.0 * (y_hat - ys[i]) * y_hat * (1.0 - y_hat)
        d_a = np.clip(d_o[:, None] * wo[:, 0] * h * (1.0 - h), -s.clip, s.clip)
        wo -= s.learning_rate * (h.T @ d_o[:, None])
        wi -= s.learning_rate * (x.T @ d_a)
    p = np.arange(4**window)
    digits = [(p >> (2 * k)) & 3 for k in range(window)]
    seen = np.stack([f for d in digits for f in (d & 1, d >> 1)], axis=1)
    logits = _sigmoid(seen.astype(np.float64) @ wi) @ wo
    return tuple(int(v > 0.0) for v in logits[:, 0])


def _window_inputs(xa: Array, xb: Array, window: int) -> Array:
    """(steps, 2 window): row t holds x_t, x_(t-1), ... (zeros before column 0)."""
    steps = len(xa)
    out = np.zeros((steps, 2 * window))
    for k in range(window):
        out[k:, 2 * k] = xa[: steps - k]
        out[k:, 2 * k + 1] = xb[: steps - k]
    return out


# --------------------------------------------------------- the lecture's code
def lecture_code(
    *,
    seed: int = 0,
    hidden_size: int = _config.HIDDEN_SIZE,
    bits: int = _config.BITS,
    iterations: int = _config.ITERATIONS,
    learning_rate: float = _config.LEARNING_RATE,
    clip: float = _config.CLIP,
) -> LectureCode:
    """Train the lecture's TP code as written and corrected, from one start.

    Both runs are the lecture's numpy ``train`` (its structure kept: bit
    arrays most significant first, one sample at a time), started from
    ``BinarySumRNN(seed)``'s initial weights and fed its training pairs; they
    differ only in two lines:

    - as written, ``wh_update += prev_ht * ht * (1 - ht) * ht_delta``
      multiplies elementwise (numpy broadcasts the (1, H) rows) where the
      outer product ``prev_ht.T @ ht_delta`` is meant, and
    - ``wi_update += x.T @ (ht * (1 - ht) * ht_delta)`` applies the
      sigmoid's derivative a second time: ``ht_delta`` already holds it.

    The corrected run is binsum's algorithm; ``binsum_difference`` says how
    close it comes to ``BinarySumRNN(seed=seed).fit(iterations)``. This is
    the lecture's Python loop, a few thousand samples a second: the default
    takes a few seconds.

    Parameters
    ----------
    seed : int, default 0
        The start (initial weights, training pairs) of both runs.
    hidden_size : int, default 16
        Hidden units, 1..4096.
    bits : int, default 8
        Operand size, 1..10: training pairs have ``a + b < 2**bits`` and every
        such pair is evaluated.
    iterations : int, default 10,000
        Training samples, one SGD step each.
    learning_rate, clip : float, default 0.1 and 5.0
        The SGD step and the bound of the hidden deltas, finite and > 0.

    Returns
    -------
    LectureCode
        Both runs (accuracy, losses, weights) and their differences.
    """
    s = _Setting.check(hidden_size, bits, iterations, learning_rate, clip)
    seed = Lecture.seed(seed)
    runs = [_run_lecture(s, seed, as_written) for as_written in (True, False)]
    from binsum._model import BinarySumRNN  # the model imports much; only here

    model = BinarySumRNN(s.hidden_size, s.bits, s.learning_rate, s.clip, seed)
    model.fit(s.iterations)
    w, c = model.weights, runs[1]
    gap = max(
        float(np.abs(w["wi"] - c.wi).max()),
        float(np.abs(w["wh"] - c.wh).max()),
        float(np.abs(w["wo"] - c.wo).max()),
    )
    return LectureCode(seed, s.hidden_size, s.bits, s.iterations, runs[0], runs[1], gap)


def _run_lecture(s: _Setting, seed: int, as_written: bool) -> Run:
    wi, wh, wo, pairs = s.start(seed)
    ref = _lecture_code
    with np.errstate(over="ignore", invalid="ignore"):
        losses = ref.train_quick(
            wi, wh, wo, pairs, s.bits,
            alpha=s.learning_rate, clip=s.clip, as_written=as_written,
        )  # fmt: skip
        a, b = _every_pair(s.bits)
        sums = ref.forward_sums(wi, wh, wo, a, b, s.bits)
    return Run(float(np.mean(sums == a + b)), losses, wi, wh, wo)


# ---------------------------------------------------------------- linear RNN
def linear_rnn(
    *,
    seed: int = 0,
    hidden_size: int = _config.HIDDEN_SIZE,
    bits: int = _config.BITS,
    iterations: int = _config.ITERATIONS,
    learning_rate: float = _config.LEARNING_RATE,
    clip: float = _config.CLIP,
) -> LinearRNN:
    """The linear RNN of the ARMA remark: what it can hold, what it cannot say.

    The network is the lecture's without the hidden sigmoid:
    ``h_t = h_{t-1} wh + x_t wi``, ``o_t = h_t wo``, a predicted bit 1 when
    ``o_t > 0`` (``y_t = sigmoid(o_t)`` for the loss). Unrolled,
    ``o_t = sum_k x_{t-k} wi wh**k wo``: a moving average of the inputs, as
    the lecture says, a linear functional of the whole past.

    *What the state can hold.* With ``wh = I/2`` and ``wi = I`` (two units),
    ``h_t = (A_t, B_t) / 2**t`` where ``A_t`` is a's value read so far: every
    past bit is in the state (exactly, in floats, for up to 52 steps). The
    carry out of column t is then ``A_t/2**t + B_t/2**t >= 2``, a linear
    threshold of the state, and the sum's bit t is 1 when that sum ``S`` lies
    in [1, 2) or [3, 4): ``[S >= 1] - [S >= 2] + [S >= 3]``, three
    thresholds. ``constructed`` is that network's accuracy (100 %).

    *What a linear output cannot say.* Given the past, ``o_t = r + m0 a_t +
    m1 b_t`` with ``m0 = wi[0] wo`` and ``m1 = wi[1] wo`` the same at every
    column. Take four pairs that differ only in column 0's bits (the carry
    into column 0 is 0): right answers need ``r <= 0``, ``r + m0 > 0``,
    ``r + m1 > 0`` and ``r + m0 + m1 <= 0``, but the middle two add up to
    more than the outer two, which are the same sum. So in every such
    quadruple of the evaluated pairs one is wrong: ``bound`` is one minus
    their number over the number of pairs (75.29 % for 8 bits), for any
    weights (in exact arithmetic; floats could only differ where ``o_t`` is
    within rounding of 0). Quadruples at later columns (the same lower bits,
    so the same past) give more wrong pairs: the real ceiling may be lower.

    Training uses the lecture's algorithm with the sigmoid's derivative
    replaced by 1, from ``BinarySumRNN(seed)``'s initial weights and
    training pairs. Without a squashing function the state can grow like
    ``wh``'s spectral radius to the power t; the clip bounds the deltas but
    not the state, and the weights may overflow (``diverged``).

    Parameters
    ----------
    seed : int, default 0
        The start: ``BinarySumRNN(seed)``'s initial weights and pairs.
    hidden_size : int, default 16
        Hidden units, 1..4096.
    bits : int, default 8
        Operand size, 1..10: training pairs have ``a + b < 2**bits`` and every
        such pair is evaluated.
    iterations : int, default 10,000
        Training samples, one SGD step each.
    learning_rate, clip : float, default 0.1 and 5.0
        The SGD step and the bound of the hidden deltas, finite and > 0.

    Returns
    -------
    LinearRNN
        The trained network's accuracy (exact, and by column), the ceiling
        and the hand-built state's accuracy.
    """
    s = _Setting.check(hidden_size, bits, iterations, learning_rate, clip)
    seed = Lecture.seed(seed)
    a, b = _every_pair(s.bits)
    with np.errstate(over="ignore", invalid="ignore"):
        run = _train_linear(s, seed)
        logits = _linear_logits(run.wi, run.wh, run.wo, a, b, s.bits + 1)
    right = (logits > 0.0) == (_columns(a + b, s.bits + 1) > 0.0)
    run = Run(float(np.mean(right.all(axis=1))), run.losses, run.wi, run.wh, run.wo)
    diverged = not all(np.isfinite(w).all() for w in (run.wi, run.wh, run.wo))
    radius = float(np.abs(np.linalg.eigvals(run.wh)).max()) if not diverged else np.inf
    return LinearRNN(
        seed,
        s.hidden_size,
        s.bits,
        s.iterations,
        run,
        diverged,
        tuple(float(x) for x in right.mean(axis=0)),
        radius,
        _xor_bound(a, b),
        _constructed_accuracy(a, b, s.bits),
    )


def _train_linear(s: _Setting, seed: int) -> Run:
    """Train from ``seed``; the run's accuracy is left for the caller (nan)."""
    wi, wh, wo, pairs = s.start(seed)
    xa = _columns(pairs[:, 0], s.bits)
    xb = _columns(pairs[:, 1], s.bits)
    ys = _columns(pairs[:, 0] + pairs[:, 1], s.bits)
    losses = np.empty(len(pairs))
    hs = np.zeros((s.bits + 1, s.hidden_size))
    for i in range(len(pairs)):
        x = np.stack([xa[i], xb[i]], axis=1)
        drive = x @ wi
        for t in range(s.bits):
            hs[t + 1] = hs[t] @ wh + drive[t]
        y_hat = _sigmoid(hs[1:] @ wo)[:, 0]
        losses[i] = float(((y_hat - ys[i]) ** 2).sum())
        d_o = 2.0 * (y_hat - ys[i]) * y_hat * (1.0 - y_hat)
        d_a = np.zeros((s.bits, s.hidden_size))
        later = np.zeros(s.hidden_size)
        for t in range(s.bits - 1, -1, -1):
            later = np.clip(d_o[t] * wo[:, 0] + later @ wh.T, -s.clip, s.clip)
            d_a[t] = later
        wo -= s.learning_rate * (hs[1:].T @ d_o[:, None])
        wh -= s.learning_rate * (hs[:-1].T @ d_a)
        wi -= s.learning_rate * (x.T @ d_a)
    return Run(np.nan, losses, wi, wh, wo)


def _linear_logits(
    wi: Array, wh: Array, wo: Array, a: NDArray[np.int64], b: NDArray[np.int64],
    steps: int,
) -> Array:  # fmt: skip
    """(n, steps): the linear RNN's o_t for every pair."""
    xa, xb = _columns(a, steps), _columns(b, steps)
    h = np.zeros((len(a), wh.shape[0]))
    out = np.empty((len(a), steps))
    for t in range(steps):
        h = h @ wh + np.outer(xa[:, t], wi[0]) + np.outer(xb[:, t], wi[1])
        out[:, t] = (h @ wo)[:, 0]
    return out


def _sums(bits: NDArray[np.bool_]) -> NDArray[np.int64]:
    out: NDArray[np.int64] = (bits.astype(np.int64) << np.arange(bits.shape[1])).sum(
        axis=1
    )
    return out


def _xor_bound(a: NDArray[np.int64], b: NDArray[np.int64]) -> float:
    """One minus the share of pairs in complete column-0 quadruples
    {(2a', 2b'), (2a'+1, 2b'), (2a', 2b'+1), (2a'+1, 2b'+1)}: each has a
    pair that a linear-threshold output gets wrong."""
    high = (a >> 1) * (1 << 32) + (b >> 1)
    _, counts = np.unique(high, return_counts=True)
    return 1.0 - float(np.sum(counts == 4)) / len(a)


def _constructed_accuracy(
    a: NDArray[np.int64], b: NDArray[np.int64], bits: int
) -> float:
    """The hand-built linear state (wh = I/2, wi = I) with three thresholds."""
    steps = bits + 1
    xa, xb = _columns(a, steps), _columns(b, steps)
    ha, hb = np.zeros(len(a)), np.zeros(len(a))
    out = np.empty((len(a), steps), dtype=bool)
    for t in range(steps):
        ha = 0.5 * ha + xa[:, t]
        hb = 0.5 * hb + xb[:, t]
        total = ha + hb  # (A_t + B_t) / 2**t, in [0, 4)
        out[:, t] = (total >= 1.0) ^ (total >= 2.0) ^ (total >= 3.0)
    return float(np.mean(_sums(out) == a + b))
