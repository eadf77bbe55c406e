"""Benchmarks for the offline toolchain, measured as a user runs it: fresh processes.

    python -m tools.bench [--runs 5]

Prints the median wall time and the peak memory of each command against its target, and exits 1
if a target is missed. Targets (2-core machine): render of prod + dr under 2.5 s and 1 GiB;
render plus the full policy evaluation of both stacks under 3 s; the policy check with SARIF of
prod + dr under 2.5 s; the check of a generated 3,000-resource graph under 3 s. A generated
15,000-resource graph is checked once: it must complete (under a minute and 2 GiB).

It also times a fixed pure-Python workload (`REFERENCE`), which no change to this repository can
make faster or slower: this shared machine's speed varies from day to day (the same commit's
test suite took 5 min one day and 9 the next) and within minutes, so the cases run in rounds
(each case once, then the reference) and each median is also shown in units of the reference.
Compare that figure between two runs before reading a miss as a regression.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
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
    runs: int = 0
    """0: the --runs median; otherwise exactly this many runs (a completion check)."""


REFERENCE = """
d = {}
for i in range(500_000):
    d[str(i)] = {"id": i, "urn": f"urn:pulumi:prod::printflow::aws:s3/bucket:Bucket::b{i}"}
n = sum(len(v["urn"]) for v in d.values() if v["id"] % 3)
"""
"""Dict, string and allocation work like the render's and the pack's, none of this repository's code."""


def cases(work: Path) -> tuple[Case, ...]:
    sarif = str(work / "policy.sarif")
    return (
        Case("render prod + dr", ("-m", "tools.render", "--stack", "prod", "--stack", "dr", "--quiet"), 2.5),
        Case("render + policy check, prod + dr", ("-m", "tools.policy_check", "--stack", "prod", "--stack", "dr"), 3.0),
        Case("policy check + SARIF, prod + dr",
             ("-m", "tools.policy_check", "--stack", "prod", "--stack", "dr", "--sarif", sarif), 2.5),
        Case("policy check, 3,000 resources", ("-m", "tools.policy_check", "--graph", str(work / "g3000.json")), 3.0),
        Case("policy check, 15,000 resources", ("-m", "tools.policy_check", "--graph", str(work / "g15000.json")),
             60.0, 2 * GIB, runs=1),
    )


def scaled_graph(base: dict, size: int) -> dict:
    """`base` (a rendered stack) grown to `size` resources: copies of every resource but the
    stack, each copy renamed throughout (`printflow-prod` -> `printflow-prod-c<N>`), so names,
    URNs and references stay distinct and consistent within a copy."""
    stack = next(r for r in base["resources"] if r["type"] == "pulumi:pulumi:Stack")
    prefix = f"printflow-{base['stack']}"
    body = json.dumps([r for r in base["resources"] if r is not stack])
    resources, copy = [stack], 0
    while len(resources) < size:
        renamed = json.loads(body.replace(prefix, f"{prefix}-c{copy}"))
        for r in renamed:
            if r.get("parent") and r["parent"].endswith(f"::{prefix}-c{copy}"):
                r["parent"] = stack["urn"]
        resources.extend(renamed[: size - len(resources)])
        copy += 1
    return {**base, "resources": resources}


def write_scaled_graphs(work: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", "import json, sys\nfrom tools.render import render_stacks\n"
                           "json.dump(render_stacks(('prod',))['prod'], sys.stdout)"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    prod = json.loads(proc.stdout)
    for size in (3000, 15000):
        (work / f"g{size}.json").write_text(json.dumps(scaled_graph(prod, size)))


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


def measure(work: Path, runs: int) -> tuple[list[tuple[Case, list[tuple[float, int]]]], list[float]]:
    """Samples per case and reference times, taken in rounds: each round runs every timed case
    once and then the reference, so a drift in the machine's speed (minutes long on this shared
    machine) falls on every case alike instead of on whichever ran during it. A case with its own
    run count (a completion check) runs after the rounds."""
    every = cases(work)
    timed = [case for case in every if not case.runs]
    for case in timed:
        run_once(case.argv)  # warm the file cache, as a second run by a user would be
    samples: dict[Case, list[tuple[float, int]]] = {case: [] for case in every}
    reference: list[float] = []
    for _ in range(runs):
        for case in timed:
            samples[case].append(run_once(case.argv))
        reference.append(run_once(("-c", REFERENCE))[0])
    for case in every:
        samples[case].extend(run_once(case.argv) for _ in range(case.runs))
    return list(samples.items()), reference


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="printflow-bench-") as tmp:  # ~40 MB of generated graphs
        work = Path(tmp)
        write_scaled_graphs(work)
        measured, reference_times = measure(work, args.runs)
    reference = statistics.median(reference_times)
    print(f"{'benchmark':36} {'median':>8} {'min':>7} {'max':>7} {'/ ref':>6} {'peak RSS':>10}  target       result")
    missed = 0
    for case, samples in measured:
        times = [s[0] for s in samples]
        peak = max(s[1] for s in samples)
        median = statistics.median(times)
        ok = median < case.seconds and peak < case.memory_bytes
        missed += not ok
        print(f"{case.name:36} {median:7.2f}s {min(times):6.2f}s {max(times):6.2f}s {median / reference:6.2f} "
              f"{peak / 2**20:8.0f}MiB  <{case.seconds}s <{case.memory_bytes // 2**20}MiB  "
              f"{'ok' if ok else 'MISSED'}")
    print(f"{args.runs} rounds of fresh processes (the 15,000-resource check: one run) on "
          f"{os.cpu_count()} cores; median reported.")
    print(f"machine reference: {reference:.2f}s (median, {min(reference_times):.2f}-{max(reference_times):.2f}s) for a "
          f"fixed pure-Python workload (tools.bench.REFERENCE), run once per round; '/ ref' is a median in "
          f"units of it. Compare the reference between runs before reading a miss as a regression.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
