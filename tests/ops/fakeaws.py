"""Builds a compliant printflow environment in moto and fills the gaps moto has.

Gaps and how they are filled (keep in sync with the report):
- RDS cross-region automated-backup replication: moto has no StartDBInstanceAutomatedBackups-
  Replication, so `ReplicatedBackups` patches moto's RDS backend to also return registered
  replicated-backup records in the DR region (served through the real DescribeDBInstance-
  AutomatedBackups API, in-process and via moto's server alike).
- Composite alarms: moto has no PutCompositeAlarm; one is inserted through moto's CloudWatch
  backend (`rule=`), then read through the real DescribeAlarms API.
- S3 GetBucketReplication: moto stores DeleteMarkerReplication but always answers "Disabled";
  `ReplicatedBackups.install` also patches that response to return the stored value.
- MemoryDB parameter groups: moto has no DescribeParameters; the MemoryDB client is a botocore
  Stubber (`stub_memorydb`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.stub import Stubber
from moto.cloudwatch.models import cloudwatch_backends
from moto.rds import models as rds_models
from moto.s3 import responses as s3_responses

from ops.aws import Clients

ACCOUNT = "123456789012"
PRIMARY = "us-east-1"
DR = "us-west-2"
LOCK_DAYS = 35

LARAVEL_VALUES = {
    "APP_KEY": "base64:c2VjcmV0LWFwcC1rZXktMzItYnl0ZXMtbG9uZy4uLi4=",
    "APP_PREVIOUS_KEYS": "",
    "INTERNAL_API_SECRET": "s3cr3t-internal-api-value-7f1c",
    "PDF_SERVICE_INTERNAL_SECRET": "s3cr3t-internal-api-value-7f1c",
    "DB_HOST": "db.internal", "DB_PORT": "5432", "DB_DATABASE": "live_db",
    "REDIS_HOST": "mdb.internal", "REDIS_PORT": "6379", "REDIS_USERNAME": "app",
    "REDIS_PASSWORD": "redis-pass-value-91ab", "REDIS_SCHEME": "tls",
}
PDF_VALUES = {
    "APP_KEY": LARAVEL_VALUES["APP_KEY"], "APP_PREVIOUS_KEYS": "",
    "INTERNAL_API_SECRET": LARAVEL_VALUES["INTERNAL_API_SECRET"],
    "PDF_SERVICE_INTERNAL_SECRET": LARAVEL_VALUES["INTERNAL_API_SECRET"],
    "REDIS_HOST": "mdb.internal", "REDIS_PORT": "6379", "REDIS_USERNAME": "pdf",
    "REDIS_PASSWORD": "redis-pass-value-91ab", "REDIS_TLS": "true",
}
SECRET_VALUES = sorted({v for d in (LARAVEL_VALUES, PDF_VALUES) for v in d.values() if len(v) > 8})


class ReplicatedBackups:
    """Registry of DR-region replicated automated backups served by a patched moto backend."""

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {}
        self._orig = rds_models.RDSBackend.describe_db_instance_automated_backups
        self._orig_s3 = s3_responses.S3Response.get_bucket_replication

    def install(self) -> None:
        registry, orig = self.records, self._orig

        def describe(backend: Any, db_instance_identifier: str | None = None, **kw: Any) -> list:
            return list(orig(backend, db_instance_identifier, **kw)) + [
                _Record(r) for r in registry.get(backend.region_name, [])]
        rds_models.RDSBackend.describe_db_instance_automated_backups = describe  # type: ignore
        s3_responses.S3Response.get_bucket_replication = _get_bucket_replication  # type: ignore

    def uninstall(self) -> None:
        rds_models.RDSBackend.describe_db_instance_automated_backups = self._orig  # type: ignore
        s3_responses.S3Response.get_bucket_replication = self._orig_s3  # type: ignore

    def add(self, region: str, source_arn: str, latest: datetime, status: str = "replicating") -> str:
        arn = f"arn:aws:rds:{region}:{ACCOUNT}:auto-backup:ab-{len(self.records.get(region, [])) + 1:04d}"
        self.records.setdefault(region, []).append({
            "DBInstanceArn": source_arn, "DBInstanceAutomatedBackupsArn": arn, "Status": status,
            "Region": source_arn.split(":")[3], "DBInstanceIdentifier": source_arn.rsplit(":", 1)[-1],
            "RestoreWindow": {"EarliestTime": latest - timedelta(days=7), "LatestTime": latest}})
        return arn

    def set_latest(self, region: str, latest: datetime) -> None:
        for r in self.records.get(region, []):
            r["RestoreWindow"]["LatestTime"] = latest


def _get_bucket_replication(self: Any) -> Any:
    """moto's GetBucketReplication, but returning the stored DeleteMarkerReplication."""
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    self.data["Action"] = "GetBucketReplication"
    replication = self.backend.get_bucket_replication(self.bucket_name)
    if not replication:
        raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
    rules = [{"ID": r["ID"], "Priority": r["Priority"], "Status": r["Status"],
              "DeleteMarkerReplication": r.get("DeleteMarkerReplication") or {"Status": "Disabled"},
              "Filter": {"Prefix": ""}, "Destination": r["Destination"]}
             for r in replication["Rule"]]
    return self.serialized(ActionResult({"ReplicationConfiguration": {
        "Role": replication["Role"], "Rules": rules}}))


