"""Every bad input gets a ValueError or TypeError whose message names the
argument (and the allowed range where there is one).

The first part is generated from the declared rules (binsum._rules.TABLE):
for every argument of every public callable and of the command, values just
inside the range are accepted, values just outside and of a wrong type are
refused with the argument's name and range, so no bound can drift between the
table, the code and the tests. The explicit cases after it pin the messages
and the checks that are not in the table (operands, weights, model files).
"""

from __future__ import annotations

import argparse
import io
import math
import re
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import binsum
import binsum._automaton
import binsum._backend
import binsum._hardcases
import binsum._model
import binsum._state
from binsum import BinarySumRNN, cli, lecture
from binsum._rules import MAX_ITERATIONS, TABLE, Counterexample, Fit, Rule, Sweep
from binsum._validate import (
    Flag,
    Integer,
    PositiveReal,
    Verbosity,
    operand_array,
    operand_chunk,
    plain,
    weight_array,
)


@pytest.fixture
def backend() -> str:
    """Validation runs in Python before any kernel: these tests run once,
    on the default backend."""
    return binsum.backend


Make = Callable[..., BinarySumRNN]

NOT_INTEGERS = [2.0, 2.5, "16", True, False, np.bool_(True), None, 1 + 0j]
NOT_POSITIVE = [0, 0.0, -0.1, -1, math.nan, math.inf, -math.inf]


# ------------------------------------------------------ the declared rules
def inside(rule: Rule) -> list[Any]:
    """Values just inside the rule's range (its bounds)."""
    if isinstance(rule, Integer):
        return [rule.low, rule.low + 1 if rule.high is None else rule.high]
    if isinstance(rule, PositiveReal):
        return [5e-324, sys.float_info.max]  # the smallest and largest floats
    if isinstance(rule, Flag):
        return [False, True, np.bool_(True)]
    return [False, True, 0, 2]  # a verbosity level


def outside(rule: Rule) -> list[tuple[Any, str]]:
    """(value, the message) for values just outside the rule's range."""
    if isinstance(rule, Integer):
        bad = [rule.low - 1] + ([] if rule.high is None else [rule.high + 1])
        verb = "be" if rule.high is None else "be in"
        return [(v, f"{rule.name} must {verb} {rule.range}, got {v}") for v in bad]
    if isinstance(rule, PositiveReal):
        bad = [0.0, -5e-324, math.inf, math.nan]
        return [(v, f"{rule.name} must be {rule.range}, got {v!r}") for v in bad]
    if isinstance(rule, Verbosity):
        return [(-1, f"{rule.name} must be {rule.range}, got -1")]
    return []  # a flag has no range besides its type


def wrong_types(rule: Rule) -> list[tuple[Any, str]]:
    """(value, the message) for values of a wrong type."""
    if isinstance(rule, Integer):
        bad: list[Any] = [2.0, "1", True, None]
        return [
            (v, f"{rule.name} must be an integer, got {type(v).__name__} {v!r}")
            for v in bad
        ]
    if isinstance(rule, PositiveReal):
        bad = ["0.1", None, True, 1j]
        return [
            (v, f"{rule.name} must be a real number, got {type(v).__name__} {v!r}")
            for v in bad
        ]
    bad = [1.0, "1", None] + ([1, 0] if isinstance(rule, Flag) else [])
    return [(v, f"{rule.name} must be {rule.range}, got {v!r}") for v in bad]


COMMANDS = {name: rules for name, rules in TABLE.items() if name.startswith("binsum ")}
API = {name: rules for name, rules in TABLE.items() if name not in COMMANDS}


def cases(
    table: dict[str, dict[str, Rule]], values: Callable[[Rule], list[Any]]
) -> list[Any]:
    """pytest params (where, argument, rule, case) for each case of each rule."""
    return [
        pytest.param(where, argument, rule, case, id=f"{where}-{argument}-{case!r}")
        for where, rules in table.items()
        for argument, rule in rules.items()
        for case in values(rule)
    ]


class Accepted(Exception):
    """Raised where a call's work would begin: its arguments were accepted."""


def _accept(*args: Any, **kwargs: Any) -> Any:
    raise Accepted


class _AcceptingExecutor(Executor):
    def submit(self, *args: Any, **kwargs: Any) -> Any:
        raise Accepted


def _small() -> BinarySumRNN:
    return BinarySumRNN(hidden_size=2, seed=0)


