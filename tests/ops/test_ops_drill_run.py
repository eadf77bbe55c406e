"""`ops drill run` end to end against moto, through the stack interface (ops/stack_ops.py) with a
test implementation that "restores" into moto: its `up` creates the restored instance in the DR
region, its `destroy` deletes it. The orchestration, the safety rules, the teardown guarantee and
the drill record are real; the Automation API adapter itself is not exercised here."""

from __future__ import annotations

import json
from datetime import timedelta
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
        self.restore_time: Optional[str] = None
        self.restore_times: list[Optional[str]] = []
        self.expected_settings = expected_settings
        self.config_error: Optional[Exception] = None

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail_in:
            raise RuntimeError(f"{name} failed in the test stack")
        if name == self.interrupt_in:
            raise KeyboardInterrupt

    def config(self) -> dict[str, str]:
        if self.config_error is not None:
            raise self.config_error
        return dict(self.settings)

    def set_restore_time(self, value: Optional[str]) -> None:
        self._step("set_restore_time")
        self.restore_time = value
        self.restore_times.append(value)

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
        doc["restore"]["restore_time"] = self.restore_time or "latest"
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
    assert stack.calls == ["set_restore_time", "up", "outputs", "preview", "destroy", "set_restore_time"]
    assert [p["phase"] for p in rec["phases"]] == ["preflight", "set restore_time", "up", "outputs", "verify",
                                                   "preview", "destroy", "reset restore_time"]
    assert all(p["ok"] and p["seconds"] >= 0 for p in rec["phases"])
    assert rec["rpo"]["met"] and rec["rto"]["met"] and rec["second_apply"] is False
    assert DR_DB not in _instances()                                  # torn down
    assert not list((tmp_path / "drills").glob("*outputs*"))           # no stack outputs in the record's folder


def test_the_disaster_is_the_drills_start_and_the_rpo_is_how_far_the_backups_were_behind(
        fresh_dr: Env, clients, tmp_path: Path) -> None:
    """The stack restores to the latest restorable time preflight found (the recovered point);
    the target is the drill's start, so the RPO is the backups' lag then (about a minute in the
    fake region), never 0 by construction. The restore_time is removed again afterwards, so a
    later failover from the same stack restores the latest data, not the drill's moment."""
    from ops.timeutil import parse_time

    stack = MotoStack(fresh_dr)
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    latest = fresh_dr.backups.records[DR][0]["RestoreWindow"]["LatestTime"]
    restored_to, put_back = stack.restore_times
    assert code == 0 and put_back is None and stack.restore_time is None, rec["reasons"]
    assert abs((parse_time(restored_to, "restore_time") - latest).total_seconds()) < 1
    assert rec["target_time"] == rec["started_at"] and rec["recovered_point"] == restored_to
    lag = (parse_time(rec["started_at"], "started_at") - parse_time(restored_to, "restore_time")).total_seconds()
    assert lag >= 59 and rec["rpo"]["achieved_seconds"] == pytest.approx(lag, abs=1)


def test_a_chosen_restore_time_is_the_target_and_an_earlier_one_is_put_back(fresh_dr: Env, clients, tmp_path) -> None:
    stack = MotoStack(fresh_dr)
    stack.settings["printflow:dr"] = json.dumps({"mode": "drill", "restore_time": "2026-01-01T00:00:00Z"})
    chosen = iso(fresh_dr.now.replace(microsecond=0) - timedelta(minutes=5))
    code, rec = _run(fresh_dr, clients, tmp_path, stack, "--restore-time", chosen)
    assert code == 0 and rec["target_time"] == chosen, rec["reasons"]
    assert stack.restore_times == [chosen, "2026-01-01T00:00:00Z"]


def test_state_files_of_an_earlier_run_never_reach_the_record(fresh_dr: Env, clients, tmp_path: Path) -> None:
    """A manual `drill verify` left its state behind; this run fails before verifying."""
    drills = tmp_path / "drills"
    drills.mkdir()
    (drills / ".last-verify.json").write_text(json.dumps(
        {"phase": "verify", "passed": True, "facts": {"rpo_seconds": 1, "rto_seconds": 2}, "checks": []}))
    code, rec = _run(fresh_dr, clients, tmp_path, MotoStack(fresh_dr, fail_in="up"))
    assert code == 1 and rec["rpo"]["achieved_seconds"] is None and rec["rto"]["achieved_seconds"] is None


def test_a_stack_whose_config_cannot_be_read_exits_2_and_runs_nothing(fresh_dr, clients, tmp_path, capsys) -> None:
    stack = MotoStack(fresh_dr)
    stack.config_error = RuntimeError("pulumi config failed: error: no stack named 'dr' found")
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    err = capsys.readouterr().err
    assert code == 2 and "cannot read the config of the stack 'dr'" in err and "Traceback" not in err
    assert stack.calls == [] and rec == {}


