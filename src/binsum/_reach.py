"""Sound enclosures of the kernel's steps over sets of hidden states.

A set is a batch of zonotopes ``c + G e + diag(r) e'`` (e, e' in [-1, 1]): a
center c (N, H), generators G (N, m, H) and an axis-aligned radius r (N, H).
``image`` returns a zonotope that contains every state the kernel computes,
in IEEE doubles, from any state of the given set: the affine part is carried
exactly as a real map, each logistic unit is replaced by a linear relaxation,
and every rounding error (the kernel's and this module's own numpy
arithmetic, whose order and fusing are unknown) is added to r by an a-priori
bound. The bounds and their derivation are in docs/certificate.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from binsum import _steps

Array = NDArray[np.float64]

UNIT = 2.0**-53  # unit roundoff of binary64
TINY = 2.0**-1000  # absolute slack for underflow (subnormals are below it)
#: Bound on the kernel's exponential's relative error, |exp_k(x) / e**x - 1|
#: for |x| <= 708 (derived in docs/certificate.md; tests check it against
#: mpmath). Its logistic's absolute error follows: SIGMOID_ERROR.
EXP_ERROR = 1e-14
SIGMOID_ERROR = 2.0 * EXP_ERROR


def gamma(n: int) -> float:
    """An upper bound of n u / (1 - n u) with room for its own rounding."""
    return 2.0 * (n + 2) * UNIT


def up(x: Array) -> Array:
    """A value >= the exact result of the one rounded operation that gave x."""
    out: Array = np.nextafter(x, np.inf)
    return out


def down(x: Array) -> Array:
    """A value <= the exact result of the one rounded operation that gave x."""
    out: Array = np.nextafter(x, -np.inf)
    return out


@dataclass
class Zonotopes:
    """N zonotopes in R^H: center (N, H), generators (N, m, H), radius (N, H),
    and an upper bound of each coordinate's sum of |generators| (N, H)."""

    center: Array
    gens: Array
    radius: Array
    spread: Array

    @classmethod
    def of(cls, center: Array, gens: Array, radius: Array) -> Zonotopes:
        spread = up(np.abs(gens).sum(axis=1) * (1.0 + gamma(gens.shape[1])) + TINY)
        return cls(center, gens, radius, spread)

    def absum(self) -> Array:
        return self.spread

    def take(self, rows: NDArray[np.intp]) -> Zonotopes:
        return Zonotopes(
            self.center[rows], self.gens[rows], self.radius[rows], self.spread[rows]
        )


@dataclass(frozen=True)
class Network:
    """A network's weights and the constant bounds of its float rounding."""

    wi: Array  # (2, H)
    wh: Array  # (H, H)
    wo: Array  # (H,)
    step_error: Array  # (H,): |kernel's z_j - exact z_j| for any state in [0, 1]^H
    output_error: float  # |kernel's o - exact o| for any state in [0, 1]^H

    @classmethod
    def of(cls, wi: Array, wh: Array, wo: Array) -> Network:
        size = wh.shape[0]
        # The kernel sums H + 2 terms in a fixed order; each term is at most
        # |w| since states lie in [0, 1] and inputs in {0, 1}.
        col = np.abs(wi).sum(axis=0) + np.abs(wh).sum(axis=0)
        step_error = up(col * gamma(size + 2) * (1.0 + gamma(size + 2)) + TINY)
        out_sum = float(np.abs(wo).sum())
        output_error = (out_sum * gamma(size + 1)) * (1.0 + gamma(size + 1)) + TINY
        return cls(
            np.ascontiguousarray(wi),
            np.ascontiguousarray(wh),
            np.ascontiguousarray(wo).reshape(-1),
            step_error,
            float(np.nextafter(output_error, np.inf)),
        )


def _relax(lo: Array, hi: Array) -> tuple[Array, Array, Array]:
    # Slope lam and offsets mu_lo <= mu_hi with lam z + mu_lo <= f(z) <=
    # lam z + mu_hi for z in [lo, hi], f the kernel's logistic (the real
    # logistic within SIGMOID_ERROR). The real logistic's slope s(1 - s) is
    # smallest at an end of the interval (it rises to z = 0 and falls after),
    # so with lam at most that, s(z) - lam z is non-decreasing there.
    eta = SIGMOID_ERROR
    s_lo = _steps.sigmoid(lo)
    s_hi = _steps.sigmoid(hi)
    slope = np.minimum(s_lo * (1.0 - s_lo), s_hi * (1.0 - s_hi))
    lam = np.maximum(0.0, down(slope * (1.0 - 8.0 * UNIT) - 3.0 * eta))
    lam_lo = lam * lo  # exact to within u |lam lo|
    lam_hi = lam * hi
    mu_lo = down((s_lo - 2.0 * eta) - lam_lo - 4.0 * UNIT * (np.abs(lam_lo) + 1.0))
    mu_hi = up((s_hi + 2.0 * eta) - lam_hi + 4.0 * UNIT * (np.abs(lam_hi) + 1.0))
    return lam, mu_lo, mu_hi