# Each callable of the table, called with the argument under test; where its
# work would be long (a search, a full score), the work raises Accepted.
CALLS: dict[str, Callable[[dict[str, Any], Path], object]] = {
    "BinarySumRNN": lambda kw, _: BinarySumRNN(**{"seed": 0, **kw}),
    "fit": lambda kw, _: _small().fit(
        **{"iterations": 1, "callback": lambda *_: False, "file": io.StringIO(),
           **kw}
    ),
    "predict": lambda kw, _: _small().predict(1, 2, **kw),
    "score": lambda kw, _: _small().score(**kw),
    "add": lambda kw, _: _small().add(**{"a": 1, "b": 2, **kw}),
    "logits": lambda kw, _: _small().logits(**{"a": 1, "b": 2, **kw}),
    "hidden_states": lambda kw, _: _small().hidden_states(**{"a": 1, "b": 2, **kw}),
    "automaton": lambda kw, _: _small().automaton(**kw),
    "counterexample": lambda kw, _: _small().counterexample(**kw),
    "save": lambda kw, tmp: _small().save(tmp / "m.npz", **kw),
    "sweep": lambda kw, _: binsum.sweep(
        [{"seed": 0}], **{"iterations": 1, **kw}, executor=_AcceptingExecutor()
    ),
    "binsum.lecture": lambda kw, _: (
        lecture.without_feedback(**kw) if "window" in kw else lecture.lecture_code(**kw)
    ),
}  # fmt: skip

Call = Callable[[str, str, Any], object]
# Arguments whose default is None: None asks for it (a fresh seed, the model's
# bits, score's own choice of pairs, the operands' steps).
NONE_IS_THE_DEFAULT = {
    ("BinarySumRNN", "seed"),
    ("score", "bits"),
    ("score", "sample"),
    ("hidden_states", "steps"),
}


