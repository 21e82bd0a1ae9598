"""binsum.plot: each picture is a matplotlib Figure, drawn without a display,
and written as a PNG when asked."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from binsum import lecture, plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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
    assert path.read_bytes().startswith(PNG_SIGNATURE)


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
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_lecture_pictures_are_public() -> None:
    assert {"lecture_comparison", "architectures"} <= set(plot.__all__)
