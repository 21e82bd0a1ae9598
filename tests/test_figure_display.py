"""binsum.plot's figures display themselves in Jupyter without pyplot."""

from __future__ import annotations

import pickle
import struct

from binsum.plot import _figure


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"  # the first chunk: width, height
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_a_figure_offers_its_png_to_ipython() -> None:
    fig = _figure(3, 2)
    fig.add_subplot().plot([0, 1], [1, 0])
    # IPython's PNG display calls _repr_png_: the figure at its size and dpi
    assert _png_size(fig._repr_png_()) == (300, 200)


def test_a_figure_survives_pickling() -> None:
    fig = _figure(2, 2)
    fig.add_subplot().set_title("kept")
    again = pickle.loads(pickle.dumps(fig))
    assert again.axes[0].get_title() == "kept"
    assert _png_size(again._repr_png_()) == (200, 200)
