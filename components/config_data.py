"""Config models of the data tier: network, database, storage, queue store, cache. Every rule
about these values lives here, checked against what AWS accepts (components/aws_catalog.py)."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from components import aws_catalog as catalog
from components.config_base import Strict, shown

# --------------------------------------------------------------------------- network
class NetworkSettings(Strict):
    cidr: str = "10.40.0.0/16"
    """VPC CIDR of the private data network."""
    az_count: int = Field(3, ge=2, le=3)
    """Availability zones with a private subnet."""
    flow_log_retention_days: Literal[30, 60, 90, 180, 365, 731] = 365
    """Days the VPC flow logs are kept (a CloudWatch Logs retention value)."""
    app_egress: Literal["none", "nat-single", "nat-per-az"] = "nat-per-az"
    """Internet egress of the private app subnets (payment and mail providers): none, one NAT
    gateway, or one per AZ. The data subnets never get a route out."""
    existing_vpc_id: Optional[str] = Field(None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    """Use this VPC instead of creating one (with existing_subnet_ids)."""
    existing_subnet_ids: list[str] = Field(default_factory=list)
    """Private subnets of existing_vpc_id, in different AZs (at least 2)."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        match = re.fullmatch(r"10\.(0|[1-9]\d{0,2})\.0\.0/16", value)
        if not match or int(match.group(1)) > 255:
            raise ValueError("must be a private /16 of the form 10.N.0.0/16 with N from 0 to 255 "
                             "(no leading zeros)")
        return value

    @model_validator(mode="after")
    def _existing_pair(self) -> "NetworkSettings":
        if bool(self.existing_vpc_id) != bool(self.existing_subnet_ids):
            raise ValueError("existing_vpc_id and existing_subnet_ids must be given together")
        if self.existing_subnet_ids and len(self.existing_subnet_ids) < 2:
            raise ValueError("existing_subnet_ids needs at least 2 subnets in different AZs")
        for subnet in self.existing_subnet_ids:
            if not re.fullmatch(r"subnet-[0-9a-f]{8,17}", subnet):
                raise ValueError(f"existing_subnet_ids: '{shown(subnet)}' is not a subnet id (subnet-...)")
        if len(set(self.existing_subnet_ids)) != len(self.existing_subnet_ids):
            raise ValueError("existing_subnet_ids lists a subnet twice (each must be in its own AZ)")
        return self

    @property
    def uses_existing_vpc(self) -> bool:
        return self.existing_vpc_id is not None


# --------------------------------------------------------------------------- database
class DatabaseSettings(Strict):
    engine_version: Literal["16"] = "16"
    """PostgreSQL major version."""
    instance_class: str = "db.m6g.large"
    """An RDS instance class PostgreSQL 16 runs on."""
    allocated_storage_gb: int = Field(100, ge=20, le=16384)
    """Initial gp3 storage in GiB."""
    max_allocated_storage_gb: int = Field(1000, ge=20, le=65536)
    """Storage autoscaling upper bound in GiB (above allocated_storage_gb)."""
    backup_retention_days: int = Field(35, ge=1, le=35)
    """Automated backups (PITR) kept, in days (1-35; at least 7 in production)."""
    backup_window: str = "03:00-04:00"
    """Daily backup window, UTC, at least 30 minutes."""
    maintenance_window: str = "sun:05:00-sun:06:00"
    """Weekly maintenance window, UTC, at least 30 minutes, not overlapping the backup window."""
    multi_az: bool = True
    """A standby in another AZ; required in production."""
    deletion_protection: bool = True
    """RDS deletion protection; required in production."""
    performance_insights_retention_days: Literal[7, 31, 93, 186, 372, 731] = 7
    """Performance Insights retention (an RDS-supported value)."""
    monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = 60
    """Enhanced monitoring interval."""
    replicate_backups_to_dr: bool = True
    """Replicate automated backups to dr_region (PITR there)."""

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        if value not in catalog.RDS_POSTGRES_16_CLASSES:
            raise ValueError(f"'{shown(value)}' is not an RDS instance class for PostgreSQL 16 (e.g. "
                             "db.t4g.medium, db.m6g.large, db.r6g.xlarge)")
        return value

    @model_validator(mode="after")
    def _windows(self) -> "DatabaseSettings":
        try:
            backup = catalog.daily_window(self.backup_window, 30)
        except ValueError as exc:
            raise ValueError(f"backup_window {exc}") from None
        try:
            maintenance = catalog.weekly_window(self.maintenance_window, 30)
        except ValueError as exc:
            raise ValueError(f"maintenance_window {exc}") from None
        if catalog.daily_overlaps_weekly(backup, maintenance):
            raise ValueError("backup_window overlaps maintenance_window (RDS refuses that)")
        return self

    @model_validator(mode="after")
    def _storage_bound(self) -> "DatabaseSettings":
        if self.max_allocated_storage_gb <= self.allocated_storage_gb:
            raise ValueError("max_allocated_storage_gb must be above allocated_storage_gb "
                             "(it is the storage-autoscaling upper bound)")
        return self


