"""Benchmarks for the offline toolchain, measured as a user runs it: fresh processes.

    python -m tools.bench [--runs 5]

Prints the median wall time and the peak memory of each command against its target, and exits 1
if a target is missed. Targets (2-core machine): render of prod + dr under 2.5 s and 1 GiB;
render plus the full policy evaluation of both stacks under 3 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIB = 1024 ** 3


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    seconds: float
    memory_bytes: int = GIB


CASES = (
    Case("render prod + dr", ("-m", "tools.render", "--quiet"), 2.5),
    Case("render + policy check, prod + dr", ("-m", "tools.policy_check", "--stack", "prod", "--stack", "dr"), 3.0),
)


def run_once(argv: tuple[str, ...]) -> tuple[float, int]:
    """Wall seconds and peak RSS bytes of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}: {stderr.strip()[-500:]}")
    return elapsed, usage.ru_maxrss * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{'benchmark':36} {'median':>8} {'min':>7} {'max':>7} {'peak RSS':>10}  target       result")
    missed = 0
    for case in CASES:
        run_once(case.argv)  # warm the file cache, as a second run by a user would be
        samples = [run_once(case.argv) for _ in range(args.runs)]
        times = [s[0] for s in samples]
        peak = max(s[1] for s in samples)
        median = statistics.median(times)
        ok = median < case.seconds and peak < case.memory_bytes
        missed += not ok
        print(f"{case.name:36} {median:7.2f}s {min(times):6.2f}s {max(times):6.2f}s "
              f"{peak / 2**20:8.0f}MiB  <{case.seconds}s <{case.memory_bytes // 2**20}MiB  "
              f"{'ok' if ok else 'MISSED'}")
    print(f"{args.runs} fresh processes per benchmark on {os.cpu_count()} cores; median reported.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
