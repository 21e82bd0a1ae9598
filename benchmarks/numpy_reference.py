"""The lecture's numpy code with its two wrong update lines corrected.

It lives in the package now (``binsum._lecture_code``, which
``binsum.lecture.lecture_code`` runs); this name stays for the benchmark and
tests/test_reference.py, which import it from here.
"""

from binsum._lecture_code import (
    Bits,
    Sample,
    forward_sums,
    get_sample,
    init_nn,
    make_dataset,
    samples,
    samples_from_pairs,
    sigmoid,
    train,
)

__all__ = [
    "Bits",
    "Sample",
    "forward_sums",
    "get_sample",
    "init_nn",
    "make_dataset",
    "samples",
    "samples_from_pairs",
    "sigmoid",
    "train",
]
