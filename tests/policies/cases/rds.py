"""Policy cases: RDS."""

from __future__ import annotations

from tests.policies.cases.registry import case
from tests.policies.graphs import (
    RDS_BACKUPS, RDS_PG, database, delp, drop, getp, one, setp,
)


@case("aws-rds-instance-backup-retention")
def _(g):
    setp(database(g), "backupRetentionPeriod", 7)


@case("aws-rds-instance-multi-az")
def _(g):
    setp(database(g), "multiAz", False)


@case("aws-rds-instance-storage-encrypted")
def _(g):
    setp(database(g), "storageEncrypted", False)


@case("aws-rds-instance-not-public")
def _(g):
    setp(database(g), "publiclyAccessible", True)


@case("aws-rds-instance-deletion-protection")
def _(g):
    setp(database(g), "deletionProtection", False)


@case("aws-rds-instance-final-snapshot")
def _(g):
    setp(database(g), "skipFinalSnapshot", True)


@case("aws-rds-instance-log-exports")
def _(g):
    setp(database(g), "enabledCloudwatchLogsExports", ["postgresql"])


@case("aws-rds-instance-copy-tags-to-snapshot")
def _(g):
    setp(database(g), "copyTagsToSnapshot", False)


@case("aws-rds-instance-managed-master-password")
def _(g):
    db = database(g)
    setp(db, "manageMasterUserPassword", False)
    setp(db, "password", "hunter2-plain-text")


@case("aws-rds-instance-auto-minor-version-upgrade")
def _(g):
    setp(database(g), "autoMinorVersionUpgrade", False)


def _force_ssl_off(g):
    pg = one(g, RDS_PG, lambda r: str(r["inputs"].get("family", "")).startswith("postgres"))
    params = [p for p in getp(pg, "parameters") if p["name"] != "rds.force_ssl"]
    params.append({"name": "rds.force_ssl", "value": "0", "applyMethod": "pending-reboot"})
    setp(pg, "parameters", params)


case("aws-rds-parameter-group-force-ssl")(_force_ssl_off)
case("aws-rds-instance-force-ssl-parameter-group:group-without-force-ssl")(_force_ssl_off)


@case("aws-rds-instance-force-ssl-parameter-group:default-group")
def _(g):
    db = database(g)
    setp(db, "parameterGroupName", "default.postgres16")
    db.get("propertyDependencies", {}).pop("parameterGroupName", None)


@case("aws-rds-backup-replication-encrypted")
def _(g):
    delp(one(g, RDS_BACKUPS), "kmsKeyId")


@case("aws-rds-instance-backups-replicated")
def _(g):
    drop(g, one(g, RDS_BACKUPS))
