"""
Train and watch the loss
========================

The lecture's network (16 hidden units, sums below 2**8) trained on 10,000
random pairs, one SGD step each, with a checkpoint of its accuracy every
500 samples. In a notebook, ``fit(progress=True)`` also shows a progress bar.
"""

# %%
# Train, recording the fraction of exact sums at each checkpoint. The callback
# runs inside ``fit``; reading the model there (``score``, ``predict``, its
# table) is allowed, changing it is not.
from binsum import BinarySumRNN, plot

model = BinarySumRNN(seed=0)
accuracy = [(0, model.score())]


def checkpoint(m: BinarySumRNN, done: int, loss: float) -> None:
    accuracy.append((m.iterations, m.score()))


model.fit(10_000, log_every=500, callback=checkpoint)

# %%
# The loss of every sample (grey) falls by orders of magnitude once the
# network has found the carry; the accuracy jumps from near 0 to 100 %.
fig = plot.training_curve(model, accuracy=accuracy)

# %%
# In a notebook the model shows itself as a table.
model

# %%
# How the trained network adds one pair: its bits column by column, and how
# sure it is of each.
fig = plot.column_addition(model, 12345, 67890)
