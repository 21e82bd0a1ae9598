"""binsum.plot: every picture is drawn without a display and saved as a PNG."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from binsum import BinarySumRNN, plot

PNG = b"\x89PNG\r\n\x1a\n"


def test_carry_machine_draws_a_model_or_its_machine(tmp_path: Path) -> None:
    machine = BinarySumRNN.pretrained().automaton(run=8)
    fig = plot.carry_machine(machine, save=tmp_path / "carry.png")
    assert isinstance(fig, Figure)
    assert (tmp_path / "carry.png").read_bytes().startswith(PNG)
    left, right = fig.axes
    assert "full adder" in right.get_title()
    assert f"{machine.clusters} clusters" in left.get_title()
    untrained = plot.carry_machine(BinarySumRNN(seed=1).automaton(run=8, max_clusters=4))
    assert "not the full adder" in untrained.axes[1].get_title()
    with pytest.raises(TypeError, match="model_or_machine must be"):
        plot.carry_machine("model")  # type: ignore[arg-type]
