"""The data-driven table: (policy, mutation of the compliant prod baseline, expected policy).

Every policy of the pack has at least one case (enforced by test_every_policy_has_a_case)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

from tests.policies.graphs import (
    ALARM, BUCKET, BUCKET_POLICY, ELASTICACHE, KEY, LIFECYCLE, MEMDB, MEMDB_PG, OBJECT_LOCK,
    OWNERSHIP, PAB, RDS, RDS_BACKUPS, RDS_PG, REPLICATION, SECRET, SSE, STACK, TOPIC,
    VERSIONING, Graph, add_copy, add_resource, app_secret_version, bucket, delp, drop,
    edit_secret_json, find, getp, named, one, param, set_param_value, setp, sub,
)


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[Graph], None]
    expect: str
    config: Optional[Dict[str, Any]] = field(default=None)


CASES: list = []


def case(id_: str, expect: Optional[str] = None, config: Optional[Dict[str, Any]] = None):
    def register(fn):
        CASES.append(Case(id_, fn, expect or id_.split(":")[0], config))
        return fn
    return register


# -- app settings ------------------------------------------------------------------------------

@case("printflow-app-settings-debug-disabled")
def _(g):
    set_param_value(param(g, "APP_DEBUG"), "true")


@case("printflow-app-settings-production-env")
def _(g):
    set_param_value(param(g, "APP_ENV", "pdf-service"), "local")


@case("printflow-app-settings-queue-not-sync")
def _(g):
    set_param_value(param(g, "QUEUE_CONNECTION"), "sync")


@case("printflow-app-settings-parameter-naming")
def _(g):
    setp(param(g, "APP_ENV"), "name", "/printflow/Prod/laravel/APP_ENV")


@case("aws-ssm-parameter-no-plain-secrets:secret-name")
def _(g):
    add_copy(g, param(g, "APP_ENV"), "stripe-secret",
             {"name": "/printflow/prod/laravel/STRIPE_SECRET", "type": "String"})


@case("aws-ssm-parameter-no-plain-secrets:base64-key-value")
def _(g):
    key = "base64:" + base64.b64encode(b"k" * 32).decode()
    set_param_value(param(g, "APP_ENV"), key)


@case("printflow-stack-outputs-no-secrets")
def _(g):
    stack = one(g, STACK)
    stack["outputs"]["laravel_app_key"] = "base64:" + base64.b64encode(b"k" * 32).decode()


# -- S3 ----------------------------------------------------------------------------------------

@case("aws-s3-bucket-required-tags")
def _(g):
    b = bucket(g, "print-files")
    tags = dict(b["inputs"]["tags"])
    tags.pop("owner")
    setp(b, "tags", tags)


@case("aws-s3-bucket-no-force-destroy")
def _(g):
    setp(bucket(g, "print-files"), "forceDestroy", True)


@case("aws-s3-bucket-object-lock-enabled")
def _(g):
    setp(bucket(g, "backup"), "objectLockEnabled", False)


@case("aws-s3-bucket-versioning-enabled:suspended")
def _(g):
    setp(sub(g, VERSIONING, bucket(g, "print-files")), "versioningConfiguration.status",
         "Suspended")


@case("aws-s3-bucket-versioning-enabled:missing")
def _(g):
    drop(g, sub(g, VERSIONING, bucket(g, "print-files-replica")))


@case("aws-s3-bucket-object-lock-retention")
def _(g):
    setp(sub(g, OBJECT_LOCK, bucket(g, "print-files")), "rule.defaultRetention.days", 1)


@case("aws-s3-bucket-object-lock-retention:missing")
def _(g):
    drop(g, sub(g, OBJECT_LOCK, bucket(g, "backup")))


@case("aws-s3-backup-bucket-compliance-lock")
def _(g):
    setp(sub(g, OBJECT_LOCK, bucket(g, "backup")), "rule.defaultRetention.mode", "GOVERNANCE")


@case("aws-s3-bucket-sse-kms-cmk")
def _(g):
    setp(sub(g, SSE, bucket(g, "backup")), "rules",
         [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}])


@case("aws-s3-bucket-sse-kms-cmk:missing")
def _(g):
    drop(g, sub(g, SSE, bucket(g, "print-files")))


@case("aws-s3-bucket-public-access-block")
def _(g):
    setp(sub(g, PAB, bucket(g, "print-files")), "blockPublicPolicy", False)


@case("aws-s3-bucket-public-access-block:missing")
def _(g):
    drop(g, sub(g, PAB, bucket(g, "backup")))


@case("aws-s3-bucket-ownership-enforced")
def _(g):
    setp(sub(g, OWNERSHIP, bucket(g, "print-files")), "rule.objectOwnership", "ObjectWriter")


@case("aws-s3-bucket-tls-only")
def _(g):
    setp(sub(g, BUCKET_POLICY, bucket(g, "print-files")), "policy", json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
            "AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject", "Resource": "*"}]}))


@case("aws-s3-bucket-tls-only:missing")
def _(g):
    drop(g, sub(g, BUCKET_POLICY, bucket(g, "backup")))


@case("aws-s3-bucket-noncurrent-version-retention")
def _(g):
    lc = sub(g, LIFECYCLE, bucket(g, "print-files"))
    rules = getp(lc, "rules")
    for r in rules:
        if "noncurrentVersionExpiration" in r:
            r["noncurrentVersionExpiration"]["noncurrentDays"] = 7
    setp(lc, "rules", rules)


@case("aws-s3-print-bucket-cross-region-replication:missing")
def _(g):
    drop(g, one(g, REPLICATION))


@case("aws-s3-print-bucket-cross-region-replication:same-region")
def _(g):
    b = bucket(g, "print-files-replica")
    setp(b, "region", one(g, BUCKET, lambda r: r["inputs"]["tags"].get("data-tier") ==
                          "print-files")["inputs"]["region"])


def _edit_rule(g, fn):
    rc = one(g, REPLICATION)
    rules = getp(rc, "rules")
    for r in rules:
        fn(r)
    setp(rc, "rules", rules)


@case("aws-s3-replication-time-control")
def _(g):
    _edit_rule(g, lambda r: r["destination"]["replicationTime"].update(status="Disabled"))


@case("aws-s3-replication-time-control:no-metrics")
def _(g):
    _edit_rule(g, lambda r: r["destination"].pop("metrics"))


@case("aws-s3-replication-delete-markers")
def _(g):
    _edit_rule(g, lambda r: r["deleteMarkerReplication"].update(status="Disabled"))


@case("aws-s3-replication-kms-objects")
def _(g):
    _edit_rule(g, lambda r: r["sourceSelectionCriteria"]["sseKmsEncryptedObjects"].update(
        status="Disabled"))


# -- RDS ---------------------------------------------------------------------------------------

def _db(g):
    return one(g, RDS)


@case("aws-rds-instance-backup-retention")
def _(g):
    setp(_db(g), "backupRetentionPeriod", 7)


@case("aws-rds-instance-multi-az")
def _(g):
    setp(_db(g), "multiAz", False)


@case("aws-rds-instance-storage-encrypted")
def _(g):
    setp(_db(g), "storageEncrypted", False)


@case("aws-rds-instance-not-public")
def _(g):
    setp(_db(g), "publiclyAccessible", True)


@case("aws-rds-instance-deletion-protection")
def _(g):
    setp(_db(g), "deletionProtection", False)


@case("aws-rds-instance-final-snapshot")
def _(g):
    setp(_db(g), "skipFinalSnapshot", True)


@case("aws-rds-instance-log-exports")
def _(g):
    setp(_db(g), "enabledCloudwatchLogsExports", ["postgresql"])


@case("aws-rds-instance-copy-tags-to-snapshot")
def _(g):
    setp(_db(g), "copyTagsToSnapshot", False)


@case("aws-rds-instance-managed-master-password")
def _(g):
    db = _db(g)
    setp(db, "manageMasterUserPassword", False)
    setp(db, "password", "hunter2-plain-text")


@case("aws-rds-instance-auto-minor-version-upgrade")
def _(g):
    setp(_db(g), "autoMinorVersionUpgrade", False)


def _force_ssl_off(g):
    pg = one(g, RDS_PG, lambda r: str(r["inputs"].get("family", "")).startswith("postgres"))
    params = [p for p in getp(pg, "parameters") if p["name"] != "rds.force_ssl"]
    params.append({"name": "rds.force_ssl", "value": "0", "applyMethod": "pending-reboot"})
    setp(pg, "parameters", params)


case("aws-rds-parameter-group-force-ssl")(_force_ssl_off)
case("aws-rds-instance-force-ssl-parameter-group:group-without-force-ssl")(_force_ssl_off)


@case("aws-rds-instance-force-ssl-parameter-group:default-group")
def _(g):
    db = _db(g)
    setp(db, "parameterGroupName", "default.postgres16")
    db.get("propertyDependencies", {}).pop("parameterGroupName", None)


@case("aws-rds-backup-replication-encrypted")
def _(g):
    delp(one(g, RDS_BACKUPS), "kmsKeyId")


@case("aws-rds-instance-backups-replicated")
def _(g):
    drop(g, one(g, RDS_BACKUPS))


# -- Redis -------------------------------------------------------------------------------------

def _cache_group(g, **overrides):
    region = _db(g)["inputs"]["region"]
    inputs = {"region": region, "replicationGroupId": "printflow-prod-cache",
              "description": "Printflow page cache", "engine": "valkey", "nodeType":
              "cache.t4g.small", "numCacheClusters": 2, "atRestEncryptionEnabled": True,
              "transitEncryptionEnabled": True, "multiAzEnabled": True,
              "automaticFailoverEnabled": True, "kmsKeyId": "arn:aws:kms:x",
              "tags": {"app": "printflow", "env": "prod", "owner": "platform-team",
                       "purpose": "cache"}}
    inputs.update(overrides)
    return add_resource(g, ELASTICACHE, "printflow-prod-cache", inputs)


@case("aws-elasticache-not-used-for-queues")
def _(g):
    _cache_group(g, description="BullMQ queue", tags={"purpose": "queue", "app": "printflow",
                                                      "env": "prod", "owner": "platform-team"})


@case("aws-elasticache-cache-encryption")
def _(g):
    _cache_group(g, atRestEncryptionEnabled=False)


@case("aws-elasticache-cache-multi-az")
def _(g):
    _cache_group(g, multiAzEnabled=False)


def _set_param(pg_res, name, value):
    params = [p for p in getp(pg_res, "parameters") if p["name"] != name]
    params.append({"name": name, "value": value})
    setp(pg_res, "parameters", params)


case("aws-memorydb-parameter-group-noeviction")(
    lambda g: _set_param(one(g, MEMDB_PG), "maxmemory-policy", "allkeys-lru"))
case("aws-memorydb-cluster-noeviction-parameter-group:group-evicts")(
    lambda g: _set_param(one(g, MEMDB_PG), "maxmemory-policy", "volatile-lru"))


@case("aws-memorydb-cluster-noeviction-parameter-group:default-group")
def _(g):
    c = one(g, MEMDB)
    setp(c, "parameterGroupName", "default.memorydb-valkey7")
    c.get("propertyDependencies", {}).pop("parameterGroupName", None)


@case("aws-memorydb-cluster-replicas")
def _(g):
    setp(one(g, MEMDB), "numReplicasPerShard", 0)


@case("aws-memorydb-cluster-tls")
def _(g):
    setp(one(g, MEMDB), "tlsEnabled", False)


@case("aws-memorydb-cluster-kms")
def _(g):
    delp(one(g, MEMDB), "kmsKeyArn")


@case("aws-memorydb-cluster-snapshot-retention")
def _(g):
    setp(one(g, MEMDB), "snapshotRetentionLimit", 1)


@case("aws-memorydb-cluster-acl")
def _(g):
    c = one(g, MEMDB)
    setp(c, "aclName", "open-access")
    c.get("propertyDependencies", {}).pop("aclName", None)


@case("aws-memorydb-cluster-final-snapshot")
def _(g):
    delp(one(g, MEMDB), "finalSnapshotName")


# -- KMS ---------------------------------------------------------------------------------------

@case("aws-kms-key-rotation")
def _(g):
    setp(find(g, KEY)[0], "enableKeyRotation", False)


@case("aws-kms-key-deletion-window")
def _(g):
    setp(find(g, KEY)[0], "deletionWindowInDays", 7)


@case("aws-kms-key-policy-no-wildcard-principal")
def _(g):
    key = find(g, KEY)[-1]
    doc = json.loads(getp(key, "policy"))
    doc["Statement"].append({"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"},
                             "Action": "kms:Decrypt", "Resource": "*"})
    setp(key, "policy", json.dumps(doc))


# -- Secrets Manager ---------------------------------------------------------------------------

def _laravel_secret(g):
    """The shared (replicated) Laravel key entry, not its connection entry."""
    return one(g, SECRET, lambda r: "laravel" in r["name"] and "connection" not in r["name"])


@case("aws-secretsmanager-secret-cmk")
def _(g):
    delp(_laravel_secret(g), "kmsKeyId")


@case("aws-secretsmanager-secret-dr-replica")
def _(g):
    setp(_laravel_secret(g), "replicas", [])


@case("aws-secretsmanager-secret-recovery-window")
def _(g):
    setp(_laravel_secret(g), "recoveryWindowInDays", 0)


@case("printflow-app-secrets-consistent:app-key")
def _(g):
    edit_secret_json(app_secret_version(g, "pdf-service"), lambda d: d.update(
        APP_KEY="base64:" + base64.b64encode(b"z" * 32).decode()))


@case("printflow-app-secrets-consistent:internal-secret")
def _(g):
    edit_secret_json(app_secret_version(g, "laravel"), lambda d: d.update(
        PDF_SERVICE_INTERNAL_SECRET="something-else-entirely"))


@case("printflow-app-secrets-required-keys")
def _(g):
    edit_secret_json(app_secret_version(g, "laravel", connection=True), lambda d: d.pop("REDIS_PASSWORD"))


@case("printflow-app-secrets-required-keys:shared-key")
def _(g):
    edit_secret_json(app_secret_version(g, "pdf-service"), lambda d: d.pop("INTERNAL_API_SECRET"))


@case("printflow-secrets-no-replicated-endpoints")
def _(g):
    """The old layout: prod's connection secret replicated, so DR apps would get prod's hosts."""
    secret = one(g, SECRET, lambda r: r["name"].endswith("connections-laravel"))
    setp(secret, "replicas", [{"region": "us-west-2", "kmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/mrk-1"}])


@case("printflow-app-secrets-required-keys:bad-app-key")
def _(g):
    for app in ("laravel", "pdf-service"):
        edit_secret_json(app_secret_version(g, app), lambda d: d.update(APP_KEY="short"))


# -- alarms ------------------------------------------------------------------------------------

def _alarm(g, metric):
    return one(g, ALARM, lambda r: r["inputs"].get("metricName") == metric)


@case("aws-cloudwatch-alarm-actions")
def _(g):
    setp(_alarm(g, "CPUUtilization"), "okActions", [])


@case("aws-sns-topic-kms-encrypted")
def _(g):
    delp(one(g, TOPIC, lambda r: r["name"].endswith("-topic")), "kmsMasterKeyId")


@case("aws-memorydb-cluster-events-topic")
def _(g):
    """An encrypted events topic: MemoryDB could not publish there."""
    setp(one(g, TOPIC, lambda r: r["name"].endswith("-queue-events")), "kmsMasterKeyId",
         "arn:aws:kms:us-east-1:123456789012:key/alarms")


@case("printflow-heartbeat-alarm-missing-data-breaching")
def _(g):
    setp(_alarm(g, "NightlyLogicalDump"), "treatMissingData", "notBreaching")


@case("printflow-required-alarms")
def _(g):
    drop(g, *[a for a in find(g, ALARM) if a["inputs"].get("metricName") == "CPUUtilization"
              and a["inputs"].get("namespace") == "AWS/RDS"])


@case("printflow-backup-heartbeat-alarm")
def _(g):
    drop(g, *find(g, ALARM, lambda r: r["inputs"].get("metricName") == "NightlyLogicalDump"))


# -- stack-wide --------------------------------------------------------------------------------

@case("printflow-stateful-resources-protected")
def _(g):
    _db(g)["options"]["protect"] = False


@case("printflow-dr-resources-in-dr-region")
def _(g):
    setp(bucket(g, "print-files-replica"), "region", g["config"]["aws:region"])


@case("printflow-aws-resources-explicit-region")
def _(g):
    delp(one(g, TOPIC), "region")


# -- config: thresholds and the `all` override --------------------------------------------------

@case("aws-rds-instance-backup-retention:raised-threshold",
      config={"aws-rds-instance-backup-retention": {"minimumDays": 35}})
def _(g):
    setp(_db(g), "backupRetentionPeriod", 30)


# -- network -----------------------------------------------------------------------------------

@case("printflow-data-subnets-no-route-out:route")
def _(g):
    """A NAT route added to the data subnets' route table."""
    table = one(g, "aws:ec2/routeTable:RouteTable", lambda r: r["inputs"]["tags"].get("tier") == "data")
    route = add_copy(g, one(g, "aws:ec2/route:Route"), "data-egress", {"routeTableId": table["outputs"]["id"]})
    route["propertyDependencies"] = {"routeTableId": [table["urn"]]}


@case("printflow-data-subnets-no-route-out:association")
def _(g):
    """A data subnet moved onto an app route table (which has the NAT route)."""
    subnet = one(g, "aws:ec2/subnet:Subnet", lambda r: r["inputs"]["tags"].get("tier") == "data")
    app_table = one(g, "aws:ec2/routeTable:RouteTable", lambda r: r["inputs"]["tags"].get("tier") == "app")
    association = one(g, "aws:ec2/routeTableAssociation:RouteTableAssociation",
                      lambda r: r["inputs"]["subnetId"] == subnet["outputs"]["id"])
    setp(association, "routeTableId", app_table["outputs"]["id"])
    association["propertyDependencies"]["routeTableId"] = [app_table["urn"]]