@pytest.fixture
def call(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Call:
    """call(where, argument, value): the public callable, its long work
    replaced by raising Accepted."""
    monkeypatch.setattr(binsum._model, "ScorePairs", argparse.Namespace(choose=_accept))
    monkeypatch.setattr(binsum._automaton, "read", _accept)
    monkeypatch.setattr(binsum._hardcases, "find", _accept)
    monkeypatch.setattr(lecture, "_run_lecture", _accept)
    monkeypatch.setattr(lecture, "_every_pair", _accept)

    def run(where: str, argument: str, value: Any) -> object:
        return CALLS[where]({argument: value}, tmp_path)

    return run


def test_every_callable_of_the_table_is_called() -> None:
    assert set(CALLS) == set(API)


# Arguments whose rule differs on purpose from the same name elsewhere.
OWN_RANGE = {
    ("binsum.lecture", "bits"): "every pair is evaluated: 1..10",
    ("binsum lecture", "bits"): "the lecture functions' bits",
    ("binsum train", "log_every"): "0 turns the log off",
}


def test_an_argument_has_one_rule_wherever_it_is_taken() -> None:
    """sweep's iterations are fit's, eval's --threads are predict's, ...: an
    argument name has one range across the table (OWN_RANGE says why not)."""
    by_name: dict[str, dict[str, Rule]] = {}
    for where, rules in TABLE.items():
        for argument, rule in rules.items():
            if (where, argument) not in OWN_RANGE:
                by_name.setdefault(argument, {})[where] = rule
    for argument, rules in by_name.items():
        first = next(iter(rules.values()))
        assert all(rule == first for rule in rules.values()), (argument, rules)
    assert Sweep.check_every.range == Fit.log_every.range  # passed on as log_every
    assert Sweep.hard_bits.high == Counterexample.max_bits.high  # or 0: no search


@pytest.mark.parametrize(("where", "argument", "rule", "value"), cases(API, inside))
def test_values_inside_the_range_are_accepted(
    call: Call, where: str, argument: str, rule: Rule, value: Any
) -> None:
    assert rule(value) == value
    try:
        call(where, argument, value)
    except Accepted:
        pass


@pytest.mark.parametrize(("where", "argument", "rule", "case"), cases(API, outside))
def test_values_outside_the_range_are_refused_with_the_range(
    call: Call, where: str, argument: str, rule: Rule, case: tuple[Any, str]
) -> None:
    value, message = case
    with pytest.raises(ValueError) as info:
        rule(value)
    assert str(info.value) == message
    with pytest.raises(ValueError) as info:
        call(where, argument, value)
    assert str(info.value) == message


@pytest.mark.parametrize(("where", "argument", "rule", "case"), cases(API, wrong_types))
def test_values_of_a_wrong_type_are_refused_with_the_name(
    call: Call, where: str, argument: str, rule: Rule, case: tuple[Any, str]
) -> None:
    value, message = case
    with pytest.raises(TypeError) as info:
        rule(value)
    assert str(info.value) == message
    if value is None and (where, argument) in NONE_IS_THE_DEFAULT:
        return
    with pytest.raises(TypeError) as info:
        call(where, argument, value)
    assert str(info.value) == message


class _RefusingExecutor(Executor):
    """An executor that fails the test if anything reaches it."""

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        pytest.fail("sweep submitted work despite an argument out of range")


def test_sweep_refuses_fits_iterations_range_before_submitting() -> None:
    """sweep checks iterations with fit's rule, before any executor runs (a
    remote worker would otherwise be the first to see the error)."""
    with pytest.raises(
        ValueError, match=rf"^iterations must be in 0\.\.2\*\*40, got {2**40 + 1}$"
    ):
        binsum.sweep([{"seed": 0}], 2**40 + 1, executor=_RefusingExecutor())


@pytest.mark.parametrize(
    ("where", "argument", "rule", "case"),
    cases({"BinarySumRNN": TABLE["BinarySumRNN"]}, outside),
)
def test_sweep_refuses_a_configuration_with_the_constructors_message(
    where: str, argument: str, rule: Rule, case: tuple[Any, str]
) -> None:
    value, message = case
    with pytest.raises(ValueError) as info:
        binsum.sweep([{"seed": 0, argument: value}], 1, executor=_RefusingExecutor())
    assert str(info.value) == f"configs[0]: {message}"


def _subcommand(name: str) -> argparse.ArgumentParser:
    (choices,) = [
        a.choices
        for a in cli.build_parser()._actions
        if isinstance(a, argparse._SubParsersAction)
    ]
    parser: argparse.ArgumentParser = choices[name]
    return parser


def _argument(where: str, argument: str) -> argparse.Action:
    (action,) = [a for a in _subcommand(where.split()[1])._actions
                 if a.dest == argument]  # fmt: skip
    return action


def _argv(where: str, argument: str, text: str) -> list[str]:
    action = _argument(where, argument)
    command = where.split()[1]
    if action.option_strings:
        return [command, f"{action.option_strings[0]}={text}"]
    # positional: the operands; "--" lets a negative value through
    values = {"a": [text, "1"], "b": ["1", text]}[argument]
    return [command, "--", *values]


def _shown(where: str, argument: str) -> str:
    action = _argument(where, argument)
    return action.option_strings[0] if action.option_strings else str(action.metavar)


def test_every_typed_argument_of_the_command_parses_with_its_declared_rule() -> None:
    typed = {
        (f"binsum {command}", action.dest): action.type.rule
        for command in [w.split()[1] for w in COMMANDS]
        for action in _subcommand(command)._actions
        if isinstance(action.type, cli._Typed)
    }
    declared = {
        (where, argument): rule
        for where, rules in COMMANDS.items()
        for argument, rule in rules.items()
    }
    assert typed.keys() == declared.keys()
    for key, rule in typed.items():
        assert rule is declared[key], key


@pytest.mark.parametrize(
    ("where", "argument", "rule", "value"), cases(COMMANDS, inside)
)
def test_command_accepts_values_inside_the_range(
    where: str, argument: str, rule: Rule, value: Any
) -> None:
    args = cli.build_parser().parse_args(_argv(where, argument, repr(value)))
    assert getattr(args, argument) == value


@pytest.mark.parametrize(
    ("where", "argument", "rule", "case"), cases(COMMANDS, outside)
)
def test_command_refuses_values_outside_the_range_with_the_range(
    capsys: pytest.CaptureFixture[str],
    where: str,
    argument: str,
    rule: Rule,
    case: tuple[Any, str],
) -> None:
    value, message = case
    assert cli.main(_argv(where, argument, repr(value))) == 2
    problem = message.removeprefix(f"{rule.name} ")
    shown = _shown(where, argument)
    assert f"error: argument {shown}: {problem} (see " in capsys.readouterr().err


@pytest.mark.parametrize(("where", "argument", "rule"), [
    pytest.param(w, a, r, id=f"{w}-{a}") for w, rules in COMMANDS.items()
    for a, r in rules.items()
])  # fmt: skip
def test_command_refuses_text_that_is_not_a_number(
    capsys: pytest.CaptureFixture[str], where: str, argument: str, rule: Rule
) -> None:
    assert cli.main(_argv(where, argument, "x")) == 2
    noun = "an integer" if isinstance(rule, Integer) else "a number"
    if _argument(where, argument).type.noun:  # the operands
        noun = "a number"
    shown = _shown(where, argument)
    assert f"error: argument {shown}: not {noun}: 'x'" in capsys.readouterr().err


# ------------------------------------------------------------- constructor
@pytest.mark.parametrize("value", [0, -1, 4097, 10**9])
def test_hidden_size_out_of_range(make_model: Make, value: int) -> None:
    with pytest.raises(ValueError, match=r"hidden_size must be in 1\.\.4096, got"):
        make_model(hidden_size=value)


@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_hidden_size_not_an_integer(make_model: Make, value: Any) -> None:
    with pytest.raises(TypeError, match=r"hidden_size must be an integer"):
        make_model(hidden_size=value)


@pytest.mark.parametrize("value", [0, -8, 63, 64, 1024])
def test_bits_out_of_range(make_model: Make, value: int) -> None:
    with pytest.raises(ValueError, match=r"bits must be in 1\.\.62, got"):
        make_model(bits=value)


@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_bits_not_an_integer(make_model: Make, value: Any) -> None:
    with pytest.raises(TypeError, match=r"bits must be an integer"):
        make_model(bits=value)


@pytest.mark.parametrize("name", ["learning_rate", "clip"])
@pytest.mark.parametrize("value", NOT_POSITIVE)
def test_rate_and_clip_must_be_finite_and_positive(
    make_model: Make, name: str, value: float
) -> None:
    with pytest.raises(ValueError, match=rf"{name} must be finite and > 0"):
        make_model(**{name: value})


@pytest.mark.parametrize("name", ["learning_rate", "clip"])
@pytest.mark.parametrize("value", ["0.1", None, True, [0.1], 1j])
def test_rate_and_clip_must_be_real_numbers(
    make_model: Make, name: str, value: Any
) -> None:
    with pytest.raises(TypeError, match=rf"{name} must be a real number"):
        make_model(**{name: value})


def test_valid_edge_values_are_accepted(make_model: Make) -> None:
    model = make_model(
        hidden_size=np.int64(1), bits=62, learning_rate=np.float32(1e-3), clip=1e-300
    )
    assert (model.hidden_size, model.bits, model.clip) == (1, 62, 1e-300)
    assert make_model(bits=1, seed=2**128 - 1).bits == 1


@pytest.mark.parametrize(
    ("value", "error"),
    [(-1, ValueError), (2**128, ValueError), (1.5, TypeError), ("3", TypeError),
     (True, TypeError)],
)  # fmt: skip
def test_bad_seed(make_model: Make, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"seed must be"):
        make_model(seed=value)


@pytest.mark.parametrize(
    ("value", "error"), [("fortran", ValueError), ("", ValueError), (3, TypeError)]
)
def test_unknown_backend(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"backend must be 'cython', 'python' or None"):
        BinarySumRNN(backend=value)


def test_cython_backend_unavailable_is_an_import_error(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.npz"
    BinarySumRNN(hidden_size=2, seed=0, backend=backend).save(path)
    monkeypatch.setattr(binsum._backend, "_compiled", None)
    with pytest.raises(ImportError, match=r"backend='cython' is unavailable"):
        BinarySumRNN(backend="cython")
    with pytest.raises(ImportError, match=r"backend='cython' is unavailable"):
        BinarySumRNN.load(path, backend="cython")
    assert BinarySumRNN(backend="python").backend == "python"  # the twin still works


# --------------------------------------------------------------------- fit
@pytest.mark.parametrize("value", [-1, -10_000, MAX_ITERATIONS + 1])
def test_iterations_out_of_range(make_model: Make, value: int) -> None:
    model = make_model(hidden_size=2, seed=0)
    with pytest.raises(
        ValueError, match=rf"iterations must be in 0\.\.2\*\*40, got {value}"
    ):
        model.fit(value)
    assert model.iterations == 0


@pytest.mark.parametrize("value", [10.0, 1e3, "10", True, None, np.float64(5)])
def test_non_integer_iterations(make_model: Make, value: Any) -> None:
    model = make_model(hidden_size=2, seed=0)
    with pytest.raises(TypeError, match=r"iterations must be an integer"):
        model.fit(value)
    assert model.iterations == 0


def test_bad_log_every_and_callback(make_model: Make) -> None:
    model = make_model(hidden_size=2, seed=0)
    with pytest.raises(ValueError, match=r"log_every must be >= 1, got 0"):
        model.fit(10, log_every=0)
    with pytest.raises(TypeError, match=r"log_every must be an integer"):
        model.fit(10, log_every=2.5)
    with pytest.raises(TypeError, match=r"callback must be callable"):
        model.fit(10, callback=3)
    assert model.iterations == 0
    assert model.fit(np.int64(3)).iterations == 3  # numpy integers are integers


# ---------------------------------------------------------------- operands
BAD_ARRAY_OPERANDS = [
    (-1, ValueError, r"must be in 0\.\.2\*\*62-1, got -1"),
    ([3, -2], ValueError, r"must be in 0\.\.2\*\*62-1, got -2"),
    (2**62, ValueError, r"must be in 0\.\.2\*\*62-1, got 4611686018427387904"),
    ([2**63], ValueError, r"must be in 0\.\.2\*\*62-1, got"),  # uint64 array
    ([1, 2**63], ValueError, r"must be in 0\.\.2\*\*62-1, got"),  # numpy: float
    (np.array([2**64 - 1], dtype=np.uint64), ValueError, r"must be in 0\.\.2\*\*62-1"),
    ([1, 2**64], ValueError, r"must be in 0\.\.2\*\*62-1"),  # objects
    ([-(2**70)], ValueError, r"must be in 0\.\.2\*\*62-1"),
    (1.5, TypeError, r"must hold integers, got dtype float64"),
    (np.float64(2.0), TypeError, r"must hold integers"),
    ([1, 2.5], TypeError, r"must be an integer, got float 2\.5"),
    ("3", TypeError, r"must hold integers"),
    (["1", "2"], TypeError, r"must hold integers"),
    (True, TypeError, r"must hold integers, got dtype bool \(bools are not"),
    ([True, False], TypeError, r"must hold integers, got dtype bool \(bools are"),
    (1 + 2j, TypeError, r"must hold integers"),
    (None, TypeError, r"must be an integer"),
    ([1, "x"], TypeError, r"must hold integers"),
    ([[1, 2], [3]], TypeError, r"must be array-like of integers"),
]


@pytest.mark.parametrize("argument", ["a", "b"])
@pytest.mark.parametrize(("value", "error", "message"), BAD_ARRAY_OPERANDS)
def test_predict_rejects_bad_operands(
    make_model: Make, argument: str, value: Any, error: type[Exception], message: str
) -> None:
    model = make_model(hidden_size=2, seed=0)
    args = {"a": 1, "b": 1, argument: value}
    with pytest.raises(error, match=rf"^{argument} {message}"):
        model.predict(args["a"], args["b"])


def test_predict_rejects_shapes_that_do_not_broadcast(make_model: Make) -> None:
    model = make_model(hidden_size=2, seed=0)
    with pytest.raises(ValueError, match=r"a and b must broadcast together"):
        model.predict([1, 2, 3], [1, 2])


def test_predict_accepts_the_widest_operands(make_model: Make) -> None:
    model = make_model(hidden_size=2, seed=0)
    big = 2**62 - 1
    for value in (big, [big], np.uint64(big), np.array([big], dtype=object)):
        assert model.predict(value, 0).dtype == np.int64


BAD_INT_OPERANDS = [
    (-1, ValueError, r"must be >= 0, got -1"),
    (-(2**100), ValueError, r"must be >= 0, got -1267650600228229401496703205376"),
    (1.0, TypeError, r"must be an integer, got float"),
    (np.float64(3), TypeError, r"must be an integer, got float64"),
    ("3", TypeError, r"must be an integer, got str"),
    (True, TypeError, r"must be an integer, got bool"),
    (np.bool_(False), TypeError, r"must be an integer, got bool"),
    (None, TypeError, r"must be an integer, got NoneType"),
    ([1], TypeError, r"must be an integer, got list"),
]


@pytest.mark.parametrize("argument", ["a", "b"])
@pytest.mark.parametrize(("value", "error", "message"), BAD_INT_OPERANDS)
def test_add_rejects_bad_operands(
    make_model: Make, argument: str, value: Any, error: type[Exception], message: str
) -> None:
    model = make_model(hidden_size=2, seed=0)
    args = {"a": 1, "b": 1, argument: value}
    with pytest.raises(error, match=rf"^{argument} {message}"):
        model.add(args["a"], args["b"])


@pytest.mark.parametrize("argument", ["a", "b"])
@pytest.mark.parametrize(("value", "error", "message"), BAD_INT_OPERANDS)
def test_loss_and_gradients_rejects_bad_operands(
    make_model: Make, argument: str, value: Any, error: type[Exception], message: str
) -> None:
    model = make_model(hidden_size=2, seed=0)
    args = {"a": 1, "b": 1, argument: value}
    message = message.replace(r"be >= 0", r"be in 0\.\.255")
    with pytest.raises(error, match=rf"^{argument} {message}"):
        model.loss_and_gradients(args["a"], args["b"])


def test_loss_and_gradients_needs_a_training_pair(make_model: Make) -> None:
    model = make_model(hidden_size=2, bits=4, seed=0)
    with pytest.raises(ValueError, match=r"^a must be in 0\.\.15, got 16"):
        model.loss_and_gradients(16, 0)
    with pytest.raises(ValueError, match=r"^a \+ b must be in 0\.\.15 .*got 16"):
        model.loss_and_gradients(9, 7)
    assert model.loss_and_gradients(8, 7)[0] >= 0.0  # the largest sum is fine


def test_score_rejects_bad_arguments(make_model: Make) -> None:
    model = make_model(hidden_size=2, seed=0)
    with pytest.raises(ValueError, match=r"bits must be in 1\.\.62"):
        model.score(0)
    with pytest.raises(ValueError, match=r"bits must be in 1\.\.62"):
        model.score(63)
    with pytest.raises(TypeError, match=r"bits must be an integer"):
        model.score(8.0)
    with pytest.raises(ValueError, match=r"sample must be in 1\.\."):
        model.score(8, sample=0)
    with pytest.raises(ValueError, match=r"seed must be in 0\.\.2\*\*128-1, got -1"):
        model.score(8, sample=10, seed=-1)


# ----------------------------------------------------------------- weights
def test_weights_setter_validates(make_model: Make) -> None:
    model = make_model(hidden_size=3, seed=0)
    before = model.weights
    good = before["wh"] * 2
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"wi": np.zeros((3, 2))}, ValueError, r"wi must have shape \(2, 3\), got"),
        ({"wh": np.zeros(9)}, ValueError, r"wh must have shape \(3, 3\), got \(9,\)"),
        ({"wo": np.zeros(3)}, ValueError, r"wo must have shape \(3, 1\), got \(3,\)"),
        ({"wh": good, "wi": np.full((2, 3), np.nan)}, ValueError, r"wi must hold only"),
        ({"wh": np.full((3, 3), np.inf)}, ValueError, r"wh must hold only finite"),
        ({"wo": -np.inf * np.ones((3, 1))}, ValueError, r"wo must hold only finite"),
        ({"wo": np.full((3, 1), "1")}, TypeError, r"wo must be a real float array"),
        ({"wi": np.ones((2, 3), dtype=bool)}, TypeError, r"wi must be a real float"),
        ({"wi": np.ones((2, 3), dtype=complex)}, TypeError, r"wi must be a real float"),
        ({"wx": np.zeros((2, 3))}, TypeError, r"wx"),
    ]  # fmt: skip
    for new, error, message in cases:
        with pytest.raises(error, match=message):
            model.weights = new
        after = model.weights  # a refused update changes nothing, not even wh
        for key in before:
            assert np.array_equal(after[key], before[key]), (new, key)
    model.weights = {"wh": good}
    assert np.array_equal(model.weights["wh"], good)


