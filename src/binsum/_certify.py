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
from binsum._invariant import KEYS, WORDS, Codes
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


def walks(net: Network, seed: int = 0) -> tuple[Array, Codes]:
    """States and keys of the first steps and of random words after them:
    half uniform, half long runs that keep the carry (the hard ones)."""
    h, keys, _, _ = inv.transient(net)
    rng = np.random.Generator(np.random.PCG64(seed))
    start = rng.integers(0, len(h), _WALKS)
    state = h[start]
    key = keys[start]
    out_h = [h]
    out_k = [keys]
    wo = net.wo[:, None]
    runs = rng.random(_WALKS) < 0.5
    for _ in range(_WALK_STEPS):
        carry = inv.key_carry(key)
        uniform = rng.integers(0, 4, _WALKS)
        # A run keeps the carry: inputs 01/10, or 00 with carry 0, 11 with 1.
        keep = np.where(rng.random(_WALKS) < 0.7, rng.integers(1, 3, _WALKS), 3 * carry)
        pick = np.where(runs, keep, uniform)
        x0 = inv._X0[pick][:, None]
        x1 = inv._X1[pick][:, None]
        state, _ = _steps.step(net.wi, net.wh, wo, state, x0, x1)  # type: ignore[arg-type]
        key = inv.shift_key(key, pick)
        out_h.append(state)
        out_k.append(key)
    return np.concatenate(out_h), np.concatenate(out_k)


def initial_axes(h: Array, keys: Codes) -> Axes:
    """Each key's states in their principal axes, and their bounding box."""
    size = h.shape[1]
    mean = np.zeros((KEYS, size))
    axes = np.tile(np.eye(size), (KEYS, 1, 1))
    lo = np.zeros((KEYS, size))
    hi = np.zeros((KEYS, size))
    for k in range(KEYS):
        states = h[keys == k]
        if len(states) == 0:
            continue
        mean[k] = states.mean(axis=0)
        d = states - mean[k]
        if len(states) > 1:
            _, vecs = np.linalg.eigh(d.T @ d)
            axes[k] = vecs[:, ::-1]
        y = d @ axes[k]
        lo[k] = y.min(axis=0)
        hi[k] = y.max(axis=0)
    return Axes(mean, axes, lo, hi)


@dataclass
class Search:
    """The result of ``search``: the boxes and the check's last verdict."""

    boxes: Boxes
    verdict: inv.Verdict
    rounds: int


def search(net: Network, rounds: int = ROUNDS) -> Search:
    """Grow boxes from the simulated states until the check accepts them."""
    h, keys = walks(net)
    axes = initial_axes(h, keys)
    for done in range(1, rounds + 1):
        boxes = axes.boxes()
        lo = axes.lo.copy()
        hi = axes.hi.copy()

        def widen(targets: Codes, zs: Zonotopes) -> None:
            a, b = axes.extents(targets, zs)
            np.minimum.at(lo, targets, a)
            np.maximum.at(hi, targets, b)

        verdict = inv.check(net, boxes, widen)
        if verdict.ok or verdict.margin <= 0.0:
            return Search(boxes, verdict, done)
        axes = Axes(axes.mean, axes.axes, lo, hi)
    return Search(boxes, verdict, rounds)