class _Record:
    """moto's serializer reads shape members as attributes."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__.update(fields)


def stub_memorydb(clients: Clients, name: str, policy: str = "noeviction", nodes_per_shard: int = 2,
                  tls: bool = True, region: str = PRIMARY) -> Stubber:
    """MemoryDB via Stubber: one describe_clusters + one describe_parameters per audit run."""
    client = botocore.session.get_session().create_client(
        "memorydb", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
    stub = Stubber(client)
    shard = {"Name": "0001", "Status": "available", "NumberOfNodes": nodes_per_shard}
    stub.add_response("describe_clusters", {"Clusters": [{
        "Name": name, "Status": "available", "ParameterGroupName": "printflow-queue-noeviction",
        "TLSEnabled": tls, "NumberOfShards": 1, "Shards": [shard]}]},
        {"ClusterName": name, "ShowShardDetails": True})
    stub.add_response("describe_parameters", {"Parameters": [
        {"Name": "maxmemory-policy", "Value": policy}, {"Name": "timeout", "Value": "0"}]},
        {"ParameterGroupName": "printflow-queue-noeviction"})
    stub.activate()
    clients.override("memorydb", region, client)
    return stub


@dataclass
class Env:
    outputs: dict[str, Any]
    now: datetime
    backups: ReplicatedBackups
    db_arn: str
    topic_arn: str
    object_keys: list[str] = field(default_factory=list)
    dr_outputs: dict[str, Any] = field(default_factory=dict)

    def write(self, path: Path, which: str = "prod") -> Path:
        doc = {"prod": self.outputs, "dr": self.dr_outputs}.get(which) or self.contract_dr_outputs()
        path.write_text(json.dumps(doc, indent=2))
        return path

    def contract_dr_outputs(self) -> dict[str, Any]:
        """The dr outputs exactly as docs/contracts.md §2 describes them (with `dr`, no `restore`)."""
        doc = json.loads(json.dumps(self.dr_outputs))
        del doc["restore"]
        doc["dr"] = json.loads(json.dumps(self.outputs["dr"]))
        doc["backup_bucket"] = json.loads(json.dumps(self.outputs["backup_bucket"]))
        return doc


_CLIENTS: dict[tuple[str, str], Any] = {}


def aws(service: str, region: str = PRIMARY) -> Any:
    """Cached boto3 clients for building fixtures (client creation dominates fixture time).

    Clients hold no moto state, so reuse across mock_aws contexts is safe; the cache is keyed
    by the endpoint too, so the moto-server test gets its own clients.
    """
    import os
    key = (f"{service}@{os.environ.get('AWS_ENDPOINT_URL', '')}", region)
    if key not in _CLIENTS:
        _CLIENTS[key] = boto3.client(service, region_name=region)
    return _CLIENTS[key]


def _bucket(name: str, region: str, kms_key: str, mode: str) -> str:
    s3 = aws("s3", region)
    kwargs: dict[str, Any] = {"Bucket": name, "ObjectLockEnabledForBucket": True}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": LOCK_DAYS}}})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key},
         "BucketKeyEnabled": True}]})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    return f"arn:aws:s3:::{name}"


def _key(region: str, rotate: bool = True) -> str:
    kms = aws("kms", region)
    arn = kms.create_key(Description="printflow")["KeyMetadata"]["Arn"]
    if rotate:
        kms.enable_key_rotation(KeyId=arn)
    return arn


def build_env(backups: ReplicatedBackups, now: datetime | None = None) -> Env:
    """A compliant prod environment (and a restored dr one); must run inside moto."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    keys = {k: _key(PRIMARY) for k in ("database", "storage", "secrets", "queue", "alarms")}
    dr_keys = {k: _key(DR) for k in ("database", "storage", "secrets")}

    print_arn = _bucket("printflow-prod-print-files", PRIMARY, keys["storage"], "GOVERNANCE")
    replica_arn = _bucket("printflow-prod-print-files-replica", DR, dr_keys["storage"], "GOVERNANCE")
    backup_arn = _bucket("printflow-prod-backups", PRIMARY, keys["storage"], "COMPLIANCE")
    s3 = aws("s3")
    s3.put_bucket_replication(Bucket="printflow-prod-print-files", ReplicationConfiguration={
        "Role": f"arn:aws:iam::{ACCOUNT}:role/printflow-replication",
        "Rules": [{
            "ID": "to-dr", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
            "Destination": {
                "Bucket": replica_arn,
                "EncryptionConfiguration": {"ReplicaKmsKeyID": dr_keys["storage"]},
                "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}}]})
    s3_dr = aws("s3", DR)
    object_keys = [f"designs/{i}/files/print-ready-{i}.pdf" for i in range(3)]
    for k in object_keys:
        body = b"%PDF-1.7 drill " + k.encode()
        s3.put_object(Bucket="printflow-prod-print-files", Key=k, Body=body)
        s3_dr.put_object(Bucket="printflow-prod-print-files-replica", Key=k, Body=body)

    rds = aws("rds")
    db = rds.create_db_instance(
        DBInstanceIdentifier="printflow-prod-db", DBInstanceClass="db.m6g.large", Engine="postgres",
        MasterUsername="printflow", MasterUserPassword="not-used-in-tests", AllocatedStorage=100,
        BackupRetentionPeriod=14, MultiAZ=True, StorageEncrypted=True, KmsKeyId=keys["database"],
        DeletionProtection=True)["DBInstance"]
    db_arn = db["DBInstanceArn"]
    backups_arn = backups.add(DR, db_arn, now - timedelta(seconds=60))
    aws("rds", DR).create_db_instance(
        DBInstanceIdentifier="printflow-dr-db", DBInstanceClass="db.m6g.large", Engine="postgres",
        MasterUsername="printflow", MasterUserPassword="not-used-in-tests", AllocatedStorage=100,
        BackupRetentionPeriod=14, MultiAZ=True, StorageEncrypted=True, KmsKeyId=dr_keys["database"])
    dr_local_keys = {k: _key(DR) for k in ("queue", "alarms", "logs")}

    sm = aws("secretsmanager")
    secret_arns = {}
    for label, values in (("laravel", LARAVEL_VALUES), ("pdf-service", PDF_VALUES)):
        secret_arns[label] = sm.create_secret(
            Name=f"printflow/prod/{label}", SecretString=json.dumps(values), KmsKeyId=keys["secrets"],
            AddReplicaRegions=[{"Region": DR, "KmsKeyId": dr_keys["secrets"]}])["ARN"]

    alarms = paging_alarms(PRIMARY, "printflow-prod")
    topic_arn = alarms["topic_arn"]

    outputs = {
        "environment": "prod", "mode": "primary", "primary_region": PRIMARY, "dr_region": DR,
        "database": {"identifier": "printflow-prod-db", "arn": db_arn, "endpoint": "db:5432",
                     "address": "db", "port": 5432, "name": "live_db",
                     "master_user_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-x",
                     "backup_retention_days": 14, "region": PRIMARY},
        "print_bucket": {"name": "printflow-prod-print-files", "arn": print_arn, "region": PRIMARY,
                         "object_lock_mode": "GOVERNANCE", "object_lock_days": LOCK_DAYS},
        "print_replica_bucket": {"name": "printflow-prod-print-files-replica", "arn": replica_arn,
                                 "region": DR},
        "backup_bucket": {"name": "printflow-prod-backups", "arn": backup_arn, "region": PRIMARY,
                          "object_lock_mode": "COMPLIANCE", "object_lock_days": LOCK_DAYS},
        "queue_store": {"name": "printflow-prod-queue", "arn": "arn:aws:memorydb:us-east-1:123456789012:cluster/printflow-prod-queue",
                        "endpoint": "q", "port": 6379, "user_secret_arn": "x", "region": PRIMARY},
        "app_secrets": {"laravel_arn": secret_arns["laravel"], "pdf_service_arn": secret_arns["pdf-service"],
                        "replica_regions": [DR]},
        "kms_keys": keys,
        "alarms": alarms,
        "network": {"vpc_id": "vpc-1", "app_security_group_id": "sg-1", "private_subnet_ids": ["subnet-1"]},
        "dr": {"region": DR, "replicated_backups_arn": backups_arn, "source_db_arn": db_arn,
               "replica_bucket_name": "printflow-prod-print-files-replica",
               "replica_bucket_arn": replica_arn, "replica_key_arns": dr_keys},
    }
    # The dr stack as the program exports it: `restore` instead of `dr`, no backup bucket,
    # print_bucket and print_replica_bucket both the replica. (`contract_dr_outputs` adds `dr`.)
    dr_outputs = json.loads(json.dumps(outputs))
    dr_outputs.update(environment="dr", mode="drill")
    del dr_outputs["backup_bucket"], dr_outputs["dr"]
    dr_outputs["restore"] = {"source_db_arn": db_arn, "source_automated_backups_arn": backups_arn,
                             "restore_time": "latest"}
    dr_outputs["database"].update(identifier="printflow-dr-db", region=DR,
                                  arn=f"arn:aws:rds:{DR}:{ACCOUNT}:db:printflow-dr-db",
                                  expected_settings={"DBInstanceClass": "db.m6g.large",
                                                     "BackupRetentionPeriod": 14, "StorageEncrypted": True})
    dr_outputs["print_bucket"].update(name="printflow-prod-print-files-replica", arn=replica_arn, region=DR)
    dr_outputs["print_replica_bucket"] = dict(dr_outputs["print_bucket"])
    dr_outputs["alarms"] = paging_alarms(DR, "printflow-prod-dr")  # the DR stack's own, in its region
    dr_outputs["queue_store"].update(name=DR_QUEUE, region=DR,
                                     arn=f"arn:aws:memorydb:{DR}:{ACCOUNT}:cluster/{DR_QUEUE}")
    dr_outputs["kms_keys"] = {**dr_keys, **dr_local_keys}  # prod's replicas and its own keys
    dr_outputs["app_secrets"].update(
        laravel_arn=secret_arns["laravel"].replace(PRIMARY, DR),
        pdf_service_arn=secret_arns["pdf-service"].replace(PRIMARY, DR), replica_regions=[])
    return Env(outputs=outputs, now=now, backups=backups, db_arn=db_arn, topic_arn=topic_arn,
               object_keys=object_keys, dr_outputs=dr_outputs)


DR_QUEUE = "printflow-prod-dr-queue"


def paging_alarms(region: str, prefix: str) -> dict:
    """A stack's paging topics (subscribed), its alarms (OK, heartbeats breaching on missing data)
    and its composite alarm, in `region`; the stack's `alarms` output block."""
    sns = aws("sns", region)
    topics = {}
    for kind in ("alarms", "queue-events"):
        arn = sns.create_topic(Name=f"{prefix}-{kind}")["TopicArn"]
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="oncall@printflow.example")
        topics[kind] = arn
    cw = aws("cloudwatch", region)
    alarm_names = [f"{prefix}-rds-cpu", f"{prefix}-queue-oldest-job-age"]
    heartbeat_names = [f"{prefix}-nightly-dump-heartbeat", f"{prefix}-scheduler-heartbeat"]
    for name in alarm_names + heartbeat_names:
        put_alarm(cw, name, topics["alarms"])
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test baseline")
    composite = f"{prefix}-service-degraded"
    cloudwatch_backends[ACCOUNT][region].put_metric_alarm(
        name=composite, namespace=None, metric_name=None, comparison_operator=None,  # type: ignore
        evaluation_periods=None, period=None, threshold=None, statistic=None,  # type: ignore
        description="composite", dimensions=[], alarm_actions=[topics["alarms"]],
        ok_actions=[topics["alarms"]], rule=" OR ".join(f'ALARM("{n}")' for n in alarm_names))
    return {"topic_arn": topics["alarms"], "queue_events_topic_arn": topics["queue-events"],
            "alarm_names": alarm_names, "heartbeat_alarm_names": heartbeat_names,
            "composite_alarm_name": composite}


def put_alarm(cw: Any, name: str, topic_arn: str, actions: bool = True) -> None:
    cw.put_metric_alarm(
        AlarmName=name, Namespace="Printflow/Heartbeats", MetricName="SchedulerHeartbeat",
        Dimensions=[{"Name": "Environment", "Value": "prod"}], Statistic="Sum", Period=300,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="LessThanThreshold",
        TreatMissingData="breaching",
        AlarmActions=[topic_arn] if actions else [], OKActions=[topic_arn] if actions else [])
