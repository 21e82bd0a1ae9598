"""
Train a network and watch the loss
==================================

A network of the lecture's size learns to add 8-bit numbers in a few thousand
iterations. ``history`` holds the loss of every training sample, so the
learning curve is one plot away.
"""

# %%
# Train from a fixed seed: the same seed gives the same network, bit for bit.
import numpy as np

import binsum
from binsum.plot import _figure

model = binsum.BinarySumRNN(seed=0).fit(10_000)
print(f"exact sums: {model.score():.1%} of all 8-bit pairs")

# %%
# The loss per sample and its moving average (log scale): the network is
# stuck near the loss of guessing, then learns the carry and the loss drops.
loss = np.asarray(model.history)
window = 200
mean = np.convolve(loss, np.ones(window) / window, mode="valid")
fig = _figure(7, 3.5)
ax = fig.add_subplot()
ax.plot(np.arange(1, loss.size + 1), loss, color="0.8", linewidth=0.5)
ax.plot(np.arange(window, loss.size + 1), mean, color="C0")
ax.set_yscale("log")
ax.set_xlabel("iteration")
ax.set_ylabel("loss")
ax.set_title("Training loss, seed 0")
fig

# %%
# The trained network adds numbers longer than the ones it was trained on.
print(model.add(2**40 + 12345, 2**39 - 1) == 2**40 + 12345 + 2**39 - 1)
