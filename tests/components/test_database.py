"""PostgresDatabase built alone: a restore replicates nothing and names no initial database."""

from __future__ import annotations

import pytest

from components.database import BackupReplica, PointInTimeSource, PostgresArgs, PostgresDatabase
from tests.components.conftest import DR_KEY, KEY, TAGS


def _args(**extra):
    extra.setdefault("backup_replica", BackupReplica("us-west-2", DR_KEY))
    return PostgresArgs(region="us-east-1", instance_class="db.t4g.medium", engine_version="16",
                        allocated_storage_gb=20, max_allocated_storage_gb=100, multi_az=True,
                        backup_retention_days=7, backup_window="03:00-04:00",
                        maintenance_window="sun:05:00-sun:06:00", performance_insights_retention_days=7,
                        monitoring_interval_seconds=60, subnet_group_name="db",
                        security_group_ids=["sg-1"], kms_key_arn=KEY, protect=True,
                        deletion_protection=True, keep_final_snapshot=True, tags=TAGS, **extra)


def test_primary_replicates_its_backups_to_the_dr_region(build):
    graph = build(lambda: PostgresDatabase("unit-db", _args()))
    (replication,) = graph.of_type("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    assert replication.inputs["region"] == "us-west-2" and replication.inputs["kmsKeyId"] == DR_KEY
    assert graph.one("aws:rds/instance:Instance").inputs["dbName"] == "live_db"


def test_a_restore_replicates_nothing(build):
    source = PointInTimeSource("arn:aws:rds:us-west-2:123456789012:auto-backup:ab-1")
    graph = build(lambda: PostgresDatabase("unit-db", _args(restore_from=source, backup_replica=None)))
    assert not graph.of_type("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    instance = graph.one("aws:rds/instance:Instance").inputs
    assert "dbName" not in instance and instance["restoreToPointInTime"]["useLatestRestorableTime"]


def test_a_restore_cannot_also_replicate():
    source = PointInTimeSource("arn:aws:rds:us-west-2:123456789012:auto-backup:ab-1")
    with pytest.raises(ValueError, match="does not replicate"):
        _args(restore_from=source)


def test_the_backup_replica_is_in_another_region():
    with pytest.raises(ValueError, match="must differ"):
        _args(backup_replica=BackupReplica("us-east-1", KEY))
