"""PostgreSQL on RDS with point-in-time recovery here and in the DR region."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

import pulumi
import pulumi_aws as aws

from .base import InputStr, InputStrs, assume_role_policy, child_options, unique_final_name

INITIAL_DATABASE = "live_db"
MASTER_USERNAME = "printflow_admin"

# Logged so an incident can be reconstructed: slow queries, connections, lock waits, DDL.
_PARAMETERS = {
    "rds.force_ssl": ("1", "pending-reboot"),
    "log_min_duration_statement": ("1000", "immediate"),
    "log_connections": ("1", "immediate"),
    "log_disconnections": ("1", "immediate"),
    "log_lock_waits": ("1", "immediate"),
    "log_temp_files": ("0", "immediate"),
    "log_statement": ("ddl", "immediate"),
    "log_autovacuum_min_duration": ("10000", "immediate"),
}


@dataclass(frozen=True)
class PointInTimeSource:
    """Restore from replicated automated backups (the DR stack)."""

    automated_backups_arn: InputStr
    """The replicated automated backups to restore from."""
    restore_time: Optional[datetime] = None
    """None restores the latest restorable time."""


@dataclass(frozen=True)
class BackupReplica:
    """Where the automated backups are replicated (PITR in that region)."""

    region: str
    """The other region, where the backups are restorable."""
    kms_key_arn: InputStr
    """The database key's replica in that region."""


