# The signature contract of the kernel: binsum._core (compiled) and
# binsum._pycore (its pure-Python twin) both satisfy it. Arrays are
# C-contiguous; float64 weights of shapes (2, H), (H, H), (H, 1); int64 operands.
import numpy as np
from numpy.typing import NDArray

def exp(x: float) -> float: ...
def sigmoid(z: float) -> float: ...
def work_size(size: int, bits: int) -> int: ...
def train(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    bits: int,
    learning_rate: float,
    clip: float,
    loss: NDArray[np.float64],
    work: NDArray[np.float64],
) -> None: ...
def loss_and_gradients(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    a: int,
    b: int,
    bits: int,
    clip: float,
    gwi: NDArray[np.float64],
    gwh: NDArray[np.float64],
    gwo: NDArray[np.float64],
) -> float: ...
def forward_logits(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    xa: NDArray[np.int64],
    xb: NDArray[np.int64],
    logits: NDArray[np.float64],
) -> None: ...
def predict(
    wi: NDArray[np.float64],
    wh: NDArray[np.float64],
    wo: NDArray[np.float64],
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    out: NDArray[np.int64],
) -> None: ...
