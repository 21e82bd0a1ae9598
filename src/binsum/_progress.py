"""Training progress: the command's tqdm bar while stdout is a terminal, and
``fit(progress=True)``'s bar, in a terminal or a notebook.

The command's bar: in a pipe or a file there is none (it would only litter
the output with carriage returns); the lecture's log goes straight to stdout.
``fit(progress=True)`` asked for a bar, so it always gets one, from
``tqdm.auto``: a widget in Jupyter, text on stderr elsewhere (tqdm's own
stream, as Keras and tqdm users expect), left on screen when finished. Under a bar,
log lines are routed through ``tqdm.write`` so they scroll above it. The bar
moves by time: a thread reads the work done (``follow``) a few times a second,
whatever the log's cadence. A finished bar is cleared, so the screen keeps
the log and the results, as the README shows them.
"""

from __future__ import annotations

import io
import shutil
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

from tqdm import tqdm


class _AboveBar(io.StringIO):
    """A text stream that prints each complete line above the bar."""

    def __init__(self, bar: tqdm[Any], out: TextIO) -> None:
        super().__init__()
        self._bar, self._out, self._partial = bar, out, ""

    def write(self, s: str) -> int:
        *lines, self._partial = (self._partial + s).split("\n")
        if lines:  # one redraw of the bar per batch of lines
            self._bar.write("\n".join(lines), file=self._out)
        return len(s)


Follow = Callable[[], "tuple[int, float | None]"]
REFRESH = 0.2  # seconds between the thread's updates of the bar


class Progress:
    """Bar (or nothing) for ``total`` units; ``log`` is where the log goes.

    ``follow()``, if given, returns (done, loss or None) and is read from a
    thread every REFRESH seconds while the bar is shown. ``always``: the
    API's bar (tqdm.auto on its own stream, kept when done) instead of the
    command's (on ``out``, only on a terminal, cleared when done).
    """

    def __init__(
        self,
        total: int,
        out: TextIO | None = None,
        *,
        desc: str = "training",
        unit: str = "it",
        follow: Follow | None = None,
        always: bool = False,
    ) -> None:
        self.out: TextIO = sys.stdout if out is None else out
        self.bar: tqdm[Any] | None = None
        self.log: TextIO = self.out
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the follower thread and the callback
        self._thread: threading.Thread | None = None
        if always:
            # Imported here: tqdm.auto picks the widget by the session it
            # finds (and imports asyncio), so only when a bar is asked for.
            from tqdm.auto import tqdm as auto_tqdm

            shown: tqdm[Any] = auto_tqdm(
                total=total, unit=unit, unit_scale=True, desc=desc
            )
            self.bar, self.log = shown, _AboveBar(shown, self.out)
        elif _is_terminal(self.out):
            # 80x24 where the terminal reports 0x0 (a fresh pty), where tqdm
            # would draw no bar at all; shutil falls back so from 3.11 only.
            size = shutil.get_terminal_size()
            bar: tqdm[Any] = tqdm(
                total=total,
                file=self.out,
                unit=unit,
                unit_scale=True,
                ncols=size.columns or 80,
                nrows=size.lines or 24,
                leave=False,
                desc=desc,
            )
            self.bar, self.log = bar, _AboveBar(bar, self.out)
            if follow is not None:
                self._thread = threading.Thread(
                    target=self._follow, args=(follow,), daemon=True
                )
                self._thread.start()

    def _follow(self, follow: Follow) -> None:
        while not self._stop.wait(REFRESH):
            done, loss = follow()
            self.update_to(done, loss)

    def update_to(self, done: int, loss: float | None = None) -> None:
        """Show ``done`` units (never moving back) and the loss, if given."""
        bar = self.bar
        if bar is None:
            return
        with self._lock:
            if loss is not None:
                bar.set_postfix(loss=loss_text(loss), refresh=False)
            if done > bar.n:
                bar.update(done - bar.n)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.bar is not None:
            if kind is None:  # finished: draw 100 % once before clearing it
                self.bar.refresh()
            self.bar.close()


class FitBar(Progress):
    """``fit(progress=True)``'s bar, moved by fit's own loop after each block
    (no thread), redrawn at most every REFRESH seconds: a block can be a
    single sample. ``loss(done)`` is the loss shown after ``done`` units."""

    def __init__(self, total: int, out: TextIO, loss: Callable[[int], float]) -> None:
        super().__init__(total, out, always=True)
        self._loss, self._shown = loss, time.monotonic()

    def show(self, done: int, last: bool) -> None:
        now = time.monotonic()
        if last or now - self._shown >= REFRESH:
            self._shown = now
            self.update_to(done, self._loss(done))


def loss_text(loss: float) -> str:
    """Three significant digits at any size: 0.0312, 2.41e-06."""
    return f"{loss:.3g}"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False
