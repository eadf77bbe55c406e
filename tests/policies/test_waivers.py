"""Waivers with an owner and an expiry (policies/waivers.yaml, read by the pack itself, so the
real CLI and the offline check agree). Each test copies the pack and writes its own waivers.yaml
next to it, as a team would edit the shipped file."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.pack_modules import pack_module
from tests.policies.graphs import RDS, one, setp
from tools import policy_check

ROOT = Path(__file__).resolve().parents[2]
POLICY = "aws-rds-instance-backup-retention"
FUTURE = (date.today() + timedelta(days=60)).isoformat()
PAST = (date.today() - timedelta(days=1)).isoformat()


def _pack(tmp_path: Path, waivers: str) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "policies", pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    (pack / "waivers.yaml").write_text(waivers)
    return pack


def _waiver(expires: str, resource: str = "printflow-prod-db-postgres", stack: str = "prod",
            policy: str = POLICY) -> str:
    return (f"waivers:\n  - policy: {policy}\n    resource: '{resource}'\n    stack: {stack}\n"
            f"    reason: restore test instance, rebuilt weekly\n    owner: platform-team\n"
            f"    expires: {expires}\n")


@pytest.fixture
def graph_file(tmp_path, baselines):
    g = copy.deepcopy(baselines["prod"])
    db = one(g, RDS)
    setp(db, "backupRetentionPeriod", 1)     # waivable
    setp(db, "copyTagsToSnapshot", False)    # not waived: must stay mandatory
    path = tmp_path / "g.json"
    path.write_text(json.dumps(g))
    return path


def _run(tmp_path, pack, graph_file, capsys):
    sarif = tmp_path / "out.sarif"
    code = policy_check.main(["--pack", str(pack), "--graph", str(graph_file), "--json", "--sarif", str(sarif)])
    captured = capsys.readouterr()
    violations = json.loads(captured.out) if captured.out.strip().startswith("[") else []
    results = json.loads(sarif.read_text())["runs"][0]["results"] if sarif.exists() else []
    return code, violations, results, captured.err


def test_an_unexpired_waiver_turns_exactly_its_finding_into_an_advisory_note(tmp_path, graph_file, capsys):
    code, violations, results, _ = _run(tmp_path, _pack(tmp_path, _waiver(FUTURE)), graph_file, capsys)
    levels = {v["policy"]: v["level"] for v in violations}
    assert levels == {POLICY: "advisory", "aws-rds-instance-copy-tags-to-snapshot": "mandatory"}
    waived = next(v for v in violations if v["policy"] == POLICY)
    assert waived["message"].startswith("WAIVED by waiver #1 (owner platform-team, expires ")
    assert code == 1  # the other finding still fails the run
    (result,) = [r for r in results if r["ruleId"] == POLICY]
    assert result["suppressions"][0]["kind"] == "external"
    assert "restore test instance" in result["suppressions"][0]["justification"]


def test_a_waiver_alone_lets_the_run_pass(tmp_path, baselines, capsys):
    g = copy.deepcopy(baselines["prod"])
    setp(one(g, RDS), "backupRetentionPeriod", 1)
    path = tmp_path / "g.json"
    path.write_text(json.dumps(g))
    code, violations, _, _ = _run(tmp_path, _pack(tmp_path, _waiver(FUTURE, resource="printflow-prod-db-*")), path, capsys)
    assert code == 0 and [v["level"] for v in violations] == ["advisory"]


def test_an_expired_waiver_leaves_the_violation_and_says_so(tmp_path, graph_file, capsys):
    code, violations, results, _ = _run(tmp_path, _pack(tmp_path, _waiver(PAST)), graph_file, capsys)
    finding = next(v for v in violations if v["policy"] == POLICY)
    assert code == 1 and finding["level"] == "mandatory"
    assert f"expired on {PAST}" in finding["message"]
    assert not any(r["suppressions"] for r in results)  # none suppressed (SARIF: all carry the list)


@pytest.mark.parametrize("waiver", [
    _waiver(FUTURE, stack="staging"),                       # another stack
    _waiver(FUTURE, resource="printflow-prod-db-other"),    # another resource
    _waiver(FUTURE, policy="aws-rds-instance-multi-az"),    # another policy
])
def test_a_waiver_for_something_else_waives_nothing_and_is_listed_unused(tmp_path, graph_file, capsys, waiver):
    code, violations, _, err = _run(tmp_path, _pack(tmp_path, waiver), graph_file, capsys)
    assert code == 1 and {v["level"] for v in violations} == {"mandatory"}
    if "staging" not in waiver:  # a waiver for an unchecked stack is not "unused" here
        assert "waiver #1" in err and "matched no finding" in err


@pytest.mark.parametrize("text, problem", [
    ("waivers:\n  - policy: aws-rds-instance-backup-retention\n", "has no 'resource'"),
    (_waiver("next tuesday"), "'expires' is not a date"),
    (_waiver(FUTURE) + "    colour: red\n", "unknown key(s) colour"),
    (_waiver(FUTURE, policy="aws-no-such-policy"), "which the pack does not have"),
    ("waivers: {a: 1}\n", "must be a list"),
    ("waivers: [\n", "is not YAML"),
])
def test_a_malformed_waiver_file_is_one_clear_error(tmp_path, graph_file, capsys, text, problem):
    code, _, _, err = _run(tmp_path, _pack(tmp_path, text), graph_file, capsys)
    assert code == 2 and problem in err and "policies/waivers.yaml" in err
    assert "Traceback" not in err


def test_the_shipped_waiver_file_is_valid_and_waives_nothing_today():
    from tools.waiver_check import load_waivers

    names = [p.name for p in pack_module("registry").ALL_POLICIES]
    assert load_waivers(names) == []


@pytest.fixture
def stack_finding_file(tmp_path, baselines):
    """A finding about the whole stack (reported with no resource): no alarm left at all."""
    g = copy.deepcopy(baselines["prod"])
    g["resources"] = [r for r in g["resources"] if r["type"] != "aws:cloudwatch/metricAlarm:MetricAlarm"]
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(g))
    return path


def test_a_finding_about_the_whole_stack_is_waived_through_the_stack_resource(tmp_path, stack_finding_file, capsys):
    """The pack matches a stack-level finding against the stack's own resource, as the check
    attributes it (pulumi:pulumi:Stack, named <project>-<stack>)."""
    waiver = _waiver(FUTURE, resource="printflow-prod", policy="printflow-required-alarms")
    _, violations, _, err = _run(tmp_path, _pack(tmp_path, waiver), stack_finding_file, capsys)
    levels = {v["level"] for v in violations if v["policy"] == "printflow-required-alarms"}
    assert levels == {"advisory"} and "matched no finding" not in err


def test_a_stack_waiver_for_another_resource_is_unused_and_waives_nothing(tmp_path, stack_finding_file, capsys):
    waiver = _waiver(FUTURE, resource="printflow-prod-db-postgres", policy="printflow-required-alarms")
    _, violations, _, err = _run(tmp_path, _pack(tmp_path, waiver), stack_finding_file, capsys)
    levels = {v["level"] for v in violations if v["policy"] == "printflow-required-alarms"}
    assert levels == {"mandatory"} and "waiver #1" in err and "matched no finding" in err


def test_a_renewal_next_to_the_expired_waiver_takes_effect(tmp_path, graph_file, capsys):
    renewal = _waiver(FUTURE).replace("waivers:\n", "")
    _, violations, _, err = _run(tmp_path, _pack(tmp_path, _waiver(PAST) + renewal), graph_file, capsys)
    finding = next(v for v in violations if v["policy"] == POLICY)
    assert finding["level"] == "advisory" and finding["message"].startswith("WAIVED by waiver #2 ")
    assert "waiver #1" in err and "matched no finding" in err  # the expired entry can go


def test_an_owner_with_a_comma_still_reaches_the_sarif_suppression(tmp_path, graph_file, capsys):
    text = _waiver(FUTURE).replace("owner: platform-team", "owner: platform-team, sre")
    _, _, results, _ = _run(tmp_path, _pack(tmp_path, text), graph_file, capsys)
    (result,) = [r for r in results if r["ruleId"] == POLICY]
    assert "owner platform-team, sre" in result["suppressions"][0]["justification"]


def test_without_the_advisory_patch_a_waived_finding_is_named_at_the_policy_level(monkeypatch):
    """If pulumi-policy changes so the advisory level cannot be set, the SDK's own
    report_violation(message, urn) is called as the SDK defines it, never with `waived`."""
    pack_common, waivers = pack_module("pack_common"), pack_module("waivers")
    monkeypatch.setattr(pack_common, "ADVISORY_REPORTS", False)
    monkeypatch.setattr(pack_common, "WAIVERS", waivers.parse(_waiver(FUTURE), [POLICY]))
    reported = []

    def sdk_report_violation(message, urn=None):  # pulumi_policy's signature
        reported.append((message, urn))

    urn = "urn:pulumi:prod::printflow::aws:rds/instance:Instance::printflow-prod-db-postgres"
    pack_common._deliver(sdk_report_violation, POLICY, "too short.", urn, urn)
    assert reported == [(reported[0][0], urn)] and reported[0][0].startswith("WAIVED by waiver #1 ")
