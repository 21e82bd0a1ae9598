"""Draw docs/carry.png: the shipped network's carry machine.

    python docs/carry_figure.py [--out docs/carry.png]

Run by hand (needs matplotlib) after the shipped network or
``BinarySumRNN.automaton`` changes. It reads the machine of
``BinarySumRNN.pretrained()`` (about a second) and draws it with
``binsum.plot.carry_machine``: the reachable hidden states on their two
principal axes coloured by carry, the clusters and their transitions, and
the full adder's two states they merge into.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from binsum import BinarySumRNN, plot

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(HERE / "carry.png"))
    args = parser.parse_args()
    machine = BinarySumRNN.pretrained().automaton()
    if not machine.is_full_adder:
        raise SystemExit(f"the shipped network is not the full adder: {machine}")
    plot.carry_machine(machine, save=args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
