"""The ``binsum`` command: train the lecture's network, then use it.

Subcommands: ``train``, ``add``, ``eval``, ``certify``, ``info``,
``lecture`` and ``demo``; ``binsum`` alone runs ``demo`` (train the default network in
memory with the lecture's log, then add two 67-bit numbers with it). Every
failure prints one line on stderr and exits non-zero: 2 for a bad command
line, 1 for anything else (and for ``certify`` when not proven), 130 when
interrupted. ``BINSUM_DEBUG=1`` shows the traceback of an
unexpected error instead. When the reader of stdout goes away (``binsum
train | head``), the command ends quietly with 141, as one killed by SIGPIPE
does; ``train`` first finishes and saves its model (see _Output).
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import IO, Any, NoReturn, TextIO, cast

import numpy as np

import binsum
from binsum import (
    _backend,
    _config,
    _decimal,
    _hardcases,
    _pretrained,
    _report,
    _validate,
    lecture,
)
from binsum import plot as pictures
from binsum._atomic import check_target
from binsum._certificate import Certificate
from binsum._fileerror import ModelFileError
from binsum._model import BinarySumRNN
from binsum._progress import Progress
from binsum._rules import (
    MAX_SEED,
    AddCommand,
    Counterexample,
    EvalCommand,
    LectureCommand,
    TrainCommand,
)
from binsum._scoring import DEFAULT_SAMPLE, EXHAUSTIVE_BITS, ScorePairs
from binsum._validate import Integer, PositiveReal

PROG = "binsum"
DEMO_OPERANDS = (12345678901234567890, 98765432109876543210)
PLOT_CHECKPOINTS = 20  # accuracy points drawn on the loss plot
PLOT_SAMPLE = 2000  # pairs per accuracy checkpoint: cheap, ±1 % is plenty
LOSS_WINDOW = 1000  # the bar's loss: the mean of the last this many iterations
EVAL_CHUNK = 1 << 18  # pairs per step of eval's progress bar
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_OUTPUT_GONE = 141  # 128 + SIGPIPE: what a shell shows for `yes | head`
LECTURE_QUESTIONS = ("code", "no-feedback", "linear", "all")
NUMBERS = (
    "Numbers are written in ASCII digits (0-9, and a-f after 0x): other "
    "scripts' digits are refused; '_' may group digits (1_000)."
)


class CommandError(Exception):
    """A user-facing failure: its message is printed as the one error line."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (usage is in --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _print_message(self, message: str, file: Any = None) -> None:
        # --help into a closed pipe ends like the commands' own output.
        if message:
            stream = sys.stdout if file is None else file
            out = _Output(stream, ends_command=stream is not sys.stderr)
            out.write(message)
            out.flush()  # argparse exits next: a failing flush is found here


class _Gone(Exception):
    """The reader of stdout went away, and the command has nothing else to do."""


class _Output:
    """stdout or stderr of the command, for a reader that may go away.

    A write to a closed pipe (``binsum train | head -2``) raises
    BrokenPipeError. The stream's descriptor is then pointed at os.devnull, so
    what is still buffered, and Python's flush at exit, go nowhere instead of
    failing again (or turning the exit status into 120), and later writes are
    dropped. Losing stdout ends the command quietly (_Gone, exit status 141)
    unless ``ends_command`` is False: train finishes and saves its model, the
    file being what it makes. Losing stderr ends nothing.
    """

    def __init__(self, stream: TextIO | IO[str], *, ends_command: bool) -> None:
        self.stream = stream
        self.ends_command = ends_command
        self.gone = False

    @property
    def text(self) -> TextIO:
        """This object as the text stream it stands for (fit's file, the bar's)."""
        return cast(TextIO, self)

    @property
    def encoding(self) -> str | None:
        return getattr(self.stream, "encoding", None)

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self.stream.write(text)
            except OSError as exc:
                self._lost(exc)
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except OSError as exc:
                self._lost(exc)

    def isatty(self) -> bool:
        try:
            return not self.gone and self.stream.isatty()
        except (AttributeError, ValueError):  # replaced or closed stream
            return False

    def _lost(self, exc: OSError) -> None:
        # Windows reports a closed pipe as EINVAL.
        closed = isinstance(exc, BrokenPipeError) or (
            os.name == "nt" and exc.errno == errno.EINVAL
        )
        if not closed:
            raise exc
        self.gone = True
        try:
            fd = self.stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
        except (AttributeError, OSError, ValueError):  # no descriptor (a test's)
            pass
        else:
            os.dup2(devnull, fd)
            os.close(devnull)
        if self.ends_command:
            raise _Gone from None


