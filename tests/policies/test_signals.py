"""A policy check stopped by SIGTERM or Ctrl-C (SIGINT) leaves no process behind: not the pack,
not the forked renderer. It exits 143 or 130 with one line, never a traceback, never hangs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _leftover(pgid: int) -> bool:
    """Did a process of the group outlive its leader (5 s grace)? Any survivor is killed."""
    deadline = time.monotonic() + 5
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = _group_alive(pgid)
    if alive:
        os.killpg(pgid, signal.SIGKILL)
    return alive


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("delay", [0.2, 0.9, 1.45, 1.6, 2.4])
def test_a_signal_at_any_moment_leaves_no_process(signum, delay):
    proc = subprocess.Popen([sys.executable, "-m", "tools.policy_check", "--stack", "prod", "--stack", "dr"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(delay)
    if proc.poll() is None:
        os.kill(proc.pid, signum)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"the check hung after {signum!r} at {delay}s")
    assert not _leftover(proc.pid), f"a process of the check's group outlived it ({signum!r} at {delay}s)"
    assert b"Traceback" not in err, err.decode()[-2000:]
    expected = {signal.SIGTERM: 143, signal.SIGINT: 130}[signum]
    assert proc.returncode in (expected, 0), (proc.returncode, err.decode()[-500:])
    if proc.returncode == expected:
        assert len(err.decode().strip().splitlines()) <= 1, err.decode()


@pytest.mark.parametrize("delay", [0.9, 1.8])
def test_children_die_with_a_killed_check(delay):
    """SIGKILL cannot be handled: the kernel kills the children (prctl PR_SET_PDEATHSIG)."""
    proc = subprocess.Popen([sys.executable, "-m", "tools.policy_check", "--stack", "prod", "--stack", "dr"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not _leftover(proc.pid)
