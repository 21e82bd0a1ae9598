"""
The trained weights
===================

The network that adds has a handful of weight matrices; seen as pictures they
show which hidden units the inputs and the previous state feed.
"""

# %%
# The shipped network, trained once and stored in the package.
import numpy as np
from matplotlib.figure import Figure

import binsum

model = binsum.BinarySumRNN.pretrained()
weights = model.weights
print({name: w.shape for name, w in weights.items()})

# %%
# One panel per weight matrix, two figures: the input and recurrent weights,
# then the output weights (a plain matplotlib ``Figure``, no pyplot).
figures = []
for names in (("wi", "wh"), ("wo",)):
    fig = Figure(figsize=(3.2 * len(names), 3), layout="constrained")
    for i, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), i + 1)
        w = weights[name]
        image = ax.imshow(w, cmap="RdBu", vmin=-np.abs(w).max(), vmax=np.abs(w).max())
        ax.set_title(f"{name} {w.shape}")
        fig.colorbar(image, ax=ax)
    figures.append(fig)
