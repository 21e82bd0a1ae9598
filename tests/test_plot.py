"""binsum.plot: each picture is a matplotlib Figure, drawn without a display.

Figures are drawn on their own Agg canvas (no pyplot); ``save`` writes a PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from binsum import BinarySumRNN, lecture, plot

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


def _clipping_network() -> BinarySumRNN:
    model = BinarySumRNN(hidden_size=12, seed=2, clip=1e-3)
    model.set_weights(**{k: 4 * w for k, w in model.weights.items()})
    return model


def test_hidden_states_shows_the_states_and_the_bits(tmp_path: Path) -> None:
    model = BinarySumRNN.pretrained()
    a, b = 2**20 - 1, 1
    path = tmp_path / "states.png"
    fig = plot.hidden_states(model, a, b, save=path)
    assert isinstance(fig, Figure)
    assert path.read_bytes().startswith(PNG)
    heatmap, strips = fig.axes[0], fig.axes[1]
    # Units down, steps across: the transposed states, h_0 first.
    shown = heatmap.get_images()[0].get_array()
    assert np.array_equal(shown, model.hidden_states(a, b).T)
    labels = [t.get_text() for t in strips.get_yticklabels()]
    assert labels == ["a", "b", "carry", "a + b", "network"]
    rows = strips.get_images()[0].get_array()
    assert rows.shape == (5, 21)  # 20 bits and the carry step
    assert rows[2].tolist() == [1.0] * 20 + [0.0]  # the carry runs, then ends
    assert np.array_equal(rows[3], rows[4])  # the shipped network is exact here


def test_hidden_states_marks_wrong_bits() -> None:
    model = BinarySumRNN(seed=1)  # untrained
    a, b = 2**20 - 1, 1
    fig = plot.hidden_states(model, a, b)
    wrong = model.add(a, b) ^ (a + b)
    marked = fig.axes[1].collections[0].get_offsets()[:, 0]
    assert wrong and sorted(marked.tolist()) == [
        t + 1 for t in range(21) if (wrong >> t) & 1
    ]


def test_gradient_norms_plots_bptt_per_step(tmp_path: Path) -> None:
    model = _clipping_network()
    path = tmp_path / "gradients.png"
    fig = plot.gradient_norms(model, 127, 128, save=path)
    assert isinstance(fig, Figure)
    assert path.read_bytes().startswith(PNG)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    steps = model.bptt(127, 128)
    lines = {line.get_label(): line for line in ax.get_lines()}
    before = lines["|δa_t| before the clip"].get_ydata()
    after = lines["|δa_t| after the clip"].get_ydata()
    assert np.array_equal(before, steps.delta_a_unclipped_norms)
    assert np.array_equal(after, steps.delta_a_norms)
    clip_line = lines["clip = 0.001 (per component)"]
    assert clip_line.get_ydata()[0] == 1e-3
    # One shaded band per step where the clip bound.
    assert len(ax.patches) == int(steps.clipped_steps.sum()) > 0


def test_plots_check_their_arguments() -> None:
    with pytest.raises(TypeError, match="model must be a BinarySumRNN"):
        plot.hidden_states("model", 1, 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"a \+ b must be in 0\.\.255"):
        plot.gradient_norms(BinarySumRNN(seed=0), 200, 56)


def test_lecture_comparison_draws_both_runs(tmp_path: Path) -> None:
    result = lecture.lecture_code(iterations=400, hidden_size=4, bits=4)
    path = tmp_path / "lecture.png"
    fig = plot.lecture_comparison(result, save=path)
    assert isinstance(fig, Figure)
    loss, accuracy = fig.axes
    assert [line.get_label() for line in loss.get_lines()] == [
        "as written",
        "corrected",
    ]
    heights = [bar.get_height() for bar in accuracy.patches]
    assert heights == [100 * result.as_written.accuracy, 100 * result.corrected.accuracy]
    assert path.read_bytes().startswith(PNG)


def test_architectures_draws_both_networks(tmp_path: Path) -> None:
    nf = lecture.without_feedback(seeds=[0, 1], iterations=200, bits=4)
    lin = lecture.linear_rnn(iterations=200, bits=4)
    path = tmp_path / "architectures.png"
    fig = plot.architectures(nf, lin, save=path)
    assert isinstance(fig, Figure)
    seeds, columns, exact = fig.axes
    assert [b.get_height() for b in seeds.patches] == [100 * x for x in nf.accuracies]
    assert len(columns.patches) == lin.bits + 1
    assert exact.patches[2].get_height() == 100 * lin.constructed
    assert path.read_bytes().startswith(PNG)


def test_lecture_pictures_are_public() -> None:
    assert {"lecture_comparison", "architectures"} <= set(plot.__all__)
