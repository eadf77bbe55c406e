"""Child processes that never outlive the command that started them, and signals that end a
command with one line instead of a traceback (or a hang).

Linux's prctl(PR_SET_PDEATHSIG) makes the kernel kill a child when its parent dies, whatever way
it dies (SIGKILL included); elsewhere the children are still stopped on every normal exit path.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
_CHILDREN: set[int] = set()
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
    """In a forked child: be killed when the parent dies; the parent's children and signal
    handlers are the parent's, not this child's."""
    _CHILDREN.clear()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass


def track(pid: int) -> None:
    """A child process to stop when a signal ends this command."""
    _CHILDREN.add(pid)


def untrack(pid: int) -> None:
    _CHILDREN.discard(pid)


def exit_on_signals(message: str) -> None:
    """SIGINT (Ctrl-C) and SIGTERM end the command at once: its children are killed, one line is
    written, and it exits 130 or 143. Nothing unwinds through the mock engine's event loop or a
    gRPC call, where an exception can be swallowed and leave the command waiting forever."""

    def handler(signum, _frame):
        for pid in list(_CHILDREN):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            os.write(2, f"interrupted: {message}\n".encode())
        finally:
            os._exit(128 + signum)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
