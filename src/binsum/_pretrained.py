"""The network shipped inside the package, and how it was made.

``pretrained.npz`` was written by ``binsum train`` with its defaults (the
command below); tests/test_pretrained.py retrains it with SETTINGS and checks
the weights are bit-identical, so the file never drifts from its recipe.
"""

from __future__ import annotations

import contextlib
import importlib.resources
from collections.abc import Iterator
from pathlib import Path

FILENAME = "pretrained.npz"
COMMAND = "binsum train --out src/binsum/pretrained.npz --plot docs/loss.png"
SETTINGS: dict[str, int | float] = {
    "hidden_size": 16,
    "bits": 8,
    "learning_rate": 0.1,
    "clip": 5.0,
    "seed": 0,
    "iterations": 10_000,
}


@contextlib.contextmanager
def path() -> Iterator[Path]:
    """A real file system path to the shipped model (extracted if zipped)."""
    resource = importlib.resources.files("binsum").joinpath(FILENAME)
    with importlib.resources.as_file(resource) as file:
        yield file