# ------------------------------------------------------------- value parsers
@dataclass(frozen=True)
class _Typed:
    """An argument type: the text as a number, checked by the argument's rule
    (binsum._rules: the API's own, so the range reads the same here as in a
    ValueError)."""

    rule: Integer | PositiveReal
    noun: str | None = None
    hint: str = ""

    def __call__(self, text: str) -> Any:
        integer = isinstance(self.rule, Integer)
        kind = self.noun or ("an integer" if integer else "a number")
        if not text.isascii():  # int() and float() read every script's digits
            raise argparse.ArgumentTypeError(
                f"not {kind}: {_clip(text)!r} (only ASCII digits are read)"
            )
        try:
            value = _integer(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not {kind}: {_clip(text)!r}{self.hint}"
            ) from None
        problem = self.rule.problem(value)  # type: ignore[arg-type]
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value


_DECIMAL = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*")


def _integer(text: str) -> int:
    """int(text) for ASCII decimal text of any length, in base 0 otherwise
    (0x...), without lifting Python's process-wide digit limit
    (binsum._decimal)."""
    cleaned = text.strip()
    if _DECIMAL.fullmatch(cleaned):  # also "007", which int(x, 0) refuses
        digits = cleaned.lstrip("+-").replace("_", "")
        value = _decimal.to_int(digits)
        return -value if cleaned.startswith("-") else value
    return int(cleaned, 0)  # 0b/0o/0x: no digit limit for these bases


def _operand(rule: Integer) -> _Typed:
    """A non-negative integer in decimal, 0b..., 0o... or 0x... of any size."""
    return _Typed(rule, noun="a number", hint=" (use decimal, 0b..., 0o... or 0x...)")


operand = _operand(AddCommand.a)


