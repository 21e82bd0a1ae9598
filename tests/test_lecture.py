"""binsum.lecture: the lecture's questions, and the ``binsum lecture`` command.

The bounds are checked against derivations done here independently (a loop
over columns with Python ints, a closed-form count), never against numbers
copied from a run.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from _command import Binsum, assert_one_line_error

from binsum import BinarySumRNN, _sampling, lecture

SEEDS = range(5)


@pytest.fixture(scope="module")
def no_feedback() -> lecture.WithoutFeedback:
    return lecture.without_feedback(seeds=SEEDS)  # the defaults: 10,000 samples


@pytest.fixture(scope="module")
def linear() -> lecture.LinearRNN:
    return lecture.linear_rnn()


def _exact_sums_of_table(table: tuple[int, ...], bits: int) -> float:
    """The exact-sum accuracy of an output that is table[a_t + 2 b_t] at every
    column, by a plain loop over pairs and columns."""
    right = total = 0
    for a in range(1 << bits):
        for b in range((1 << bits) - a):
            got = sum(
                table[((a >> t) & 1) + 2 * ((b >> t) & 1)] << t for t in range(bits + 1)
            )
            right += got == a + b
            total += 1
    return right / total


# ---------------------------------------------------------- without feedback
def test_without_feedback_never_adds_every_pair(
    no_feedback: lecture.WithoutFeedback,
) -> None:
    assert no_feedback.seeds == tuple(SEEDS)
    assert len(no_feedback.accuracies) == len(SEEDS)
    for accuracy in no_feedback.accuracies:
        assert accuracy < 1.0
        assert accuracy <= no_feedback.bound
    assert no_feedback.bound < 1.0


def test_without_feedback_accuracy_is_that_of_its_table(
    no_feedback: lecture.WithoutFeedback,
) -> None:
    for table, accuracy in zip(
        no_feedback.tables, no_feedback.accuracies, strict=True
    ):
        assert accuracy == pytest.approx(_exact_sums_of_table(table, 8), abs=1e-12)


def test_the_bound_is_the_best_of_the_sixteen_tables() -> None:
    # Small sizes, where the loop over every pair is cheap.
    for bits in (2, 3, 5):
        r = lecture.without_feedback(seeds=[0], bits=bits, iterations=50)
        tables = [tuple((code >> i) & 1 for i in range(4)) for code in range(16)]
        best = max(_exact_sums_of_table(t, bits) for t in tables)
        assert r.bound == pytest.approx(best, abs=1e-12)
        assert _exact_sums_of_table(r.best_table, bits) == pytest.approx(best)


@pytest.mark.parametrize("window", [1, 2])
def test_the_bound_is_the_best_table_for_any_window(window: int) -> None:
    # Every table at once, by direct lookup (not the bit masks the module uses).
    bits = 3
    r = lecture.without_feedback(seeds=[0], bits=bits, iterations=50, window=window)
    tables = np.arange(1 << 4**window, dtype=np.int64)
    right = np.ones(len(tables), dtype=bool)
    count = np.zeros(len(tables), dtype=np.int64)
    for a in range(1 << bits):
        for b in range((1 << bits) - a):
            right[:] = True
            for t in range(bits + 1):
                seen = 0
                for k in range(window):
                    if t - k >= 0:
                        column = ((a >> (t - k)) & 1) + 2 * ((b >> (t - k)) & 1)
                        seen += column << 2 * k
                right &= ((tables >> seen) & 1) == (((a + b) >> t) & 1)
            count += right
    pairs = (1 << bits) * ((1 << bits) + 1) // 2
    assert r.bound == pytest.approx(count.max() / pairs)
    assert len(r.best_table) == 4**window


def test_a_window_of_two_columns_does_not_add_either() -> None:
    r = lecture.without_feedback(seeds=range(3), window=2, iterations=3000)
    one = lecture.without_feedback(seeds=[0], iterations=50)
    assert one.bound < r.bound < 1.0
    for accuracy in r.accuracies:
        assert accuracy <= r.bound


def test_the_best_table_is_xor_right_exactly_when_nothing_carries(
    no_feedback: lecture.WithoutFeedback,
) -> None:
    # xor of the two bits is the sum's bit when no column receives a carry,
    # that is when a & b == 0: each column is 00, 10 or 01 (3**8 pairs).
    assert no_feedback.best_table == (0, 1, 1, 0)
    a, b = _sampling.all_pairs(8, 0, 256)
    assert no_feedback.bound == pytest.approx(3**8 / len(a))
    assert no_feedback.bound == pytest.approx(float(np.mean((a & b) == 0)))


def test_without_feedback_is_reproducible() -> None:
    first = lecture.without_feedback(seeds=[3], iterations=500)
    assert first == lecture.without_feedback(seeds=[3], iterations=500)


def test_without_feedback_explains_itself(no_feedback: lecture.WithoutFeedback) -> None:
    text = str(no_feedback)
    assert f"{no_feedback.bound:.2%}" in text
    assert "carry" in text


# --------------------------------------------------------- the lecture's code
def test_lecture_code_as_written_differs_from_corrected() -> None:
    r = lecture.lecture_code(seed=0, iterations=1500)
    assert r.as_written.accuracy != r.corrected.accuracy
    assert all(v > 0.0 for v in r.weight_difference.values())
    assert not np.array_equal(r.as_written.losses, r.corrected.losses)
    # The first sample's loss comes before any update: the same in both.
    assert r.as_written.losses[0] == r.corrected.losses[0]


def test_lecture_code_is_reproducible() -> None:
    one = lecture.lecture_code(seed=2, iterations=300, hidden_size=6)
    two = lecture.lecture_code(seed=2, iterations=300, hidden_size=6)
    for x, y in ((one.as_written, two.as_written), (one.corrected, two.corrected)):
        assert x.accuracy == y.accuracy
        for name in ("losses", "wi", "wh", "wo"):
            assert np.array_equal(getattr(x, name), getattr(y, name))


def test_corrected_lecture_code_is_binsums_training() -> None:
    r = lecture.lecture_code(seed=1, iterations=800, hidden_size=8, bits=6)
    # Up to numpy's exp and matrix-product rounding (tests/test_reference.py).
    assert r.binsum_difference < 1e-9
    model = BinarySumRNN(hidden_size=8, bits=6, seed=1).fit(800)
    assert r.corrected.accuracy == model.score()


def test_lecture_code_starts_from_binsums_weights() -> None:
    r = lecture.lecture_code(seed=4, iterations=0, hidden_size=5)
    w = BinarySumRNN(hidden_size=5, seed=4).weights
    for run in (r.as_written, r.corrected):
        assert np.array_equal(run.wi, w["wi"])
        assert np.array_equal(run.wh, w["wh"])
        assert np.array_equal(run.wo, w["wo"])
    assert r.as_written.losses.size == 0


# ---------------------------------------------------------------- linear RNN
def test_linear_rnn_stays_under_its_ceiling(linear: lecture.LinearRNN) -> None:
    assert linear.trained.accuracy <= linear.bound
    # The argument is about column 0: no weights get more of its bits right.
    assert linear.columns[0] <= linear.bound
    assert len(linear.columns) == linear.bits + 1


def test_linear_ceiling_counts_the_complete_quadruples() -> None:
    # Quadruple (2a'+i, 2b'+j) is complete when 2a' + 2b' + 2 < 2**n, that is
    # a' + b' <= 2**(n-1) - 2: (2**(n-1) - 1) * 2**(n-1) / 2 choices of (a', b'),
    # each with one pair wrong.
    for bits in (3, 8):
        half = 1 << (bits - 1)
        pairs = (1 << bits) * ((1 << bits) + 1) // 2
        quadruples = (half - 1) * half // 2
        r = lecture.linear_rnn(bits=bits, iterations=0)
        assert r.bound == pytest.approx(1 - quadruples / pairs)


def test_no_linear_rnn_beats_the_ceiling() -> None:
    # Random weights of every scale: the bound holds for any linear RNN with a
    # threshold output, not just a trained one.
    a, b = _sampling.all_pairs(6, 0, 64)
    target_bits = (a + b)[:, None] >> np.arange(7) & 1
    bound = lecture.linear_rnn(bits=6, iterations=0).bound
    for seed in range(30):
        rng = np.random.default_rng(seed)
        scale = 10.0 ** rng.uniform(-2, 1)
        wi, wh, wo = (scale * rng.standard_normal(s) for s in ((2, 4), (4, 4), (4, 1)))
        logits = lecture._linear_logits(wi, wh, wo, a, b, 7)
        right = (logits > 0) == (target_bits == 1)
        assert np.mean(right.all(axis=1)) <= bound
        assert np.mean(right[:, 0]) <= bound


def test_the_linear_state_holds_the_past(linear: lecture.LinearRNN) -> None:
    assert linear.constructed == 1.0
    # And on long operands, while the state's 53-bit fraction holds them.
    a, b = _sampling.random_pairs(50, 3000, seed=5)
    assert lecture._constructed_accuracy(a, b, 50) == 1.0


def test_linear_rnn_is_reproducible() -> None:
    one = lecture.linear_rnn(seed=3, iterations=300, hidden_size=4)
    two = lecture.linear_rnn(seed=3, iterations=300, hidden_size=4)
    assert one.columns == two.columns
    assert np.array_equal(one.trained.wh, two.trained.wh, equal_nan=True)


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("function", "kwargs", "error", "names"),
    [
        (lecture.lecture_code, {"bits": 11}, ValueError, "bits must be in 1..10"),
        (lecture.linear_rnn, {"hidden_size": 0}, ValueError, "hidden_size"),
        (lecture.without_feedback, {"seeds": []}, ValueError, "seeds"),
        (lecture.without_feedback, {"seeds": [-1]}, ValueError, "seed must be"),
        (lecture.lecture_code, {"iterations": 1.5}, TypeError, "iterations"),
        (lecture.linear_rnn, {"clip": 0.0}, ValueError, "clip"),
        (lecture.lecture_code, {"learning_rate": -1}, ValueError, "learning_rate"),
    ],
)
def test_arguments_are_checked(
    function: object, kwargs: dict[str, object], error: type, names: str
) -> None:
    with pytest.raises(error, match=names):
        function(**kwargs)  # type: ignore[operator]


# ------------------------------------------------------------------ command
def test_lecture_command_prints_the_comparison(run_binsum: Binsum) -> None:
    result = run_binsum("lecture", "--iterations", "300", "--hidden-size", "6")
    assert result.returncode == 0, result.stderr
    expected = str(lecture.lecture_code(iterations=300, hidden_size=6))
    assert result.stdout == expected + "\n"
    assert "as written" in result.stdout and "corrected" in result.stdout


def test_lecture_command_runs_every_question(run_binsum: Binsum) -> None:
    result = run_binsum(
        "lecture", "all", "--iterations", "200", "--seeds", "2", "--seed", "7",
        "--bits", "5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    nf = lecture.without_feedback(seeds=[7, 8], iterations=200, bits=5)
    assert str(nf) in result.stdout
    assert "the lecture's code, seed 7" in result.stdout
    assert "linear RNN" in result.stdout


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["what"], 2, "invalid choice: 'what'"),
        (["--bits", "11"], 2, "--bits: must be in 1..10, got 11"),
        (["--iterations", "x"], 2, "--iterations: not an integer"),
        (["--seeds", "0"], 2, "--seeds: must be in 1..100"),
        (["no-feedback", "--seed", str(2**128 - 1), "--seeds", "2"], 1, "--seeds 2"),
    ],
)
def test_lecture_command_refuses_bad_arguments(
    run_binsum: Binsum, args: list[str], status: int, says: str
) -> None:
    result = run_binsum("lecture", *args)
    assert result.returncode == status
    assert says in assert_one_line_error(result)


def test_the_module_example_runs() -> None:
    failures, tried = doctest.testmod(lecture, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0


@pytest.mark.parametrize("as_written", [True, False])
def test_the_quick_lecture_code_gives_the_lectures_bits(as_written: bool) -> None:
    # lecture_code runs train_quick; it must be the lecture's train, bit for bit.
    from binsum import _lecture_code as ref

    hidden, bits, seed, iterations = 7, 6, 5, 300
    rng = np.random.Generator(np.random.PCG64(seed))
    literal = ref.init_nn(2, hidden, 1, rng)
    quick = tuple(w.copy() for w in literal)
    pairs, _ = _sampling.draw(rng, _sampling.empty_pairs(), bits, iterations)
    stream = ref.samples_from_pairs(ref.make_dataset(bits), pairs[:, 0], pairs[:, 1])
    losses = ref.train(*literal, iterations, stream, hidden, as_written=as_written)
    assert np.array_equal(
        ref.train_quick(*quick, pairs, bits, as_written=as_written), losses
    )
    for x, y in zip(literal, quick, strict=True):
        assert np.array_equal(x, y)
