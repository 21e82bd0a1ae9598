"""
The lecture's code, as written and corrected
============================================

The lecture's TP trains the network with two update lines that do not
compute the gradient its own derivation gives:

.. code-block:: python

    wh_update += prev_ht * ht * (1 - ht) * ht_delta       # as written
    wi_update += x.T @ (ht * (1 - ht) * ht_delta)

    wh_update += prev_ht.T @ ht_delta                      # corrected
    wi_update += x.T @ ht_delta

The first multiplies elementwise (numpy broadcasts the two rows) where the
outer product of ``h_{t-1}`` and ``delta_a_t`` is meant; both apply the
sigmoid's derivative a second time, though ``ht_delta`` already holds it.
:func:`binsum.lecture.lecture_code` runs the lecture's numpy loop both ways
from the same start (the initial weights and training pairs of
``BinarySumRNN(seed=0)``).
"""

# %%
# Train both, 10,000 samples each
# -------------------------------
from binsum import lecture, plot

result = lecture.lecture_code(seed=0)
print(result)

# %%
# The loss during training, and the exact sums after it
# -----------------------------------------------------
# The corrected code is binsum's algorithm: its weights agree with
# ``BinarySumRNN(seed=0).fit(10_000)`` to the rounding of numpy's
# exponential (``result.binsum_difference``). The code as written lowers
# the loss more slowly, and stops far from adding.
fig = plot.lecture_comparison(result)
