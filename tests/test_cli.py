"""The ``binsum`` command, run in-process through ``cli.main(argv)``.

The command does not depend on the backend (it uses the default one), so it
runs once. A few tests start real processes, for what only a process shows:
the console script and ``python -m binsum``, Ctrl-C and the progress bar on
a terminal.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from _children import child, run_python
from _command import Binsum, assert_one_line_error
from _optional import optional_module

import binsum
from binsum import BinarySumRNN, cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _env() -> dict[str, str]:
    """A child's environment: the default backend, no debug tracebacks."""
    env = dict(os.environ)
    env.pop("BINSUM_DEBUG", None)
    env.pop("BINSUM_NO_EXTENSIONS", None)
    return env


# ------------------------------------------------------------------ train
def test_train_writes_a_loadable_model(run_binsum: Binsum, tmp_path: Path) -> None:
    proc = run_binsum("train", "--bits", "4", "--hidden-size", "8", "--iterations",
                      "300", "--log-every", "100", "--seed", "3", "--out", "m.npz")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    model = BinarySumRNN.load(tmp_path / "m.npz")
    expected = BinarySumRNN(hidden_size=8, bits=4, seed=3).fit(300)
    for name, value in expected.weights.items():
        assert np.array_equal(model.weights[name], value), name
    out = proc.stdout
    for i in (0, 100, 200):  # the lecture's log, every --log-every iterations
        assert f"[{i}|300] Error: " in out
    assert out.count("\tTrue: [") == 3 and out.count("\tPred: [") == 3
    assert f"({binsum.backend} backend)" in out
    assert f"exact sums: {expected.score():.2%} of all 136 pairs" in out
    # Not a terminal: no progress bar, no carriage returns, no rate.
    assert "\r" not in out and "it/s" not in out


def test_train_log_every_zero_prints_no_log(run_binsum: Binsum, tmp_path: Path) -> None:
    proc = run_binsum("train", "--bits", "3", "--iterations", "50", "--log-every", "0",
                      "--out", "m.npz")
    assert proc.returncode == 0, proc.stderr
    assert "Error:" not in proc.stdout and "exact sums:" in proc.stdout
    assert BinarySumRNN.load(tmp_path / "m.npz").iterations == 50


@pytest.mark.skipif(sys.platform == "win32", reason="the pty module is POSIX only")
def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    import pty

    args = [sys.executable, "-m", "binsum", "train", "--bits", "4",
            "--iterations", "3000", "--out", "m.npz"]
    master, slave = pty.openpty()
    with child(
        args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
        cwd=tmp_path, env=_env(),
    ) as proc:
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # Linux: EIO once the child has closed the terminal
                break
            if not chunk:  # macOS and BSD: end of file
                break
            chunks.append(chunk)
        os.close(master)
        assert proc.wait(timeout=300) == 0
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "training: 100%|" in shown and "3.00k/3.00k" in shown
    assert "[2000|3000] Error: " in shown  # the log still scrolls above it


def test_plot_writes_a_png(run_binsum: Binsum, tmp_path: Path) -> None:
    optional_module("matplotlib")
    import matplotlib.image

    proc = run_binsum("train", "--bits", "4", "--iterations", "400", "--log-every",
                      "50", "--out", "m.npz", "--plot", "loss.png")
    assert proc.returncode == 0, proc.stderr
    assert "wrote loss.png" in proc.stdout
    png = tmp_path / "loss.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0  # something was drawn
    assert BinarySumRNN.load(tmp_path / "m.npz").iterations == 400


