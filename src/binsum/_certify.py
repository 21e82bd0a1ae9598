"""The search for base sets that ``binsum._invariant.check`` accepts.

Start from the states of simulated words, a box per key in the principal
axes of that key's states; then grow each box to hold the enclosures of
every window from every base, until nothing leaves its box (or the rounds
run out, or an output's sign cannot be proven). Only the check's verdict
matters: this search just proposes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from binsum import _invariant as inv
from binsum import _steps
from binsum._invariant import Codes
from binsum._reach import Array, Boxes, Network, Zonotopes, groups

ROUNDS = 40
_WALKS = 2048  # simulated words (beyond the first TRANSIENT inputs)
_WALK_STEPS = 40
_GROW = 1.1  # each round's boxes are a little larger than what they must hold
_FLOOR = 1e-9  # smallest half-width: rounding bounds are far below it


@dataclass
class Axes:
    """A box per key in its own orthonormal axes: h = mean + U y, lo <= y <= hi."""

    mean: Array  # (K, H)
    axes: Array  # (K, H, H), columns are the axes
    lo: Array  # (K, H)
    hi: Array  # (K, H)

    def boxes(self) -> Boxes:
        half = np.maximum((self.hi - self.lo) * (0.5 * _GROW), _FLOOR)
        mid = 0.5 * (self.lo + self.hi)
        center = self.mean + np.einsum("kij,kj->ki", self.axes, mid)
        inverse = np.transpose(self.axes, (0, 2, 1)) / half[:, :, None]
        basis = self.axes * half[:, None, :]
        return Boxes(center, inverse, basis)

    def extents(self, which: Codes, zs: Zonotopes) -> tuple[Array, Array]:
        """Each zonotope's range of coordinates in the axes of box which[i]."""
        lo = np.empty_like(zs.center)
        hi = np.empty_like(zs.center)
        for k, rows in groups(which):
            u = self.axes[k]
            yc = (zs.center[rows] - self.mean[k]) @ u
            yr = np.abs(zs.gens[rows] @ u).sum(axis=1) + zs.radius[rows] @ np.abs(u)
            lo[rows] = yc - yr
            hi[rows] = yc + yr
        return lo, hi


def walks(net: Network, keyset: inv.Keys, seed: int = 0) -> tuple[Array, Codes]:
    """States and keys of the first steps and of random words after them: a
    third uniform, a third runs that keep the carry, a third carry chains
    (01/10 only) long enough to reach every key."""
    h, keys, _, _ = inv.transient(net, keyset)
    rng = np.random.Generator(np.random.PCG64(seed))
    start = rng.integers(0, len(h), _WALKS)
    state = h[start]
    key = keys[start]
    out_h = [h]
    out_k = [keys]
    wo = net.wo[:, None]
    kind = rng.integers(0, 3, _WALKS)
    for _ in range(max(_WALK_STEPS, keyset.run + 2 * inv.WINDOW)):
        carry = keyset.carry_now(key)
        uniform = rng.integers(0, 4, _WALKS)
        chain = rng.integers(1, 3, _WALKS)
        # A run keeps the carry: inputs 01/10, or 00 with carry 0, 11 with 1.
        keep = np.where(rng.random(_WALKS) < 0.7, chain, 3 * carry)
        pick = np.choose(kind, [uniform, keep, chain])
        x0 = inv._X0[pick][:, None]
        x1 = inv._X1[pick][:, None]
        state, _ = _steps.step(net.wi, net.wh, wo, state, x0, x1)
        key = keyset.shift(key, pick)
        out_h.append(state)
        out_k.append(key)
    return np.concatenate(out_h), np.concatenate(out_k)


_CLUSTERS = 1  # most bases of one key (more did not help: see docs)
_GAP = 0.25  # a key's states split where a gap spans this share of their range


