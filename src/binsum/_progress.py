"""Training progress for the command: a tqdm bar while stdout is a terminal.

In a pipe or a file there is no bar (it would only litter the output with
carriage returns); the lecture's log goes straight to stdout. Under a bar,
log lines are routed through ``tqdm.write`` so they scroll above it.
"""

from __future__ import annotations

import io
import shutil
import sys
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


class Progress:
    """Bar (or nothing) for ``total`` iterations; ``log`` is where the log goes."""

    def __init__(self, total: int, out: TextIO | None = None) -> None:
        self.out: TextIO = sys.stdout if out is None else out
        self.bar: tqdm[Any] | None = None
        self.log: TextIO = self.out
        if _is_terminal(self.out):
            size = shutil.get_terminal_size()
            bar: tqdm[Any] = tqdm(
                total=total,
                file=self.out,
                unit="it",
                unit_scale=True,
                # shutil falls back to 80x24 when the terminal reports 0x0
                # (a fresh pty), where tqdm would draw nothing at all.
                ncols=size.columns,
                nrows=size.lines,
                leave=True,
                desc="training",
            )
            self.bar, self.log = bar, _AboveBar(bar, self.out)

    def update_to(self, done: int, loss: float | None = None) -> None:
        if self.bar is None:
            return
        if loss is not None:
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        self.bar.update(done - self.bar.n)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False