def test_bad_paths(make_model: Make) -> None:
    model = make_model(hidden_size=2, seed=0)
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike"):
        model.save(3)
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike"):
        BinarySumRNN.load(None)


VERBOSE_RANGE = re.escape("True, False or an integer >= 0 (0 is silent)")


@pytest.mark.parametrize("verbose", ["yes", None, 1.0, "1", np.timedelta64(1, "s")])
def test_fit_verbose_must_be_a_bool_or_a_level(make_model: Any, verbose: Any) -> None:
    model = make_model(hidden_size=2, seed=0)
    with pytest.raises(TypeError, match=f"^verbose must be {VERBOSE_RANGE}, got "):
        model.fit(1, verbose=verbose)
    assert model.iterations == 0


@pytest.mark.parametrize("verbose", [-1, np.int8(-2)])
def test_fit_verbose_level_is_not_negative(make_model: Any, verbose: object) -> None:
    model = make_model(hidden_size=2, seed=0)
    with pytest.raises(ValueError, match=f"^verbose must be {VERBOSE_RANGE}, got -"):
        model.fit(1, verbose=verbose)
    assert model.iterations == 0


@pytest.mark.parametrize("progress", [1, 0, "yes", None])
def test_fit_progress_must_be_a_bool(make_model: Any, progress: object) -> None:
    model = make_model(hidden_size=2, seed=0)
    with pytest.raises(TypeError, match=r"^progress must be True or False, got "):
        model.fit(1, progress=progress)
    assert model.iterations == 0


