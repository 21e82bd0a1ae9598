"""ModelFileError: what binsum raises for a file or pickle that is not a model."""

from __future__ import annotations


class ModelFileError(ValueError):
    """A file (or pickled state) is not a valid binsum model.

    Raised by ``BinarySumRNN.load`` (and ``binsum add/eval --model``) for
    anything that is not a regular file in binsum's model layout: a FIFO,
    device, socket or directory; a damaged or oversized zip; object arrays,
    compressed members, missing keys, wrong shapes or dtypes, non-finite
    values, settings out of range or an unknown format version. The message
    names the path and the offending key. A ``ValueError``, so
    ``except ValueError`` catches it too.

    Examples
    --------
    >>> import binsum
    >>> try:
    ...     binsum.BinarySumRNN.load("/dev/null")
    ... except binsum.ModelFileError as exc:
    ...     print("refused")
    refused
    """
