"""Score many binsum networks at once, in C, over OpenMP threads.

An example of embedding binsum at the C level: ``_grader.pyx`` cimports
``binsum.kernel`` and calls its functions with no Python in between.
"""

from binsum_grader._grader import (
    exp_sigmoid,
    gradients_batch,
    logits_of,
    predict_batch,
    predict_one,
    step_logit,
    threads_in_parallel,
    train_on,
)

__all__ = [
    "exp_sigmoid",
    "gradients_batch",
    "logits_of",
    "predict_batch",
    "predict_one",
    "step_logit",
    "threads_in_parallel",
    "train_on",
]
