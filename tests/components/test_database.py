"""PostgresDatabase built alone: a restore replicates nothing and names no initial database."""

from __future__ import annotations

from components.config import DatabaseSettings
from components.database import PointInTimeSource, PostgresArgs, PostgresDatabase
from tests.components.conftest import DR_KEY, KEY, TAGS


def _args(**extra):
    return PostgresArgs(settings=DatabaseSettings(), region="us-east-1", subnet_group_name="db",
                        security_group_ids=["sg-1"], kms_key_arn=KEY, protect=True, production=True,
                        dr_region="us-west-2", dr_kms_key_arn=DR_KEY, tags=TAGS, **extra)


def test_primary_replicates_its_backups_to_the_dr_region(build):
    graph = build(lambda: PostgresDatabase("unit-db", _args()))
    (replication,) = graph.of_type("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    assert replication.inputs["region"] == "us-west-2" and replication.inputs["kmsKeyId"] == DR_KEY
    assert graph.one("aws:rds/instance:Instance").inputs["dbName"] == "live_db"


def test_a_restore_replicates_nothing(build):
    source = PointInTimeSource("arn:aws:rds:us-west-2:123456789012:auto-backup:ab-1")
    graph = build(lambda: PostgresDatabase("unit-db", _args(restore_from=source)))
    assert not graph.of_type("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    instance = graph.one("aws:rds/instance:Instance").inputs
    assert "dbName" not in instance and instance["restoreToPointInTime"]["useLatestRestorableTime"]
