"""
What the hidden state remembers
===============================

To add bit by bit, least significant first, one only has to remember the
carry: addition is a machine of two states (carry 0 and carry 1) that reads
a pair of bits, writes their sum bit and moves to the next carry. A network
that adds must keep the carry in its hidden state. ``automaton()`` looks for
that machine in the states the network really visits.
"""

# %%
# The shipped network
# -------------------
# ``automaton()`` runs the network (bit for bit as ``add`` does) over every
# input word of up to 6 inputs and over long carry chains, groups the hidden
# states into as few clusters as keep the carries apart, reads the
# transitions each input causes between clusters, and merges the clusters
# into the smallest machine with the same behaviour.
from binsum import BinarySumRNN, plot

machine = BinarySumRNN.pretrained().automaton()
print(machine)

# %%
# On the left, the states on their two principal axes, coloured by the carry
# they stand for, with the cluster centres and the transitions between them.
# On the right, the machine they merge into: the full adder's.
fig = plot.carry_machine(machine)
fig

# %%
# Which units hold the carry
# --------------------------
# For each hidden unit, the fraction of states a single threshold on it
# classifies by carry; the carry units need no other unit.
for unit in machine.carry_units:
    print(f"unit {unit}: {machine.unit_accuracy[unit]:.4f}")
print(f"least-squares read-out margin: {machine.readout_margin:.3f}")

# %%
# A network before training
# -------------------------
# Untrained, the states do not separate the carries and the outputs are
# wrong: the explanation says where.
untrained = BinarySumRNN(seed=1).automaton(run=16, max_clusters=8)
print(untrained)
plot.carry_machine(untrained)
