"""Bad input never crashes and never half-creates: each value AWS or the CLI would refuse is refused
by the config models with one paragraph naming the key, before anything is registered."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from components.config import ConfigError, load_settings
from tests.program.graph import config_with, render_cli

ROOT = Path(__file__).resolve().parents[2]
_NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize("stack, overrides, key, allowed", [
    # rules that used to live only in component args (raised after resources were registered)
    ("prod", {"printflow:storage": {"noncurrent_version_days": 35}}, "printflow:storage.noncurrent_version_days", "must exceed"),
    ("prod", {"printflow:network": {"cidr": "10.256.0.0/16"}}, "printflow:network.cidr", "0 to 255"),
    ("prod", {"printflow:network": {"cidr": "10.040.0.0/16"}}, "printflow:network.cidr", "no leading zeros"),
    ("prod", {"printflow:alarms": {"thresholds": {"rds_connections": 10**400}}}, "printflow:alarms.thresholds.rds_connections", "less than or equal"),
    ("prod", {"printflow:alarms": {"thresholds": {"rds_freeable_memory_bytes": "nan"}}}, "printflow:alarms.thresholds.rds_freeable_memory_bytes", ""),
    # values AWS would refuse (components/aws_catalog.py names each source)
    ("prod", {"printflow:database": {"instance_class": "db.foo.bar"}}, "printflow:database.instance_class", "db.m6g.large"),
    ("prod", {"printflow:queue_store": {"engine": "redis", "engine_version": "7.2"}}, "printflow:queue_store", "allowed: 7.0, 7.1"),
    ("prod", {"printflow:queue_store": {"engine": "valkey", "engine_version": "7.1"}}, "printflow:queue_store", "allowed: 7.2, 7.3"),
    ("prod", {"printflow:queue_store": {"node_type": "db.r9z.huge"}}, "printflow:queue_store", "MemoryDB node type"),
    ("prod", {"printflow:queue_store": {"username": "default"}}, "printflow:queue_store", "open-access"),
    ("prod", {"printflow:queue_store": {"snapshot_window": "04:00-04:30"}}, "printflow:queue_store", "60 minutes"),
    ("prod", {"printflow:cache": {"node_type": "cache.q9.small"}}, "printflow:cache.node_type", "cache.t4g.small"),
    ("prod", {"printflow:database": {"backup_window": "25:00-26:00"}}, "printflow:database", "hh24:mi-hh24:mi"),
    ("prod", {"printflow:database": {"backup_window": "03:00-03:10"}}, "printflow:database", "30 minutes"),
    ("prod", {"printflow:database": {"maintenance_window": "sunday"}}, "printflow:database", "ddd:hh24:mi"),
    ("prod", {"printflow:database": {"backup_window": "05:15-06:00"}}, "printflow:database", "overlaps"),
    ("prod", {"printflow:alarms": {"thresholds": {"nightly_dump_period_seconds": 3601}}}, "printflow:alarms.thresholds.nightly_dump_period_seconds", "multiple of 60"),
    ("prod", {"printflow:alarms": {"email_endpoints": ["on call@printflow.example"]}}, "printflow:alarms.email_endpoints", "not an email"),
    ("prod", {"printflow:apps": {"laravel": {"LOG_LEVEL": ""}}}, "printflow:apps", "1 to 4096 bytes"),
    ("prod", {"printflow:apps": {"laravel": {"LOG_LEVEL": "x" * 5000}}}, "printflow:apps", "1 to 4096 bytes"),
    ("prod", {"printflow:apps": {"laravel": {"REDIS_HOST": "localhost"}}}, "printflow:apps", "set by the program"),
    ("prod", {"printflow:network": {"existing_vpc_id": "vpc-0123456789abcdef0",
                                    "existing_subnet_ids": ["subnet-0123456789abcdef0"] * 2}}, "printflow:network", "twice"),
    ("dr", {"printflow:dr": {"restore_time": 1763820300}}, "printflow:dr.restore_time", "not a number"),
    ("dr", {"printflow:dr": {"restore_time": (_NOW + timedelta(hours=1)).isoformat()}}, "printflow:dr.restore_time", "future"),
    ("dr", {"printflow:dr": {"restore_time": (_NOW - timedelta(days=40)).isoformat()}}, "printflow:dr.restore_time", "35-day"),
    ("dr", {"printflow:dr": {"primary_stack": "dr"}}, "printflow:dr.primary_stack", "itself"),
])
def test_values_aws_would_refuse_are_refused_by_the_config(stack, overrides, key, allowed):
    with pytest.raises(ConfigError) as caught:
        load_settings(config_with(stack, overrides), stack)
    message = str(caught.value)
    assert key in message and allowed in message, message
    assert "\n" not in message and len(message) < 600, message


def test_echoed_values_are_truncated():
    with pytest.raises(ConfigError) as caught:
        load_settings(config_with("prod", {"printflow:database": {"instance_class": "db." + "x" * 5000}}), "prod")
    assert len(str(caught.value)) < 400


def _render(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return render_cli(tmp_path, *args)


def _stack_files(tmp_path: Path) -> Path:
    for path in ROOT.glob("Pulumi*.yaml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    return tmp_path


@pytest.mark.parametrize("stack, edit, expected", [
    ("prod", lambda t: t + "  printflow:environment: staging\n", "'printflow:environment' is given twice"),
    ("staging", lambda t: t.encode() + b"\xff\xfe", "not UTF-8"),
    ("staging", lambda t: "config:\n  printflow:apps: " + "[" * 1000 + "]" * 1000 + "\n", "nested too deeply"),
    ("staging-dr", lambda t: t.replace("    mode: drill\n", "    mode: drill\n    primary_stack: staging-dr\n"), "stack itself"),
    ("staging-dr", lambda t: t.replace("    mode: drill\n", "    mode: drill\n    primary_stack: organization/printflow/dr\n"), "itself a DR stack"),
    ("staging-dr", lambda t: t.replace("10.51.0.0/16", "10.50.0.0/16"), "same as its primary stack"),
])
def test_bad_stack_files_are_clear_errors(tmp_path, stack, edit, expected):
    """Go yaml.v3 (the CLI's reader) refuses a key given twice; the rest are this project's rules."""
    _stack_files(tmp_path)
    path = tmp_path / f"Pulumi.{stack}.yaml"
    edited = edit(path.read_text())
    path.write_bytes(edited if isinstance(edited, bytes) else edited.encode())
    result = _render(tmp_path, "--stack", stack, "--quiet")
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unquoted_timestamp_is_read_as_the_text_it_is(tmp_path):
    """YAML would make `restore_time: 2026-...Z` a datetime (and json.dumps crashed); the CLI hands
    the program the text."""
    _stack_files(tmp_path)
    when = (_NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:00Z")
    path = tmp_path / "Pulumi.dr.yaml"
    path.write_text(path.read_text().replace("    mode: drill\n", f"    mode: drill\n    restore_time: {when}\n"))
    result = _render(tmp_path, "--stack", "dr", "--quiet")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("target", ["{tmp}", "/proc/no-such-dir/graph.json"])
def test_graph_to_a_directory_or_unwritable_path_is_a_clear_error(tmp_path, target):
    result = _render(_stack_files(tmp_path), "--stack", "prod", "--graph", target.format(tmp=tmp_path))
    assert result.returncode == 2 and "cannot write the graph" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_full_disk_is_a_clear_error(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this machine")
    result = _render(_stack_files(tmp_path), "--stack", "prod", "--graph", "/dev/full")
    assert result.returncode == 2 and "cannot write the graph" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_closed_stdout_stops_quietly(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "tools.render", "--stack", "prod"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and proc.returncode in (0, 141)


def test_each_rejected_value_registers_nothing():
    """Through the real program under the mock engine: every value refused above stops with a
    RunError before any resource is registered (several used to raise after 43 or 132)."""
    from tests.program.test_config_fuzz import _in_children

    cases = test_values_aws_would_refuse_are_refused_by_the_config.pytestmark[0].args[1]
    jobs = [(stack, config_with(stack, overrides)) for stack, overrides, _key, _allowed in cases]
    results = _in_children(jobs, references={})
    for (stack, _), (case, result) in zip(jobs, zip(cases, results)):
        assert result["kind"] == "refused", (case[2], str(result)[:400])
        assert result["registered"] == ["pulumi:pulumi:Stack"], (case[2], result["registered"])
