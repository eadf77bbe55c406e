"""`ops drill run` end to end against moto, through the stack interface (ops/stack_ops.py) with a
test implementation that "restores" into moto: its `up` creates the restored instance in the DR
region, its `destroy` deletes it. The orchestration, the safety rules, the teardown guarantee and
the drill record are real; the Automation API adapter itself is not exercised here."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Optional

import pytest

from ops.timeutil import iso
from tests.ops.fakeaws import DR, Env, aws

DR_DB = "printflow-dr-db"


class MotoStack:
    def __init__(self, env: Env, name: str = "dr", role: str = "dr", mode: str = "drill",
                 changes: tuple[int, ...] = (0,), fail_in: Optional[str] = None,
                 interrupt_in: Optional[str] = None, expected_settings: Optional[dict] = None):
        self.name, self.env = name, env
        self.settings = {"printflow:role": role, "printflow:dr": json.dumps({"mode": mode})}
        self.calls: list[str] = []
        self._changes = list(changes)
        self.fail_in, self.interrupt_in = fail_in, interrupt_in
        self.restore_time: Optional[datetime] = None
        self.expected_settings = expected_settings

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail_in:
            raise RuntimeError(f"{name} failed in the test stack")
        if name == self.interrupt_in:
            raise KeyboardInterrupt

    def config(self) -> dict[str, str]:
        return dict(self.settings)

    def set_restore_time(self, when: datetime) -> None:
        self._step("set_restore_time")
        self.restore_time = when

    def up(self, log) -> None:
        self._step("up")
        rds = aws("rds", DR)
        if any(i["DBInstanceIdentifier"] == DR_DB for i in rds.describe_db_instances()["DBInstances"]):
            return  # a second up: the instance is there
        rds.create_db_instance(
            DBInstanceIdentifier=DR_DB, DBInstanceClass="db.m6g.large", Engine="postgres",
            MasterUsername="printflow", MasterUserPassword="not-used-in-tests", AllocatedStorage=100,
            BackupRetentionPeriod=14, StorageEncrypted=True)

    def outputs(self) -> dict:
        self._step("outputs")
        doc = json.loads(json.dumps(self.env.dr_outputs))
        doc["restore"]["restore_time"] = iso(self.restore_time)
        if self.expected_settings:
            doc["database"]["expected_settings"].update(self.expected_settings)
        return doc

    def changes(self, log) -> int:
        self._step("preview")
        return self._changes.pop(0) if self._changes else 0

    def destroy(self, log) -> None:
        self._step("destroy")
        rds = aws("rds", DR)
        if any(i["DBInstanceIdentifier"] == DR_DB for i in rds.describe_db_instances()["DBInstances"]):
            rds.delete_db_instance(DBInstanceIdentifier=DR_DB, SkipFinalSnapshot=True)


@pytest.fixture
def fresh_dr(env: Env) -> Env:
    """The DR region before a drill: the replicated backups, no restored instance yet."""
    aws("rds", DR).delete_db_instance(DBInstanceIdentifier=DR_DB, SkipFinalSnapshot=True)
    return env


def _run(env: Env, clients, tmp_path: Path, stack: MotoStack, *extra: str, capsys=None) -> tuple[int, dict]:
    from ops.cli import main

    drills = tmp_path / "drills"
    code = main(["drill", "run", "--prod-outputs", str(env.write(tmp_path / "prod.json")), "--stack", stack.name,
                 "--dir", str(drills), "--operator", "ci", "--wait-seconds", "0", *extra],
                clients=clients, stack_factory=lambda name: stack)
    records = sorted(drills.glob("drill-*.json")) if drills.exists() else []
    return code, json.loads(records[-1].read_text()) if records else {}


def _instances() -> list[str]:
    return [i["DBInstanceIdentifier"] for i in aws("rds", DR).describe_db_instances()["DBInstances"]]


def test_a_drill_runs_every_phase_measures_each_and_tears_down(fresh_dr: Env, clients, tmp_path: Path) -> None:
    stack = MotoStack(fresh_dr)
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    assert code == 0 and rec["result"] == "PASSED", rec["reasons"]
    assert stack.calls == ["set_restore_time", "up", "outputs", "preview", "destroy"]
    assert [p["phase"] for p in rec["phases"]] == ["preflight", "set restore_time", "up", "outputs", "verify",
                                                   "preview", "destroy"]
    assert all(p["ok"] and p["seconds"] >= 0 for p in rec["phases"])
    assert rec["rpo"]["met"] and rec["rto"]["met"] and rec["second_apply"] is False
    assert DR_DB not in _instances()                                  # torn down
    assert (tmp_path / "drills" / "dr-outputs.json").exists()


def test_changes_after_the_restore_get_a_second_apply_that_is_recorded(fresh_dr, clients, tmp_path) -> None:
    stack = MotoStack(fresh_dr, changes=(3, 0))
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    assert code == 0 and rec["second_apply"] is True
    assert stack.calls == ["set_restore_time", "up", "outputs", "preview", "up", "preview", "destroy"]


def test_a_stack_that_never_converges_fails_the_drill(fresh_dr, clients, tmp_path) -> None:
    code, rec = _run(fresh_dr, clients, tmp_path, MotoStack(fresh_dr, changes=(3, 2)))
    assert code == 1 and any("after a second apply" in r for r in rec["reasons"])


@pytest.mark.parametrize("phase", ["up", "outputs", "preview"])
def test_a_failure_anywhere_writes_a_failed_record_and_still_tears_down(fresh_dr, clients, tmp_path, phase):
    stack = MotoStack(fresh_dr, fail_in=phase)
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    assert code == 1 and rec["result"] == "FAILED"
    assert any(r.startswith(f"{phase} failed") for r in rec["reasons"])
    assert stack.calls[-1] == "destroy" and DR_DB not in _instances()


def test_a_failing_verify_writes_a_failed_record_and_tears_down(fresh_dr, clients, tmp_path) -> None:
    """The restore came up short of what the stack asked for (a setting the restore left out)."""
    stack = MotoStack(fresh_dr, expected_settings={"PerformanceInsightsEnabled": True})
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    assert code == 1 and rec["result"] == "FAILED"
    assert any(r.startswith("verify check failed: dr-db-settings") for r in rec["reasons"])
    assert stack.calls[-1] == "destroy" and DR_DB not in _instances()


def test_ctrl_c_tears_down_and_records(fresh_dr, clients, tmp_path, capsys) -> None:
    stack = MotoStack(fresh_dr, interrupt_in="preview")
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    assert code == 130 and rec["result"] == "FAILED" and any("interrupted" in r for r in rec["reasons"])
    assert stack.calls[-1] == "destroy" and DR_DB not in _instances()


def test_keep_leaves_the_restored_stack_up(fresh_dr, clients, tmp_path) -> None:
    stack = MotoStack(fresh_dr)
    code, rec = _run(fresh_dr, clients, tmp_path, stack, "--keep")
    assert code == 0 and "destroy" not in stack.calls and DR_DB in _instances()


def test_a_failed_preflight_restores_nothing(fresh_dr, clients, tmp_path) -> None:
    stack = MotoStack(fresh_dr)
    fresh_dr.outputs["dr"]["replicated_backups_arn"] = f"arn:aws:rds:{DR}:123456789012:auto-backup:ab-missing"
    fresh_dr.outputs["dr"]["source_db_arn"] = f"arn:aws:rds:us-east-1:123456789012:db:printflow-gone"
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    assert code == 1 and any("preflight failed" in r for r in rec["reasons"])
    assert "up" not in stack.calls and stack.calls[-1:] == ["destroy"]


@pytest.mark.parametrize("stack_args, problem", [
    ({"role": "primary"}, "printflow:role 'primary'"),
    ({"mode": "failover"}, "mode 'failover'"),
    ({"name": "prod"}, "is the primary stack"),
])
def test_it_refuses_anything_but_a_dr_stack_in_drill_mode(fresh_dr, clients, tmp_path, capsys, stack_args, problem):
    stack = MotoStack(fresh_dr, **stack_args)
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    err = capsys.readouterr().err
    assert code == 2 and problem in err and stack.calls == [] and rec == {}


def test_without_the_pulumi_cli_it_says_so(fresh_dr, clients, tmp_path, capsys) -> None:
    from ops.cli import main

    def no_cli(name):
        raise FileNotFoundError("pulumi")
    code = main(["drill", "run", "--prod-outputs", str(fresh_dr.write(tmp_path / "prod.json"))],
                clients=clients, stack_factory=no_cli)
    assert code == 2 and "needs the Pulumi CLI" in capsys.readouterr().err


def test_a_preview_summary_counts_only_real_changes() -> None:
    """pulumi.automation's PreviewResult.change_summary is keyed by OpType (a str Enum): `same`
    and the StackReference's `read` change nothing."""
    from pulumi.automation import OpType

    from ops.stack_ops import count_changes

    assert count_changes({OpType.SAME: 180, OpType.READ: 1}) == 0
    assert count_changes({OpType.SAME: 170, OpType.UPDATE: 2, "replace": 1}) == 3
