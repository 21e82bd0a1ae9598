"""
How often small networks learn addition
=======================================

The lecture trains one network of 16 hidden units. How many units does the
carry need, and how often does training find it? A small sweep: five sizes,
six seeds each, 10,000 samples per network, then a search of each trained
network's hard cases (long carry chains, up to 1,024-bit operands).
"""

# %%
import binsum
from binsum import plot

configs = [{"hidden_size": h, "seed": s} for h in (2, 4, 6, 8, 16) for s in range(6)]
records = binsum.sweep(configs, 10_000, hard_bits=1024)

# %%
# Two or four units never learn it here; sixteen learn it from every seed
# tried, within 5,000 samples. In between, training finds the carry from some
# seeds only, a network can be exact at one checkpoint and not at the end
# (the dots count the networks exact at some checkpoint), and a network can
# be exact on every 8-bit training pair and still fail a longer sum:
# ``score`` alone does not tell.
fig = plot.sweep_outcomes(records)

# %%
# The networks that are exact on the training sums but have a counterexample:
for r in records:
    if r["score"] == 1.0 and r["counterexample"] is not None:
        a, b = r["counterexample"]
        print(f"hidden {r['hidden_size']}, seed {r['seed']}: wrong on {a} + {b}")