def _clip(text: str, limit: int = 60) -> str:
    """Long command-line text shortened for an error message."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


# ------------------------------------------------------------------ parser
# Declarations as argparse reads them: a call per option, kept compact.
# fmt: off
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="A recurrent neural network that adds binary numbers, bit by "
        "bit (the RNN lecture's exercise). Without a subcommand, runs 'demo'.",
        epilog="Run 'binsum COMMAND --help' for the options of each command. "
        f"{NUMBERS} Exit status: 0 done, 1 failed, 2 bad command line, "
        f"{EXIT_INTERRUPTED} interrupted (Ctrl-C), {EXIT_OUTPUT_GONE} when the "
        "reader of the output went away (binsum ... | head): train still "
        "finishes and saves its model first.",
    )
    parser.add_argument(
        "--version", action="version", version=f"{PROG} {binsum.__version__}"
    )
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train a network, print its accuracy and save it",
        description="Train the network with the lecture's log (and a progress bar "
        "on a terminal), print its exact-sum accuracy and save it atomically. "
        "--out and --plot are checked before training starts. If the reader of "
        "the log goes away (binsum train | head), training goes on silently, "
        f"the model is saved, and the exit status is {EXIT_OUTPUT_GONE}.",
    )
    _add_training_flags(train)
    train.add_argument(
        "--resume", metavar="MODEL",
        help="continue training the model saved in MODEL, with its settings "
        "(a conflicting --hidden-size, --bits, --learning-rate, --clip or "
        "--seed is an error); --out may name the same file",
    )
    train.add_argument(
        "--out", metavar="PATH", default="model.npz",
        help="where to save the model (default: %(default)s; an existing file "
        "is replaced, atomically, and the command says so)",
    )
    train.add_argument(
        "--no-history", dest="history", action="store_false",
        help="leave the loss history out of the saved model (it takes 8 bytes "
        "per trained iteration)",
    )
    train.add_argument(
        "--plot", metavar="FILE.png",
        help="also draw the loss curve and the accuracy at checkpoints "
        f"(needs matplotlib: {pictures.INSTALL_HINT})",
    )
    train.set_defaults(run=_cmd_train)

    add = sub.add_parser(
        "add",
        help="add two numbers with the network",
        description="Print the sum of A and B computed by the network, bit by bit. "
        "A and B are non-negative integers of any size, in decimal, 0b..., 0o... "
        f"or 0x... notation. {NUMBERS}",
    )
    add.add_argument("a", metavar="A", type=operand, help="first operand")
    add.add_argument(
        "b", metavar="B", type=_operand(AddCommand.b), help="second operand"
    )
    _add_model_flag(add)
    add.add_argument(
        "--explain", action="store_true",
        help="show the column addition: both operands' bits, the predicted bits "
        "and the network's confidence in each",
    )
    add.set_defaults(run=_cmd_add)

    ev = sub.add_parser(
        "eval",
        help="measure a network's exact-sum accuracy",
        description="Exact-sum accuracy over every pair with a + b < 2**N for "
        f"N <= {EXHAUSTIVE_BITS}, and over random pairs beyond (length "
        "generalisation: a network trained on 8 bits adds longer numbers); "
        "then over every pair of N-bit operands, a, b < 2**N, whose sums may "
        "carry out into bit N (all of them up to "
        f"{EXHAUSTIVE_BITS} bits, random ones beyond); then the hard cases, "
        "the long carry chains that random pairs almost never hold "
        "(BinarySumRNN.counterexample): the smallest failing pair found, or "
        "'none wrong'.",
    )
    _add_model_flag(ev)
    rules = EvalCommand
    ev.add_argument(
        "--bits", metavar="N", type=_Typed(rules.bits),
        help=f"operand size, {rules.bits.range} (default: the model's)",
    )
    ev.add_argument(
        "--sample", metavar="K", type=_Typed(rules.sample),
        help=f"use K random pairs, {rules.sample.range} (default: all pairs up to "
        f"{EXHAUSTIVE_BITS} bits, {DEFAULT_SAMPLE:,} beyond)",
    )
    ev.add_argument(
        "--seed", type=_Typed(rules.seed), default=0,
        help=f"seed of the random pairs, {rules.seed.range} (default: %(default)s)",
    )
    ev.add_argument(
        "--threads", metavar="T", type=_Typed(rules.threads), default=1,
        help=f"threads predicting at once, {rules.threads.range} "
        "(default: %(default)s)",
    )
    ev.add_argument(
        "--hard-bits", metavar="M", type=_Typed(rules.hard_bits),
        default=_hardcases.DEFAULT_MAX_BITS,
        help="search the hard cases up to M-bit operands, "
        f"{Counterexample.max_bits.range}, or 0 to skip the search "
        "(default: %(default)s)",
    )
    ev.set_defaults(run=_cmd_eval)

    info = sub.add_parser(
        "info",
        help="show versions and the backend in use",
        description="Print binsum's version, the backend in use (compiled or pure "
        "Python), the Python and numpy versions and the shipped network.",
    )
    info.set_defaults(run=_cmd_info)

    cert = sub.add_parser(
        "certify",
        help="prove that a network adds every pair exactly, or say why not",
        description="Look for a pair the network adds wrongly, then for a proof "
        "that it adds every pair of non-negative integers of any length exactly "
        "(in binsum's own float arithmetic). Prints the verdict; exit status 0 "
        "when proven, 1 when not. See docs/certificate.md.",
    )
    _add_model_flag(cert)
    cert.add_argument(
        "--save", metavar="PATH",
        help="also write the certificate to PATH (atomically), to re-check "
        "it later with --check",
    )
    cert.add_argument(
        "--check", metavar="CERT",
        help="instead of searching, re-check the certificate saved in CERT "
        "against the model (seconds)",
    )
    cert.set_defaults(run=_cmd_certify)

    lec = sub.add_parser(
        "lecture",
        help="run one of the lecture's questions: its code as written, the "
        "architecture without feedback, the linear RNN",
        description="Train small networks with the lecture's algorithm and say "
        "what they show (binsum.lecture). 'code': the lecture's TP code as "
        "written against the same code with its two update lines corrected, "
        "from one seed. 'no-feedback': hidden states built from the current "
        "inputs alone (or with the previous ones: --window 2), trained from "
        "seeds SEED..SEED+K-1, against the best any such network can do. "
        "'linear': the linear RNN of the ARMA remark. 'all': the three. "
        "Accuracies count exact sums over every pair with a + b < 2**N.",
    )
    lec.add_argument(
        "question", metavar="QUESTION", nargs="?", default="code",
        choices=LECTURE_QUESTIONS,
        help=f"one of {', '.join(LECTURE_QUESTIONS)} (default: %(default)s)",
    )
    lr = LectureCommand
    lec_flags: list[tuple[str, str, Integer, int, str]] = [
        ("--seed", "SEED", lr.seed, 0,
         "seed of the weights and samples, as BinarySumRNN(seed=SEED)"),
        ("--iterations", "K", lr.iterations, _config.ITERATIONS,
         "training samples of each network, one SGD step each"),
        ("--hidden-size", "H", lr.hidden_size, _config.HIDDEN_SIZE,
         "hidden units"),
        ("--bits", "N", lr.bits, _config.BITS, "bits of the operands"),
        ("--seeds", "K", lr.seeds, 5, "no-feedback: how many seeds to train"),
        ("--window", "W", lr.window, 1,
         "no-feedback: the columns each hidden state sees (2: the lecture's "
         "picture, the current and the previous one)"),
    ]
    for flag, metavar, check, default, text in lec_flags:
        lec.add_argument(
            flag, metavar=metavar, type=_Typed(check), default=default,
            help=f"{text}; {check.range} (default: {default})",
        )
    lec.set_defaults(run=_cmd_lecture)

    demo = sub.add_parser(
        "demo",
        help="train the default network in memory and add two numbers with it "
        "(what 'binsum' alone does)",
        description="Train the default network with the lecture's log, print its "
        "accuracy and add two 67-bit numbers with it. Saves nothing.",
    )
    demo.set_defaults(run=_cmd_demo)
    return parser
# fmt: on


def _add_training_flags(p: argparse.ArgumentParser) -> None:
    c = _pretrained.CONFIG  # the lecture's settings, seed 0
    rules = TrainCommand
    flags: list[tuple[str, str, Integer | PositiveReal, object, str]] = [
        ("--hidden-size", "H", rules.hidden_size, c.hidden_size, "hidden units"),
        ("--bits", "N", rules.bits, c.bits, "bits of the training operands"),
        ("--iterations", "K", rules.iterations, _pretrained.ITERATIONS,
         "training samples, one SGD step each"),
        ("--learning-rate", "LR", rules.learning_rate, c.learning_rate,
         "SGD step size"),
        ("--clip", "C", rules.clip, c.clip, "clip hidden deltas to [-C, C]"),
        ("--seed", "SEED", rules.seed, c.seed,
         "random seed of the weights and samples (the default reproduces the "
         "shipped network)"),
        ("--log-every", "K", rules.log_every, 1000,
         "print the lecture's log every K iterations, 0 for none"),
    ]  # fmt: skip
    for flag, metavar, check, default, text in flags:
        # The settings default to None: --resume takes them from the model.
        setting = flag.lstrip("-").replace("-", "_") in _config.KEYS
        p.add_argument(
            flag, metavar=metavar, type=_Typed(check),
            default=None if setting else default,
            help=f"{text}; {check.range} (default: {default}"
            + (", or the --resume model's)" if setting else ")"),
        )  # fmt: skip


def _add_model_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        metavar="PATH",
        help="a model saved by 'binsum train' (default: the network shipped "
        "with binsum)",
    )


# ---------------------------------------------------------------- helpers
def _load(path: str | None, flag: str = "--model") -> BinarySumRNN:
    if path is None:
        return BinarySumRNN.pretrained()
    try:
        return BinarySumRNN.load(path)
    except ModelFileError as exc:
        raise CommandError(f"cannot load {flag} {_shown(path)}: {exc}") from None
    except OSError as exc:
        raise CommandError(
            f"cannot read {flag} {_shown(path)}: {_os_reason(exc)}"
        ) from None


def _shown(path: str) -> str:
    """A path for a message: quoted if it could not be read plainly (empty,
    spaces at an end, control characters)."""
    plain = path and path == path.strip() and path.isprintable()
    return path if plain else repr(path)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _check_writable(path: str, flag: str) -> None:
    """Fail before training, not after, when the output cannot be written
    (the checks save() itself makes: binsum._atomic.check_target)."""
    try:
        check_target(path)
    except OSError as exc:
        raise CommandError(
            f"cannot write {flag} {_shown(path)}: {_os_reason(exc)}"
        ) from None


def _score_text(
    model: BinarySumRNN, bits: int | None, sample: int | None, seed: int = 0
) -> str:
    n = model.bits if bits is None else bits
    accuracy = model.score(n, sample=sample, seed=seed)
    return f"exact sums: {accuracy:.2%} of {ScorePairs.choose(n, sample).describe()}"


def _train(
    model: BinarySumRNN, iterations: int, log_every: int, plot: bool, out: _Output
) -> list[tuple[int, float]]:
    """Fit with the log, the bar and (for the plot) accuracy at checkpoints.

    The bar follows the model from a thread (its iterations, and the mean loss
    of the last LOSS_WINDOW), so it moves whatever --log-every is. Checkpoints
    count the model's iterations (a resumed model's start where it was)."""
    every = log_every or max(1, iterations // 100)
    calls = max(1, iterations // every)
    score_every = max(1, math.ceil(calls / PLOT_CHECKPOINTS))
    checkpoints: list[tuple[int, float]] = []
    start = model.iterations

    def accuracy() -> float:
        return model.score(sample=None if model.bits <= 5 else PLOT_SAMPLE)

    def follow() -> tuple[int, float | None]:
        iterations, history = model.snapshot()  # of one training block
        tail = history[-LOSS_WINDOW:]
        loss = float(tail.mean()) if tail.size else None
        return iterations - start, loss

    if plot:
        checkpoints.append((start, accuracy()))
    with Progress(iterations, out.text, follow=follow) as progress:

        def on_block(m: BinarySumRNN, done: int, loss: float) -> None:
            progress.update_to(done, loss)
            if plot and (done // every) % score_every == 0 and done < iterations:
                checkpoints.append((start + done, accuracy()))

        model.fit(
            iterations,
            verbose=log_every > 0,
            log_every=every,
            callback=on_block,
            file=progress.log,
        )
        progress.update_to(iterations)
    return checkpoints


def _training_model(args: argparse.Namespace) -> BinarySumRNN:
    """A new model from the flags, or the --resume model (whose settings must
    not be contradicted by a flag)."""
    names = [k for k in _config.KEYS]
    given = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    if args.resume is None:
        defaults = _pretrained.CONFIG
        settings = {k: given.get(k, getattr(defaults, k)) for k in names}
        return BinarySumRNN(**settings)
    model = _load(args.resume, "--resume")
    for key, value in given.items():
        if value != getattr(model, key):
            flag = "--" + key.replace("_", "-")
            raise CommandError(
                f"{flag} {value} conflicts with --resume {args.resume}, saved with "
                f"{key} {getattr(model, key)} (a resumed model keeps its settings: "
                f"leave {flag} out)"
            )
    return model


# --------------------------------------------------------------- commands
def _cmd_train(args: argparse.Namespace, out: _Output, err: _Output) -> None:
    out.ends_command = False  # no one reads the log: still train and save
    # Everything that can be known to fail is checked before training.
    _check_writable(args.out, "--out")
    plot = args.plot is not None
    if plot:
        _check_writable(args.plot, "--plot")
        if not pictures._available():
            raise CommandError(
                f"--plot needs matplotlib: install it with {pictures.INSTALL_HINT} "
                "(nothing was trained)"
            )
    model = _training_model(args)
    start = time.perf_counter()
    checkpoints = _train(model, args.iterations, args.log_every, plot, out)
    elapsed = time.perf_counter() - start
    replacing = os.path.lexists(args.out)
    try:
        model.save(args.out, history=args.history)
    except OSError as exc:
        reason = _os_reason(exc)
        raise CommandError(f"cannot write --out {_shown(args.out)}: {reason}") from None
    resumed = "" if args.resume is None else f" more ({model.iterations:,} in all)"
    print(
        f"trained {args.iterations:,} iterations{resumed} in {elapsed:.3f} s "
        f"({model.backend} backend), saved {args.out}"
        + (" (replaced the existing file)" if replacing else ""),
        file=out.text,
    )
    print(_score_text(model, None, None), file=out.text)
    if not plot:
        return
    checkpoints.append((model.iterations, model.score()))
    title = (
        f"binsum train: {model.hidden_size} hidden units, {model.bits} bits, "
        f"lr {model.learning_rate:g}, clip {model.clip:g}, seed {model.seed}"
    )
    label = (
        "exact sums, all pairs"
        if model.bits <= 5
        else f"exact sums ({PLOT_SAMPLE:,} random pairs; last: all pairs)"
    )
    try:
        pictures.training_curve(
            model, accuracy=checkpoints, title=title, accuracy_label=label,
            save=args.plot,
        )  # fmt: skip
    except OSError as exc:
        raise CommandError(
            f"cannot write --plot {_shown(args.plot)}: {_os_reason(exc)}"
        ) from None
    print(f"wrote {args.plot}", file=out.text)


def _cmd_add(args: argparse.Namespace, out: _Output, err: _Output) -> None:
    model = _load(args.model)
    a, b = args.a, args.b
    reading = _report.Reading(a, b, model.logits(a, b))
    if args.explain:
        print("\n".join(_report.column_addition(reading)), file=out.text)
    else:
        print(_decimal.to_text(reading.total), file=out.text)
    if reading.total != a + b:
        print(
            f"{PROG} add: note: the network is wrong, a + b = "
            f"{_decimal.to_text(a + b)}",
            file=err.text,
        )


def _cmd_eval(args: argparse.Namespace, out: _Output, err: _Output) -> None:
    model = _load(args.model)
    bits = model.bits if args.bits is None else args.bits
    for carry_out in (False, True):
        pairs = ScorePairs.choose(bits, args.sample, args.seed, carry_out)
        with Progress(
            pairs.count, out.text, desc="evaluating", unit="pairs"
        ) as progress:
            done = 0

            def advance(n: int) -> None:
                nonlocal done
                done += n
                progress.update_to(done)

            def predict(a: Any, b: Any) -> Any:
                return model.predict(a, b, threads=args.threads)

            correct = pairs.count_exact(predict, advance, EVAL_CHUNK)
        label = "with carry-out" if carry_out else "exact sums"
        print(
            f"{label}: {correct / pairs.count:.2%} of {pairs.describe()}",
            file=out.text,
        )
    if args.hard_bits:
        found = model.counterexample(args.hard_bits)
        print(hard_case_text(args.hard_bits, found, model), file=out.text)


def number_text(value: int) -> str:
    """An int for a verdict line, exactly: in decimal up to 40 digits, else as
    2**k, 2**k - r or 2**k + r (r < 2**32) when it is one, else its bit
    length and hexadecimal digits (all of them: exact, if long)."""
    if value.bit_length() <= 132:  # at most 40 digits
        return str(value)
    k = value.bit_length()
    if value == 1 << (k - 1):
        return f"2**{k - 1}"
    if (1 << k) - value < 1 << 32:
        return f"2**{k} - {(1 << k) - value}"
    if value - (1 << (k - 1)) < 1 << 32:
        return f"2**{k - 1} + {value - (1 << (k - 1))}"
    return f"0x{value:x} ({k} bits)"


def hard_case_text(
    max_bits: int, found: tuple[int, int] | None, model: BinarySumRNN
) -> str:
    """eval's hard-case line, e.g. "hard cases up to 4,096 bits: none wrong"
    or "...: wrong: 4294967295 + 1 = 0 (exact: 4294967296)"."""
    head = f"hard cases up to {max_bits:,} bits"
    if found is None:
        return f"{head}: none wrong"
    a, b = found
    got = model.add(a, b)
    return (
        f"{head}: wrong: {number_text(a)} + {number_text(b)} = "
        f"{number_text(got)} (exact: {number_text(a + b)})"
    )


def _cmd_certify(args: argparse.Namespace, out: _Output, err: _Output) -> int:
    model = _load(args.model)
    if args.check is not None:
        try:
            cert = Certificate.load(args.check)
        except ModelFileError as exc:
            raise CommandError(
                f"cannot load --check {_shown(args.check)}: {exc}"
            ) from None
        except OSError as exc:
            raise CommandError(
                f"cannot read --check {_shown(args.check)}: {_os_reason(exc)}"
            ) from None
        started = time.perf_counter()
        holds = cert.check(model)
        took = time.perf_counter() - started
        verdict = "holds" if holds else "does not hold"
        print(
            f"the certificate {verdict} for this network (checked in {took:.1f} s)",
            file=out.text,
        )
        return 0 if holds else 1
    if args.save is not None:
        _check_writable(args.save, "--save")
    cert = model.certify()
    if cert.proven:
        print(
            "proven: the network adds every pair of non-negative integers exactly, "
            f"any length ({len(cert.owner)} invariant sets, worst inclusion "
            f"{cert.slack:.3f} <= 1, smallest output margin {cert.margin:.2f}; "
            f"{cert.seconds:.1f} s)",
            file=out.text,
        )
    elif cert.counterexample is not None:
        a, b = cert.counterexample
        got = model.add(a, b)
        print(
            f"not proven: wrong for {_decimal.to_text(a)} + {_decimal.to_text(b)}"
            f" = {_decimal.to_text(got)} (exact: {_decimal.to_text(a + b)})",
            file=out.text,
        )
    else:
        print(
            f"not proven: {cert.reason} (no counterexample found either)", file=out.text
        )
    if args.save is not None:
        cert.save(args.save)
        print(f"certificate saved to {_shown(args.save)}", file=out.text)
    return 0 if cert.proven else 1


def _cmd_info(args: argparse.Namespace, out: _Output, err: _Output) -> None:
    if binsum.has_extension:
        how = f"compiled extension {_backend.COMPILED_MODULE}"
    elif _backend.NO_EXTENSIONS:
        how = "pure-Python twin, BINSUM_NO_EXTENSIONS is set"
    else:
        how = "pure-Python twin, the compiled extension is not built"
    c = _pretrained.CONFIG
    mpl = _version("matplotlib")
    lines = [
        f"binsum {binsum.__version__}",
        f"backend: {binsum.backend} ({how})",
        f"python: {platform.python_version()} ({platform.python_implementation()}) "
        f"on {sys.platform} {platform.machine()}",
        f"numpy: {np.__version__}",
        f"tqdm: {_version('tqdm') or 'not installed'}",
        f"matplotlib: {mpl or 'not installed, ' + pictures.INSTALL_HINT} (for --plot)",
        f"pretrained network: {c.hidden_size} hidden units, {c.bits} bits, "
        f"seed {c.seed}, {_pretrained.ITERATIONS:,} iterations (what "
        "'binsum train' makes with its defaults; BinarySumRNN.pretrained())",
    ]
    print("\n".join(lines), file=out.text)


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cmd_lecture(args: argparse.Namespace, out: _Output, err: _Output) -> None:
    last = args.seed + args.seeds - 1
    if args.question in ("no-feedback", "all") and last > MAX_SEED:
        raise CommandError(
            f"--seed {args.seed} with --seeds {args.seeds} runs past the largest "
            f"seed, {_validate.plain(MAX_SEED)}"
        )
    common = {
        "hidden_size": args.hidden_size,
        "bits": args.bits,
        "iterations": args.iterations,
    }
    reports: list[object] = []
    if args.question in ("code", "all"):
        reports.append(lecture.lecture_code(seed=args.seed, **common))
    if args.question in ("no-feedback", "all"):
        seeds = range(args.seed, last + 1)
        reports.append(
            lecture.without_feedback(seeds=seeds, window=args.window, **common)
        )
    if args.question in ("linear", "all"):
        reports.append(lecture.linear_rnn(seed=args.seed, **common))
    print("\n\n".join(str(r) for r in reports), file=out.text)


def _cmd_demo(args: argparse.Namespace, out: _Output, err: _Output) -> None:
    c = _pretrained.CONFIG
    model = BinarySumRNN(c.hidden_size, c.bits, c.learning_rate, c.clip, c.seed)
    iterations = _pretrained.ITERATIONS
    start = time.perf_counter()
    _train(model, iterations, 1000, False, out)
    elapsed = time.perf_counter() - start
    a, b = DEMO_OPERANDS
    lines = [
        f"trained {iterations:,} iterations in {elapsed:.3f} s "
        f"({model.backend} backend)",
        _score_text(model, None, None),
        _report.sum_line(a, b, model.add(a, b)),
        "next: binsum train --out model.npz; binsum add [--explain] A B; binsum --help",
    ]
    print("\n".join(lines), file=out.text)


# ------------------------------------------------------------------- main
# A command returns None (exit 0) or its exit status.
Command = Callable[[argparse.Namespace, _Output, _Output], int | None]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (never raises).

    Changes no process-wide setting (main may run inside another program):
    long decimal operands are converted by binsum._decimal, not by lifting
    Python's int/str digit limit. Only a closed stdout or stderr is pointed at
    os.devnull (see _Output).
    """
    out = _Output(sys.stdout, ends_command=True)
    err = _Output(sys.stderr, ends_command=False)
    where = PROG
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help, --version, or a usage error
            return exc.code if isinstance(exc.code, int) else 2
        where = f"{PROG} {args.command or 'demo'}"
        run: Command = getattr(args, "run", _cmd_demo)
        status = run(args, out, err)
        out.flush()
    except KeyboardInterrupt:
        err.write(f"{where}: interrupted\n")
        return EXIT_INTERRUPTED
    except _Gone:
        return EXIT_OUTPUT_GONE
    except (
        CommandError,
        ModelFileError,
        ValueError,
        TypeError,
        OSError,
        FloatingPointError,
        ImportError,
    ) as exc:
        err.write(f"{where}: error: {_one_line(exc)}\n")
        return 1
    except Exception as exc:
        if os.environ.get("BINSUM_DEBUG"):
            raise
        err.write(
            f"{where}: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(BINSUM_DEBUG=1 shows the traceback)\n"
        )
        return 1
    return EXIT_OUTPUT_GONE if out.gone else (status or 0)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())
