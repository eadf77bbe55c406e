"""PostgreSQL on RDS with point-in-time recovery here and in the DR region."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

import pulumi
import pulumi_aws as aws

from .base import assume_role_policy, child_options, unique_final_name
from .config import DatabaseSettings

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

    automated_backups_arn: pulumi.Input[str]
    restore_time: Optional[datetime] = None
    """None restores the latest restorable time."""


@dataclass(frozen=True)
class PostgresArgs:
    settings: DatabaseSettings
    region: str
    subnet_group_name: pulumi.Input[str]
    security_group_ids: list[pulumi.Input[str]]
    kms_key_arn: pulumi.Input[str]
    protect: bool
    production: bool
    tags: dict[str, str] = field(default_factory=dict)
    dr_region: Optional[str] = None
    dr_kms_key_arn: Optional[pulumi.Input[str]] = None
    """Replica key in the DR region for the replicated automated backups."""
    restore_from: Optional[PointInTimeSource] = None

    def __post_init__(self) -> None:
        if self.settings.replicate_backups_to_dr and self.restore_from is None:
            if not (self.dr_region and self.dr_kms_key_arn):
                raise ValueError("replicating backups needs dr_region and dr_kms_key_arn")
            if self.dr_region == self.region:
                raise ValueError("the DR region must differ from the database's region")


class PostgresDatabase(pulumi.ComponentResource):
    """Multi-AZ, encrypted, deletion-protected PostgreSQL 16 with PITR.

    `admin_db` lives on the same instance; it is created by the app's first migration
    (`CREATE DATABASE admin_db`), because RDS creates only one initial database.
    """

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:database:PostgresDatabase", name, None, opts)
        s = args.settings
        keep_final_snapshot = args.production or args.protect
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-params", family=f"postgres{s.engine_version}", region=args.region,
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

        self.instance = aws.rds.Instance(
            f"{name}-postgres",
            region=args.region,
            engine="postgres",
            engine_version=s.engine_version,
            instance_class=s.instance_class,
            db_name=None if restore else INITIAL_DATABASE,
            username=None if restore else MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.kms_key_arn,
            restore_to_point_in_time=restore,
            allocated_storage=s.allocated_storage_gb,
            max_allocated_storage=s.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            multi_az=s.multi_az,
            db_subnet_group_name=args.subnet_group_name,
            vpc_security_group_ids=args.security_group_ids,
            publicly_accessible=False,
            parameter_group_name=parameter_group.name,
            backup_retention_period=s.backup_retention_days,
            backup_window=s.backup_window,
            maintenance_window=s.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=not keep_final_snapshot,
            deletion_protection=s.deletion_protection and args.protect,
            skip_final_snapshot=not keep_final_snapshot,
            final_snapshot_identifier=unique_final_name(self, f"{name}-postgres") if keep_final_snapshot else None,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.kms_key_arn,
            performance_insights_retention_period=s.performance_insights_retention_days,
            monitoring_interval=s.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role.arn,
            iam_database_authentication_enabled=True,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            tags=args.tags,
            opts=child_options(self, protect=args.protect, depends_on=[attachment]))

        self.expected_settings = expected_settings(s, args.protect, restore is not None)
        self.backup_replication: Optional[aws.rds.InstanceAutomatedBackupsReplication] = None
        if s.replicate_backups_to_dr and restore is None:
            # Created in the destination region, encrypted with that region's replica key.
            self.backup_replication = aws.rds.InstanceAutomatedBackupsReplication(
                f"{name}-backups-{args.dr_region}",
                region=args.dr_region,
                source_db_instance_arn=self.instance.arn,
                kms_key_id=args.dr_kms_key_arn,
                retention_period=s.backup_retention_days,
                opts=child_options(self, protect=args.protect))
        self.register_outputs({"endpoint": self.instance.endpoint, "arn": self.instance.arn})


def expected_settings(s: DatabaseSettings, protect: bool, restored: bool) -> dict:
    """What the stack asks of the instance, in DescribeDBInstances' field names, so a restore can
    be compared with it (`ops drill verify`). A point-in-time restore sends only some settings
    with RestoreDBInstanceToPointInTime; terraform-provider-aws applies the rest (Performance
    Insights, backup window, ...) on a later update, so the first `up` of a DR stack can leave the
    instance short of them."""
    return {
        "DBInstanceClass": s.instance_class,
        "MultiAZ": s.multi_az,
        "BackupRetentionPeriod": s.backup_retention_days,
        "PreferredBackupWindow": s.backup_window,
        "PreferredMaintenanceWindow": s.maintenance_window,
        "PerformanceInsightsEnabled": True,
        "PerformanceInsightsRetentionPeriod": s.performance_insights_retention_days,
        "MonitoringInterval": s.monitoring_interval_seconds,
        "DeletionProtection": s.deletion_protection and protect,
        "IAMDatabaseAuthenticationEnabled": True,
        "StorageEncrypted": True,
        "PubliclyAccessible": False,
    } | ({} if restored else {"AllocatedStorage": s.allocated_storage_gb})