def test_a_failed_pulumi_command_is_recorded_by_its_error_lines() -> None:
    """pulumi.automation raises CommandError, whose text is the whole stdout of the update then
    stderr (pulumi/automation/_cmd.py CommandResult.__str__); the record keeps the error."""
    from pulumi.automation import CommandError
    from pulumi.automation._cmd import CommandResult

    from ops.stack_ops import command_failure

    stdout = "Updating (dr)\n" + "    + aws:rds:Instance creating\n" * 200
    stderr = "warning: something minor\nerror: update failed\nerror: DBInstanceAlreadyExists: printflow-dr-db\n"
    failure = command_failure("up", CommandError(CommandResult(stdout, stderr, 255)))
    assert str(failure) == "pulumi up failed: error: update failed error: DBInstanceAlreadyExists: printflow-dr-db"
    assert "Updating" not in str(command_failure("up", CommandError(CommandResult(stdout, "boom", 1))))


def test_changes_after_the_restore_get_a_second_apply_that_is_recorded(fresh_dr, clients, tmp_path) -> None:
    stack = MotoStack(fresh_dr, changes=(3, 0))
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    assert code == 0 and rec["second_apply"] is True
    assert stack.calls == ["set_restore_time", "up", "outputs", "preview", "up", "preview", "destroy",
                           "set_restore_time"]


def test_a_stack_that_never_converges_fails_the_drill(fresh_dr, clients, tmp_path) -> None:
    code, rec = _run(fresh_dr, clients, tmp_path, MotoStack(fresh_dr, changes=(3, 2)))
    assert code == 1 and any("after a second apply" in r for r in rec["reasons"])


@pytest.mark.parametrize("phase", ["up", "outputs", "preview"])
def test_a_failure_anywhere_writes_a_failed_record_and_still_tears_down(fresh_dr, clients, tmp_path, phase):
    stack = MotoStack(fresh_dr, fail_in=phase)
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    assert code == 1 and rec["result"] == "FAILED"
    assert any(r.startswith(f"{phase} failed") for r in rec["reasons"])
    assert stack.calls[-2:] == ["destroy", "set_restore_time"] and DR_DB not in _instances()


def test_a_failing_verify_writes_a_failed_record_and_tears_down(fresh_dr, clients, tmp_path) -> None:
    """The restore came up short of what the stack asked for (a setting the restore left out)."""
    stack = MotoStack(fresh_dr, expected_settings={"PerformanceInsightsEnabled": True})
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    assert code == 1 and rec["result"] == "FAILED"
    assert any(r.startswith("verify check failed: dr-db-settings") for r in rec["reasons"])
    assert stack.calls[-2:] == ["destroy", "set_restore_time"] and DR_DB not in _instances()


def test_ctrl_c_tears_down_and_records(fresh_dr, clients, tmp_path, capsys) -> None:
    stack = MotoStack(fresh_dr, interrupt_in="preview")
    code, rec = _run(fresh_dr, clients, tmp_path, stack)
    assert code == 130 and rec["result"] == "FAILED" and any("interrupted" in r for r in rec["reasons"])
    assert stack.calls[-2:] == ["destroy", "set_restore_time"] and DR_DB not in _instances()


def test_keep_leaves_the_restored_stack_up(fresh_dr, clients, tmp_path) -> None:
    stack = MotoStack(fresh_dr)
    code, rec = _run(fresh_dr, clients, tmp_path, stack, "--keep")
    assert code == 0 and "destroy" not in stack.calls and DR_DB in _instances()
    assert stack.restore_time is not None  # the restored stack still needs it; the log says how to remove it


def test_a_failed_preflight_restores_nothing(fresh_dr, clients, tmp_path) -> None:
    stack = MotoStack(fresh_dr)
    fresh_dr.outputs["dr"]["replicated_backups_arn"] = f"arn:aws:rds:{DR}:123456789012:auto-backup:ab-missing"
    fresh_dr.outputs["dr"]["source_db_arn"] = "arn:aws:rds:us-east-1:123456789012:db:printflow-gone"
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
    """pulumi.automation's PreviewResult.change_summary: the SDK parses its keys as plain strings
    (automation/events.py SummaryEvent.from_json), annotated as OpType (a str Enum); either
    counts the same. `same` and the StackReference's `read` change nothing."""
    from pulumi.automation import OpType

    from ops.stack_ops import count_changes

    assert count_changes({OpType.SAME: 180, OpType.READ: 1}) == 0
    assert count_changes({OpType.SAME: 170, OpType.UPDATE: 2, "replace": 1}) == 3
