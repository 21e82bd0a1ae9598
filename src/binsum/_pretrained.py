"""The network shipped inside the package, and how it was made.

``pretrained.npz`` was written by ``binsum train`` with its defaults,
``binsum train --out src/binsum/pretrained.npz --plot docs/loss.png``: the
lecture's configuration with seed 0, trained ITERATIONS samples.
tests/test_pretrained.py retrains it and checks the weights are
bit-identical, so the file never drifts from its recipe.
"""

from __future__ import annotations

import contextlib
import importlib.resources
from collections.abc import Iterator
from pathlib import Path

from binsum._config import ITERATIONS, Config

FILENAME = "pretrained.npz"
CONFIG = Config()  # the lecture's settings, seed 0
__all__ = ["CONFIG", "FILENAME", "ITERATIONS", "path"]


@contextlib.contextmanager
def path() -> Iterator[Path]:
    """A real file system path to the shipped model (extracted if zipped)."""
    resource = importlib.resources.files("binsum").joinpath(FILENAME)
    with importlib.resources.as_file(resource) as file:
        yield file
