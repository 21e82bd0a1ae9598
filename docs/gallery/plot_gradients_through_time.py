"""
Gradients through time
======================

The network adds bit by bit, least significant first, so its hidden state
must carry the carry from one step to the next. Here is what the shipped
network's state does on a long carry chain, and how the training gradient
of one pair flows back through the steps: it shrinks going back in time
(the vanishing gradient), and a small clip bounds it.
"""

# %%
# The hidden states of a long carry chain
# ---------------------------------------
# ``2**20 - 1 + 1``: twenty ones plus one, a carry that runs through every
# bit. ``model.hidden_states(a, b)`` returns ``h_0 .. h_T`` from the very pass
# ``add`` runs; the picture puts them over the input bits, the true carry
# after each step and the network's output bits. A few units switch with the
# carry and hold it steady for the whole run.
from binsum import BinarySumRNN, plot

model = BinarySumRNN.pretrained()
a, b = 2**20 - 1, 1
states_figure = plot.hidden_states(model, a, b)
states_figure

# %%
# Gradients shrink going back in time
# -----------------------------------
# ``model.bptt(a, b)`` keeps every intermediate of backpropagation through
# time for one training pair. The shipped weights in a 40-bit model, on
# ``2**38 + 2**38``: the only real errors are at the top two bits, and the
# hidden deltas below them are that error carried back step by step through
# ``wh`` and the sigmoid's slope; they lose orders of magnitude on the way.
long_model = BinarySumRNN(hidden_size=16, bits=40, seed=0)
long_model.set_weights(**model.weights)
steps = long_model.bptt(2**38, 2**38)
print(f"|delta_a| at the top step {steps.delta_a_norms[39]:.1e}, "
      f"ten steps back {steps.delta_a_norms[29]:.1e}, "
      f"at step 10 {steps.delta_a_norms[10]:.1e}")
vanishing_figure = plot.gradient_norms(long_model, 2**38, 2**38)
vanishing_figure

# %%
# When the clip binds
# -------------------
# Training clips each hidden delta to ``[-clip, clip]`` (5 by default, which
# the shipped network never reaches). A network training with
# ``clip=0.02``, 2,000 samples in and still far from exact, has its deltas
# clipped on most steps of a pair with a long carry: the shaded steps.
clipped = BinarySumRNN(hidden_size=16, learning_rate=0.5, clip=0.02, seed=5)
clipped.fit(2000)
view = clipped.bptt(127, 128)
print(f"clipped on {int(view.clipped_steps.sum())} of {view.bits} steps, "
      f"{int(view.clipped.sum())} deltas in all")
clip_figure = plot.gradient_norms(clipped, 127, 128)
clip_figure

# %%
# The per-step terms add up to the training gradient
# --------------------------------------------------
# ``bptt`` repeats the kernel's arithmetic in its order, so its per-step
# gradient terms, added from the last step to the first, are exactly what
# ``loss_and_gradients`` (and so ``fit``) uses.
import numpy as np  # noqa: E402

loss, grads = clipped.loss_and_gradients(127, 128)
summed = clipped.bptt(127, 128).gradients()
print(all(np.array_equal(summed[k], grads[k]) for k in grads))
