"""Queue store, app secrets, app settings and alarms (prod)."""

from __future__ import annotations

import json

import pytest

from tests.program.graph import Graph
from tools.wire import contains_secret, is_wire_secret


# ------------------------------------------------------------------------------- queue store
def test_queue_store_is_durable_memorydb_that_never_evicts(prod: Graph):
    cluster = prod.one("aws:memorydb/cluster:Cluster")
    group = prod.one("aws:memorydb/parameterGroup:ParameterGroup")
    params = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert params == {"maxmemory-policy": "noeviction"}
    assert group.inputs["family"] == "memorydb_valkey7"
    c = cluster.inputs
    assert c["parameterGroupName"] == group.outputs["name"]
    assert c["numShards"] == 1 and c["numReplicasPerShard"] >= 1
    assert c["tlsEnabled"] is True
    assert c["kmsKeyArn"].startswith("arn:aws:kms:us-east-1:")
    assert c["snapshotRetentionLimit"] >= 7 and c["finalSnapshotName"]
    assert c["aclName"] != "open-access"
    assert cluster.protected
    net = prod.one("aws:memorydb/subnetGroup:SubnetGroup")
    redis_sg = prod.one("aws:ec2/securityGroup:SecurityGroup", "-net-redis")
    assert c["subnetGroupName"] == net.outputs["name"]
    assert c["securityGroupIds"] == [redis_sg.outputs["id"]]
    events = prod.one("aws:sns/topic:Topic", "-queue-events")
    assert c["snsTopicArn"] == events.outputs["arn"]


def test_queue_acl_user_has_a_generated_password_kept_in_secrets_manager(prod: Graph):
    user = prod.one("aws:memorydb/user:User")
    acl = prod.one("aws:memorydb/acl:Acl")
    password = prod.one("random:index/randomPassword:RandomPassword", "queue-user-password")
    assert user.inputs["authenticationMode"]["type"] == "password"
    assert user.inputs["authenticationMode"]["passwords"] == [password.outputs["result"]]
    assert contains_secret(user.wire_inputs["authenticationMode"]["passwords"])
    assert acl.inputs["userNames"] == [user.inputs["userName"]]
    assert prod.one("aws:memorydb/cluster:Cluster").inputs["aclName"] == acl.outputs["name"]
    version = prod.one("aws:secretsmanager/secretVersion:SecretVersion", "queue-credentials")
    assert json.loads(version.inputs["secretString"])["password"] == password.outputs["result"]
    assert is_wire_secret(version.wire_inputs["secretString"])


def test_replica_count_comes_from_config(render_variant):
    graph = render_variant("prod", {"printflow:queue_store": {"replicas_per_shard": 2}})
    assert graph.one("aws:memorydb/cluster:Cluster").inputs["numReplicasPerShard"] == 2
    memory_alarms = [a for a in graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                     if a.inputs["metricName"] == "DatabaseMemoryUsagePercentage"]
    assert len(memory_alarms) == 3


def test_no_cache_unless_enabled_and_then_separate_and_hardened(prod: Graph, render_variant):
    assert not prod.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
    graph = render_variant("prod", {"printflow:cache": {"enabled": True}})
    group = graph.one("aws:elasticache/replicationGroup:ReplicationGroup")
    g = group.inputs
    assert g["atRestEncryptionEnabled"] and g["transitEncryptionEnabled"]
    assert g["multiAzEnabled"] and g["automaticFailoverEnabled"]
    params = graph.one("aws:elasticache/parameterGroup:ParameterGroup").inputs["parameters"]
    assert {p["name"]: p["value"] for p in params} == {"maxmemory-policy": "allkeys-lru"}
    # the apps still queue on MemoryDB, never on the cache
    queue_host = graph.outputs["queue_store"]["endpoint"]
    hosts = {p.inputs["name"]: p.inputs["insecureValue"] for p in graph.of_type("aws:ssm/parameter:Parameter")}
    assert hosts["/printflow/prod/laravel/REDIS_HOST"] == queue_host
    assert "memorydb" in queue_host


# ------------------------------------------------------------------------------- secrets
def _secret_values(graph: Graph, marker: str = "-app-secrets-") -> dict[str, dict]:
    return {v.name.rsplit(marker, 1)[-1]: json.loads(v.inputs["secretString"])
            for v in graph.of_type("aws:secretsmanager/secretVersion:SecretVersion") if marker in v.name}


def test_both_app_secrets_are_built_from_the_same_generated_values(prod: Graph):
    values = _secret_values(prod)
    laravel, pdf = values["laravel"], values["pdf-service"]
    slots = {r.name: r for r in prod.of_type("random:index/randomBytes:RandomBytes")}
    current = slots["printflow-prod-app-secrets-app-key-slot-1"].outputs["base64"]
    internal = prod.one("random:index/randomPassword:RandomPassword", "internal-api-secret").outputs["result"]
    assert laravel["APP_KEY"] == pdf["APP_KEY"] == f"base64:{current}"
    assert laravel["INTERNAL_API_SECRET"] == pdf["INTERNAL_API_SECRET"] == internal
    assert pdf["PDF_SERVICE_INTERNAL_SECRET"] == internal
    assert len(__import__("base64").b64decode(current)) == 32
    assert laravel["APP_PREVIOUS_KEYS"] == "" == pdf["APP_PREVIOUS_KEYS"]
    connections = _secret_values(prod, "-connections-")
    laravel, pdf = connections["laravel"], connections["pdf-service"]
    assert {"DB_HOST", "DB_PORT", "DB_DATABASE", "REDIS_HOST", "REDIS_PASSWORD"} <= set(laravel)
    assert {"REDIS_HOST", "REDIS_PASSWORD", "REDIS_TLS"} <= set(pdf)
    assert laravel["REDIS_PASSWORD"] == pdf["REDIS_PASSWORD"]


def test_secret_values_are_marked_secret_on_the_wire(prod: Graph):
    for version in prod.of_type("aws:secretsmanager/secretVersion:SecretVersion"):
        assert is_wire_secret(version.wire_inputs["secretString"]), version.name


def test_app_secrets_are_encrypted_replicated_recoverable_and_protected(prod: Graph):
    secrets_key = [k for k in prod.of_type("aws:kms/key:Key") if k.inputs["tags"]["purpose"] == "secrets"][0]
    replica_key = [k for k in prod.of_type("aws:kms/replicaKey:ReplicaKey") if k.inputs["tags"]["purpose"] == "secrets"][0]
    for secret in prod.of_type("aws:secretsmanager/secret:Secret"):
        assert secret.inputs["kmsKeyId"] == secrets_key.outputs["arn"]
        # the shared key entries replicate; entries naming this region's endpoints never do
        replicated = "-app-secrets-" in secret.name
        assert secret.inputs.get("replicas", []) == (
            [{"region": "us-west-2", "kmsKeyId": replica_key.outputs["arn"]}] if replicated else [])
        assert secret.inputs["recoveryWindowInDays"] == 30
        assert secret.protected


def test_rotation_generation_replaces_both_and_keeps_the_previous_key(prod: Graph, render_variant):
    before = _secret_values(prod)
    rotated = render_variant("prod", {"printflow:secrets": {"rotation_generation": 2}})
    after = _secret_values(rotated)
    old_key = before["laravel"]["APP_KEY"]
    for app in ("laravel", "pdf-service"):
        assert after[app]["APP_KEY"] != old_key
        assert after[app]["APP_PREVIOUS_KEYS"] == old_key
        assert after[app]["INTERNAL_API_SECRET"] != before[app]["INTERNAL_API_SECRET"]
    assert after["laravel"]["APP_KEY"] == after["pdf-service"]["APP_KEY"]
    assert after["laravel"]["INTERNAL_API_SECRET"] == after["pdf-service"]["PDF_SERVICE_INTERNAL_SECRET"]
    # a second rotation keeps the key of generation 2 as the previous one
    again = _secret_values(render_variant("prod", {"printflow:secrets": {"rotation_generation": 3}}))
    assert again["laravel"]["APP_PREVIOUS_KEYS"] == after["laravel"]["APP_KEY"]
    assert again["laravel"]["APP_KEY"] not in (old_key, after["laravel"]["APP_KEY"])


# ------------------------------------------------------------------------------- app settings
def test_app_settings_are_published_under_the_env_and_app_path(prod: Graph):
    params = {p.inputs["name"]: p for p in prod.of_type("aws:ssm/parameter:Parameter")}
    expected = {
        "/printflow/prod/laravel/APP_ENV": "production", "/printflow/prod/laravel/APP_DEBUG": "false",
        "/printflow/prod/laravel/QUEUE_CONNECTION": "redis", "/printflow/prod/laravel/CACHE_STORE": "redis",
        "/printflow/prod/laravel/SESSION_DRIVER": "redis", "/printflow/prod/laravel/FILESYSTEM_DISK": "s3",
        "/printflow/prod/pdf-service/APP_DEBUG": "false", "/printflow/prod/pdf-service/QUEUE_CONNECTION": "redis",
    }
    assert {k: params[k].inputs["insecureValue"] for k in expected} == expected
    bucket = prod.outputs["print_bucket"]["name"]
    assert params["/printflow/prod/laravel/AWS_BUCKET"].inputs["insecureValue"] == bucket


def test_no_secret_in_a_plain_string_parameter(prod: Graph):
    values = {**_secret_values(prod), **{f"{k}-connection": v for k, v in _secret_values(prod, "-connections-").items()}}
    secret_fields = ("APP_KEY", "INTERNAL_API_SECRET", "PDF_SERVICE_INTERNAL_SECRET", "REDIS_PASSWORD")
    secret_values = {entry[f] for entry in values.values() for f in secret_fields if f in entry}
    assert len(secret_values) == 3
    for param in prod.of_type("aws:ssm/parameter:Parameter"):
        assert param.inputs["type"] == "String"
        name = param.inputs["name"].rsplit("/", 1)[-1]
        assert not any(word in name for word in ("KEY", "SECRET", "PASSWORD", "TOKEN"))
        assert param.inputs["insecureValue"] not in secret_values


# ------------------------------------------------------------------------------- alarms
def test_every_alarm_has_alarm_and_ok_actions_to_the_encrypted_topic(prod: Graph):
    topic = prod.one("aws:sns/topic:Topic", "-paging-topic")
    alarms_key = [k for k in prod.of_type("aws:kms/key:Key") if k.inputs["tags"]["purpose"] == "alarms"][0]
    assert topic.inputs["kmsMasterKeyId"] == alarms_key.outputs["arn"]
    alarms = prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") + prod.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
    assert alarms
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]], alarm.name
        assert alarm.inputs["okActions"] == [topic.outputs["arn"]], alarm.name


def test_subscriptions_come_from_config(render_variant):
    """Both topics (alarms, MemoryDB events) reach the same people; the pager URL arrives as a
    `secure:` stack value (its offline placeholder) and stays secret on the wire."""
    from tools.cli_config import SECRET_PLACEHOLDER

    graph = render_variant("prod", {"printflow:alarms": {"https_endpoints": [SECRET_PLACEHOLDER]}},
                           secret_keys=("printflow:alarms",))
    topics = {t.outputs["arn"]: t.name.rsplit("-", 1)[-1] for t in graph.of_type("aws:sns/topic:Topic")}
    subs = {(topics[s.inputs["topic"]], s.inputs["protocol"], s.inputs["endpoint"])
            for s in graph.of_type("aws:sns/topicSubscription:TopicSubscription")}
    endpoints = {("email", "oncall@printflow.example"), ("https", SECRET_PLACEHOLDER)}
    assert subs == {(topic, *e) for topic in ("topic", "events") for e in endpoints}
    for sub in graph.of_type("aws:sns/topicSubscription:TopicSubscription"):
        if sub.inputs["protocol"] == "https":
            assert is_wire_secret(sub.wire_inputs["endpoint"])


@pytest.mark.parametrize("namespace, metric, comparison, threshold", [
    ("AWS/RDS", "CPUUtilization", "GreaterThanThreshold", 80),
    ("AWS/RDS", "FreeableMemory", "LessThanThreshold", 256 * 1024**2),
    ("AWS/RDS", "FreeStorageSpace", "LessThanThreshold", 10 * 1024**3),
    ("AWS/RDS", "DatabaseConnections", "GreaterThanThreshold", 400),
    ("AWS/MemoryDB", "DatabaseMemoryUsagePercentage", "GreaterThanThreshold", 70),
    ("AWS/MemoryDB", "EngineCPUUtilization", "GreaterThanThreshold", 80),
    ("AWS/MemoryDB", "CurrConnections", "GreaterThanThreshold", 5000),
    ("AWS/S3", "ReplicationLatency", "GreaterThanThreshold", 900),
    ("AWS/S3", "OperationsFailedReplication", "GreaterThanThreshold", 0),
    ("Printflow/Queues", "PrintFileQueueOldestJobAgeSeconds", "GreaterThanThreshold", 300),
    ("Printflow/Queues", "FailedJobs", "GreaterThanThreshold", 0),
])
def test_required_alarms_exist_with_default_thresholds(prod: Graph, namespace, metric, comparison, threshold):
    found = [a for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
             if a.inputs["namespace"] == namespace and a.inputs["metricName"] == metric]
    assert found, f"no alarm on {namespace} {metric}"
    for alarm in found:
        assert alarm.inputs["comparisonOperator"] == comparison
        assert alarm.inputs["threshold"] == threshold


def test_queue_memory_alarm_fires_well_below_full(prod: Graph):
    for alarm in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        if alarm.inputs["metricName"] == "DatabaseMemoryUsagePercentage":
            assert alarm.inputs["threshold"] <= 80


def test_heartbeats_are_dead_mans_switches(prod: Graph):
    beats = {a.inputs["metricName"]: a for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
             if a.inputs["namespace"] == "Printflow/Heartbeats"}
    assert set(beats) == {"NightlyLogicalDump", "SchedulerHeartbeat", "PdfWorkerHeartbeat"}
    for alarm in beats.values():
        assert alarm.inputs["treatMissingData"] == "breaching"
        assert alarm.inputs["dimensions"] == {"Environment": "prod"}
        assert alarm.inputs["insufficientDataActions"]
    assert sorted(prod.outputs["alarms"]["heartbeat_alarm_names"]) == sorted(a.inputs["name"] for a in beats.values())


def test_replication_alarms_ignore_missing_data(prod: Graph):
    for alarm in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        if alarm.inputs["namespace"] == "AWS/S3":
            assert alarm.inputs["treatMissingData"] == "ignore"
            assert alarm.inputs["dimensions"]["RuleId"] == "print-files-to-dr"


def test_platform_critical_composite_covers_the_data_loss_alarms(prod: Graph):
    composite = prod.one("aws:cloudwatch/compositeAlarm:CompositeAlarm")
    rule = composite.inputs["alarmRule"]
    names = {a.inputs["name"] for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    for fragment in ("rds-free-storage", "queue-memory-node1", "print-replication-failed", "nightly-dump-heartbeat"):
        assert f'ALARM("printflow-prod-{fragment}")' in rule
    referenced = {part.split('"')[1] for part in rule.split("ALARM(")[1:]}
    assert referenced <= names


def test_thresholds_come_from_config(prod: Graph, render_variant):
    graph = render_variant("prod", {"printflow:alarms": {"thresholds": {
        "queue_memory_percent": 60, "rds_cpu_percent": 70,
        "nightly_dump_period_seconds": 43200, "nightly_dump_periods": 3}}})
    by_metric = {a.inputs["metricName"]: a.inputs for a in graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert by_metric["DatabaseMemoryUsagePercentage"]["threshold"] == 60
    assert by_metric["CPUUtilization"]["threshold"] == 70
    nightly = by_metric["NightlyLogicalDump"]
    assert (nightly["period"], nightly["evaluationPeriods"]) == (43200, 3)
    default = next(a.inputs for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                   if a.inputs["metricName"] == "NightlyLogicalDump")
    assert (default["period"], default["evaluationPeriods"]) == (86400, 2)
