"""The finite-state machine in a network's hidden states, against the full adder.

Adding bit by bit, least significant first, is a two-state Mealy machine:
the state is the carry c, an input (x0, x1) outputs x0 ^ x1 ^ c and moves to
the carry maj(x0, x1, c). A network that adds keeps the carry in its hidden
state. ``read`` recovers the machine from the states the network visits:

1. **States.** The network's step (``binsum._steps``, the kernel's bits) runs
   a prefix-closed set of input words from h_0 = 0: every word of up to
   ``depth`` inputs, and from every word of up to PREFIX inputs, runs of
   ``run`` inputs of each carry-keeping pattern (one input repeated, or 10
   and 01 alternating), each run state left by each of the four inputs.
   Random pairs hardly ever contain long carry chains; the runs are where
   hidden states drift and networks fail. The true carry of every state
   follows from its word. These are the *reachable states* of this module: a
   finite sample of the infinite set, so a verdict holds for the sample.
2. **Clusters.** k-means (Lloyd's iterations from a farthest-first start,
   no random numbers; fitted on every word's state and evenly spaced run
   states, at most FIT_STATES, every state then assigned to its nearest
   centre) for k = 2, 3, ... until every cluster holds states of one carry,
   or ``max_clusters``. Only elementwise operations in a fixed order (no
   BLAS), so the result is the same on every run and both backends.
3. **Machine.** Each step of the sample is a transition from its state's
   cluster to the next state's cluster, on its input, with the network's
   output bit. The clusters are merged by partition refinement (blocks that
   agree on every input's output and whose successors lie in one block) into
   the smallest machine with the same behaviour, which is compared with the
   full adder's.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import NDArray

from binsum import _steps
from binsum._readonly import readonly

if TYPE_CHECKING:
    from binsum._model import BinarySumRNN

Array = NDArray[np.float64]
Ints = NDArray[np.int64]

PREFIX = 2  # runs start after every word of up to this many inputs (both carries)
#: The carry-keeping patterns of the runs: input codes (index of
#: ``_steps.INPUTS``) repeated with period 2.
PATTERNS: tuple[tuple[int, int], ...] = ((0, 0), (1, 1), (2, 2), (3, 3), (1, 2), (2, 1))
FIT_STATES = 4096  # k-means is fitted on at most this many states
MAX_ITER = 100  # Lloyd iterations per start
CARRY_UNIT = 0.99  # a unit holds the carry if a threshold on it alone is this right

_SUM = np.array([x + y for x, y in _steps.INPUTS], dtype=np.int64)


class Transition(NamedTuple):
    """Steps of the sample from one cluster to another on one input."""

    source: int  # cluster before the step
    inputs: tuple[int, int]  # (a's bit, b's bit)
    target: int  # cluster after the step
    output: int  # the network's output bit (o_t > 0)
    steps: int  # sampled steps of this kind


@dataclass(frozen=True, eq=False)
class CarryMachine:
    """The finite-state machine read from a network's reachable hidden states.

    Made by ``BinarySumRNN.automaton()``; the module ``binsum._automaton``
    says how the states are sampled, clustered and merged. Arrays are
    read-only.

    Attributes
    ----------
    is_full_adder : bool
        Whether the machine, merged to its fewest states, is the full adder's:
        two states (carry 0, the start, and carry 1), each input (x0, x1)
        outputting x0 ^ x1 ^ c and moving to carry maj(x0, x1, c). It holds
        exactly when some clustering with at most ``max_clusters`` clusters
        is pure in carry and every sampled output bit is right. A verdict on
        the sample, not a proof (``certify`` proves).
    explanation : str
        What was found, and where the machine is not the full adder, why
        (clusters that mix carries, transitions with the wrong output, with
        an input word that shows it). ``str(machine)`` is this text.
    states : numpy.ndarray, (n, H)
        The sampled reachable states; row 0 is h_0 = 0.
    carries : numpy.ndarray, (n,)
        The full adder's carry after each state's input word.
    parents, inputs, outputs : numpy.ndarray, (n,)
        The state each state was stepped from, the index of that step's
        input in ((0, 0), (1, 0), (0, 1), (1, 1)) and the network's output
        bit of that step; -1 for h_0.
    labels : numpy.ndarray, (n,)
        The cluster of each state (cluster 0 holds h_0).
    centres : numpy.ndarray, (k, H)
        The clusters' means.
    cluster_carries : numpy.ndarray, (k, 2)
        States of carry 0 and of carry 1 in each cluster.
    transitions : tuple of Transition
        Every (source, inputs, target, output) seen, with its number of steps.
    blocks : tuple of int
        The state of the merged (minimal) machine each cluster belongs to.
    carry_units : tuple of int
        Hidden units that hold the carry alone: a threshold on the unit's
        value tells the carry of at least 99 % of the states, best first.
    unit_accuracy : numpy.ndarray, (H,)
        For each unit, the fraction of states whose carry the best threshold
        on that unit alone gets right.
    readout : numpy.ndarray, (H + 1,)
        The least-squares linear read-out of the carry, r(h) = h . w + w0
        (weights then w0), fitted to the carries of all sampled states.
    readout_margin : float
        min over the sampled states of 2 (r(h) - 1/2) (2 c - 1): the signed
        distance of the read-out from 1/2, on the side of the state's carry
        c, scaled so that a read-out equal to the carry everywhere has margin
        1. Positive: the threshold r(h) > 1/2 reads every carry right.
    """

    is_full_adder: bool
    explanation: str
    states: Array = field(repr=False)
    carries: Ints = field(repr=False)
    parents: Ints = field(repr=False)
    inputs: Ints = field(repr=False)
    outputs: Ints = field(repr=False)
    labels: Ints = field(repr=False)
    centres: Array = field(repr=False)
    cluster_carries: Ints = field(repr=False)
    transitions: tuple[Transition, ...] = field(repr=False)
    blocks: tuple[int, ...]
    carry_units: tuple[int, ...]
    unit_accuracy: Array = field(repr=False)
    readout: Array = field(repr=False)
    readout_margin: float

    @property
    def clusters(self) -> int:
        """How many clusters the states were grouped into."""
        return len(self.centres)

    def word(self, state: int) -> list[tuple[int, int]]:
        """The inputs (x0, x1) that lead from h_0 to sampled state ``state``."""
        return _trace(self.parents, self.inputs, state)

    def __str__(self) -> str:
        return self.explanation


# --- sampling ----------------------------------------------------------------


@dataclass
class _Tree:
    """A prefix-closed set of input words and the states they reach."""

    wi: Array
    wh: Array
    wo: Array
    states: list[Array]
    carries: list[Ints]
    parents: list[Ints]
    inputs: list[Ints]
    outputs: list[Ints]
    size: int = 1

    def grow(
        self, rows: Ints, h: Array, carry: Ints, codes: Ints
    ) -> tuple[Ints, Array, Ints]:
        """Step the states ``h`` (nodes ``rows``) on the inputs ``codes``."""
        new = np.empty_like(h)
        out = np.empty(len(rows), dtype=np.int64)
        for code, (x0, x1) in enumerate(_steps.INPUTS):
            pick = codes == code
            if pick.any():
                hn, o = _steps.step(
                    self.wi, self.wh, self.wo, h[pick], float(x0), float(x1)
                )
                new[pick] = hn
                out[pick] = o > 0.0
        nxt = (_SUM[codes] + carry) >> 1
        nodes = np.arange(self.size, self.size + len(rows), dtype=np.int64)
        self.size += len(rows)
        self.states.append(new)
        self.carries.append(nxt)
        self.parents.append(rows)
        self.inputs.append(codes)
        self.outputs.append(out)
        return nodes, new, nxt

    def every_input(
        self, rows: Ints, h: Array, carry: Ints
    ) -> tuple[Ints, Array, Ints]:
        codes = np.tile(np.arange(4, dtype=np.int64), len(rows))
        return self.grow(
            np.repeat(rows, 4), np.repeat(h, 4, axis=0), np.repeat(carry, 4), codes
        )


def sample(wi: Array, wh: Array, wo: Array, depth: int, run: int) -> _Tree:
    """The reachable states of the module's docstring, step 1."""
    size = wh.shape[0]
    none = np.array([-1], dtype=np.int64)
    tree = _Tree(wi, wh, wo, [np.zeros((1, size))], [np.zeros(1, np.int64)],
                 [none], [none], [none])  # fmt: skip
    level = (np.zeros(1, np.int64), np.zeros((1, size)), np.zeros(1, np.int64))
    levels = [level]
    for _ in range(depth):
        level = tree.every_input(*level)
        levels.append(level)
    if run == 0:
        return tree
    starts = levels[: PREFIX + 1]
    rows = np.repeat(np.concatenate([lv[0] for lv in starts]), len(PATTERNS))
    h = np.repeat(np.concatenate([lv[1] for lv in starts]), len(PATTERNS), axis=0)
    carry = np.repeat(np.concatenate([lv[2] for lv in starts]), len(PATTERNS))
    pattern = np.tile(
        np.array(PATTERNS, dtype=np.int64), (len(rows) // len(PATTERNS), 1)
    )
    runs = []
    for t in range(run):
        rows, h, carry = tree.grow(rows, h, carry, pattern[:, t % 2].copy())
        runs.append((rows, h, carry))
    for rows, h, carry in runs:
        tree.every_input(rows, h, carry)
    return tree


# --- clustering --------------------------------------------------------------


def _distances(x: Array, centres: Array) -> Array:
    # (n, k) squared distances, elementwise (a fixed order; no BLAS).
    out = np.empty((len(x), len(centres)))
    for j, c in enumerate(centres):
        d = x - c
        out[:, j] = (d * d).sum(axis=1)
    return out


def _means(x: Array, labels: Ints, k: int, old: Array) -> Array:
    out = old.copy()
    for j in range(k):
        mine = labels == j
        if mine.any():
            out[j] = x[mine].mean(axis=0)
    return out


def kmeans(x: Array, k: int) -> Array:
    """Centres (k, H) of ``x`` by Lloyd's iterations from a farthest-first
    start: the first centre is x[0], each next one the point farthest from
    the centres so far (deterministic, and outliers such as the states one
    step from h_0 get centres of their own)."""
    centres = [x[0]]
    nearest = _distances(x, x[:1])[:, 0]
    for _ in range(1, k):
        pick = int(nearest.argmax())
        centres.append(x[pick])
        nearest = np.minimum(nearest, _distances(x, x[pick : pick + 1])[:, 0])
    c = np.array(centres)
    labels = _distances(x, c).argmin(axis=1)
    for _ in range(MAX_ITER):
        c = _means(x, labels, k, c)
        new = _distances(x, c).argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    return c


def cluster(states: Array, fit: Array, k: int) -> Ints:
    """Each state's cluster among k centres fitted to ``fit``, numbered by
    first appearance (h_0's is 0)."""
    raw = _distances(states, kmeans(fit, k)).argmin(axis=1)
    _, first = np.unique(raw, return_index=True)
    order = np.argsort(first, kind="stable")
    rename = np.zeros(k, dtype=np.int64)
    rename[raw[first[order]]] = np.arange(len(order))
    labels: Ints = rename[raw]
    return labels


def fit_set(states: Array, words: int) -> Array:
    """The states k-means is fitted to: every word's state, and of the runs'
    states evenly spaced ones, FIT_STATES in all when there are more."""
    rest = states[words:]
    room = max(FIT_STATES - words, 1)
    out: Array = np.concatenate([states[:words], rest[:: -(-len(rest) // room)]])
    return out


def carry_counts(labels: Ints, carries: Ints, k: int) -> Ints:
    out: Ints = np.zeros((k, 2), dtype=np.int64)
    np.add.at(out, (labels, carries), 1)
    return out


# --- the machine -------------------------------------------------------------


def transitions(
    labels: Ints, parents: Ints, inputs: Ints, outputs: Ints
) -> tuple[Transition, ...]:
    src = labels[parents[1:]]
    dst = labels[1:]
    k = int(labels.max()) + 1
    code = ((src * 4 + inputs[1:]) * k + dst) * 2 + outputs[1:]
    kinds, counts = np.unique(code, return_counts=True)
    out = []
    for kind, count in zip(kinds.tolist(), counts.tolist(), strict=True):
        rest, output = divmod(kind, 2)
        rest, target = divmod(rest, k)
        source, i = divmod(rest, 4)
        out.append(Transition(source, _steps.INPUTS[i], target, output, count))
    return tuple(out)


def minimise(k: int, moves: tuple[Transition, ...]) -> tuple[int, ...]:
    """The block of each cluster in the coarsest partition whose blocks agree,
    on every input, on the output set and on the blocks the successors lie in
    (partition refinement, Moore's algorithm on a possibly non-deterministic
    machine)."""
    outs: list[list[set[int]]] = [[set() for _ in range(4)] for _ in range(k)]
    succ: list[list[set[int]]] = [[set() for _ in range(4)] for _ in range(k)]
    for m in moves:
        i = _steps.INPUTS.index(m.inputs)
        outs[m.source][i].add(m.output)
        succ[m.source][i].add(m.target)
    blocks = _renumber([tuple(tuple(sorted(s)) for s in outs[c]) for c in range(k)])
    while True:
        keys = [
            (blocks[c], tuple(tuple(sorted({blocks[t] for t in s})) for s in succ[c]))
            for c in range(k)
        ]
        new = _renumber(keys)
        if len(set(new)) == len(set(blocks)):
            return tuple(new)
        blocks = new


def _renumber(keys: Sequence[Hashable]) -> list[int]:
    seen: dict[Hashable, int] = {}
    return [seen.setdefault(key, len(seen)) for key in keys]


def full_adder_match(
    blocks: tuple[int, ...], moves: tuple[Transition, ...]
) -> list[str]:
    """Why the merged machine is not the full adder's (empty if it is): block
    0 (holding h_0) must be carry 0, the other carry 1."""
    if len(set(blocks)) != 2:
        return [f"merged, the clusters form {len(set(blocks))} states, not 2"]
    problems = []
    for m in moves:
        c = blocks[m.source]
        x0, x1 = m.inputs
        want = (x0 + x1 + c) >> 1
        if blocks[m.target] != want or m.output != (x0 ^ x1 ^ c):
            problems.append(
                "a transition of the merged machine differs from the full adder's"
            )
            break
    return problems


# --- carry units and read-out ------------------------------------------------


def threshold_accuracy(values: Array, carries: Ints) -> float:
    """The best fraction of carries one threshold on ``values`` gets right
    (either way round)."""
    order = np.argsort(values, kind="stable")
    c = carries[order]
    n = len(c)
    ones = int(c.sum())
    # Threshold after the first i sorted values: below reads 0, above reads 1.
    zeros_below = np.concatenate([[0], np.cumsum(1 - c)])
    ones_below = np.concatenate([[0], np.cumsum(c)])
    right = zeros_below + (ones - ones_below)
    # Only thresholds between distinct values can be drawn.
    cut = np.concatenate([[True], values[order][1:] != values[order][:-1], [True]])
    right = right[cut]
    return float(max(right.max(), n - right.min()) / n)


def readout(states: Array, carries: Ints) -> tuple[Array, float]:
    """Least-squares weights (H + 1) of the carry and their margin."""
    design = np.concatenate([states, np.ones((len(states), 1))], axis=1)
    weights = np.linalg.lstsq(design, carries.astype(np.float64), rcond=None)[0]
    r = design @ weights
    margin = float((2.0 * (r - 0.5) * (2 * carries - 1)).min())
    return weights, margin


# --- the explanation ---------------------------------------------------------


def _word_text(word: list[tuple[int, int]]) -> str:
    """Inputs as a0b0 digits, runs of one input shortened: 11, 01x40, 00."""
    parts: list[str] = []
    i = 0
    while i < len(word):
        j = i
        while j < len(word) and word[j] == word[i]:
            j += 1
        text = f"{word[i][0]}{word[i][1]}"
        parts.append(text if j - i == 1 else f"{text}x{j - i}")
        i = j
    return ", ".join(parts) if parts else "(none)"


def _pair(word: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The operands whose addition runs ``word`` (a's bits, b's bits, least
    significant first), if ``add`` of them runs every input of it."""
    a = sum(x << t for t, (x, _) in enumerate(word))
    b = sum(y << t for t, (_, y) in enumerate(word))
    if max(a.bit_length(), b.bit_length()) + 1 < len(word):
        return None
    return a, b


def _read_states(model: BinarySumRNN, depth: int, run: int) -> _Tree:
    w = model.weights
    return sample(w["wi"], w["wh"], w["wo"], depth, run)


def read(model: BinarySumRNN, depth: int, run: int, max_clusters: int) -> CarryMachine:
    """The carry machine of ``model`` (arguments checked by the caller)."""
    tree = _read_states(model, depth, run)
    states = np.concatenate(tree.states)
    carries = np.concatenate(tree.carries)
    parents = np.concatenate(tree.parents)
    inputs = np.concatenate(tree.inputs)
    outputs = np.concatenate(tree.outputs)

    fit = fit_set(states, (4 ** (depth + 1) - 1) // 3)
    labels = cluster(states, fit, 2)
    k = 2
    counts = carry_counts(labels, carries, k)
    while (counts.min(axis=1) > 0).any() and k < max_clusters:
        k += 1
        labels = cluster(states, fit, k)
        counts = carry_counts(labels, carries, k)
    k = int(labels.max()) + 1
    counts = counts[:k]
    pure = not (counts.min(axis=1) > 0).any()
    centres = _means(states, labels, k, np.zeros((k, states.shape[1])))
    moves = transitions(labels, parents, inputs, outputs)
    blocks = minimise(k, moves)

    child = np.arange(1, len(states))
    want = (_SUM[inputs[1:]] + carries[parents[1:]]) & 1
    wrong = child[outputs[1:] != want]

    accuracy = np.array(
        [threshold_accuracy(states[:, j], carries) for j in range(states.shape[1])]
    )
    ranked = np.argsort(-accuracy, kind="stable")
    units = tuple(int(j) for j in ranked if accuracy[j] >= CARRY_UNIT)
    weights, margin = readout(states, carries)

    problems: list[str] = []
    if not pure:
        mixed = np.flatnonzero(counts.min(axis=1) > 0)
        worst = mixed[np.argsort(-counts[mixed].min(axis=1), kind="stable")][:3]
        listed = "; ".join(
            f"cluster {j} holds {counts[j, 0]} states of carry 0 "
            f"and {counts[j, 1]} of carry 1"
            for j in worst
        )
        problems.append(
            f"no clustering into at most {max_clusters} clusters keeps the carries "
            f"apart: with {k}, {len(mixed)} clusters mix them ({listed})"
        )
    if len(wrong):
        kinds: dict[tuple[int, int], list[int]] = {}
        for s in wrong.tolist():
            kinds.setdefault((int(labels[parents[s]]), int(inputs[s])), []).append(s)
        lines = []
        for (src, i), members in list(kinds.items())[:3]:
            x0, x1 = _steps.INPUTS[i]
            first = members[0]
            c = int(carries[parents[first]])
            word = _trace(parents, inputs, first)
            pair = _pair(word)
            shown = f" (add({pair[0]}, {pair[1]}))" if pair is not None else ""
            lines.append(
                f"from cluster {src} input ({x0}, {x1}) outputs {int(outputs[first])} "
                f"in {len(members)} steps, where the full adder (carry {c}) outputs "
                f"{x0 ^ x1 ^ c}; e.g. after the inputs {_word_text(word)}{shown}"
            )
        problems.append(
            f"{len(wrong)} of {len(states) - 1} sampled steps output the wrong bit: "
            + "; ".join(lines)
        )
    if pure and not wrong.size:
        problems.extend(full_adder_match(blocks, moves))
    is_adder = not problems

    sampled = (
        f"{len(states)} reachable states (every word of up to {depth} inputs, "
        f"and runs of {run} carry-keeping inputs)"
    )
    unit_text = (
        f"units {', '.join(map(str, units))} hold the carry"
        if units
        else "no unit holds the carry alone"
    )
    read_text = (
        f"a linear read-out of the carry is exact (margin {margin:.2f})"
        if margin > 0
        else f"a linear read-out of the carry is not exact (margin {margin:.2f})"
    )
    if is_adder:
        head = (
            f"The full adder: {sampled} fall into {k} clusters, each of one carry; "
            f"merged, their transitions are the full adder's two states."
        )
    else:
        head = f"Not the full adder: of {sampled}, " + "; ".join(problems) + "."
    text = f"{head} {unit_text[0].upper()}{unit_text[1:]}; {read_text}."

    return CarryMachine(
        is_full_adder=is_adder,
        explanation=text,
        states=readonly(states),
        carries=readonly(carries),
        parents=readonly(parents),
        inputs=readonly(inputs),
        outputs=readonly(outputs),
        labels=readonly(labels),
        centres=readonly(centres),
        cluster_carries=readonly(counts),
        transitions=moves,
        blocks=blocks,
        carry_units=units,
        unit_accuracy=readonly(accuracy),
        readout=readonly(weights),
        readout_margin=margin,
    )


def _trace(parents: Ints, inputs: Ints, state: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    while parents[state] >= 0:
        out.append(_steps.INPUTS[int(inputs[state])])
        state = int(parents[state])
    return out[::-1]
