"""A first real `pulumi preview` sees the program with every output AWS computes unknown (ids,
ARNs, endpoints). The pack must reach the same verdicts on such a plan as on the final state:
unknown means "cannot judge yet", never a violation and never a pass that the final state would
fail. (pulumi/pulumi pkg/resource/deploy: during a preview, Analyze and AnalyzeStack receive
unknown values for outputs not yet known.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.wire import UNKNOWN_SENTINEL

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("prod", "dr", "staging", "staging-dr")
SNIPPET = ("import json, sys\n"
           "from tools.render import render_stacks\n"
           "stacks = tuple(sys.argv[1:])\n"
           "json.dump({'up': render_stacks(stacks), 'preview': render_stacks(stacks, preview=True)}, sys.stdout)\n")


@pytest.fixture(scope="module")
def both_modes() -> dict:
    proc = subprocess.run([sys.executable, "-c", SNIPPET, *STACKS], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _unknowns(value) -> int:
    if isinstance(value, dict):
        return sum(_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return sum(_unknowns(v) for v in value)
    return int(value == UNKNOWN_SENTINEL)


def test_preview_mode_leaves_computed_outputs_unknown(both_modes):
    for stack in STACKS:
        graph = both_modes["preview"][stack]
        db = next(r for r in graph["resources"] if r["type"] == "aws:rds/instance:Instance")
        assert db["outputs"]["arn"] == db["outputs"]["address"] == db["outputs"]["id"] == UNKNOWN_SENTINEL
        assert _unknowns(graph["outputs"]) > 5, stack


@pytest.mark.parametrize("stack", STACKS)
def test_policy_verdicts_are_the_same_in_preview_and_after_up(both_modes, analyzer, stack):
    verdicts = {}
    for mode in ("up", "preview"):
        verdicts[mode] = sorted((v.policy, v.resource_name) for v in analyzer.evaluate(both_modes[mode][stack]))
    assert verdicts["preview"] == verdicts["up"] == []


def test_a_stack_policy_violation_is_reported_among_unknown_values(both_modes, analyzer):
    """Scrubbing secrets out of a stack policy's message walks every resource's properties; an
    unknown value there (any preview, or an encrypted secret in state) must not swallow the
    violation being reported."""
    graph = json.loads(json.dumps(both_modes["preview"]["prod"]))
    for r in graph["resources"]:
        if r["type"] == "aws:s3/bucketVersioning:BucketVersioning":
            r["inputs"]["versioningConfiguration"]["status"] = "Suspended"
            r["outputs"].pop("versioningConfiguration", None)
    found = {(v.policy, v.resource_name) for v in analyzer.evaluate(graph)}
    assert sum(policy == "aws-s3-bucket-versioning-enabled" for policy, _ in found) == 3
