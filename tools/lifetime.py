"""Child processes that never outlive the command that started them, and signals that end a
command with one line instead of a traceback (or a hang).

Linux's prctl(PR_SET_PDEATHSIG) makes the kernel kill a child when its parent dies, whatever way
it dies (SIGKILL included); elsewhere the children are still stopped on every normal exit path.
"""

from __future__ import annotations

import ctypes
import signal
import sys
from typing import Optional

PR_SET_PDEATHSIG = 1
# Run before the pack's own code, in the pack's process: the same effect as prctl in a
# preexec_fn, without running Python between fork and exec in a process that may have threads.
DIE_WITH_PARENT_PRELUDE = (
    "import ctypes, signal, sys\n"
    "try:\n"
    "    ctypes.CDLL(None).prctl(1, signal.SIGKILL)\n"
    "except (OSError, AttributeError):\n"
    "    pass\n"
)


def die_with_parent() -> None:
    """In a forked child: be killed when the parent dies."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass


class Terminated(BaseException):
    """SIGTERM arrived: unwind like KeyboardInterrupt, so every cleanup path runs."""

    exit_code = 143


def raise_on_sigterm() -> None:
    def handler(_signum, _frame):
        raise Terminated()

    signal.signal(signal.SIGTERM, handler)


def interrupted_exit_code(exc: BaseException) -> Optional[int]:
    """130 for Ctrl-C, 143 for SIGTERM, None for anything else."""
    if isinstance(exc, KeyboardInterrupt):
        return 130
    if isinstance(exc, Terminated):
        return Terminated.exit_code
    return None
