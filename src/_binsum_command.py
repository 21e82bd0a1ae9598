"""The entry point of the ``binsum`` console script and of ``python -m binsum``.

It lives outside the binsum package on purpose: importing ``binsum.cli``
imports ``binsum`` first (numpy and the kernel, most of the start-up time),
and none of the command's code could catch a Ctrl-C there. Nor should a
KeyboardInterrupt be raised inside those imports at all: at an arbitrary
point of them it can be turned into an ImportError (numpy's C extension) or
swallowed (an import lock's callback), and the command would then run on.
So while they run, Ctrl-C ends the process at once (nothing is written yet);
from the command's first line on, binsum.cli handles KeyboardInterrupt.
Before this module runs there is only Python's own start-up (and the
console script's two lines), where a Ctrl-C is Python's to report.
"""

# The C module under signal: signal itself imports enum, 5 ms in which a
# Ctrl-C could not be caught yet.
import _signal as signal  # type: ignore[import-not-found]
import os  # (already imported by Python's start-up, as sys is)
import sys

_INTERRUPTED = 130  # 128 + SIGINT


def _leave(signum: int, frame: object) -> None:
    try:
        os.write(2, b"binsum: interrupted\n")
    except OSError:  # no stderr left to say it on
        pass
    os._exit(_INTERRUPTED)


def main() -> int:
    """Run the ``binsum`` command; Ctrl-C at any moment is one line and 130."""
    try:
        # Only Python's own handler is replaced (a SIGINT ignored stays so).
        ours = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        if ours:
            signal.signal(signal.SIGINT, _leave)
        try:
            from binsum.cli import main as run
        finally:
            if ours:
                signal.signal(signal.SIGINT, signal.default_int_handler)
        return run()
    except KeyboardInterrupt:  # between the imports and binsum.cli's own handling
        try:
            sys.stderr.write("binsum: interrupted\n")
            sys.stderr.flush()
        except OSError:  # no stderr left to say it on
            pass
        return _INTERRUPTED
