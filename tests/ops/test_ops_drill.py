"""`ops drill`: preflight pass/fail, verify RPO/RTO maths from injected times, report records."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest


from tests.ops.fakeaws import DR, SECRET_VALUES, Env, aws
from ops import drill


def _preflight(run, env: Env, tmp_path: Path, now: datetime | None = None) -> tuple[int, dict]:
    path = env.write(tmp_path / "prod-outputs.json")
    code, out, _ = run("drill", "preflight", "--outputs", str(path), "--json",
                       "--now", (now or env.now).isoformat(), "--dir", str(tmp_path / "drills"))
    return code, json.loads(out)


def _failed(doc: dict) -> dict[str, str]:
    return {c["check"]: c["detail"] for c in doc["checks"] if c["status"] == "fail"}


def test_preflight_passes_on_ready_dr_region(env: Env, run, tmp_path: Path) -> None:
    code, doc = _preflight(run, env, tmp_path)
    assert code == 0, _failed(doc)
    names = {c["check"] for c in doc["checks"]}
    assert names == {"dr-backups", "dr-backups-fresh", "dr-replica-caught-up",
                     "dr-replica-key-enabled", "secret-replica-in-sync"}
    assert doc["backup_set"] == env.outputs["dr"]["replicated_backups_arn"]
    state = json.loads((tmp_path / "drills" / drill.PREFLIGHT_STATE).read_text())
    assert state["passed"] is True and state["facts"]["replication_lag_seconds"] == 60


def test_preflight_fails_when_dr_backups_are_stale(env: Env, run, tmp_path: Path) -> None:
    code, doc = _preflight(run, env, tmp_path, now=env.now + timedelta(minutes=10))
    assert code == 1
    assert _failed(doc) == {"dr-backups-fresh": _failed(doc)["dr-backups-fresh"]}
    assert "11m00s behind > RPO target 300s" in _failed(doc)["dr-backups-fresh"]


def test_preflight_fails_when_replica_lags(env: Env, run, tmp_path: Path) -> None:
    aws("s3").put_object(Bucket=env.outputs["print_bucket"]["name"], Key="designs/new.pdf", Body=b"%PDF")
    code, doc = _preflight(run, env, tmp_path)
    assert code == 1
    assert set(_failed(doc)) == {"dr-replica-caught-up"}
    assert "1 of 4 recent objects not in replica yet" in _failed(doc)["dr-replica-caught-up"]


def test_preflight_fails_on_disabled_replica_key_and_missing_backups(env: Env, run, tmp_path: Path) -> None:
    # moto's DisableKey only accepts the bare key id (real KMS also takes the ARN).
    aws("kms", DR).disable_key(KeyId=env.outputs["dr"]["replica_key_arns"]["secrets"].rsplit("/", 1)[-1])
    env.backups.records.clear()
    code, doc = _preflight(run, env, tmp_path)
    assert code == 1
    failed = _failed(doc)
    assert set(failed) == {"dr-backups", "dr-replica-key-enabled"}
    assert "key state Disabled" in failed["dr-replica-key-enabled"]


# ---------------------------------------------------------------- verify
def _verify(run, env: Env, tmp_path: Path, target: datetime, started: datetime, now: datetime,
            *extra: str) -> tuple[int, dict]:
    path = env.write(tmp_path / "dr-outputs.json", which="dr")
    code, out, err = run("drill", "verify", "--outputs", str(path), "--json",
                         "--target-time", target.isoformat(), "--started-at", started.isoformat(),
                         "--now", now.isoformat(), "--dir", str(tmp_path / "drills"), *extra)
    for value in SECRET_VALUES:
        assert value not in out + err
    return code, json.loads(out)


def _state(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "drills" / drill.VERIFY_STATE).read_text())


def test_verify_within_targets(env: Env, run, tmp_path: Path) -> None:
    target = env.now - timedelta(minutes=2)        # restorable: backups reach now - 60 s
    started = env.now - timedelta(hours=2)
    code, doc = _verify(run, env, tmp_path, target, started, env.now)
    assert code == 0, _failed(doc)
    facts = _state(tmp_path)["facts"]
    assert facts["rpo_seconds"] == 0 and facts["recovered_point"] == target.isoformat().replace("+00:00", "Z")
    assert facts["rto_seconds"] == 7200
    assert facts["backup_set"] == env.outputs["dr"]["replicated_backups_arn"]
    assert {c["check"] for c in doc["checks"]} >= {"dr-db-available", "dr-rpo", "dr-rto", "dr-db-settings",
                                                   "dr-objects-readable", "secret-app-key-match"}


def test_verify_reports_settings_a_restore_left_out(env: Env, run, tmp_path: Path) -> None:
    """terraform-provider-aws (aws_db_instance, restore_to_point_in_time) sends only some settings
    with RestoreDBInstanceToPointInTime and applies the others (Performance Insights, backup
    retention and window, ...) on a later update: verify compares the restore with what the
    stack asked for (its `database.expected_settings` output) and names each difference."""
    env.dr_outputs["database"]["expected_settings"].update(BackupRetentionPeriod=35,
                                                           PerformanceInsightsEnabled=True)
    code, doc = _verify(run, env, tmp_path, env.now - timedelta(minutes=2),
                        env.now - timedelta(hours=2), env.now)
    assert code == 1
    detail = _failed(doc)["dr-db-settings"]
    assert "BackupRetentionPeriod is 14, the stack asks for 35" in detail
    assert "PerformanceInsightsEnabled" in detail and "pulumi up" in detail
    assert set(_failed(doc)) == {"dr-db-settings"}


def test_verify_rpo_is_target_minus_latest_restorable(env: Env, run, tmp_path: Path) -> None:
    env.backups.set_latest(DR, env.now - timedelta(seconds=400))
    code, doc = _verify(run, env, tmp_path, env.now, env.now - timedelta(hours=1), env.now)
    assert code == 1
    assert set(_failed(doc)) == {"dr-rpo"}
    assert _state(tmp_path)["facts"]["rpo_seconds"] == 400
    assert "RPO 6m40s" in _failed(doc)["dr-rpo"]


def test_verify_uses_operator_recovered_point(env: Env, run, tmp_path: Path) -> None:
    code, _ = _verify(run, env, tmp_path, env.now - timedelta(minutes=2), env.now - timedelta(hours=1),
                      env.now, "--recovered-point", (env.now - timedelta(minutes=8)).isoformat())
    facts = _state(tmp_path)["facts"]
    assert code == 1 and facts["rpo_seconds"] == 360 and facts["recovered_point_source"].startswith("operator")


def test_verify_rto_beyond_four_hours_fails(env: Env, run, tmp_path: Path) -> None:
    code, doc = _verify(run, env, tmp_path, env.now - timedelta(minutes=2),
                        env.now - timedelta(hours=4, seconds=1), env.now)
    assert code == 1 and set(_failed(doc)) == {"dr-rto"}
    assert _state(tmp_path)["facts"]["rto_seconds"] == 4 * 3600 + 1


def test_verify_fails_on_unreadable_object(env: Env, run, tmp_path: Path) -> None:
    aws("s3", DR).put_object(Bucket=env.dr_outputs["print_bucket"]["name"], Key="designs/empty.pdf", Body=b"")
    code, doc = _verify(run, env, tmp_path, env.now - timedelta(minutes=2), env.now - timedelta(hours=1), env.now)
    assert code == 1 and set(_failed(doc)) == {"dr-objects-readable"}
    assert "designs/empty.pdf (empty)" in _failed(doc)["dr-objects-readable"]


class _FakeRds:
    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses

    def describe_db_instances(self, DBInstanceIdentifier: str) -> dict:  # noqa: N803 - boto3 name
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"DBInstances": [{"DBInstanceIdentifier": DBInstanceIdentifier, "DBInstanceStatus": status}]}


def _opts(wait: float, progress: io.StringIO) -> drill.VerifyOptions:
    clock = {"t": 0.0}

    def sleep(seconds: float) -> None:
        clock["t"] += seconds
    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return drill.VerifyOptions(target_time=t, started_at=t, wait_seconds=wait, poll_seconds=30,
                               sleep=sleep, monotonic=lambda: clock["t"], progress=progress)


def test_wait_polls_until_available_with_progress() -> None:
    progress = io.StringIO()
    inst = drill.wait_available(_FakeRds(["creating", "creating", "available"]), "db", _opts(600, progress))
    assert inst["DBInstanceStatus"] == "available"
    assert progress.getvalue().count("db is creating; waiting") == 2


def test_wait_is_bounded() -> None:
    progress = io.StringIO()
    opts = _opts(100, progress)
    inst = drill.wait_available(_FakeRds(["creating"]), "db", opts)
    assert inst["DBInstanceStatus"] == "creating"
    assert opts.monotonic() == 100          # slept 30+30+30+10, never beyond --wait-seconds
    assert progress.getvalue().count("waiting") == 4


# ---------------------------------------------------------------- report
def test_report_records_a_passed_drill(env: Env, run, tmp_path: Path) -> None:
    assert _preflight(run, env, tmp_path)[0] == 0
    assert _verify(run, env, tmp_path, env.now - timedelta(minutes=2),
                   env.now - timedelta(minutes=90), env.now)[0] == 0
    code, out, _ = run("drill", "report", "--dir", str(tmp_path / "drills"), "--operator", "alice",
                       "--now", "2026-11-22T09:00:00Z")
    assert code == 0 and "PASSED" in out
    d = tmp_path / "drills"
    rec = json.loads((d / "drill-20261122T090000Z.json").read_text())
    assert rec["result"] == "PASSED" and rec["operator"] == "alice"
    assert rec["backup_set"] == env.outputs["dr"]["replicated_backups_arn"]
    assert rec["rpo"] == {"achieved_seconds": 0, "target_seconds": 300, "met": True}
    assert rec["rto"] == {"achieved_seconds": 5400, "target_seconds": 14400, "met": True}
    assert {c["phase"] for c in rec["checks"]} == {"preflight", "verify"}
    assert all(c["status"] == "pass" for c in rec["checks"])
    md = (d / "drill-20261122T090000Z.md").read_text()
    assert "— PASSED" in md and "Operator: alice" in md and "| verify | dr-rpo |" in md
    assert "RTO achieved: 1h30m00s" in md
    assert len((d / "drill-log.jsonl").read_text().splitlines()) == 1
    assert not (d / drill.VERIFY_STATE).exists()     # consumed: cannot be reported twice


def test_report_without_verify_is_a_failed_drill(run, tmp_path: Path) -> None:
    d = tmp_path / "drills"
    code, out, _ = run("drill", "report", "--dir", str(d), "--operator", "bob", "--now", "2026-11-22T10:00:00Z")
    assert code == 1 and "FAILED" in out
    rec = json.loads((d / "drill-20261122T100000Z.json").read_text())
    assert rec["result"] == "FAILED" and rec["rpo"]["met"] is False and rec["rto"]["met"] is False
    assert any("did not report counts as failed" in r for r in rec["reasons"])
    assert "— FAILED" in (d / "drill-20261122T100000Z.md").read_text()
    # A second failed drill appends rather than overwrites.
    assert run("drill", "report", "--dir", str(d), "--now", "2026-11-22T10:00:00Z")[0] == 1
    assert len((d / "drill-log.jsonl").read_text().splitlines()) == 2
    assert (d / "README.md").read_text().count("| FAILED |") == 2


def test_report_with_failed_verify_check_is_failed(env: Env, run, tmp_path: Path) -> None:
    env.backups.set_latest(DR, env.now - timedelta(seconds=400))
    assert _verify(run, env, tmp_path, env.now, env.now - timedelta(hours=1), env.now)[0] == 1
    code, _, _ = run("drill", "report", "--dir", str(tmp_path / "drills"), "--now", "2026-11-22T11:00:00Z")
    rec = json.loads((tmp_path / "drills" / "drill-20261122T110000Z.json").read_text())
    assert code == 1 and rec["result"] == "FAILED" and rec["rpo"]["met"] is False
    assert any("dr-rpo" in r for r in rec["reasons"])


def test_verify_rejects_an_instance_older_than_the_drill(env: Env, run, tmp_path: Path) -> None:
    # started-at in the future relative to the instance's creation: verify is looking at a leftover.
    later = env.now + timedelta(minutes=30)
    code, doc = _verify(run, env, tmp_path, env.now - timedelta(minutes=2), later, later + timedelta(minutes=5))
    assert code == 1 and set(_failed(doc)) == {"dr-db-restored-this-drill"}
    assert "a leftover instance" in _failed(doc)["dr-db-restored-this-drill"]


def test_verify_reads_secrets_in_the_dr_region(env: Env, run, tmp_path: Path) -> None:
    # Outputs naming the primary ARNs still read the DR replicas; a drifted value is caught there.
    env.dr_outputs["app_secrets"] = dict(env.outputs["app_secrets"])
    sm = aws("secretsmanager")
    arn = env.outputs["app_secrets"]["pdf_service_arn"]
    doc = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
    doc["APP_KEY"] = "base64:ZHJpZnRlZC1rZXktdmFsdWUtMzItYnl0ZXMuLi4uLi4="
    sm.put_secret_value(SecretId=arn, SecretString=json.dumps(doc))
    code, out = _verify(run, env, tmp_path, env.now - timedelta(minutes=2), env.now - timedelta(hours=1), env.now)
    assert code == 1 and set(_failed(out)) == {"secret-app-key-match"}
    assert doc["APP_KEY"] not in json.dumps(out)


def test_verify_accepts_contract_shaped_dr_outputs(env: Env, run, tmp_path: Path) -> None:
    path = env.write(tmp_path / "dr-contract.json", which="contract")
    code, out, _ = run("drill", "verify", "--outputs", str(path), "--json", "--dir", str(tmp_path / "d"),
                       "--target-time", (env.now - timedelta(minutes=2)).isoformat(),
                       "--started-at", (env.now - timedelta(hours=1)).isoformat(), "--now", env.now.isoformat())
    assert code == 0, _failed(json.loads(out))
    assert json.loads((tmp_path / "d" / drill.VERIFY_STATE).read_text())["facts"]["backup_set"] == \
        env.outputs["dr"]["replicated_backups_arn"]


@pytest.mark.parametrize("configured, offset_s, expect", [
    ("target", 0, 0), ("other", 0, 1), ("latest", 0, 0)])
def test_verify_target_must_match_configured_restore_time(configured: str, offset_s: int, expect: int,
                                                          env: Env, run, tmp_path: Path) -> None:
    target = env.now - timedelta(minutes=2)
    env.dr_outputs["restore"]["restore_time"] = {
        "target": target.isoformat().replace("+00:00", "Z"),
        "other": (target - timedelta(minutes=30)).isoformat(), "latest": "latest"}[configured]
    code, doc = _verify(run, env, tmp_path, target, env.now - timedelta(hours=1), env.now)
    assert code == expect
    if expect:
        assert "differs from the dr stack's restore_time" in _failed(doc)["dr-rpo"]


def test_preflight_needs_prod_outputs(env: Env, run, tmp_path: Path) -> None:
    code, out, err = run("drill", "preflight", "--outputs", str(env.write(tmp_path / "dr.json", which="dr")))
    assert code == 2 and out == "" and "has no `dr`" in err and "Traceback" not in err


def test_verify_needs_dr_or_restore(env: Env, run, tmp_path: Path) -> None:
    del env.dr_outputs["restore"]
    code, _, err = run("drill", "verify", "--outputs", str(env.write(tmp_path / "dr.json", which="dr")),
                       "--target-time", env.now.isoformat(), "--started-at", env.now.isoformat())
    assert code == 2 and "neither `dr` nor `restore`" in err
