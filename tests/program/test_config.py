"""Stack configuration: good cases load, bad ones stop with one clear message naming the key."""

from __future__ import annotations

import json
import random
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from components.config import ConfigError, load_settings
from tests.program.graph import render_cli, RECENT_RESTORE_TIME, config_with

ROOT = Path(__file__).resolve().parents[2]


def _load(stack: str, overrides: dict) -> object:
    return load_settings(config_with(stack, overrides), stack)


@pytest.mark.parametrize("stack, overrides", [
    ("prod", {}),
    ("dr", {}),
    ("prod", {"printflow:database": {"backup_retention_days": 14}}),
    ("prod", {"printflow:storage": {"object_lock_mode": "COMPLIANCE", "object_lock_days": 60}}),
    ("prod", {"printflow:cache": {"enabled": True}}),
    ("prod", {"printflow:network": {"existing_vpc_id": "vpc-0123456789abcdef0",
                                    "existing_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]}}),
    ("prod", {"printflow:queue_store": {"engine": "redis", "engine_version": "7.1", "replicas_per_shard": 2}}),
    ("prod", {"printflow:apps": {"laravel": {"APP_DEBUG": "false", "LOG_LEVEL": "error"}}}),
    ("dr", {"printflow:dr": {"mode": "failover", "restore_time": RECENT_RESTORE_TIME}}),
])
def test_valid_configs_load(stack, overrides):
    settings = _load(stack, overrides).model_dump(mode="json", by_alias=True)
    assert settings["environment"] == "prod"
    for full_key, value in overrides.items():  # every override arrived, nothing was dropped
        field = settings[full_key.split(":", 1)[1]]
        for key, expected in value.items():
            actual = field[key]
            if isinstance(expected, dict):
                assert {k: actual[k] for k in expected} == expected, (full_key, key)
            elif key == "restore_time":
                assert actual.replace("+00:00", "Z") == expected
            else:
                assert actual == expected, (full_key, key)


@pytest.mark.parametrize("stack, overrides, key, allowed", [
    ("prod", {"printflow:bogus": "1"}, "printflow:bogus", "allowed here: environment"),
    ("prod", {"printflow:database": {"retention": 3}}, "printflow:database.retention", "backup_retention_days"),
    ("prod", {"printflow:database": {"backup_retention_days": 40}}, "printflow:database.backup_retention_days", "35"),
    ("prod", {"printflow:database": {"backup_retention_days": "many"}}, "printflow:database.backup_retention_days", "integer"),
    ("prod", {"printflow:dr_region": "us-east-1"}, "printflow:dr_region", "must differ"),
    ("prod", {"printflow:protect_stateful": False}, "printflow:protect_stateful", "must be true"),
    ("prod", {"printflow:database": {"deletion_protection": False}}, "printflow:database.deletion_protection", "must be true"),
    ("prod", {"printflow:database": {"multi_az": False}}, "printflow:database.multi_az", "must be true"),
    ("prod", {"printflow:apps": {"laravel": {"APP_DEBUG": True}}}, "printflow:apps.laravel.APP_DEBUG", "'false'"),
    ("prod", {"printflow:apps": {"pdf-service": {"APP_ENV": "local"}}}, "printflow:apps.pdf-service.APP_ENV", "'production'"),
    ("prod", {"printflow:apps": {"laravel": {"QUEUE_CONNECTION": "sync"}}}, "printflow:apps.laravel.QUEUE_CONNECTION", "'redis'"),
    ("prod", {"printflow:apps": {"laravel": {"STRIPE_SECRET": "sk_live"}}}, "printflow:apps", "looks like a secret"),
    ("prod", {"printflow:apps": {"wordpress": {"A": "b"}}}, "printflow:apps.wordpress", "'laravel' or 'pdf-service'"),
    ("prod", {"printflow:environment": "qa"}, "printflow:environment", "'prod' or 'staging'"),
    ("prod", {"aws:region": "us-west-2"}, "aws:region", "us-east-1"),
    ("prod", {"printflow:storage": {"object_lock_mode": "LOOSE"}}, "printflow:storage.object_lock_mode", "'GOVERNANCE' or 'COMPLIANCE'"),
    ("prod", {"printflow:storage": {"force_destroy": True}}, "printflow:storage.force_destroy", "must be false"),
    ("prod", {"printflow:queue_store": {"replicas_per_shard": 0}}, "printflow:queue_store.replicas_per_shard", "1"),
    ("prod", {"printflow:queue_store": {"snapshot_retention_days": 1}}, "printflow:queue_store.snapshot_retention_days", "7"),
    ("prod", {"printflow:alarms": {"email_endpoints": [], "https_endpoints": []}}, "printflow:alarms", "at least one"),
    ("prod", {"printflow:alarms": {"https_endpoints": ["http://pager"]}}, "printflow:alarms.https_endpoints", "https://"),
    ("prod", {"printflow:secrets": {"recovery_window_days": 3}}, "printflow:secrets.recovery_window_days", "7"),
    ("prod", {"printflow:dr": {"mode": "drill", "primary_stack": "a/b/c"}}, "printflow:dr", "only a stack with role dr"),
    ("prod", {"printflow:owner": None}, "printflow:owner", "required"),
    ("dr", {"printflow:dr": None}, "printflow:dr", "needs the dr block"),
    ("dr", {"printflow:dr": {"mode": "rehearsal"}}, "printflow:dr.mode", "'drill' or 'failover'"),
    ("dr", {"printflow:dr": {"restore_time": "2026-11-22T14:05:00"}}, "printflow:dr.restore_time", "timezone"),
    ("dr", {"printflow:dr": {"primary_stack": "printflow/prod"}}, "printflow:dr.primary_stack", "<organization>/<project>/<stack>"),
    ("prod", {"someoneelse:key": "x"}, "someoneelse:key", "printflow:<name>"),
])
def test_invalid_configs_name_the_key_and_allowed_values(stack, overrides, key, allowed):
    with pytest.raises(ConfigError) as caught:
        _load(stack, overrides)
    message = str(caught.value)
    assert key in message, message
    assert allowed in message, message
    assert "\n" not in message and "Traceback" not in message
    assert message.endswith("nothing was created or changed.")


def _junk(rng: random.Random, depth: int = 0):
    kinds = ["str", "int", "float", "bool", "none", "list", "dict"] if depth < 3 else ["str", "int", "bool"]
    kind = rng.choice(kinds)
    if kind == "str":
        return "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 12)))
    if kind == "int":
        return rng.choice([-1, 0, 1, 7, 35, 36, 10**12])
    if kind == "float":
        return rng.choice([0.5, -3.2, float("inf")])
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "none":
        return None
    if kind == "list":
        return [_junk(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = ["mode", "backup_retention_days", "engine", "laravel", "APP_DEBUG", "x", "primary", "cidr"]
    return {rng.choice(keys): _junk(rng, depth + 1) for _ in range(rng.randint(0, 4))}


@pytest.mark.parametrize("seed", range(300))
def test_generated_junk_never_produces_a_traceback(seed):
    rng = random.Random(seed)
    config = config_with(rng.choice(["prod", "dr"]), {})
    for _ in range(rng.randint(1, 4)):
        key = rng.choice(["printflow:database", "printflow:storage", "printflow:apps", "printflow:dr",
                          "printflow:network", "printflow:queue_store", "printflow:alarms",
                          "printflow:environment", "printflow:role", "aws:region", "printflow:secrets",
                          "printflow:" + rng.choice(string.ascii_lowercase)])
        value = _junk(rng)
        config[key] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    try:
        load_settings(config, "fuzz")
    except ConfigError as error:
        message = str(error)
        assert message.startswith("Invalid configuration for stack 'fuzz': ")
        assert "\n" not in message and "Traceback" not in message
        problems = message.removeprefix("Invalid configuration for stack 'fuzz': ")
        assert re.match(r"(printflow:\S+|aws:region) ", problems), message  # names the key first


def test_invalid_config_stops_the_preview_cleanly(tmp_path):
    """The user-facing path: exit 2, one paragraph, no traceback, nothing rendered."""
    (tmp_path / "Pulumi.prod.yaml").write_text(
        (ROOT / "Pulumi.prod.yaml").read_text().replace("APP_DEBUG: false", "APP_DEBUG: true", 1))
    result = render_cli(tmp_path, '--stack', 'prod')
    assert result.returncode == 2
    assert "printflow:apps.laravel.APP_DEBUG must be 'false'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_program_stops_with_run_error_before_registering_anything():
    """Under the engine, __main__ turns a ConfigError into pulumi.RunError: a clean stop."""
    import pulumi

    from tools.mocks import PlatformMocks, RecordingMonitor
    from tools.render import run_program

    monitor = RecordingMonitor(PlatformMocks("us-east-1"))
    bad = config_with("prod", {"printflow:apps": {"laravel": {"QUEUE_CONNECTION": "sync"}}})
    with pytest.raises(pulumi.RunError, match="QUEUE_CONNECTION must be 'redis'"):
        run_program("prod", bad, {}, monitor=monitor)
    assert [r.type for r in monitor.registrations.values()] == ["pulumi:pulumi:Stack"]
