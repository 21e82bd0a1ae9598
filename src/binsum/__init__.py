"""binsum: a recurrent neural network that learns to add binary numbers.

>>> from binsum import BinarySumRNN
>>> model = BinarySumRNN(seed=0).fit(10_000)
>>> model.add(2**100 + 1, 2**100 - 1) == 2**101
True
"""

from binsum._automaton import CarryMachine
from binsum._backend import DEFAULT as backend
from binsum._backend import HAS_EXTENSION as has_extension
from binsum._bptt import BPTT
from binsum._certificate import Certificate
from binsum._fileerror import ModelFileError
from binsum._model import BinarySumRNN
from binsum._sweep import sweep
from binsum._types import Backend, SweepRecord, Weights, WeightsUpdate

# main carries the next release's development version (X.Y.Z.devN: pip orders
# it before X.Y.Z); a release commit sets X.Y.Z (docs/releasing.md), and
# tests/test_version.py checks it against CHANGELOG.md.
__version__ = "0.2.0.dev0"

__all__ = [
    "BPTT",
    "Backend",
    "BinarySumRNN",
    "CarryMachine",
    "Certificate",
    "ModelFileError",
    "SweepRecord",
    "Weights",
    "WeightsUpdate",
    "__version__",
    "backend",
    "has_extension",
    "sweep",
]