@dataclass(frozen=True)
class PostgresArgs:
    region: str
    """The region of the instance."""
    instance_class: str
    """An RDS instance class for the engine version."""
    engine_version: str
    """PostgreSQL major version; the parameter group family follows it."""
    allocated_storage_gb: int
    """Initial gp3 storage."""
    max_allocated_storage_gb: int
    """Storage autoscaling upper bound."""
    multi_az: bool
    """A standby in another AZ."""
    backup_retention_days: int
    """Automated backups (point-in-time recovery) kept, in days."""
    backup_window: str
    """Daily backup window, UTC."""
    maintenance_window: str
    """Weekly maintenance window, UTC."""
    performance_insights_retention_days: int
    """Performance Insights retention."""
    monitoring_interval_seconds: int
    """Enhanced monitoring interval."""
    subnet_group_name: InputStr
    """The subnet group of the private data subnets."""
    security_group_ids: InputStrs
    """Security groups that admit only the app tier, on the store's port."""
    kms_key_arn: InputStr
    """Encrypts storage, the master user secret and Performance Insights."""
    protect: bool
    """Pulumi `protect` on the instance and its backup replication."""
    deletion_protection: bool
    """RDS deletion protection."""
    keep_final_snapshot: bool
    """Take a final snapshot and keep automated backups when the instance is deleted."""
    backup_replica: Optional[BackupReplica] = None
    """Where automated backups are replicated (a primary); None for a restore."""
    restore_from: Optional[PointInTimeSource] = None
    """Restore from replicated backups instead of creating an empty database (a DR stack)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""

    def __post_init__(self) -> None:
        if self.backup_replica is not None and self.backup_replica.region == self.region:
            raise ValueError("the backup replica's region must differ from the database's region")
        if self.backup_replica is not None and self.restore_from is not None:
            raise ValueError("a restored instance does not replicate its backups (the primary does)")


class PostgresDatabase(pulumi.ComponentResource):
    """Multi-AZ, encrypted, deletion-protected PostgreSQL 16 with PITR.

    `admin_db` lives on the same instance; it is created by the app's first migration
    (`CREATE DATABASE admin_db`), because RDS creates only one initial database.
    """

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:database:PostgresDatabase", name, None, opts)
        keep_final_snapshot = args.keep_final_snapshot
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-params", family=f"postgres{args.engine_version}", region=args.region,
            description="Printflow PostgreSQL: TLS only, incident-grade logging",
            parameters=[aws.rds.ParameterGroupParameterArgs(name=k, value=v, apply_method=m)
                        for k, (v, m) in _PARAMETERS.items()],
            tags=args.tags, opts=child_options(self))
        monitoring_role = aws.iam.Role(
            f"{name}-monitoring", assume_role_policy=assume_role_policy("monitoring.rds.amazonaws.com"),
            tags=args.tags, opts=child_options(self))
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring", role=monitoring_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
            opts=child_options(self))

        restore = None
        if args.restore_from is not None:
            source = args.restore_from
            restore = aws.rds.InstanceRestoreToPointInTimeArgs(
                source_db_instance_automated_backups_arn=source.automated_backups_arn,
                restore_time=source.restore_time.isoformat().replace("+00:00", "Z") if source.restore_time else None,
                use_latest_restorable_time=None if source.restore_time else True)

        instance = aws.rds.Instance(
            f"{name}-postgres",
            region=args.region,
            engine="postgres",
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            db_name=None if restore else INITIAL_DATABASE,
            username=None if restore else MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.kms_key_arn,
            restore_to_point_in_time=restore,
            allocated_storage=args.allocated_storage_gb,
            max_allocated_storage=args.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            multi_az=args.multi_az,
            db_subnet_group_name=args.subnet_group_name,
            vpc_security_group_ids=args.security_group_ids,
            publicly_accessible=False,
            parameter_group_name=parameter_group.name,
            backup_retention_period=args.backup_retention_days,
            backup_window=args.backup_window,
            maintenance_window=args.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=not keep_final_snapshot,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=not keep_final_snapshot,
            final_snapshot_identifier=unique_final_name(self, f"{name}-postgres") if keep_final_snapshot else None,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.kms_key_arn,
            performance_insights_retention_period=args.performance_insights_retention_days,
            monitoring_interval=args.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role.arn,
            iam_database_authentication_enabled=True,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            tags=args.tags,
            opts=child_options(self, protect=args.protect, depends_on=[attachment]))

        self.expected_settings = expected_settings(args)
        backup_replication = None
        if args.backup_replica is not None:
            # Created in the destination region, encrypted with that region's replica key.
            backup_replication = aws.rds.InstanceAutomatedBackupsReplication(
                f"{name}-backups-{args.backup_replica.region}",
                region=args.backup_replica.region,
                source_db_instance_arn=instance.arn,
                kms_key_id=args.backup_replica.kms_key_arn,
                retention_period=args.backup_retention_days,
                opts=child_options(self, protect=args.protect))
        self.identifier, self.arn, self.address = instance.identifier, instance.arn, instance.address
        self.endpoint, self.port = instance.endpoint, instance.port
        self.master_user_secret_arn = instance.master_user_secrets.apply(lambda s: s[0].secret_arn if s else None)
        self.replicated_backups_arn = backup_replication.id if backup_replication else None
        """The automated-backups replica in the other region, which a DR stack restores from."""
        self.register_outputs({"endpoint": instance.endpoint, "arn": instance.arn})


def expected_settings(args: PostgresArgs) -> dict:
    """What the stack asks of the instance, in DescribeDBInstances' field names, so a restore can
    be compared with it (`ops drill verify`). A point-in-time restore sends only some settings
    with RestoreDBInstanceToPointInTime; terraform-provider-aws applies the rest (Performance
    Insights, backup window, ...) on a later update, so the first `up` of a DR stack can leave the
    instance short of them."""
    return {
        "DBInstanceClass": args.instance_class,
        "MultiAZ": args.multi_az,
        "BackupRetentionPeriod": args.backup_retention_days,
        "PreferredBackupWindow": args.backup_window,
        "PreferredMaintenanceWindow": args.maintenance_window,
        "PerformanceInsightsEnabled": True,
        "PerformanceInsightsRetentionPeriod": args.performance_insights_retention_days,
        "MonitoringInterval": args.monitoring_interval_seconds,
        "DeletionProtection": args.deletion_protection,
        "IAMDatabaseAuthenticationEnabled": True,
        "StorageEncrypted": True,
        "PubliclyAccessible": False,
    } | ({} if args.restore_from else {"AllocatedStorage": args.allocated_storage_gb})