def test_plot_without_matplotlib_is_refused_before_training(tmp_path: Path) -> None:
    no_matplotlib = ("import sys; sys.modules['matplotlib'] = None; "  # import raises
                     "from binsum.cli import main; sys.exit(main())")
    proc = subprocess.run(
        [sys.executable, "-c", no_matplotlib, "train", "--bits", "4", "--iterations",
         "200", "--out", "m.npz", "--plot", "loss.png"],
        capture_output=True, text=True, cwd=tmp_path, env=_env(), timeout=300,
    )
    assert proc.returncode == 1 and proc.stdout == ""  # nothing trained
    assert assert_one_line_error(proc) == (
        'binsum train: error: --plot needs matplotlib: install it with pip install '
        '"binsum[plot]" (nothing was trained)'
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX")
def test_interrupt_exits_130_and_leaves_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "m.npz"
    BinarySumRNN(bits=3, seed=0).save(out)
    before = out.read_bytes()
    with child(
        [sys.executable, "-m", "binsum", "train", "--iterations", "1000000000",
         "--log-every", "500", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=_env(),
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("[0|")  # training has started
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.splitlines() == ["binsum train: interrupted"]
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp file left


# -------------------------------------------------------------------- add
def test_add_random_operands_in_every_notation(
    run_binsum: Binsum, tmp_path: Path
) -> None:
    rng = random.Random(5)
    notations = {"decimal": str, "binary": bin, "hex": hex}
    for name, fmt in notations.items():
        a, b = rng.getrandbits(rng.randint(200, 400)), rng.getrandbits(300)
        proc = run_binsum("add", fmt(a), fmt(b))
        assert proc.returncode == 0, (name, proc.stderr)
        assert proc.stdout == f"{a + b}\n", name
    # --model: a network saved to a file; mixed notations, upper-case prefix.
    BinarySumRNN.pretrained().save(tmp_path / "t.npz")
    a, b = rng.getrandbits(500), rng.getrandbits(450)
    proc = run_binsum("add", "--model", "t.npz", hex(a).upper().replace("X", "x"),
                      "0B" + format(b, "b"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{a + b}\n"


def test_add_numbers_longer_than_str_digit_limit(run_binsum: Binsum) -> None:
    # 20,000-bit operands: ~6,000 decimal digits, over Python's default limit
    # of 4,300 (the command converts them itself; this test lifts the limit
    # for its own str() and restores it).
    rng = random.Random(6)
    a, b = rng.getrandbits(20_000), rng.getrandbits(20_000)
    old = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    try:
        a_text, b_text, want = str(a), str(b), f"{a + b}\n"
    finally:
        if hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(old)
    proc = run_binsum("add", a_text, b_text)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == want


def test_add_explain_shows_columns_and_confidence(run_binsum: Binsum) -> None:
    proc = run_binsum("add", "--explain", "0b1101", "7")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "13 + 7 = 20 (exact)"
    assert "  a       0 1 1 0 1" in lines
    assert "+ b       0 0 1 1 1" in lines
    assert "= network 1 0 1 0 0" in lines
    logits = BinarySumRNN.pretrained().logits(13, 7)
    rows = lines[lines.index(next(x for x in lines if x.startswith("column  a"))) + 1:]
    assert len(rows) == len(logits) == 5
    for t, (row, o) in enumerate(zip(rows, logits.tolist(), strict=True)):
        col, a_bit, b_bit, carry, bit, prob, conf = row.split()
        p = 1.0 / (1.0 + math.exp(-o))
        assert (int(col), int(a_bit), int(b_bit)) == (t, (13 >> t) & 1, (7 >> t) & 1)
        assert int(carry) == ((20 ^ 13 ^ 7) >> t) & 1
        assert int(bit) == (20 >> t) & 1 == (o > 0)
        assert prob == f"{p:.4f}"
        assert conf == f"{max(p, 1 - p):.1%}"


def test_add_reports_a_wrong_network(run_binsum: Binsum, tmp_path: Path) -> None:
    BinarySumRNN(bits=4, seed=0).save(tmp_path / "untrained.npz")
    model = BinarySumRNN.load(tmp_path / "untrained.npz")
    a, b = next(
        (a, b) for a in range(64) for b in range(64) if model.add(a, b) != a + b
    )
    proc = run_binsum("add", "--model", "untrained.npz", str(a), str(b))
    assert proc.returncode == 0
    assert proc.stdout == f"{model.add(a, b)}\n"
    assert proc.stderr == f"binsum add: note: the network is wrong, a + b = {a + b}\n"
    proc = run_binsum("add", "--explain", "--model", "untrained.npz", str(a), str(b))
    assert f"(wrong, the true sum is {a + b})" in proc.stdout.splitlines()[0]
    assert "<- wrong, the true bit is" in proc.stdout


# ------------------------------------------------------------ eval / info
def test_eval_prints_the_accuracy(run_binsum: Binsum, tmp_path: Path) -> None:
    model = BinarySumRNN(bits=4, hidden_size=8, seed=1).fit(1500)
    model.save(tmp_path / "m.npz")
    every = [(a, b) for a in range(16) for b in range(16)]
    carry_out = sum(model.add(a, b) == a + b for a, b in every) / len(every)
    a, b = model.counterexample()
    hard = (f"hard cases up to 4,096 bits: wrong: {a} + {b} = {model.add(a, b)} "
            f"(exact: {a + b})\n")
    proc = run_binsum("eval", "--model", "m.npz")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        f"exact sums: {model.score():.2%} of all 136 pairs with a + b < 2**4\n"
        f"with carry-out: {carry_out:.2%} of all 256 pairs with a, b < 2**4\n"
        + hard
    )
    proc = run_binsum("eval", "--model", "m.npz", "--bits", "20", "--sample", "300",
                      "--seed", "5", "--hard-bits", "0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(
        f"exact sums: {model.score(20, sample=300, seed=5):.2%} of 300 random "
        "pairs with a + b < 2**20\nwith carry-out: "
    )
    assert proc.stdout.endswith(" of 300 random pairs with a, b < 2**20\n")
    proc = run_binsum("eval", "--model", "m.npz", "--bits", "13", "--hard-bits", "0")
    assert proc.stdout.endswith(" of 100,000 random pairs with a, b < 2**13\n")
    assert " of 100,000 random pairs with a + b < 2**13\n" in proc.stdout


def test_eval_defaults_to_the_shipped_network(run_binsum: Binsum) -> None:
    proc = run_binsum("eval", "--bits", "6")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "exact sums: 100.00% of all 2,080 pairs with a + b < 2**6\n"
        "with carry-out: 100.00% of all 4,096 pairs with a, b < 2**6\n"
        "hard cases up to 4,096 bits: none wrong\n"
    )
    proc = run_binsum("eval", "--bits", "6", "--hard-bits", "100")
    assert proc.stdout.endswith("\nhard cases up to 100 bits: none wrong\n")


def test_eval_shows_a_network_that_fails_only_long_carry_chains(
    run_binsum: Binsum, tmp_path: Path
) -> None:
    # Hidden 32, seed 0 (tests/data/hard_cases.json): exact on every 8-bit
    # pair, carry-out included, wrong on 262143 + 131073 (an 18-bit carry).
    if not binsum.has_extension:
        pytest.skip("a hidden-32 search without the compiled kernel takes 30 s")
    model = BinarySumRNN(hidden_size=32, seed=0).fit()
    model.save(tmp_path / "m.npz")
    proc = run_binsum("eval", "--model", "m.npz")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "exact sums: 100.00% of all 32,896 pairs with a + b < 2**8",
        "with carry-out: 100.00% of all 65,536 pairs with a, b < 2**8",
        f"hard cases up to 4,096 bits: wrong: 262143 + 131073 = "
        f"{model.add(262143, 131073)} (exact: 393216)",
    ]


def test_hard_case_numbers_stay_exact_and_short() -> None:
    assert cli.number_text(393216) == "393216"
    assert cli.number_text(2**4096) == "2**4096"
    assert cli.number_text(2**4096 - 1) == "2**4096 - 1"
    assert cli.number_text(2**300 + 5) == "2**300 + 5"
    assert cli.number_text(2**300 - 2**40) == f"0x{2**300 - 2**40:x} (300 bits)"
    assert cli.number_text(10**39) == str(10**39)  # 40 digits: in decimal


def test_info_names_the_version_backend_and_shipped_network(run_binsum: Binsum) -> None:
    proc = run_binsum("info")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith(f"binsum {binsum.__version__}\n")
    assert f"\nbackend: {binsum.backend} (" in out
    assert f"\nnumpy: {np.__version__}\n" in out
    assert f"\npython: {sys.version.split()[0]} " in out
    assert "pretrained network: 16 hidden units, 8 bits, seed 0, 10,000" in out


def test_console_script_and_python_m(tmp_path: Path) -> None:
    """The installed entry points run the command in a real process: output,
    exit status and a one-line error."""
    name = "binsum.exe" if os.name == "nt" else "binsum"
    script = Path(sys.executable).parent / name
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    direct = subprocess.run([str(script), "info"], capture_output=True, text=True,
                            env=_env(), timeout=300)
    assert direct.returncode == 0
    module = subprocess.run([sys.executable, "-m", "binsum", "info"],
                            capture_output=True, text=True, env=_env(), timeout=300)
    assert direct.stdout == module.stdout
    bad = subprocess.run([str(script), "add", "-5", "3"], capture_output=True,
                         text=True, env=_env(), timeout=300, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert "must be >= 0, got -5" in assert_one_line_error(bad)


def test_no_subcommand_runs_the_demo(run_binsum: Binsum, tmp_path: Path) -> None:
    proc = run_binsum()
    assert proc.returncode == 0, proc.stderr
    assert "[9000|10000] Error: " in proc.stdout
    assert "exact sums: 100.00% of all 32,896 pairs" in proc.stdout
    a, b = cli.DEMO_OPERANDS
    assert f"{a} + {b} = {a + b} (exact)" in proc.stdout
    assert list(tmp_path.iterdir()) == []  # the demo saves nothing


def test_help_and_version(run_binsum: Binsum) -> None:
    proc = run_binsum("--help")
    assert proc.returncode == 0
    for command in ("train", "add", "eval", "info", "demo"):
        assert command in proc.stdout
    proc = run_binsum("--version")
    assert (proc.returncode, proc.stdout) == (0, f"binsum {binsum.__version__}\n")


# ----------------------------------------------------------------- errors
def _files(tmp_path: Path) -> None:
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 this is no model")
    BinarySumRNN(bits=3, seed=0).save(tmp_path / "good.npz")
    data = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_dir").mkdir()


# Every error path: main returns the status, prints one line, never raises.
ERRORS = [
    (["add", "12x3", "5"], 2),  # malformed number
    (["add", "-5", "3"], 2),  # negative operand
    (["add", "--model", "missing.npz", "1", "2"], 1),  # missing model file
    (["add", "--model", "corrupt.npz", "1", "2"], 1),  # corrupt model file
    (["eval", "--model", "truncated.npz"], 1),  # truncated model file
    (["train", "--iterations", "10", "--out", "a_file/m.npz"], 1),  # unwritable
    (["train", "--hidden-size", "0"], 2),  # out-of-range flag
    (["add", "0x", "1"], 2), (["add", "", "1"], 2), (["add", "1.5", "2"], 2),
    (["add", "0b102", "1"], 2), (["add", "1"], 2), (["add", "1", "2", "3"], 2),
    (["add", "--model", "a_dir", "1", "2"], 1),
    (["eval", "--model", "corrupt.npz"], 1),
    (["eval", "--bits", "0"], 2), (["eval", "--bits", "63"], 2),
    (["eval", "--sample", "0"], 2), (["eval", "--seed", "x"], 2),
    (["eval", "--hard-bits", "-1"], 2), (["eval", "--hard-bits", "65537"], 2),
    (["train", "--out", "no_dir/m.npz"], 1), (["train", "--out", "a_dir"], 1),
    (["train", "--plot", "no_dir/p.png"], 1),
    (["train", "--bits", "63"], 2), (["train", "--learning-rate", "-1"], 2),
    (["train", "--learning-rate", "nan"], 2), (["train", "--clip", "inf"], 2),
    (["train", "--clip", "x"], 2),
    (["train", "--iterations", "-1"], 2), (["train", "--iterations", "ten"], 2),
    (["train", "--seed", "-1"], 2), (["train", "--log-every", "-1"], 2),
    (["train", "--bogus"], 2), (["bogus"], 2), (["info", "extra"], 2),
]


@pytest.mark.parametrize(("argv", "status"), ERRORS, ids=lambda v: str(v))
def test_errors_print_one_line(
    argv: list[str], status: int, run_binsum: Binsum, tmp_path: Path
) -> None:
    _files(tmp_path)
    proc = run_binsum(*argv)
    assert proc.returncode == status
    assert proc.stdout == ""  # failed before any training or output
    assert_one_line_error(proc)


def test_unexpected_errors_are_one_line_unless_debugging(
    run_binsum: Binsum, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: BinarySumRNN, a: int, b: int) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(BinarySumRNN, "logits", broken)
    proc = run_binsum("add", "1", "2")
    assert proc.returncode == 1
    assert "internal error: KeyError" in assert_one_line_error(proc)
    monkeypatch.setenv("BINSUM_DEBUG", "1")
    with pytest.raises(KeyError):
        cli.main(["add", "1", "2"])


def test_interrupt_in_process_exits_130(
    run_binsum: Binsum, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(BinarySumRNN, "fit", interrupted)
    proc = run_binsum("demo")
    assert (proc.returncode, proc.stderr) == (130, "binsum demo: interrupted\n")


@pytest.mark.parametrize(
    ("text", "value"),
    [("42", 42), ("007", 7), ("0b101", 5), ("0B101", 5), ("0x_ff", 255),
     ("0XfF", 255), ("0o17", 15), ("1_000", 1000), (" 12 ", 12), ("-0", 0),
     (str(3**700), 3**700)],
)
def test_operand_notations(text: str, value: int) -> None:
    assert cli.operand(text) == value


# ------------------------------------ resume, history, threads, the display
def test_train_resume_continues_and_replaces_out(
    run_binsum: Binsum, tmp_path: Path
) -> None:
    first = run_binsum("train", "--bits", "4", "--iterations", "300", "--seed", "5",
                       "--log-every", "0", "--out", "m.npz")
    assert first.returncode == 0 and "replaced" not in first.stdout
    proc = run_binsum("train", "--resume", "m.npz", "--iterations", "200",
                      "--bits", "4", "--log-every", "100", "--out", "m.npz")
    assert proc.returncode == 0, proc.stderr
    assert "[0|200] Error: " in proc.stdout and "[100|200] Error: " in proc.stdout
    assert "200 iterations more (500 in all)" in proc.stdout
    assert "saved m.npz (replaced the existing file)" in proc.stdout
    model = BinarySumRNN.load(tmp_path / "m.npz")
    expected = BinarySumRNN(bits=4, seed=5).fit(500)
    assert model.iterations == 500
    assert np.array_equal(model.history, expected.history)
    for name, value in expected.weights.items():
        assert np.array_equal(model.weights[name], value), name


@pytest.mark.parametrize(("flag", "value"), [("--hidden-size", "8"), ("--bits", "5"),
                                             ("--learning-rate", "0.2"),
                                             ("--clip", "1"), ("--seed", "1")])
def test_train_resume_refuses_conflicting_settings(
    run_binsum: Binsum, tmp_path: Path, flag: str, value: str
) -> None:
    BinarySumRNN(bits=4, seed=0).save(tmp_path / "m.npz")
    proc = run_binsum("train", "--resume", "m.npz", flag, value, "--out", "n.npz")
    line = assert_one_line_error(proc)
    shown = float(value) if flag in ("--clip", "--learning-rate") else value
    assert f"{flag} {shown} conflicts with --resume m.npz" in line
    assert not (tmp_path / "n.npz").exists()
    missing = run_binsum("train", "--resume", "none.npz", "--out", "n.npz")
    assert "cannot read --resume none.npz" in assert_one_line_error(missing)


def test_train_resume_refuses_to_train_past_the_most_iterations(
    run_binsum: Binsum, tmp_path: Path
) -> None:
    """A model file at 2**63-1 iterations (all its int64 field holds) is
    refused before training, and nothing is written."""
    model = BinarySumRNN(hidden_size=2, bits=3, seed=0)
    state = model.__getstate__()
    state["fields"]["iterations"] = np.int64(2**63 - 1)
    model.__setstate__(state)
    model.save(tmp_path / "m.npz")
    proc = run_binsum("train", "--resume", "m.npz", "--iterations", "1",
                      "--out", "n.npz")  # fmt: skip
    assert assert_one_line_error(proc) == (
        "binsum train: error: iterations must be in 0..0 for this model, got 1 "
        "(it has trained 9223372036854775807, and a model's iterations in all "
        "must be in 0..2**63-1)"
    )
    assert not (tmp_path / "n.npz").exists()


def test_train_no_history_leaves_out_only_the_losses(
    run_binsum: Binsum, tmp_path: Path
) -> None:
    for out, extra in (("full.npz", ()), ("lean.npz", ("--no-history",))):
        proc = run_binsum("train", "--iterations", "2000", "--log-every", "0",
                          "--out", out, *extra)
        assert proc.returncode == 0, proc.stderr
    full, lean = (BinarySumRNN.load(tmp_path / n) for n in ("full.npz", "lean.npz"))
    assert lean.history.shape == (0,) and lean.iterations == 2000
    assert full.history.shape == (2000,)
    sizes = [(tmp_path / n).stat().st_size for n in ("full.npz", "lean.npz")]
    assert sizes[0] - sizes[1] >= 8 * 2000
    for name, value in full.weights.items():
        assert np.array_equal(lean.weights[name], value), name


def test_eval_on_two_threads_prints_what_one_thread_prints(run_binsum: Binsum) -> None:
    one = run_binsum("eval", "--bits", "16", "--sample", "3000", "--hard-bits", "0")
    two = run_binsum("eval", "--bits", "16", "--sample", "3000", "--threads", "2",
                     "--hard-bits", "0")
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout
    assert one.stdout.startswith(
        f"exact sums: {BinarySumRNN.pretrained().score(16, sample=3000):.2%} of "
        "3,000 random pairs with a + b < 2**16\nwith carry-out: "
    )
    assert "threads must be in" in assert_one_line_error(
        run_binsum("eval", "--threads", "0")
    ) or "--threads" in run_binsum("eval", "--threads", "0").stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_moves_by_time_and_is_cleared() -> None:
    """The bar follows the work from a thread (not only at log points), shows
    the loss with 3 significant digits, and is gone once finished."""
    from binsum import _progress

    out = _Terminal()
    state = {"done": 0}
    with _progress.Progress(100, out=out, follow=lambda: (state["done"], 2.5e-06)) as p:
        assert p.bar is not None
        state["done"] = 40
        deadline = time.monotonic() + 10
        while p.bar.n < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert p.bar.n == 40
        p.bar.refresh()
        assert "loss=2.5e-06" in out.getvalue()
    assert _progress.loss_text(0.031234) == "0.0312"
    assert _progress.loss_text(1.2e-7) == "1.2e-07"


def test_eval_shows_a_bar_on_a_terminal(
    run_binsum: Binsum, monkeypatch: pytest.MonkeyPatch
) -> None:
    from binsum import _progress

    seen: list[int] = []
    real = _progress.Progress.update_to

    def spy(self: _progress.Progress, done: int, loss: float | None = None) -> None:
        seen.append(done)
        real(self, done, loss)

    monkeypatch.setattr(_progress.Progress, "update_to", spy)
    monkeypatch.setattr(cli, "EVAL_CHUNK", 1000)
    proc = run_binsum("eval", "--bits", "7", "--hard-bits", "0")
    assert proc.returncode == 0
    # Every pair, in steps: those of score(), then those with carry-out.
    assert len(seen) > 10 and 128 * 129 // 2 in seen and seen[-1] == 128 * 128


def test_info_shows_no_repository_paths(run_binsum: Binsum) -> None:
    out = run_binsum("info").stdout
    assert "src/" not in out and "docs/" not in out and ".npz" not in out


def test_explain_summarises_wide_sums(run_binsum: Binsum) -> None:
    a = 2**160 - 1
    proc = run_binsum("add", "--explain", str(a), "1")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    drawing = [x for x in lines[1:] if x.startswith(("  a ", "+ b ", "= network"))]
    assert len(drawing) == 3 and all(" ... " in x for x in drawing)
    assert max(len(x) for x in lines[1:] if not x.startswith("column addition")) <= 80
    assert "(161 columns: the lowest and highest 16 are drawn" in proc.stdout
    header = "column  a  b  carry  network  sigmoid(o_t)  confidence"
    table = lines[lines.index(header) + 1 :]
    rows = [x for x in table if x.split()[0].isdigit()]
    assert [int(r.split()[0]) for r in rows] == [*range(8), *range(153, 161)]
    assert "   ..." in lines


# --------------------------------------------------- no process-wide setting
def test_the_command_changes_no_process_wide_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Long decimal operands in and out without sys.set_int_max_str_digits."""
    if not hasattr(sys, "set_int_max_str_digits"):
        pytest.skip("this Python has no int/str digit limit")

    def forbidden(limit: int) -> None:
        raise AssertionError("binsum changed the process-wide digit limit")

    monkeypatch.setattr(sys, "set_int_max_str_digits", forbidden)
    a, b = "1" * 6000, "2" * 6000  # no carries: the sum is "3" * 6000
    codes = []
    for _ in range(2):
        codes.append(cli.main(["add", a, b]))
    assert codes == [0, 0]
    assert capsys.readouterr().out.split() == ["3" * 6000] * 2


def test_concurrent_commands_leave_the_digit_limit_alone() -> None:
    if not hasattr(sys, "get_int_max_str_digits"):
        pytest.skip("this Python has no int/str digit limit")
    out = run_python(
        """
        import sys, threading
        from binsum import cli
        sys.set_int_max_str_digits(1000)
        threads = [
            threading.Thread(target=cli.main, args=(["add", "9" * 5000, "1"],))
            for _ in range(4)
        ]
        for t in threads: t.start()
        for t in threads: t.join()
        print("limit", sys.get_int_max_str_digits())
        """
    )
    assert out.count("1" + "0" * 5000) == 4  # the threads' lines may interleave
    assert out.splitlines()[-1] == "limit 1000"


# ---------------------------------------------------- output that goes away
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes and signals")


def _closed_pipe() -> int:
    """The write end of a pipe whose reader has already gone."""
    read, write = os.pipe()
    os.close(read)
    return write


def _env_buffered(buffered: bool) -> dict[str, str]:
    """_env() with stdout block-buffered (a pipe's default) or unbuffered."""
    env = _env()
    env.pop("PYTHONUNBUFFERED", None)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


@POSIX
@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
def test_train_into_a_closed_pipe_still_trains_and_saves(
    tmp_path: Path, buffered: bool
) -> None:
    """`binsum train ... | head -2`: the log stops, training and the plot go
    on, the model is saved, and the command ends quietly with 141."""
    optional_module("matplotlib")
    args = [sys.executable, "-m", "binsum", "train", "--bits", "4", "--iterations",
            "5000", "--log-every", "1", "--out", "m.npz", "--plot", "loss.png"]
    with child(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
               env=_env_buffered(buffered)) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        head = [proc.stdout.readline() for _ in range(2)]
        proc.stdout.close()  # the reader goes away, as head does
        err = proc.stderr.read()
        proc.wait(timeout=300)
    assert head[0].startswith("[0|5000] Error: ")
    assert (proc.returncode, err) == (141, "")
    model = BinarySumRNN.load(tmp_path / "m.npz")
    expected = BinarySumRNN(bits=4, seed=0).fit(5000)
    assert np.array_equal(model.history, expected.history)
    for name, value in expected.weights.items():
        assert np.array_equal(model.weights[name], value), name
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG_SIGNATURE


@POSIX
@pytest.mark.parametrize(
    ("argv", "buffered"),
    [(["add", "1", "2"], True), (["add", "1", "2"], False),
     (["add", "--explain", "13", "7"], True), (["eval", "--bits", "4"], True),
     (["info"], True), (["demo"], True), (["--version"], True),
     (["train", "--help"], True)],
    ids=str,
)
def test_output_into_a_closed_pipe_ends_quietly_with_141(
    tmp_path: Path, argv: list[str], buffered: bool
) -> None:
    write = _closed_pipe()
    try:
        proc = subprocess.run([sys.executable, "-m", "binsum", *argv], stdout=write,
                              stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                              env=_env_buffered(buffered), timeout=300)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (141, "")
    assert list(tmp_path.iterdir()) == []


@POSIX
@pytest.mark.parametrize(
    ("argv", "status", "out"),
    [(["add", "1", "2"], 0, "3\n"), (["add", "x", "1"], 2, ""),
     (["add", "--model", "missing.npz", "1", "2"], 1, ""),
     (["train", "--iterations", "300", "--log-every", "0", "--out", "m.npz"], 0, None)],
    ids=str,
)
def test_a_closed_stderr_changes_no_exit_status(
    tmp_path: Path, argv: list[str], status: int, out: str | None
) -> None:
    write = _closed_pipe()
    try:
        proc = subprocess.run([sys.executable, "-m", "binsum", *argv],
                              stdout=subprocess.PIPE, stderr=write, text=True,
                              cwd=tmp_path, env=_env_buffered(True), timeout=300)
    finally:
        os.close(write)
    assert proc.returncode == status
    if out is not None:
        assert proc.stdout == out
    else:
        assert BinarySumRNN.load(tmp_path / "m.npz").iterations == 300


# --------------------------------------------------------- Ctrl-C, anywhere
def _script() -> str:
    name = "binsum.exe" if os.name == "nt" else "binsum"
    script = Path(sys.executable).parent / name
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    return str(script)


def _site(tmp_path: Path, code: str) -> dict[str, str]:
    """_env() with ``code`` as the sitecustomize module: run by Python's own
    start-up (site), just before the command's first line."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(code)
    env = _env()
    paths = [str(site), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return env


_SLOW_IMPORT = '''
import os, sys, time

class SlowImport:
    """Announces one import on stdout, then sleeps in it (for a Ctrl-C)."""

    def find_spec(self, name, path=None, target=None):
        if name == os.environ["BINSUM_TEST_SLOW_IMPORT"]:
            sys.meta_path.remove(self)
            sys.stdout.write(f"importing {name}\\n")
            sys.stdout.flush()
            time.sleep(120)
        return None

sys.meta_path.insert(0, SlowImport())
'''


@POSIX
@pytest.mark.parametrize(
    ("entry", "module"),
    [("script", "numpy"), ("script", "binsum._model"), ("script", "tqdm"),
     ("script", "binsum.cli"), ("-m", "tqdm"), ("-m", "binsum.cli")],
)
def test_interrupt_during_the_imports_is_one_line_and_130(
    tmp_path: Path, entry: str, module: str
) -> None:
    """Ctrl-C while the command's modules are imported (numpy, binsum itself
    for the console script; the command's own for ``python -m binsum``, whose
    package runpy has imported by then)."""
    env = _site(tmp_path, _SLOW_IMPORT)
    env["BINSUM_TEST_SLOW_IMPORT"] = module
    command = [_script()] if entry == "script" else [sys.executable, "-m", "binsum"]
    with child([*command, "train", "--iterations", "100", "--out", "m.npz"],
               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
               env=env) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == f"importing {module}\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (130, "", "binsum: interrupted\n")
    assert not (tmp_path / "m.npz").exists()


_STARTED = '''
import sys

class Started:
    """Says "started" when binsum's import begins (the command's start-up
    from then on is binsum's; before it, Python's own)."""

    def find_spec(self, name, path=None, target=None):
        if name == "binsum":
            sys.meta_path.remove(self)
            sys.stdout.write("started\\n")
            sys.stdout.flush()
        return None

sys.meta_path.insert(0, Started())
'''


@POSIX
def test_interrupt_at_any_moment_of_start_up_is_one_line(tmp_path: Path) -> None:
    """SIGINT at moments spread over the command's start-up, from its first
    import of binsum (before it runs only Python's own start-up, where a
    Ctrl-C is Python's to report) into the first moments of training: always
    one line and 130, and the command never runs on."""
    script = _script()
    env = _site(tmp_path, _STARTED)
    with child([script, "--version"], stdout=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "started\n"
        begin = time.perf_counter()
        proc.wait(timeout=300)
        start_up = time.perf_counter() - begin
    rng = random.Random(18)
    moments = 12
    lost = []
    for i in range(moments):
        delay = 1.2 * start_up * (i + rng.random()) / moments
        with child([script, "train", "--iterations", "1000000000", "--log-every",
                    "0", "--out", "m.npz"], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, cwd=tmp_path, env=env) as proc:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "started\n"
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                # Known open defect: rarely (under load) the signal is lost
                # and training runs on; a second Ctrl-C must still stop it.
                lost.append(round(delay, 3))
                proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(timeout=60)
        assert (proc.returncode, out) == (130, ""), (delay, err)
        assert err in ("binsum: interrupted\n", "binsum train: interrupted\n"), delay
    assert not (tmp_path / "m.npz").exists()
    if lost:
        pytest.xfail(f"SIGINT lost at {lost} s of start-up (open defect)")


def test_interrupt_while_reading_the_command_line_exits_130(
    run_binsum: Binsum, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    try:
        proc = run_binsum("info")
    except KeyboardInterrupt:  # would end the whole test session
        pytest.fail("KeyboardInterrupt escaped cli.main")
    assert (proc.returncode, proc.stdout) == (130, "")
    assert proc.stderr == "binsum: interrupted\n"


@pytest.mark.skipif(sys.platform == "win32", reason="the pty module is POSIX only")
@pytest.mark.skipif(
    importlib.util.find_spec("binsum._core") is None,
    reason="10 million pairs take hours on the twin",
)
def test_eval_with_threads_stops_at_once_on_sigint(tmp_path: Path) -> None:
    """SIGINT while eval predicts on two threads (the shipped network: a
    chunk takes milliseconds): one line, 130, at once."""
    import pty
    import select

    args = [sys.executable, "-m", "binsum", "eval", "--bits", "62", "--sample",
            "10000000", "--threads", "2"]
    master, slave = pty.openpty()
    shown = b""

    def read(until: Callable[[bytes], bool], timeout: float) -> None:
        nonlocal shown
        deadline = time.monotonic() + timeout
        while not until(shown) and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    return
                if not chunk:
                    return
                shown += chunk

    try:
        with child(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                   cwd=tmp_path, env=_env()) as proc:
            os.close(slave)
            # The bar has moved: the pairs are drawn and the first chunk is done.
            read(lambda text: b"262k/10.0M" in text, 300)
            assert b"262k/10.0M" in shown, shown
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=60)
            took = time.monotonic() - sent
            read(lambda text: False, 5)
    finally:
        os.close(master)
    text = shown.decode("utf-8", "replace")
    assert code == 130, text
    assert "Traceback" not in text
    assert text.rstrip().endswith("binsum eval: interrupted"), text
    assert took < 5, took  # generous: one chunk of pairs per thread is milliseconds


# ------------------------------------------------------------ paths and digits
FOLDER = "the path names a folder (it ends with a separator, . or ..), not a file"


@pytest.mark.parametrize(
    ("out", "reason"),
    [("", "'': the path is empty"), ("m.npz/", f"m.npz/: {FOLDER}"),
     (".", f".: {FOLDER}"),
     ("x" * 256, "x" * 256 + ": the file name is 256 "
      + ("UTF-16 code units" if os.name == "nt" else "bytes")
      + " long, over the 255 a name may have here")],
    ids=["empty", "trailing-slash", "dot", "256-long"],
)
def test_train_refuses_an_out_path_before_training(
    run_binsum: Binsum, tmp_path: Path, out: str, reason: str
) -> None:
    BinarySumRNN(bits=3, seed=0).save(tmp_path / "m.npz")
    before = (tmp_path / "m.npz").read_bytes()
    proc = run_binsum("train", "--iterations", "50", "--out", out)
    assert proc.stdout == ""  # refused before any training
    line = assert_one_line_error(proc)
    assert line == f"binsum train: error: cannot write --out {reason}"
    assert (tmp_path / "m.npz").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


@pytest.mark.skipif(sys.platform == "win32", reason="MAX_PATH on Windows")
def test_train_saves_to_the_longest_name_allowed(
    run_binsum: Binsum, tmp_path: Path
) -> None:
    out = "m" * 251 + ".npz"  # 255 bytes, NAME_MAX
    proc = run_binsum("train", "--bits", "3", "--iterations", "50", "--log-every", "0",
                      "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert f"saved {out}" in proc.stdout
    assert BinarySumRNN.load(tmp_path / out).iterations == 50
    assert [p.name for p in tmp_path.iterdir()] == [out]  # no temporary file left


@pytest.mark.parametrize(
    "text",
    # Arabic-Indic, fullwidth and N'Ko digits; Unicode spaces that int() strips.
    ["\u0661\u0662\u0663", "\u0660\u0660\u0667", "\u0663" * 5000, "\uff11\uff12",
     "1\u0662", "\u07c1", "0x\u0661\u0662", "\u20071", "1\u00a0"],
    ids=["arabic-indic", "leading-zeros", "5000-digits", "fullwidth", "mixed",
         "nko", "hex", "figure-space", "no-break-space"],
)
def test_operands_must_be_ascii_at_every_length(run_binsum: Binsum, text: str) -> None:
    proc = run_binsum("add", text, "1")
    assert proc.returncode == 2 and proc.stdout == ""
    shown = text if len(text) <= 60 else f"{text[:60]}... ({len(text)} chars)"
    assert assert_one_line_error(proc) == (
        f"binsum add: error: argument A: not a number: {shown!r} (only ASCII "
        "digits are read) (see binsum add --help)"
    )


@pytest.mark.parametrize(
    ("argv", "noun"),
    [(["train", "--iterations", "\u0661\u0660"], "an integer"),
     (["train", "--learning-rate", "\u0660.\u0665"], "a number"),
     (["eval", "--sample", "\u0661\u0660\u0660"], "an integer")],
    ids=str,
)
def test_options_must_be_ascii(run_binsum: Binsum, argv: list[str], noun: str) -> None:
    proc = run_binsum(*argv)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f": not {noun}: {argv[-1]!r} (only ASCII digits are read)" in (
        assert_one_line_error(proc)
    )


def test_help_states_the_rules(run_binsum: Binsum) -> None:
    for argv in (["--help"], ["add", "--help"]):
        text = " ".join(run_binsum(*argv).stdout.split())
        assert "Numbers are written in ASCII digits" in text
    text = " ".join(run_binsum("--help").stdout.split())
    assert ("130 interrupted (Ctrl-C), 141 when the reader of the output went "
            "away") in text
    text = " ".join(run_binsum("train", "--help").stdout.split())
    assert "--out and --plot are checked before training starts" in text
