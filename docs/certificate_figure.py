"""Draw docs/certificate.png: the shipped network's hidden states and its invariant.

    python docs/certificate_figure.py [--certificate c.npz] [--out docs/certificate.png]

Run by hand (needs matplotlib) after the certificate or the shipped network
changes. It certifies ``BinarySumRNN.pretrained()`` (about 20 s), or loads a
certificate saved with ``binsum certify --save c.npz`` and checks it, then
runs 3,000 random words of 200 inputs (and 200 long carry chains: 1 + 2**n - 1)
through the network's step, exactly as the kernel computes it, and projects
the hidden states on their two principal axes. Left: the states, coloured by
the carry they stand for. Right: the same states under the certificate's 512
base sets, each the parallelepiped p + B [-1, 1]^H drawn as its exact 2-D
shadow (a zonogon, the sum of the projected edges B e_j), coloured by the
carry its key implies.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PolyCollection

from binsum import BinarySumRNN, Certificate, _steps
from binsum import _invariant as inv

COLOURS = ("#1f77b4", "#d62728")  # carry 0, carry 1
HERE = Path(__file__).parent


def simulate(
    model: BinarySumRNN, words: int, steps: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """States after each input of random words and of long carry chains, with
    the carry each state stands for (skipping the first 5 steps, the
    certificate's transient)."""
    w = model.weights
    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, 4, size=(words, steps))
    chains = np.zeros((200, steps), dtype=np.int64)  # 1 + (2**n - 1): 11 then 01...
    chains[:, 0] = 3
    chains[:, 1:] = 2
    for i, n in enumerate(rng.integers(6, steps, size=200)):
        chains[i, n:] = 0  # the chain ends, the carry goes out
    inputs = np.concatenate([inputs, chains])
    sums = np.array([x + y for x, y in _steps.INPUTS])
    h = np.zeros((len(inputs), model.hidden_size))
    carry = np.zeros(len(inputs), dtype=np.int64)
    states, carries = [], []
    for t in range(steps):
        new = np.empty_like(h)
        for code, (x0, x1) in enumerate(_steps.INPUTS):
            rows = inputs[:, t] == code
            if rows.any():
                start = None if t == 0 else h[rows]
                out, _ = _steps.step(
                    w["wi"], w["wh"], w["wo"], start, float(x0), float(x1)
                )
                new[rows] = out
        h = new
        carry = (sums[inputs[:, t]] + carry) >> 1
        if t >= inv.TRANSIENT:
            states.append(h.copy())
            carries.append(carry.copy())
    return np.concatenate(states), np.concatenate(carries)


def zonogon(center: np.ndarray, gens: np.ndarray) -> np.ndarray:
    """Vertices of center + gens @ [-1, 1]^m in 2-D (gens (2, m)), in order."""
    g = gens.T.copy()
    flip = (g[:, 1] < 0) | ((g[:, 1] == 0) & (g[:, 0] < 0))
    g[flip] *= -1  # every edge pointing into the upper half-plane
    g = g[np.argsort(np.arctan2(g[:, 1], g[:, 0]))]
    start = center - g.sum(axis=0)
    path = np.concatenate([[start], start + np.cumsum(2 * g, axis=0)])
    back = path[-1] - np.cumsum(2 * g, axis=0)
    return np.concatenate([path, back[:-1]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--certificate", default=None, help="a saved certificate of the shipped network"
    )
    parser.add_argument("--out", default=str(HERE / "certificate.png"))
    args = parser.parse_args()
    model = BinarySumRNN.pretrained()
    if args.certificate:
        cert = Certificate.load(args.certificate)
        if not cert.check(model):
            raise SystemExit(
                f"{args.certificate} does not hold for the shipped network"
            )
    else:
        cert = model.certify()
    if not cert.proven:
        raise SystemExit(f"the shipped network is not proven: {cert.reason}")

    states, carries = simulate(model, 3000, 200)
    mean = states.mean(axis=0)
    _, _, vt = np.linalg.svd(states - mean, full_matrices=False)
    axes = vt[:2]  # the two principal axes
    xy = (states - mean) @ axes.T

    keys = inv.Keys.of(cert.scheme[2])
    key_carry = inv.carry_after(keys.carry, keys.word, inv.WINDOW)[cert.owner]
    polys = [
        zonogon(axes @ (p - mean), axes @ b)
        for p, b in zip(cert.center, cert.basis, strict=True)
    ]

    fig, panels = plt.subplots(
        1, 2, figsize=(11, 5), sharex=True, sharey=True, constrained_layout=True
    )
    order = np.random.default_rng(1).permutation(len(xy))[:60_000]  # a readable sample
    for c in (0, 1):
        mine = [p for p, k in zip(polys, key_carry, strict=True) if k == c]
        panels[1].add_collection(
            PolyCollection(
                mine,
                facecolors=COLOURS[c],
                edgecolors=COLOURS[c],
                alpha=0.3,
                linewidths=0.9,
                zorder=3,
            )
        )  # over the states: the thin sets stay visible
    for ax, size, shade in ((panels[0], 2.0, None), (panels[1], 0.4, "black")):
        for c in (0, 1):
            pick = order[carries[order] == c]
            ax.scatter(
                xy[pick, 0],
                xy[pick, 1],
                s=size,
                color=shade or COLOURS[c],
                alpha=0.35,
                linewidths=0,
                label=f"carry {c}",
                rasterized=True,
            )
        ax.set_xlabel("principal axis 1")
        ax.grid(alpha=0.2)
    panels[0].set_ylabel("principal axis 2")
    panels[0].set_title("hidden states after random words and carry chains")
    leg = panels[0].legend(loc="best", markerscale=6)
    for handle in leg.legend_handles:
        handle.set_alpha(1)
    panels[1].set_title(
        f"the certificate's {len(polys)} base sets (2-D shadows), over the states"
    )
    panels[1].autoscale_view()
    fig.suptitle(
        f"shipped network (hidden {model.hidden_size}): proven, worst inclusion "
        f"{cert.slack:.3f} (< 1 holds), smallest output margin {cert.margin:.2f}"
    )
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
