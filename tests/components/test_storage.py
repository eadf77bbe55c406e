"""The storage components built alone: one hardened bucket, the print files and their replica,
the offsite backup vault, and the DR apps' access to the replica."""

from __future__ import annotations

import json

import pytest

from components.storage import (
    BackupVault, BackupVaultArgs, HardenedBucket, HardenedBucketArgs, LifecycleRule,
    PrintFileStorage, PrintFileStorageArgs, ReplicaBucketAccess, ReplicaBucketAccessArgs,
)
from tests.components.conftest import DR_KEY, KEY, TAGS

PARTS = ("bucketVersioning", "bucketObjectLockConfiguration", "bucketServerSideEncryptionConfiguration",
         "bucketPublicAccessBlock", "bucketOwnershipControls", "bucketPolicy", "bucketLifecycleConfiguration")


def test_a_hardened_bucket_has_every_v7_part(build):
    graph = build(lambda: HardenedBucket("unit-bucket", HardenedBucketArgs(
        region="us-east-1", kms_key_arn=KEY, lock_mode="GOVERNANCE", lock_days=3,
        lifecycle=(LifecycleRule("abort", abort_multipart_days=1),), protect=True, tags=TAGS)))
    types = {r.type.split("/")[1].split(":")[0] for r in graph.custom()}
    assert set(PARTS) <= types
    assert graph.one("aws:s3/bucket:Bucket").protected


def test_a_bucket_needs_lifecycle_rules():
    with pytest.raises(ValueError, match="lifecycle"):
        HardenedBucketArgs(region="us-east-1", kms_key_arn=KEY, lock_mode="GOVERNANCE", lock_days=3,
                           lifecycle=(), protect=True)


def test_print_files_replicate_to_the_other_region(build):
    graph = build(lambda: PrintFileStorage("unit-print", PrintFileStorageArgs(
        region="us-east-1", replica_region="us-west-2", kms_key_arn=KEY, replica_kms_key_arn=DR_KEY,
        lock_mode="GOVERNANCE", lock_days=35, noncurrent_version_days=90, abort_multipart_days=7,
        protect=True, tags=TAGS)))
    regions = sorted(b.inputs["region"] for b in graph.of_type("aws:s3/bucket:Bucket"))
    assert regions == ["us-east-1", "us-west-2"]
    rule = graph.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig").inputs["rules"][0]
    assert rule["destination"]["replicationTime"]["status"] == "Enabled"


def test_the_backup_vault_is_compliance_locked(build):
    graph = build(lambda: BackupVault("unit-vault", BackupVaultArgs(
        region="us-west-2", kms_key_arn=DR_KEY, lock_days=7, daily_days=7, weekly_days=28,
        monthly_days=365, abort_multipart_days=7, protect=True, tags=TAGS)))
    lock = graph.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs
    assert lock["rule"]["defaultRetention"]["mode"] == "COMPLIANCE"


@pytest.mark.parametrize("drill", [True, False])
def test_replica_access_reads_in_a_drill_and_writes_in_a_failover(build, drill):
    graph = build(lambda: ReplicaBucketAccess("unit-access", ReplicaBucketAccessArgs(
        replica_bucket_arn="arn:aws:s3:::unit-replica", replica_key_arn=DR_KEY, drill=drill, tags=TAGS)))
    sids = {s["Sid"] for s in json.loads(graph.one("aws:iam/policy:Policy").inputs["policy"])["Statement"]}
    assert ("DrillNeverChangesProdData" in sids) == drill
    assert ("FailoverWritesPrintFiles" in sids) == (not drill)
