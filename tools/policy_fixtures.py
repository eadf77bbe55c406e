"""Hand-built, policy-compliant resource graphs (format printflow-resource-graph/1).

Used by tests/policies as the baseline until `tools.render` exists, and by
`python -m tools.policy_check --stack prod|dr --fixtures`. They follow docs/contracts.md: wire
format (camelCase), explicit `region` inputs, secrets wrapped in the secret signature, tags
app/env/owner/data-tier."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any, Dict, List, Optional

from tools.wire import GRAPH_FORMAT, secret

ACCOUNT = "123456789012"


class GraphBuilder:
    def __init__(self, stack: str, config: Dict[str, Any]):
        self.stack = stack
        self.project = "printflow"
        self.config = config
        self.resources: List[Dict[str, Any]] = []
        self.root = self.add("pulumi:pulumi:Stack", f"printflow-{stack}", {}, custom=False,
                             parent=None)

    def urn(self, type_: str, name: str, parent: Optional[Dict[str, Any]]) -> str:
        chain = ""
        if parent is not None and parent["type"] != "pulumi:pulumi:Stack":
            chain = parent["urn"].split("::")[2] + "$"
        return f"urn:pulumi:{self.stack}::{self.project}::{chain}{type_}::{name}"

    def add(self, type_: str, name: str, inputs: Dict[str, Any], *, custom: bool = True,
            parent: Any = "root", protect: bool = False, outputs: Optional[Dict[str, Any]] = None,
            deps: Optional[Dict[str, List[Dict[str, Any]]]] = None) -> Dict[str, Any]:
        par = self.root if parent == "root" else parent
        urn = self.urn(type_, name, par)
        ident = f"{name}-{abs(hash(urn)) % 10**6:06d}"
        out = dict(outputs or {})
        if custom:
            out.setdefault("id", ident)
            out.setdefault("arn", f"arn:aws:{type_.split(':')[1].split('/')[0]}:"
                                  f"{inputs.get('region', '')}:{ACCOUNT}:{ident}")
        prop_deps = {k: [d["urn"] for d in v] for k, v in (deps or {}).items()}
        all_deps = sorted({u for v in prop_deps.values() for u in v})
        res = {
            "urn": urn, "type": type_, "name": name, "custom": custom,
            "parent": par["urn"] if par is not None else None,
            "provider": "", "inputs": inputs, "outputs": out,
            "options": {"protect": protect, "retainOnDelete": False, "deleteBeforeReplace": False,
                        "ignoreChanges": [], "additionalSecretOutputs": [], "dependsOn": []},
            "dependencies": all_deps, "propertyDependencies": prop_deps,
        }
        self.resources.append(res)
        return res

    def graph(self) -> Dict[str, Any]:
        return {"format": GRAPH_FORMAT, "project": self.project,
                "stack": self.stack, "config": copy.deepcopy(self.config),
                "resources": copy.deepcopy(self.resources)}


def _tags(tier: Optional[str] = None, env: str = "prod") -> Dict[str, str]:
    t = {"app": "printflow", "env": env, "owner": "platform-team"}
    if tier:
        t["data-tier"] = tier
    return t


def _key_policy() -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "RootAccount", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "ServicesInAccount", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}}]})


def _tls_policy(name: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def _bucket(g: GraphBuilder, name: str, region: str, tier: str, key: Dict[str, Any], *,
            lock_mode: str, lock_days: int, noncurrent_days: int, protect: bool, env: str):
    comp = g.add("printflow:storage:HardenedBucket", name, {}, custom=False)
    bname = f"printflow-{env}-{name}"
    b = g.add("aws:s3/bucket:Bucket", name,
              {"bucket": bname, "region": region, "objectLockEnabled": True,
               "forceDestroy": False, "tags": _tags(tier, env)},
              parent=comp, protect=protect, outputs={"id": bname, "arn": f"arn:aws:s3:::{bname}"})
    dep = {"bucket": [b]}
    g.add("aws:s3/bucketVersioning:BucketVersioning", f"{name}-versioning",
          {"bucket": bname, "region": region, "versioningConfiguration": {"status": "Enabled"}},
          parent=comp, deps=dep)
    g.add("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", f"{name}-lock",
          {"bucket": bname, "region": region, "objectLockEnabled": "Enabled",
           "rule": {"defaultRetention": {"mode": lock_mode, "days": lock_days}}},
          parent=comp, deps=dep)
    g.add("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          f"{name}-sse", {"bucket": bname, "region": region, "rules": [{
              "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                     "kmsMasterKeyId": key["outputs"]["arn"]},
              "bucketKeyEnabled": True}]}, parent=comp, deps={"bucket": [b], "rules": [key]})
    g.add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{name}-public-access",
          {"bucket": bname, "region": region, "blockPublicAcls": True, "blockPublicPolicy": True,
           "ignorePublicAcls": True, "restrictPublicBuckets": True}, parent=comp, deps=dep)
    g.add("aws:s3/bucketOwnershipControls:BucketOwnershipControls", f"{name}-ownership",
          {"bucket": bname, "region": region, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
          parent=comp, deps=dep)
    g.add("aws:s3/bucketPolicy:BucketPolicy", f"{name}-policy",
          {"bucket": bname, "region": region, "policy": _tls_policy(bname)}, parent=comp, deps=dep)
    rules = [{"id": "abort-multipart", "status": "Enabled", "filter": {"prefix": ""},
              "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}},
             {"id": "noncurrent", "status": "Enabled", "filter": {"prefix": ""},
              "noncurrentVersionExpiration": {"noncurrentDays": noncurrent_days}}]
    g.add("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", f"{name}-lifecycle",
          {"bucket": bname, "region": region, "rules": rules}, parent=comp, deps=dep)
    return b


def _alarm(g, parent, name, region, topic, namespace, metric, treat="missing", **extra):
    inputs = {"region": region, "name": f"printflow-{name}", "namespace": namespace,
              "metricName": metric, "comparisonOperator": "GreaterThanThreshold",
              "evaluationPeriods": 1, "period": 300, "statistic": "Average", "threshold": 1,
              "treatMissingData": treat, "alarmActions": [topic["outputs"]["arn"]],
              "okActions": [topic["outputs"]["arn"]], **extra}
    return g.add("aws:cloudwatch/metricAlarm:MetricAlarm", f"alarms-{name}", inputs,
                 parent=parent, deps={"alarmActions": [topic], "okActions": [topic]})


def _shared(g: GraphBuilder, region: str, env: str, protect: bool, *, dr_region: str,
            primary: bool):
    """KMS keys, app settings, MemoryDB, alarms: common to prod and dr."""
    keys_comp = g.add("printflow:security:Keys", "keys", {}, custom=False)
    keys = {}
    for purpose in ("database", "storage", "secrets", "queue", "alarms"):
        keys[purpose] = g.add("aws:kms/key:Key", f"keys-{purpose}", {
            "region": region, "description": f"printflow {purpose} data", "enableKeyRotation": True,
            "deletionWindowInDays": 30, "multiRegion": purpose in ("database", "storage", "secrets"),
            "policy": _key_policy(), "tags": {**_tags(None, env), "purpose": purpose}},
            parent=keys_comp, protect=protect)
    replicas = {}
    if primary:
        for purpose in ("database", "storage", "secrets"):
            replicas[purpose] = g.add("aws:kms/replicaKey:ReplicaKey", f"keys-{purpose}-replica", {
                "region": dr_region, "primaryKeyArn": keys[purpose]["outputs"]["arn"],
                "deletionWindowInDays": 30, "policy": _key_policy(),
                "tags": {**_tags(None, env), "purpose": purpose, "replica-of": region}},
                parent=keys_comp, protect=protect, deps={"primaryKeyArn": [keys[purpose]]})

    apps = g.add("printflow:apps:AppSettingsParameters", "app-settings", {}, custom=False)
    for app, settings in (("laravel", {"APP_ENV": "production", "APP_DEBUG": "false",
                                       "QUEUE_CONNECTION": "redis", "LOG_LEVEL": "warning"}),
                          ("pdf-service", {"APP_ENV": "production", "APP_DEBUG": "false",
                                           "QUEUE_CONNECTION": "redis",
                                           "WORKER_CONCURRENCY": "2"})):
        for key, value in settings.items():
            g.add("aws:ssm/parameter:Parameter",
                  f"app-settings-{app}-{key.lower().replace('_', '-')}",
                  {"name": f"/printflow/{env}/{app}/{key}", "type": "String",
                   "value": secret(value), "region": region, "tier": "Standard",
                   "tags": {**_tags(None, env), "app-name": app}}, parent=apps)

    q = g.add("printflow:queue:QueueStore", "queue", {}, custom=False)
    pg = g.add("aws:memorydb/parameterGroup:ParameterGroup", "queue-params", {
        "name": f"printflow-{env}-queue", "family": "memorydb_valkey7", "region": region,
        "parameters": [{"name": "maxmemory-policy", "value": "noeviction"}]}, parent=q,
        outputs={"id": f"printflow-{env}-queue"})
    acl = g.add("aws:memorydb/acl:Acl", "queue-acl", {"name": f"printflow-{env}-queue",
                                                      "region": region}, parent=q)
    cluster = g.add("aws:memorydb/cluster:Cluster", "queue", {
        "name": f"printflow-{env}-queue", "region": region, "engine": "valkey",
        "engineVersion": "7.2", "nodeType": "db.r7g.large", "numShards": 1,
        "numReplicasPerShard": 1, "parameterGroupName": f"printflow-{env}-queue",
        "aclName": f"printflow-{env}-queue", "tlsEnabled": True,
        "kmsKeyArn": keys["queue"]["outputs"]["arn"], "snapshotRetentionLimit": 7,
        "finalSnapshotName": f"printflow-{env}-queue-final", "tags": _tags(None, env)},
        parent=q, protect=protect,
        deps={"parameterGroupName": [pg], "aclName": [acl], "kmsKeyArn": [keys["queue"]]})

    al = g.add("printflow:observability:Alarms", "alarms", {}, custom=False)
    topic = g.add("aws:sns/topic:Topic", "alarms-topic", {
        "region": region, "name": f"printflow-{env}-alarms",
        "kmsMasterKeyId": keys["alarms"]["outputs"]["arn"]}, parent=al,
        deps={"kmsMasterKeyId": [keys["alarms"]]})
    alarms = [
        _alarm(g, al, "db-free-storage", region, topic, "AWS/RDS", "FreeStorageSpace",
               comparisonOperator="LessThanThreshold", threshold=10 * 1024 ** 3),
        _alarm(g, al, "db-cpu", region, topic, "AWS/RDS", "CPUUtilization", threshold=90),
        _alarm(g, al, "queue-memory", region, topic, "AWS/MemoryDB",
               "DatabaseMemoryUsagePercentage", threshold=80),
        _alarm(g, al, "nightly-dump-heartbeat", region, topic, "Printflow/Heartbeats",
               "NightlyLogicalDump", treat="breaching", period=86400,
               comparisonOperator="LessThanThreshold", statistic="Sum",
               dimensions={"Environment": env}),
    ]
    if primary:
        alarms.append(_alarm(g, al, "print-replication-failed", region, topic, "AWS/S3",
                             "OperationsFailedReplication", treat="ignore"))
    g.add("aws:cloudwatch/compositeAlarm:CompositeAlarm", "alarms-platform-critical", {
        "region": region, "alarmName": f"printflow-{env}-platform-critical",
        "alarmRule": " OR ".join(f"ALARM(\"{a['inputs']['name']}\")" for a in alarms),
        "alarmActions": [topic["outputs"]["arn"]], "okActions": [topic["outputs"]["arn"]]},
        parent=al, deps={"alarmActions": [topic]})
    return keys, replicas, cluster, topic


def _app_secrets(g, region, env, keys, protect, replica):
    comp = g.add("printflow:security:AppSecrets", "app-secrets", {}, custom=False)
    app_key = "base64:" + base64.b64encode(bytes(range(32))).decode()
    internal = "x" * 48
    # Replicated: region-independent keys only (connection secrets are per stack).
    shared = {"APP_KEY": app_key, "APP_PREVIOUS_KEYS": "", "INTERNAL_API_SECRET": internal,
              "PDF_SERVICE_INTERNAL_SECRET": internal}
    values = {"laravel": shared, "pdf-service": shared}
    out = {}
    for app, data in values.items():
        inputs = {"region": region, "description": f"{app} runtime secrets",
                  "kmsKeyId": keys["secrets"]["outputs"]["arn"], "recoveryWindowInDays": 30,
                  "tags": _tags(None, env)}
        if replica:
            inputs["replicas"] = [{"region": replica[0], "kmsKeyId": replica[1]}]
        s = g.add("aws:secretsmanager/secret:Secret", f"app-secrets-{app}", inputs,
                  parent=comp, protect=protect, deps={"kmsKeyId": [keys["secrets"]]})
        g.add("aws:secretsmanager/secretVersion:SecretVersion", f"app-secrets-{app}", {
            "secretId": s["outputs"]["id"], "region": region,
            "secretString": secret(json.dumps(data))}, parent=comp, deps={"secretId": [s]})
        out[app] = s
    return out


def _database(g, region, env, keys, protect, *, restore_from: Optional[str] = None):
    comp = g.add("printflow:data:Database", "database", {}, custom=False)
    pg = g.add("aws:rds/parameterGroup:ParameterGroup", "database-params", {
        "name": f"printflow-{env}-pg16", "family": "postgres16", "region": region,
        "parameters": [{"name": "rds.force_ssl", "value": "1", "applyMethod": "pending-reboot"},
                       {"name": "log_min_duration_statement", "value": "1000"}]}, parent=comp,
        outputs={"id": f"printflow-{env}-pg16"})
    inputs = {
        "region": region, "identifier": f"printflow-{env}", "engine": "postgres",
        "engineVersion": "16.4", "instanceClass": "db.m6g.large", "allocatedStorage": 100,
        "maxAllocatedStorage": 1000, "multiAz": True, "storageEncrypted": True,
        "kmsKeyId": keys["database"]["outputs"]["arn"], "publiclyAccessible": False,
        "deletionProtection": True, "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": f"printflow-{env}-final", "backupRetentionPeriod": 35,
        "copyTagsToSnapshot": True, "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
        "parameterGroupName": f"printflow-{env}-pg16", "autoMinorVersionUpgrade": True,
        "tags": _tags(None, env),
    }
    if restore_from:
        inputs["restoreToPointInTime"] = {"sourceDbInstanceAutomatedBackupsArn": restore_from,
                                          "useLatestRestorableTime": True}
    else:
        inputs.update({"username": "printflow", "manageMasterUserPassword": True,
                       "masterUserSecretKmsKeyId": keys["secrets"]["outputs"]["arn"]})
    db = g.add("aws:rds/instance:Instance", "database", inputs, parent=comp, protect=protect,
               deps={"parameterGroupName": [pg], "kmsKeyId": [keys["database"]]})
    return comp, db


def prod_graph() -> Dict[str, Any]:
    region, dr = "us-east-1", "us-west-2"
    g = GraphBuilder("prod", {"aws:region": region, "printflow:environment": "prod",
                              "printflow:role": "primary", "printflow:primary_region": region,
                              "printflow:dr_region": dr})
    keys, replicas, cluster, topic = _shared(g, region, "prod", True, dr_region=dr, primary=True)
    comp, db = _database(g, region, "prod", keys, True)
    g.add("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
          "database-backups-dr", {"region": dr, "sourceDbInstanceArn": db["outputs"]["arn"],
                                  "kmsKeyId": replicas["database"]["outputs"]["arn"],
                                  "retentionPeriod": 35}, parent=comp, protect=True,
          deps={"sourceDbInstanceArn": [db], "kmsKeyId": [replicas["database"]]})
    print_b = _bucket(g, "print-files", region, "print-files", keys["storage"],
                      lock_mode="GOVERNANCE", lock_days=35, noncurrent_days=90, protect=True,
                      env="prod")
    replica_b = _bucket(g, "print-files-replica", dr, "print-files-replica",
                        replicas["storage"], lock_mode="GOVERNANCE", lock_days=35,
                        noncurrent_days=90, protect=True, env="prod")
    _bucket(g, "backups", region, "backup", keys["storage"], lock_mode="COMPLIANCE",
            lock_days=7, noncurrent_days=35, protect=True, env="prod")
    g.add("aws:iam/role:Role", "print-files-replication-role", {"assumeRolePolicy": "{}"})
    g.add("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "print-files-replication", {
        "bucket": print_b["inputs"]["bucket"], "region": region,
        "role": f"arn:aws:iam::{ACCOUNT}:role/print-files-replication",
        "rules": [{"id": "to-dr", "status": "Enabled", "priority": 1, "filter": {"prefix": ""},
                   "deleteMarkerReplication": {"status": "Enabled"},
                   "sourceSelectionCriteria": {"sseKmsEncryptedObjects": {"status": "Enabled"}},
                   "destination": {
                       "bucket": replica_b["outputs"]["arn"], "storageClass": "STANDARD",
                       "encryptionConfiguration": {
                           "replicaKmsKeyId": replicas["storage"]["outputs"]["arn"]},
                       "replicationTime": {"status": "Enabled", "time": {"minutes": 15}},
                       "metrics": {"status": "Enabled", "eventThreshold": {"minutes": 15}}}}]},
        deps={"bucket": [print_b], "rules": [replica_b, replicas["storage"]]})
    _app_secrets(g, region, "prod", keys, True, (dr, replicas["secrets"]["outputs"]["arn"]))
    g.root["outputs"] = {
        "environment": "prod", "mode": "primary", "primary_region": region, "dr_region": dr,
        "database": {"identifier": "printflow-prod", "arn": db["outputs"]["arn"],
                     "master_user_secret_arn": f"arn:aws:secretsmanager:{region}:{ACCOUNT}:"
                                               "secret:rds-master", "backup_retention_days": 35,
                     "region": region},
        "queue_store": {"name": "printflow-prod-queue", "arn": cluster["outputs"]["arn"],
                        "user_secret_arn": f"arn:aws:secretsmanager:{region}:{ACCOUNT}:"
                                           "secret:queue-user", "port": 6379, "region": region},
        "kms_keys": {k: v["outputs"]["arn"] for k, v in keys.items()},
        "alarms": {"topic_arn": topic["outputs"]["arn"]},
    }
    return g.graph()


def dr_graph(mode: str = "drill") -> Dict[str, Any]:
    region = "us-west-2"
    g = GraphBuilder("dr", {"aws:region": region, "printflow:environment": "prod",
                            "printflow:role": "dr", "printflow:primary_region": "us-east-1",
                            "printflow:dr_region": region,
                            "printflow:dr": {"mode": mode}})
    protect = mode != "drill"
    keys, _, cluster, topic = _shared(g, region, "prod", protect, dr_region=region,
                                      primary=False)
    _database(g, region, "prod", keys, protect,
              restore_from=f"arn:aws:rds:{region}:{ACCOUNT}:auto-backup:ab-printflow-prod")
    _app_secrets(g, region, "prod", keys, protect, None)
    g.root["outputs"] = {"environment": "prod", "mode": mode, "dr_region": region}
    return g.graph()


def baseline_graphs() -> Dict[str, Dict[str, Any]]:
    return {"prod": prod_graph(), "dr": dr_graph()}