def _clusters(states: Array) -> list[Array]:
    # Split along the first principal axis at gaps (the states of one key
    # form separate clouds when the network remembers more than the key).
    parts = [states]
    while len(parts) < _CLUSTERS:
        widest = max(range(len(parts)), key=lambda i: _spread(parts[i])[0])
        span, y = _spread(parts[widest])
        order = np.sort(y)
        gaps = np.diff(order)
        if len(gaps) == 0 or span == 0.0 or gaps.max() < _GAP * span:
            break
        cut = order[gaps.argmax()]
        part = parts.pop(widest)
        parts += [part[y <= cut], part[y > cut]]
    return parts


def _spread(states: Array) -> tuple[float, Array]:
    d = states - states.mean(axis=0)
    if len(states) < 2:
        return 0.0, d[:, 0]
    _, vecs = np.linalg.eigh(d.T @ d)
    y = d @ vecs[:, -1]
    return float(y.max() - y.min()), y


def initial_axes(h: Array, keys: Codes, keyset: inv.Keys) -> tuple[Axes, Codes]:
    """Bases from the simulated states: for each key its clouds of states,
    each in its principal axes with its bounding box; and each base's key."""
    size = h.shape[1]
    means, axes, los, his, owner = [], [], [], [], []
    for k in range(keyset.size):
        states = h[keys == k]
        if len(states) == 0:  # not met: the states of its window, any run
            same = (keyset.carry[keys] == keyset.carry[k]) & (
                keyset.word[keys] == keyset.word[k]
            )
            states = h[same]
        for part in _clusters(states):
            mean = part.mean(axis=0)
            d = part - mean
            basis = np.eye(size)
            if len(part) > 1:
                basis = np.linalg.eigh(d.T @ d)[1][:, ::-1]
            y = d @ basis
            means.append(mean)
            axes.append(basis)
            los.append(y.min(axis=0))
            his.append(y.max(axis=0))
            owner.append(k)
    return (
        Axes(np.array(means), np.array(axes), np.array(los), np.array(his)),
        np.array(owner, dtype=np.int64),
    )


@dataclass
class Search:
    """The result of ``search``: the bases, their keys and the check's last
    verdict."""

    boxes: Boxes
    owner: Codes
    verdict: inv.Verdict
    rounds: int


def search(net: Network, keyset: inv.Keys, rounds: int = ROUNDS) -> Search:
    """Grow bases from the simulated states until the check accepts them."""
    h, keys = walks(net, keyset)
    axes, owner = initial_axes(h, keys, keyset)
    table = inv.members(owner, keyset.size)
    for done in range(1, rounds + 1):
        boxes = axes.boxes()
        lo = axes.lo.copy()
        hi = axes.hi.copy()

        def widen(
            targets: Codes,
            zs: Zonotopes,
            axes: Axes = axes,
            lo: Array = lo,
            hi: Array = hi,
        ) -> None:
            # Each image grows the base of its key that it leaves the least.
            best = np.full(len(targets), np.inf)
            pick = np.zeros(len(targets), dtype=np.int64)
            bounds = []
            for c in range(table.shape[1]):
                cand = table[targets, c]
                ok = cand >= 0
                a, b = axes.extents(np.where(ok, cand, 0), zs)
                width = np.maximum(axes.hi - axes.lo, _FLOOR)[np.where(ok, cand, 0)]
                lo_c = axes.lo[np.where(ok, cand, 0)]
                hi_c = axes.hi[np.where(ok, cand, 0)]
                excess = (np.maximum(lo_c - a, 0) + np.maximum(b - hi_c, 0)) / width
                score = np.where(ok, excess.max(axis=1), np.inf)
                better = score < best
                best[better] = score[better]
                pick[better] = c
                bounds.append((cand, a, b))
            for c, (cand, a, b) in enumerate(bounds):
                rows = pick == c
                np.minimum.at(lo, cand[rows], a[rows])
                np.maximum.at(hi, cand[rows], b[rows])

        verdict = inv.check(net, boxes, owner, keyset, widen)
        if verdict.ok or verdict.margin <= 0.0:
            return Search(boxes, owner, verdict, done)
        axes = Axes(axes.mean, axes.axes, lo, hi)
    return Search(boxes, owner, verdict, rounds)
