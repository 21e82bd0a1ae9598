"""
Long numbers and their hard cases
=================================

A network trained on 8-bit sums adds numbers of any length, one column per
step, if its hidden state keeps the carry. Random long pairs almost never
test that: a long carry chain (a run of columns where the carry must be kept
unchanged) is what breaks a network that only nearly learned it.
``counterexample()`` searches those hard cases; ``certify()`` proves a
network exact for every length.
"""

# %%
# A 16-unit network (seed 9) is exact on all 32,896 training sums ...
from binsum import BinarySumRNN, plot

model = BinarySumRNN(hidden_size=16, seed=9).fit(10_000)
print(f"exact sums: {model.score():.2%} of the pairs with a + b < 2**8")

# %%
# ... but not on a 44-bit sum whose carry runs through 43 columns.
a, b = model.counterexample()
print(f"{a} + {b}: the network says {model.add(a, b)}, the sum is {a + b}")

# %%
# Its confidence fades along the carry chain (right to left) until, at the
# top, it drops the carry: the red column.
fig = plot.column_addition(model, a, b)

# %%
# The shipped network keeps the carry through the same chain, and through any
# other: ``certify()`` proves it exact for every pair of any length, for the
# arithmetic binsum runs (this takes a few seconds).
shipped = BinarySumRNN.pretrained()
print(shipped.certify())
fig = plot.column_addition(shipped, a, b)
