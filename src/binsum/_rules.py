"""The argument rules of binsum's public callables and commands, declared once.

Each class below is one callable's rules: its attributes are the arguments,
each a rule (``_validate``'s Integer, PositiveReal, Flag, Verbosity) that
knows the argument's name and range. The callables check their arguments
with these objects, the command's flags parse with them, and the validation
tests are generated from ``TABLE``. An argument that reaches another callable
unchanged shares that callable's rule object (sweep's ``iterations`` is
fit's, ``binsum eval --bits`` is score's), so a bound is written once and
cannot drift between the entry points.
"""

from __future__ import annotations

from dataclasses import replace

from binsum._validate import MAX_BITS, Flag, Integer, PositiveReal, Verbosity

Rule = Integer | PositiveReal | Flag | Verbosity

MAX_HIDDEN = 4096  # wh alone is then 128 MiB; larger is surely a mistake
MAX_SEED = 2**128 - 1  # SeedSequence entropy's size; fits the file's <U64 field
MAX_ITERATIONS = 2**40  # per fit call: the loss history alone is then 8 TiB
MAX_THREADS = 1024
MAX_SAMPLE = 10**8  # score(sample=...): 1.6 GB of operands
#: counterexample's max_bits: the long runs cost about 3.4 * max_bits steps
#: per combination, so 2**16 is about 16 times the default's time (seconds at
#: hidden 64); longer is not a search one waits for.
MAX_SEARCH_BITS = 1 << 16

#: Each callable's rules, by how it is called: {argument: rule}.
TABLE: dict[str, dict[str, Rule]] = {}


class Rules:
    """A callable's rules: subclassing enters the class's rules in TABLE."""

    def __init_subclass__(cls, *, of: str) -> None:
        super().__init_subclass__()
        TABLE[of] = {
            name: rule for name, rule in vars(cls).items() if isinstance(rule, Rule)
        }


class Constructor(Rules, of="BinarySumRNN"):
    """A network's settings: the constructor's, and so every ``Config``'s
    (sweep's configurations, model files, pickles)."""

    hidden_size = Integer("hidden_size", 1, MAX_HIDDEN)
    bits = Integer("bits", 1, MAX_BITS)
    learning_rate = PositiveReal("learning_rate")
    clip = PositiveReal("clip")
    seed = Integer("seed", 0, MAX_SEED)


class Fit(Rules, of="fit"):
    iterations = Integer("iterations", 0, MAX_ITERATIONS)
    log_every = Integer("log_every", 1)
    verbose = Verbosity("verbose")
    progress = Flag("progress")


class Predict(Rules, of="predict"):
    threads = Integer("threads", 1, MAX_THREADS)


class Score(Rules, of="score"):
    bits = Constructor.bits
    sample = Integer("sample", 1, MAX_SAMPLE)
    seed = Constructor.seed
    threads = Predict.threads  # passed to predict


class Add(Rules, of="add"):
    a = Integer("a", 0)
    b = Integer("b", 0)


class Logits(Rules, of="logits"):
    a = Add.a
    b = Add.b


class HiddenStates(Rules, of="hidden_states"):
    a = Add.a
    b = Add.b
    steps = Integer("steps", 1)


class Automaton(Rules, of="automaton"):
    depth = Integer("depth", 1, 8)
    run = Integer("run", 0, 4096)
    max_clusters = Integer("max_clusters", 2, 64)


class Counterexample(Rules, of="counterexample"):
    max_bits = Integer("max_bits", 1, MAX_SEARCH_BITS)


class Save(Rules, of="save"):
    history = Flag("history")


class Sweep(Rules, of="sweep"):
    iterations = Fit.iterations  # each configuration's fit
    check_every = replace(Fit.log_every, name="check_every")  # fit's log_every
    # counterexample's max_bits, or 0: no search
    hard_bits = Integer("hard_bits", 0, Counterexample.max_bits.high)
    certify = Flag("certify")


class Lecture(Rules, of="binsum.lecture"):
    """lecture_code, without_feedback and linear_rnn."""

    hidden_size = Constructor.hidden_size
    bits = Integer("bits", 1, 10)  # every pair is evaluated, in numpy
    iterations = Fit.iterations
    learning_rate = Constructor.learning_rate
    clip = Constructor.clip
    seed = Constructor.seed
    # Columns an output without feedback may see: tables of 4**window
    # entries are enumerated (2**16 of them for window 2; 2**64 would be too
    # many).
    window = Integer("window", 1, 2)


# The command's arguments, by their argparse ``dest``.
class TrainCommand(Rules, of="binsum train"):
    hidden_size = Constructor.hidden_size
    bits = Constructor.bits
    iterations = Fit.iterations
    learning_rate = Constructor.learning_rate
    clip = Constructor.clip
    seed = Constructor.seed
    log_every = Integer("log_every", 0, Fit.iterations.high)  # 0: no log


class AddCommand(Rules, of="binsum add"):
    a = Add.a
    b = Add.b


class EvalCommand(Rules, of="binsum eval"):
    bits = Score.bits
    sample = Score.sample
    seed = Score.seed
    threads = Score.threads
    hard_bits = Sweep.hard_bits


class LectureCommand(Rules, of="binsum lecture"):
    seed = Lecture.seed
    iterations = Lecture.iterations
    hidden_size = Lecture.hidden_size
    bits = Lecture.bits
    seeds = Integer("seeds", 1, 100)  # no-feedback's networks
    window = Lecture.window
