"""binsum.plot: every picture is a Figure drawn without a display or pyplot,
shows what the model computes, and saves as a PNG atomically."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _optional import optional_module

import binsum
from binsum import BinarySumRNN, lecture, plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def matplotlib() -> Any:
    return optional_module("matplotlib")


@pytest.fixture(scope="module")
def small() -> BinarySumRNN:
    """A network that is wrong somewhere (6 units, 2,000 iterations)."""
    return BinarySumRNN(hidden_size=6, bits=6, seed=2).fit(2000)


def saved_png(path: Path) -> bytes:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporaries
    return data


# ------------------------------------------------------------ training_curve
def test_training_curve_draws_the_history(matplotlib: Any, small: BinarySumRNN) -> None:
    from matplotlib.figure import Figure

    fig = plot.training_curve(small, accuracy=[(0, 0.0), (2000, small.score())])
    assert isinstance(fig, Figure)
    loss_axes, accuracy_axes = fig.axes
    raw, smoothed = loss_axes.get_lines()
    assert np.array_equal(raw.get_ydata(), small.history)
    assert np.array_equal(raw.get_xdata(), np.arange(1, 2001))
    # The mean of a hundredth of the run: 20 samples, ending at each iteration.
    assert np.allclose(smoothed.get_ydata()[0], small.history[:20].mean())
    assert np.allclose(smoothed.get_ydata()[-1], small.history[-20:].mean())
    (acc,) = accuracy_axes.get_lines()
    assert acc.get_xdata().tolist() == [0, 2000]
    assert fig._suptitle is None and "6 hidden units, 6 bits" in loss_axes.get_title()


def test_training_curve_of_a_resumed_model_counts_all_iterations(
    matplotlib: Any, tmp_path: Path
) -> None:
    model = BinarySumRNN(hidden_size=3, bits=4, seed=1).fit(300)
    model.save(tmp_path / "m.npz", history=False)
    resumed = BinarySumRNN.load(tmp_path / "m.npz").fit(200)
    raw, _ = plot.training_curve(resumed).axes[0].get_lines()
    assert raw.get_xdata().tolist() == list(range(301, 501))
    empty = BinarySumRNN.load(tmp_path / "m.npz")  # no history at all
    assert plot.training_curve(empty).axes[0].get_lines() == []


def test_training_curve_saves_a_png(
    matplotlib: Any, small: BinarySumRNN, tmp_path: Path
) -> None:
    target = tmp_path / "loss.png"
    target.write_bytes(b"old")  # replaced whole
    fig = plot.training_curve(small, save=target)
    data = saved_png(target)
    assert matplotlib.image.imread(target).shape[:2] == (450, 800)
    assert fig.get_size_inches().tolist() == [8.0, 4.5] and len(data) > 10_000


# ------------------------------------------------------------ column_addition
def test_column_addition_shows_the_networks_bits_and_doubt(
    matplotlib: Any, small: BinarySumRNN
) -> None:
    a, b = small.counterexample(64) or pytest.fail("the small network is exact")
    logits = small.logits(a, b)
    n = len(logits)
    fig = plot.column_addition(small, a, b)
    grid, bars = fig.axes
    # The digits: rows a, b, carry, network, column t drawn at x = n - 1 - t.
    digits = {(t.get_position(), t.get_text()) for t in grid.texts}
    total = small.add(a, b)
    for t in range(n):
        assert ((n - 1 - t, -3), str((total >> t) & 1)) in digits
        assert ((n - 1 - t, 0), str((a >> t) & 1)) in digits
    # One bar a column: its top is the confidence in the bit output.
    p = 1 / (1 + np.exp(-logits))
    confidence = np.where(logits > 0, p, 1 - p)
    tops = {round(r.get_x() + r.get_width() / 2): r.get_y() + r.get_height()
            for r in bars.patches}  # fmt: skip
    assert np.allclose([tops[n - 1 - t] for t in range(n)], confidence)
    # Wrong columns, and only those, are red (their digit too).
    wrong = {n - 1 - t for t in range(n) if (total ^ (a + b)) >> t & 1}
    red = matplotlib.colors.to_rgba("C3")
    assert wrong and {round(r.get_x() + 0.4) for r in bars.patches
                      if r.get_facecolor() == red} == wrong  # fmt: skip
    assert "wrong, the true sum is" in fig._suptitle.get_text()


def test_column_addition_of_a_long_sum_shows_the_bars(matplotlib: Any) -> None:
    model = BinarySumRNN.pretrained()
    a, b = 2**500 - 1, 1
    fig = plot.column_addition(model, a, b)
    (bars,) = fig.axes
    assert len(bars.patches) == 501  # 500 bits and the carry step
    assert fig._suptitle.get_text() == "a + b over 501 columns: exact"


def test_column_addition_saves_a_png_and_checks_its_operands(
    matplotlib: Any, tmp_path: Path
) -> None:
    model = BinarySumRNN.pretrained()
    plot.column_addition(model, 11, 6, save=tmp_path / "add.png")
    saved_png(tmp_path / "add.png")
    with pytest.raises(ValueError, match=r"^a must be >= 0, got -1"):
        plot.column_addition(model, -1, 6)
    with pytest.raises(TypeError, match=r"^model must be a BinarySumRNN, got str"):
        plot.column_addition("model", 1, 2)  # type: ignore[arg-type]


# ------------------------------------------------------------ sweep_outcomes
def record(hidden: int, seed: int, score: float, solved_at: int | None,
           counterexample: list[int] | None) -> dict[str, Any]:  # fmt: skip
    """A sweep record as binsum.sweep writes one (see test_sweep.py)."""
    return {
        "hidden_size": hidden, "bits": 8, "learning_rate": 0.1, "clip": 5.0,
        "seed": seed, "backend": None, "iterations": 1000, "score": score,
        "solved_at": solved_at, "final_loss": 0.1, "counterexample": counterexample,
        "proven": None,
    }  # fmt: skip


def test_sweep_outcomes_counts_per_configuration(matplotlib: Any) -> None:
    records = [
        record(2, 0, 0.2, None, [1, 1]),
        record(2, 1, 0.3, None, [0, 1]),
        record(8, 0, 1.0, 500, None),
        record(8, 1, 1.0, 1000, [3072, 1023]),  # exact on 8 bits, wrong beyond
        record(8, 2, 0.99, 500, [4, 5]),  # exact at a checkpoint, not at the end
        record(8, 3, 1.0, 1000, None),
    ]
    fig = plot.sweep_outcomes(records)
    rates, times = fig.axes
    heights = [p.get_height() for p in rates.patches]
    # Per hidden size: exact at the end (0/2, 3/4), no counterexample (0/2, 2/4).
    assert heights == [0.0, 0.75, 0.0, 0.5]
    assert [t.get_text() for t in times.get_xticklabels()] == [
        "hidden_size 2", "hidden_size 8"]  # fmt: skip
    dots = sorted(y for line in times.get_lines() for y in line.get_ydata())
    assert dots == [500, 500, 1000, 1000]
    assert [t.get_text() for t in times.texts] == ["0/2", "4/4"]
    assert fig._suptitle.get_text().startswith("6 networks: bits 8,")


def test_sweep_outcomes_of_a_real_sweep_saves_a_png(
    matplotlib: Any, tmp_path: Path
) -> None:
    records = binsum.sweep(
        [{"hidden_size": 3, "bits": 4, "seed": s} for s in (0, 1)], 200, hard_bits=16
    )
    plot.sweep_outcomes(records, save=tmp_path / "sweep.png")
    saved_png(tmp_path / "sweep.png")
    with pytest.raises(ValueError, match=r"^records must be a non-empty list"):
        plot.sweep_outcomes([])
    with pytest.raises(ValueError, match=r"missing \['score'"):
        plot.sweep_outcomes([{k: v for k, v in records[0].items() if k != "score"}])


def test_carry_machine_draws_a_model_or_its_machine(
    matplotlib: Any, tmp_path: Path
) -> None:
    machine = BinarySumRNN.pretrained().automaton(run=8)
    fig = plot.carry_machine(machine, save=tmp_path / "carry.png")
    assert isinstance(fig, matplotlib.figure.Figure)
    assert (tmp_path / "carry.png").read_bytes().startswith(PNG_SIGNATURE)
    left, right = fig.axes
    assert "full adder" in right.get_title()
    assert f"{machine.clusters} clusters" in left.get_title()
    other = BinarySumRNN(seed=1).automaton(run=8, max_clusters=4)
    untrained = plot.carry_machine(other)
    assert "not the full adder" in untrained.axes[1].get_title()
    with pytest.raises(TypeError, match="model_or_machine must be"):
        plot.carry_machine("model")  # type: ignore[arg-type]


def _clipping_network() -> BinarySumRNN:
    model = BinarySumRNN(hidden_size=12, seed=2, clip=1e-3)
    model.set_weights(**{k: 4 * w for k, w in model.weights.items()})
    return model


def test_hidden_states_shows_the_states_and_the_bits(
    matplotlib: Any, tmp_path: Path
) -> None:
    model = BinarySumRNN.pretrained()
    a, b = 2**20 - 1, 1
    path = tmp_path / "states.png"
    fig = plot.hidden_states(model, a, b, save=path)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
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


def test_hidden_states_marks_wrong_bits(matplotlib: Any) -> None:
    model = BinarySumRNN(seed=1)  # untrained
    a, b = 2**20 - 1, 1
    fig = plot.hidden_states(model, a, b)
    wrong = model.add(a, b) ^ (a + b)
    marked = fig.axes[1].collections[0].get_offsets()[:, 0]
    assert wrong and sorted(marked.tolist()) == [
        t + 1 for t in range(21) if (wrong >> t) & 1
    ]


def test_gradient_norms_plots_bptt_per_step(matplotlib: Any, tmp_path: Path) -> None:
    model = _clipping_network()
    path = tmp_path / "gradients.png"
    fig = plot.gradient_norms(model, 127, 128, save=path)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
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


def test_plots_check_their_arguments(matplotlib: Any) -> None:
    with pytest.raises(TypeError, match="model must be a BinarySumRNN"):
        plot.hidden_states("model", 1, 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"a \+ b must be in 0\.\.255"):
        plot.gradient_norms(BinarySumRNN(seed=0), 200, 56)


def test_lecture_comparison_draws_both_runs(matplotlib: Any, tmp_path: Path) -> None:
    result = lecture.lecture_code(iterations=400, hidden_size=4, bits=4)
    path = tmp_path / "lecture.png"
    fig = plot.lecture_comparison(result, save=path)
    assert isinstance(fig, matplotlib.figure.Figure)
    loss, accuracy = fig.axes
    assert [line.get_label() for line in loss.get_lines()] == [
        "as written",
        "corrected",
    ]
    heights = [bar.get_height() for bar in accuracy.patches]
    assert heights == [
        100 * result.as_written.accuracy, 100 * result.corrected.accuracy
    ]
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_architectures_draws_both_networks(matplotlib: Any, tmp_path: Path) -> None:
    nf = lecture.without_feedback(seeds=[0, 1], iterations=200, bits=4)
    lin = lecture.linear_rnn(iterations=200, bits=4)
    path = tmp_path / "architectures.png"
    fig = plot.architectures(nf, lin, save=path)
    assert isinstance(fig, matplotlib.figure.Figure)
    seeds, columns, exact = fig.axes
    assert [b.get_height() for b in seeds.patches] == [100 * x for x in nf.accuracies]
    assert len(columns.patches) == lin.bits + 1
    assert exact.patches[2].get_height() == 100 * lin.constructed
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_lecture_pictures_are_public(matplotlib: Any) -> None:
    assert {"lecture_comparison", "architectures"} <= set(plot.__all__)


# ------------------------------------------------------------ every picture
PICTURES = {
    "training_curve": "plot.training_curve(model)",
    "column_addition": "plot.column_addition(model, 11, 6)",
    "sweep_outcomes": "plot.sweep_outcomes(records)",
    "carry_machine": "plot.carry_machine(machine)",
    "hidden_states": "plot.hidden_states(model, 5, 3)",
    "gradient_norms": "plot.gradient_norms(model, 5, 3)",
    "lecture_comparison": "plot.lecture_comparison(code)",
    "architectures": "plot.architectures(no_feedback, linear)",
}
# What the calls above draw, small enough to build in a second.
ARGUMENTS = """
model = BinarySumRNN(hidden_size=3, bits=4, seed=0).fit(100)
records = binsum.sweep([{"hidden_size": 2, "bits": 3, "seed": 0}], 50)
machine = model.automaton(depth=3, run=4, max_clusters=4)
code = binsum.lecture.lecture_code(iterations=100, hidden_size=3, bits=4)
no_feedback = binsum.lecture.without_feedback(
    seeds=range(1), iterations=100, hidden_size=3, bits=4)