# --------------------------------------------------------------------------- storage
class BackupLifecycle(Strict):
    daily_days: int = Field(7, ge=1, le=90)
    """Days a daily/ dump is kept."""
    weekly_days: int = Field(28, ge=7, le=365)
    """Days a weekly/ dump is kept."""
    monthly_days: int = Field(365, ge=30, le=3650)
    """Days a monthly/ dump is kept."""


class StorageSettings(Strict):
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = "GOVERNANCE"
    """Object Lock mode of the print-file buckets (the backup bucket is always COMPLIANCE)."""
    object_lock_days: int = Field(35, ge=1, le=3650)
    """Default Object Lock retention of print files, in days."""
    backup_object_lock_days: int = Field(7, ge=1, le=3650)
    """Default COMPLIANCE retention of backup dumps, in days (at most backup_lifecycle.daily_days)."""
    noncurrent_version_days: int = Field(90, ge=1, le=3650)
    """Days an overwritten or deleted print file stays recoverable (above
    database.backup_retention_days)."""
    abort_multipart_days: int = Field(7, ge=1, le=30)
    """Days before stale multipart uploads are aborted."""
    backup_lifecycle: BackupLifecycle = Field(default_factory=BackupLifecycle)
    """Expiry of the dump tiers in the backup bucket."""
    force_destroy: bool = False
    """Let a destroy delete non-empty buckets; must stay false in production."""

    @model_validator(mode="after")
    def _backup_lock_fits_lifecycle(self) -> "StorageSettings":
        if self.backup_object_lock_days > self.backup_lifecycle.daily_days:
            raise ValueError("backup_object_lock_days must not exceed backup_lifecycle.daily_days "
                             "(a locked daily dump cannot expire on schedule)")
        return self


# --------------------------------------------------------------------------- queue store / cache
class QueueStoreSettings(Strict):
    engine: Literal["redis", "valkey"] = "valkey"
    """redis or valkey."""
    engine_version: str = "7.2"
    """A MemoryDB version of the engine: redis 7.0/7.1, valkey 7.2/7.3."""
    node_type: str = "db.r7g.large"
    """A MemoryDB node type."""
    replicas_per_shard: int = Field(1, ge=1, le=5)
    """Replicas per shard, each in another AZ (1-5)."""
    snapshot_retention_days: int = Field(7, ge=7, le=35)
    """Days daily snapshots are kept (7-35)."""
    snapshot_window: str = "04:00-05:00"
    """Daily snapshot window, UTC, at least 60 minutes."""
    username: str = Field("app", pattern=r"^[a-z][a-z0-9-]{1,18}$")
    """ACL user for the apps; the stack's name prefix is put in front of it, since MemoryDB user
    names are unique per account and region."""


    @model_validator(mode="after")
    def _aws_accepts(self) -> "QueueStoreSettings":
        versions = catalog.MEMORYDB_ENGINE_VERSIONS[self.engine]
        if self.engine_version not in versions:
            raise ValueError(f"engine_version '{shown(self.engine_version)}' is not a MemoryDB {self.engine} "
                             f"version (allowed: {', '.join(versions)})")
        if self.node_type not in catalog.MEMORYDB_NODE_TYPES:
            raise ValueError(f"node_type '{shown(self.node_type)}' is not a MemoryDB node type (e.g. "
                             "db.t4g.small, db.r7g.large)")
        if self.username in catalog.MEMORYDB_RESERVED_USERS:
            raise ValueError("username 'default' is MemoryDB's built-in open-access user")
        try:
            catalog.daily_window(self.snapshot_window, 60)
        except ValueError as exc:
            raise ValueError(f"snapshot_window {exc}") from None
        return self


class CacheSettings(Strict):
    enabled: bool = False
    """Create the separate ElastiCache cache."""
    node_type: str = "cache.t4g.small"
    """An ElastiCache node type."""
    replicas: int = Field(1, ge=1, le=5)
    """Cache replicas (1-5)."""

    @field_validator("node_type")
    @classmethod
    def _node_type(cls, value: str) -> str:
        if value not in catalog.ELASTICACHE_NODE_TYPES:
            raise ValueError(f"'{shown(value)}' is not an ElastiCache node type (e.g. cache.t4g.small)")
        return value