# ---------------------------------------------------------- the messages
def test_ranges_read_plainly_and_alike_everywhere(
    make_model: Make, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One wording for a range, whichever entry point reports it."""
    assert [plain(n) for n in (7, 4096, 2**40, 2**62 - 1, 2**128 - 1, 10**8)] == [
        "7",
        "4096",
        "2**40",
        "2**62-1",
        "2**128-1",
        "10**8",
    ]
    model = make_model(hidden_size=2, seed=0)
    for call in (lambda: model.add(-1, 1), lambda: model.logits(1, -1)):
        with pytest.raises(ValueError, match=r"^[ab] must be >= 0, got -1$"):
            call()
    with pytest.raises(ValueError, match=r"^a must be in 0\.\.2\*\*62-1, got -1$"):
        model.predict(-1, 2)
    seed = r"seed must be in 0\.\.2\*\*128-1, got -1"
    with pytest.raises(ValueError, match=rf"^{seed}$"):
        make_model(seed=-1)
    with pytest.raises(ValueError, match=rf"^configs\[0\]: {seed}$"):
        binsum.sweep([{"seed": -1}], 1)
    from binsum import cli

    assert cli.main(["train", "--seed", "-1"]) == 2
    assert "argument --seed: must be in 0..2**128-1, got -1" in capsys.readouterr().err


# ------------------------------------------------------- the check objects
def test_plain_writes_powers_of_two_and_of_ten_from_65536_on() -> None:
    assert [plain(n) for n in (65535, 65536, 65537, 2**17 - 1, 2**17, 10**5,
                               10**5 + 1, 2**16 - 1)] == [
        "65535", "2**16", "65537", "2**17-1", "2**17", "10**5", "100001", "65535"
    ]  # fmt: skip


def test_huge_integers_are_named_by_their_size_in_messages() -> None:
    """str() of an int of more than 4,300 digits raises: the message gives
    its bit length instead, from 257 bits on."""
    check = Integer("x", 0, 10)
    assert check.problem(2**256 - 1) == f"must be in 0..10, got {2**256 - 1}"
    assert check.problem(-(2**256 - 1)) == f"must be in 0..10, got {-(2**256 - 1)}"
    assert check.problem(2**256) == "must be in 0..10, got a 257-bit number"
    assert check.problem(-(2**256)) == "must be in 0..10, got -a 257-bit number"
    with pytest.raises(ValueError) as info:
        check(-(10**5000))
    assert str(info.value) == "x must be in 0..10, got -a 16610-bit number"


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (Integer("n", 3, 5), [3, 4, 5], [2, 6]),
        (Integer("n", -2), [-2, 0, 10**30], [-3]),
        (Integer("n", 0, 0), [0], [-1, 1]),
    ],
)
def test_integer_checks_include_both_bounds(
    check: Integer, good: list[int], bad: list[int]
) -> None:
    for value in good:
        assert check.problem(value) is None
        assert check(value) == value
        if abs(value) < 2**15:
            assert type(check(np.int16(value))) is int
    for value in bad:
        verb = "be" if check.high is None else "be in"
        assert check.problem(value) == f"must {verb} {check.range}, got {value}"
        with pytest.raises(ValueError) as info:
            check(value)
        assert str(info.value) == f"n must {verb} {check.range}, got {value}"


def test_integer_range_text() -> None:
    assert Integer("n", 1, 4096).range == "1..4096"
    assert Integer("n", 0, 2**128 - 1).range == "0..2**128-1"
    assert Integer("n", 1).range == ">= 1"
    with pytest.raises(TypeError) as info:
        Integer("n", 0)(2.0)
    assert str(info.value) == "n must be an integer, got float 2.0"


def test_positive_real_checks() -> None:
    check = PositiveReal("rate")
    assert check.range == "finite and > 0"
    assert check(np.float32(0.5)) == 0.5 and type(check(1)) is float
    assert check(5e-324) == 5e-324  # the smallest positive float
    for value, shown in (
        (0.0, "0.0"),
        (-1.0, "-1.0"),
        (math.inf, "inf"),
        (math.nan, "nan"),
        (10**400, "inf"),
    ):
        assert check.problem(float(shown)) == f"must be finite and > 0, got {shown}"
        with pytest.raises(ValueError) as info:
            check(value)
        assert str(info.value) == f"rate must be finite and > 0, got {shown}"
    with pytest.raises(TypeError) as info:
        check("1")
    assert str(info.value) == "rate must be a real number, got str '1'"


def test_operand_array_keeps_integer_arrays_and_converts_objects() -> None:
    x = np.arange(6, dtype=np.uint16).reshape(2, 3)
    assert operand_array("a", x) is x  # no copy: checked chunk by chunk later
    out = operand_array("a", np.array([[0, 2**62 - 1], [3, 4]], dtype=object))
    assert out.dtype == np.int64 and out.shape == (2, 2)
    assert out.tolist() == [[0, 2**62 - 1], [3, 4]]  # both bounds
    empty = operand_array("a", np.zeros((0, 2), dtype=object))
    assert empty.dtype == np.int64 and empty.shape == (0, 2)
    with pytest.raises(TypeError) as info:
        operand_array("a", np.ones(3))
    assert str(info.value) == "a must hold integers, got dtype float64"
    with pytest.raises(TypeError) as info:
        operand_array("b", np.ones(3, dtype=bool))
    assert str(info.value) == (
        "b must hold integers, got dtype bool (bools are not operands)"
    )


def test_operand_chunk_returns_a_private_c_ordered_int64_copy() -> None:
    for chunk in (
        np.arange(6, dtype=np.int64),
        np.asfortranarray(np.arange(6, dtype=np.uint8).reshape(2, 3)),
    ):
        out = operand_chunk("a", chunk)
        assert out.dtype == np.int64 and out.flags.c_contiguous
        assert not np.shares_memory(out, chunk)
        assert np.array_equal(out, chunk)
    assert operand_chunk("a", np.zeros(0, dtype=np.int8)).shape == (0,)
    edge = np.array([0, 2**62 - 1], dtype=np.uint64)
    assert operand_chunk("a", edge).tolist() == [0, 2**62 - 1]
    for bad, shown in (([5, -1, 3], "-1"), ([0, 2**62], str(2**62))):
        with pytest.raises(ValueError) as info:
            operand_chunk("b", np.array(bad))
        assert str(info.value) == f"b must be in 0..2**62-1, got {shown}"


def test_weight_array_returns_a_private_c_ordered_float64_copy() -> None:
    for value in (
        np.arange(6.0).reshape(2, 3),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.arange(6, dtype=np.int32).reshape(2, 3),
    ):
        out = weight_array("wi", value, (2, 3))
        assert out.dtype == np.float64 and out.flags.c_contiguous
        assert not np.shares_memory(out, value)
        assert np.array_equal(out, value)
    with pytest.raises(ValueError) as info:
        weight_array("wi", np.zeros((3, 2)), (2, 3))
    assert str(info.value) == "wi must have shape (2, 3), got (3, 2)"
    for where in (0, 3, 5):
        bad = np.zeros((2, 3))
        bad.flat[where] = np.nan
        with pytest.raises(ValueError) as info:
            weight_array("wi", bad, (2, 3))
        assert str(info.value) == "wi must hold only finite values"
    with pytest.raises(TypeError) as info:
        weight_array("wo", np.zeros((2, 3), dtype=complex), (2, 3))
    assert str(info.value) == "wo must be a real float array, got dtype complex128"
