"""
Two architectures that cannot add
=================================

The lecture asks why a network whose hidden state is built from the inputs
alone, without ``h_{t-1}``, is less expressive, and relates the linear RNN
``h_t = a h_{t-1} + b x_t`` to ARMA models. Both are trained here with the
lecture's algorithm (same initial weights, pairs, learning rate and clip as
``BinarySumRNN``), and compared with what any network of their kind can do.
"""

# %%
# Without feedback
# ----------------
# The output at column t sees only (a_t, b_t): it is one of 16 tables from
# two bits to one, the same at every column. The sum's bit is
# a_t xor b_t xor carry, and the carry depends on all earlier columns. The
# best table, xor, is right exactly on the pairs that never carry.
from binsum import lecture, plot

no_feedback = lecture.without_feedback(seeds=range(5))
print(no_feedback)

# %%
# The lecture's picture, in0 + in1 -> hidden1, is a window of two columns:
# it knows the carry after a 00 or a 11 column, not through a run of 01 and
# 10 columns. Better, and still not addition.
print(lecture.without_feedback(seeds=range(5), window=2))

# %%
# The linear RNN
# --------------
# Its state can hold the whole past: with ``wh = I/2`` and ``wi = I``, it is
# each operand's value read so far, divided by 2**t, and three thresholds
# of it give the sum's bit. But its own output is linear: given the past,
# o_t = r + m0 a_t + m1 b_t, and no threshold of that computes
# a_t xor b_t, so one pair of every four that differ only in column 0 is
# wrong. Trained, its state also grows without bound (nothing squashes it).
linear = lecture.linear_rnn(seed=0)
print(linear)

# %%
# Both, side by side
# ------------------
fig = plot.architectures(no_feedback, linear)
