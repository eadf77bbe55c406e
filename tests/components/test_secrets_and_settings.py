"""AppSecrets, AppConnections and AppSettingsParameters built alone."""

from __future__ import annotations

import json

from components.app_secrets import AppConnections, AppConnectionsArgs, AppSecrets, AppSecretsArgs
from components.app_settings import AppSettingsArgs, AppSettingsParameters
from tests.components.conftest import DR_KEY, KEY, TAGS


def _values(graph, part):
    return {v.name.rsplit("-", 1)[-1] if "pdf" not in v.name else "pdf-service": json.loads(v.inputs["secretString"])
            for v in graph.of_type("aws:secretsmanager/secretVersion:SecretVersion") if part in v.name}


def test_shared_keys_are_one_value_for_both_apps_and_replicated(build):
    graph = build(lambda: AppSecrets("unit-app-secrets", AppSecretsArgs(
        region="us-east-1", kms_key_arn=KEY, rotation_generation=2, recovery_window_days=7,
        protect=True, replica=("us-west-2", DR_KEY), tags=TAGS)))
    values = _values(graph, "app-secrets")
    assert values["laravel"]["APP_KEY"] == values["pdf-service"]["APP_KEY"]
    assert values["laravel"]["APP_PREVIOUS_KEYS"].startswith("base64:")  # generation 2 keeps 1
    assert all(s.inputs["replicas"] for s in graph.of_type("aws:secretsmanager/secret:Secret"))


def test_connections_stay_in_their_region(build):
    graph = build(lambda: AppConnections("unit-connections", AppConnectionsArgs(
        region="us-east-1", kms_key_arn=KEY, db_host="db.unit", db_port=5432, db_name="live_db",
        redis_host="queue.unit", redis_port=6379, redis_username="unit-app", redis_password="x" * 40,
        recovery_window_days=7, protect=True, tags=TAGS)))
    assert not any(s.inputs.get("replicas") for s in graph.of_type("aws:secretsmanager/secret:Secret"))
    assert _values(graph, "connections")["laravel"]["DB_HOST"] == "db.unit"


def test_settings_are_plain_parameters_under_the_app_path(build):
    graph = build(lambda: AppSettingsParameters("unit-settings", AppSettingsArgs(
        environment="staging", region="us-east-1", settings={"laravel": {"LOG_LEVEL": "info"}}, tags=TAGS)))
    param = graph.one("aws:ssm/parameter:Parameter").inputs
    assert param["name"] == "/printflow/staging/laravel/LOG_LEVEL" and param["type"] == "String"