def images(net: Network, zs: Zonotopes, x0: Array, x1: Array) -> Zonotopes:
    """The kernel's step from every state of ``zs``, for each input (x0[i],
    x1[i]): zonotope i * N + n holds the steps from zonotope n with input i."""
    wh = net.wh
    n, m, size = zs.gens.shape
    awh = np.abs(wh)
    # Affine part z = x0 wi0 + x1 wi1 + h wh: its generators do not depend
    # on the input; the radius becomes H generators.
    gens = np.empty((n, m + size, size))
    gens[:, :m] = (zs.gens.reshape(-1, size) @ wh).reshape(n, m, size)
    np.multiply(zs.radius[:, :, None], wh[None], out=gens[:, m:])
    base = zs.center @ wh
    # This module's rounding: every entry is a sum of at most H + 2 products;
    # its error is below gamma(H + 2) times the sum of their sizes.
    sizes = np.abs(base) + (np.abs(zs.center) + zs.absum() + zs.radius) @ awh
    spread = np.abs(gens).sum(axis=1)
    out = Zonotopes(
        np.empty((len(x0) * n, size)),
        np.empty((len(x0) * n, m + size, size)),
        np.empty((len(x0) * n, size)),
        np.empty((len(x0) * n, size)),
    )
    for i in range(len(x0)):
        inputs = x0[i] * net.wi[0] + x1[i] * net.wi[1]
        center = inputs + base
        own = (sizes + np.abs(inputs)) * (gamma(size + 2) * (1.0 + gamma(m + size + 2)))
        radius = up(own + net.step_error + TINY)
        half = up((spread + radius) * (1.0 + gamma(m + size + 1)) + TINY)
        lo = down(center - half)
        hi = up(center + half)
        lam, mu_lo, mu_hi = _relax(lo, hi)
        # h = lam z + [mu_lo - eta, mu_hi + eta] (eta: the kernel's logistic).
        mid = 0.5 * (mu_lo + mu_hi)
        offset = up(0.5 * (mu_hi - mu_lo)) + SIGMOID_ERROR
        rows = slice(i * n, (i + 1) * n)
        new_center = lam * center + mid
        np.multiply(gens, lam[:, None, :], out=out.gens[rows])
        new_spread = lam * spread
        rounding = (
            np.abs(lam * center) + np.abs(mid) + new_spread + lam * radius + offset
        ) * (4.0 * UNIT)
        out.center[rows] = new_center
        out.radius[rows] = up(lam * radius + offset + rounding + TINY)
        # |lam g| summed over the generators, to within rounding (the
        # rounding bounds that read it have room for that).
        out.spread[rows] = up(new_spread * (1.0 + gamma(m + size)))
    return out


def output_bounds(net: Network, zs: Zonotopes) -> tuple[Array, Array]:
    """Bounds (lo, hi) of the kernel's logit o = h . wo over each zonotope."""
    wo = net.wo
    awo = np.abs(wo)
    m = zs.gens.shape[1]
    size = wo.shape[0]
    mid = zs.center @ wo
    spread = np.abs(zs.gens @ wo).sum(axis=1) + zs.radius @ awo
    sizes = np.abs(zs.center) @ awo + np.abs(zs.gens).sum(axis=1) @ awo
    own = (sizes + spread) * gamma(size + m + 2) + np.abs(mid) * UNIT
    rad = up(spread + own + net.output_error + TINY)
    return down(mid - rad), up(mid + rad)


def groups(which: NDArray[np.intp]) -> Iterator[tuple[int, NDArray[np.intp]]]:
    """(k, the rows i with which[i] == k) for each k that occurs."""
    order = np.argsort(which, kind="stable")
    cuts = np.flatnonzero(np.diff(which[order])) + 1
    for rows in np.split(order, cuts):
        yield int(which[rows[0]]), rows


@dataclass(frozen=True)
class Boxes:
    """Parallelepipeds {h : |A (h - p)|_inf <= 1}, with B close to A's inverse.

    ``center`` p (K, H), ``inverse`` A (K, H, H), ``basis`` B (K, H, H).
    """

    center: Array
    inverse: Array
    basis: Array

    def slack(self, which: NDArray[np.intp], zs: Zonotopes) -> Array:
        """For zonotope i, an upper bound of max |A_k (h - p_k)| over it, k =
        which[i]: at most 1 means zonotope i lies in box k."""
        out = np.empty(len(which))
        m = zs.gens.shape[1]
        size = zs.center.shape[1]
        for k, rows in groups(which):
            a = self.inverse[k]
            aa = np.abs(a)
            d = zs.center[rows] - self.center[k]
            mid = d @ a.T
            spread = np.abs(zs.gens[rows] @ a.T).sum(axis=1) + zs.radius[rows] @ aa.T
            # d is one rounding from c - p; each row sum has at most H + m terms.
            near = np.abs(d) @ aa.T
            own = (near + spread) * gamma(size + m + 2) + near * UNIT
            out[rows] = up(np.abs(mid) + spread + own + TINY).max(axis=1)
        return out

    def as_zonotopes(self, which: NDArray[np.intp]) -> Zonotopes:
        """Zonotopes that contain boxes ``which``: p + rho B e with rho from
        ||A B - I||_inf < 1, since A (h - p) = y with |y| <= 1 gives
        h - p = B (A B)^-1 y and ||(A B)^-1||_inf <= 1 / (1 - ||A B - I||)."""
        a = self.inverse[which]
        b = self.basis[which]
        size = a.shape[1]
        eye = np.eye(size)
        prod = a @ b - eye
        err = (np.abs(a) @ np.abs(b)) * gamma(size + 2) + UNIT
        defect = up(np.abs(prod) + err).sum(axis=2).max(axis=1)
        defect = up(defect * (1.0 + gamma(size + 2)))
        if np.any(defect >= 0.5):
            raise ValueError("a box's basis is not close to the inverse of its matrix")
        rho = up(1.0 / down(1.0 - defect))  # up to rounding, bounded below
        rho = up(rho * (1.0 + 4.0 * UNIT))
        gens = np.transpose(b, (0, 2, 1)) * rho[:, None, None]  # columns of B
        radius = np.abs(gens).sum(axis=1) * (4.0 * UNIT) + TINY
        return Zonotopes.of(self.center[which].copy(), gens, radius)