linear = binsum.lecture.linear_rnn(iterations=100, bits=4)
"""


@pytest.fixture(scope="module")
def arguments() -> dict[str, Any]:
    names: dict[str, Any] = {"binsum": binsum, "BinarySumRNN": BinarySumRNN}
    exec(ARGUMENTS, names)
    return names


def test_every_public_picture_is_tested_here() -> None:
    assert set(PICTURES) == set(plot.__all__)


@pytest.mark.parametrize("call", PICTURES.values(), ids=PICTURES.keys())
def test_drawn_without_a_display_or_pyplot(matplotlib: Any, call: str) -> None:
    """In a fresh process with no display and no backend chosen: a Figure on
    an Agg canvas, and pyplot (the GUI state machine) never imported."""
    code = textwrap.dedent(f"""
        import sys
        from binsum import BinarySumRNN, plot
        import binsum
        import binsum.lecture
        {{arguments}}
        fig = {call}
        print(type(fig).__name__, type(fig.canvas).__name__)
        print("matplotlib.pyplot" in sys.modules)
    """).replace("{arguments}", ARGUMENTS)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Figure", "FigureCanvasAgg", "False"]


@pytest.mark.parametrize("call", PICTURES.values(), ids=PICTURES.keys())
def test_without_matplotlib_a_clear_import_error(
    monkeypatch: pytest.MonkeyPatch, call: str, tmp_path: Path,
    arguments: dict[str, Any],
) -> None:
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import raises
    # binsum's own matplotlib module, as if never imported (it cannot be).
    monkeypatch.delitem(sys.modules, "binsum._figure", raising=False)
    monkeypatch.delattr(binsum, "_figure", raising=False)
    path = tmp_path / "p.png"
    names = {**arguments, "plot": plot, "path": path}
    with pytest.raises(ImportError) as info:
        eval(call.replace(")", ", save=path)"), names)
    assert str(info.value) == 'binsum.plot needs matplotlib: pip install "binsum[plot]"'
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_figure_displays_itself_in_a_notebook(matplotlib: Any) -> None:
    """IPython shows an object with ``_repr_png_`` as that image: without
    pyplot's inline backend, a plain Figure would print as its repr."""
    import pickle

    fig = plot.column_addition(BinarySumRNN.pretrained(), 11, 6)
    png = fig._repr_png_()
    assert png[:8] == PNG_SIGNATURE
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == tuple(round(x * fig.dpi) for x in fig.get_size_inches())
    assert pickle.loads(pickle.dumps(fig))._repr_png_()[:8] == PNG_SIGNATURE
