"""Child processes of the tests: Ctrl-C works in them, and none outlives a test.

A parent started with SIGINT ignored (any `cmd &` in a non-interactive shell)
passes that to its children, and Python then installs no KeyboardInterrupt
handler: a test that interrupts a child would wait for it forever. Children
started here get SIGINT's default back before they run, and are killed in a
``finally`` whatever the test does.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from typing import Any


def _default_sigint() -> None:  # runs in the child, between fork and exec
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def popen_kwargs() -> dict[str, Any]:
    """Keyword arguments for subprocess calls: the child gets SIGINT's default."""
    return {} if sys.platform == "win32" else {"preexec_fn": _default_sigint}


@contextlib.contextmanager
def child(args: Sequence[str], **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
    """Popen(args, text=True, **kwargs), killed and reaped when the block ends."""
    proc = subprocess.Popen(list(args), text=True, **popen_kwargs(), **kwargs)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def run_python(code: str, *args: str, timeout: float = 120) -> str:
    """Run ``code`` in a fresh interpreter; its stdout (it must exit 0)."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True, text=True, timeout=timeout, **popen_kwargs(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout
