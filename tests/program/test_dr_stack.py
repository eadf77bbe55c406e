"""The DR stack: restore in the second region, drill vs failover, nothing in the primary region."""

from __future__ import annotations

import json

import pytest

from tests.program.graph import RECENT_RESTORE_TIME, STATEFUL_TYPES, Graph

PRIMARY, DR = "us-east-1", "us-west-2"


def test_database_is_restored_from_the_replicated_backups(dr: Graph, prod: Graph):
    db = dr.one("aws:rds/instance:Instance")
    restore = db.inputs["restoreToPointInTime"]
    assert restore["sourceDbInstanceAutomatedBackupsArn"] == prod.outputs["dr"]["replicated_backups_arn"]
    assert restore["useLatestRestorableTime"] is True and "restoreTime" not in restore
    assert db.inputs["kmsKeyId"] == prod.outputs["dr"]["replica_key_arns"]["database"]
    assert "dbName" not in db.inputs and "username" not in db.inputs
    assert not dr.of_type("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")


def test_restore_time_from_config(render_variant, prod_references):
    graph = render_variant("dr", {"printflow:dr": {"restore_time": RECENT_RESTORE_TIME}},
                           references=prod_references)
    restore = graph.one("aws:rds/instance:Instance").inputs["restoreToPointInTime"]
    assert restore["restoreTime"] == RECENT_RESTORE_TIME
    assert "useLatestRestorableTime" not in restore
    assert graph.outputs["restore"]["restore_time"].startswith(RECENT_RESTORE_TIME[:-1])


def test_database_keeps_the_prod_hardening(dr: Graph):
    i = dr.one("aws:rds/instance:Instance").inputs
    assert i["multiAz"] and i["storageEncrypted"] and not i["publiclyAccessible"]
    assert i["manageMasterUserPassword"] and i["iamDatabaseAuthenticationEnabled"]
    assert set(i["enabledCloudwatchLogsExports"]) == {"postgresql", "upgrade"}
    params = {p["name"]: p["value"] for p in dr.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]}
    assert params["rds.force_ssl"] == "1"


def test_every_resource_is_in_the_dr_region(dr: Graph):
    regional = [r for r in dr.custom() if not r.type.startswith(("aws:iam/", "random:"))]
    assert regional
    assert {r.region for r in regional} == {DR}


def test_nothing_targets_the_primary_region(dr: Graph):
    for resource in dr.custom():
        assert f":{PRIMARY}:" not in json.dumps(resource.inputs), resource.name
        assert PRIMARY not in json.dumps(resource.inputs.get("region", "")), resource.name


def test_apps_use_the_replica_bucket_and_replicated_secrets(dr: Graph, prod: Graph):
    params = {p.inputs["name"]: p.inputs["insecureValue"] for p in dr.of_type("aws:ssm/parameter:Parameter")}
    assert params["/printflow/prod/laravel/AWS_BUCKET"] == prod.outputs["print_replica_bucket"]["name"]
    assert params["/printflow/prod/laravel/AWS_DEFAULT_REGION"] == DR
    assert dr.outputs["app_secrets"]["laravel_arn"] == prod.outputs["dr"]["laravel_secret_arn"]
    # no new secret values: neither the app secrets nor the key material is generated here
    assert not dr.of_type("random:index/randomBytes:RandomBytes")
    # only this stack's own connection data is written here: queue credentials and app connections
    assert sorted(s.name for s in dr.of_type("aws:secretsmanager/secret:Secret")) == [
        "printflow-prod-dr-connections-laravel", "printflow-prod-dr-connections-pdf-service",
        "printflow-prod-dr-queue-credentials"]
    assert not dr.of_type("aws:s3/bucket:Bucket")


def test_fresh_queue_store_and_dr_alarms(dr: Graph):
    cluster = dr.one("aws:memorydb/cluster:Cluster")
    params = dr.one("aws:memorydb/parameterGroup:ParameterGroup").inputs["parameters"]
    assert {p["name"]: p["value"] for p in params} == {"maxmemory-policy": "noeviction"}
    assert cluster.inputs["tlsEnabled"] and cluster.inputs["numReplicasPerShard"] >= 1
    topic = dr.one("aws:sns/topic:Topic", "-paging-topic")
    for alarm in dr.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
    metrics = {a.inputs["metricName"] for a in dr.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert {"FreeStorageSpace", "DatabaseMemoryUsagePercentage"} <= metrics
    assert "NightlyLogicalDump" not in metrics  # a drill sends no heartbeats (see below)


def test_drill_is_disposable(dr: Graph):
    assert dr.outputs["mode"] == "drill"
    assert not [r.name for r in dr.resources if r.protected]
    db = dr.one("aws:rds/instance:Instance").inputs
    assert db["deletionProtection"] is False and db["skipFinalSnapshot"] is True
    assert db["deleteAutomatedBackups"] is True
    assert "finalSnapshotName" not in dr.one("aws:memorydb/cluster:Cluster").inputs
    assert all(s.inputs["recoveryWindowInDays"] == 0 for s in dr.of_type("aws:secretsmanager/secret:Secret"))
    assert all(k.inputs["deletionWindowInDays"] == 7 for k in dr.of_type("aws:kms/key:Key"))


def _decides(statements: list, action: str, resource: str) -> bool:
    """IAM policy evaluation for one action on one resource (IAM User Guide, "Policy evaluation
    logic"): an explicit Deny wins (Action matched, or NotAction not matched), else an Allow."""
    from fnmatch import fnmatchcase

    def listed(patterns):
        return [patterns] if isinstance(patterns, str) else patterns

    def action_matches(patterns):  # action names are case-insensitive, ARNs are not
        return any(fnmatchcase(action.lower(), p.lower()) for p in listed(patterns))

    def applies(s):
        in_action = action_matches(s["Action"]) if "Action" in s else not action_matches(s["NotAction"])
        return in_action and any(fnmatchcase(resource, p) for p in listed(s["Resource"]))
    if any(s["Effect"] == "Deny" and applies(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and applies(s) for s in statements)


# Every way to change a bucket or its objects, including the bucket-level settings a deny-list
# of PutObject*/PutBucket* missed (the S3 API's Put*Configuration and Replicate* actions).
CHANGES = ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention",
           "s3:RestoreObject", "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration",
           "s3:PutEncryptionConfiguration", "s3:ReplicateObject", "s3:ReplicateDelete",
           "s3:PutInventoryConfiguration", "s3:PutAnalyticsConfiguration", "s3:PutMetricsConfiguration",
           "s3:PutBucketPolicy", "s3:DeleteBucket", "s3:BypassGovernanceRetention")


def test_drill_never_changes_prod_replica_data(dr: Graph, prod: Graph):
    policy = dr.one("aws:iam/policy:Policy", "print-file-access")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    deny = by_sid["DrillNeverChangesProdData"]
    replica_arn = prod.outputs["print_replica_bucket"]["arn"]
    assert deny["Effect"] == "Deny" and replica_arn in deny["Resource"]
    allow_everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    for action in CHANGES:
        for resource in (replica_arn, f"{replica_arn}/tenant-1/order.pdf"):
            assert not _decides(statements, action, resource), (action, resource)
            # the Deny alone refuses it, whatever another policy of the apps' role allows
            assert not _decides([deny, allow_everything], action, resource), (action, resource)
    assert _decides([deny, allow_everything], "s3:GetObjectVersion", f"{replica_arn}/tenant-1/order.pdf")
    assert _decides(statements, "s3:GetObject", f"{replica_arn}/tenant-1/order.pdf")
    assert by_sid["UseReplicaStorageKey"]["Action"] == ["kms:Decrypt"]


def test_a_drill_gets_no_dump_target_a_failover_keeps_prods_vault(dr: Graph, prod: Graph, render_variant,
                                                                   prod_references):
    """prod's backup vault is COMPLIANCE-locked: a drill's dumps there could never be deleted."""
    assert dr.outputs["mode"] == "drill" and dr.outputs.get("backup_bucket") is None
    failover = render_variant("dr", {"printflow:dr": {"mode": "failover"}}, references=prod_references)
    assert failover.outputs["backup_bucket"]["object_lock_mode"] == "COMPLIANCE"
    vault = prod.outputs["dr"]
    assert failover.outputs["backup_bucket"]["name"] == vault["backup_bucket_name"]
    assert failover.outputs["backup_bucket"]["arn"] == vault["backup_bucket_arn"]


def test_failover_is_protected_like_prod(render_variant, prod_references):
    graph = render_variant("dr", {"printflow:dr": {"mode": "failover"}}, references=prod_references)
    assert graph.outputs["mode"] == "failover"
    stateful = [r for r in graph.custom() if r.type in STATEFUL_TYPES]
    assert stateful and all(r.protected for r in stateful)
    db = graph.one("aws:rds/instance:Instance").inputs
    assert db["deletionProtection"] is True and db["skipFinalSnapshot"] is False and db["finalSnapshotIdentifier"]
    assert graph.one("aws:memorydb/cluster:Cluster").inputs["finalSnapshotName"]
    assert all(s.inputs["recoveryWindowInDays"] == 30 for s in graph.of_type("aws:secretsmanager/secret:Secret"))
    statements = {s["Sid"] for s in json.loads(graph.one("aws:iam/policy:Policy").inputs["policy"])["Statement"]}
    assert "NeverDestroyVersions" in statements and "DrillNeverChangesProdData" not in statements


def test_failover_with_protection_off_is_refused(prod_references):
    from components.config import ConfigError, load_settings
    from tests.program.graph import config_with

    with pytest.raises(ConfigError, match="protect_stateful must be true"):
        load_settings(config_with("dr", {"printflow:dr": {"mode": "failover"}, "printflow:protect_stateful": False}), "dr")


def test_explicit_config_source_when_prod_state_is_unreachable(prod):
    """No StackReference: the prod `dr` block copied into config drives the restore."""
    from tests.program.graph import config_with
    from tools.render import render_stack

    block = prod.outputs["dr"]
    source = {k: block[k] for k in ("region", "replicated_backups_arn", "source_db_arn", "replica_bucket_name",
                                    "replica_bucket_arn", "backup_bucket_name", "backup_bucket_arn",
                                    "replica_key_arns", "laravel_secret_arn", "pdf_service_secret_arn")}
    config = config_with("dr", {})
    dr_block = json.loads(config["printflow:dr"])
    assert "primary_stack" not in dr_block  # the default: <organisation>/printflow/<environment>
    dr_block["primary"] = source
    config["printflow:dr"] = json.dumps(dr_block)
    graph = Graph(render_stack("dr", references={}, config=config))
    assert not [r for r in graph.resources if r.type == "pulumi:pulumi:StackReference"]
    restore = graph.one("aws:rds/instance:Instance").inputs["restoreToPointInTime"]
    assert restore["sourceDbInstanceAutomatedBackupsArn"] == block["replicated_backups_arn"]
    assert graph.outputs.get("backup_bucket") is None  # a drill: no dump target (see below)
    assert graph.outputs["print_bucket"]["name"] == block["replica_bucket_name"]


def test_a_drill_pages_nobody_for_the_heartbeats_it_cannot_send(dr: Graph, render_variant, prod_references):
    """The drill's apps send no heartbeats: heartbeat alarms there would page the on-call about ten
    minutes after `up` (treat_missing_data=breaching). A drill has none; a failover keeps them."""
    def heartbeats(graph: Graph) -> list:
        return [a for a in graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                if a.inputs.get("namespace") == "Printflow/Heartbeats"]
    assert heartbeats(dr) == [] and dr.outputs["alarms"]["heartbeat_alarm_names"] == []
    assert "heartbeat" not in dr.one("aws:cloudwatch/compositeAlarm:CompositeAlarm").inputs["alarmRule"]
    failover = render_variant("dr", {"printflow:dr": {"mode": "failover"}}, references=prod_references)
    assert len(heartbeats(failover)) == 3
