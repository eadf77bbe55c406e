"""Stack configuration: read once, validated with pydantic, passed down as typed settings.

Components never read `pulumi.Config`; `__main__.py` calls `load_settings()` before any
resource exists, so a bad value stops the program with one message and nothing is created.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from typing import Any, Iterable, Literal, Optional

from components import aws_catalog as catalog
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

PROJECT = "printflow"

AWS_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-south-1", "sa-east-1",
)
Region = Literal[AWS_REGIONS]  # type: ignore[valid-type]


class ConfigError(Exception):
    """Invalid stack configuration; its message is the one paragraph a user sees."""


def shown(value: Any, limit: int = 40) -> str:
    """A user's value echoed in a message: truncated, so a message stays one readable paragraph."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --------------------------------------------------------------------------- network
class NetworkSettings(Strict):
    cidr: str = Field("10.40.0.0/16", description="VPC CIDR of the private data network.")
    az_count: int = Field(3, ge=2, le=3, description="Availability zones with a private subnet.")
    flow_log_retention_days: Literal[30, 60, 90, 180, 365, 731] = 365
    app_egress: Literal["none", "nat-single", "nat-per-az"] = Field(
        "nat-per-az", description="Internet egress of the private app subnets (payment and mail "
        "providers): none, one NAT gateway, or one per AZ. The data subnets never get a route out.")
    existing_vpc_id: Optional[str] = Field(None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    existing_subnet_ids: list[str] = Field(default_factory=list)

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
    instance_class: str = Field("db.m6g.large", description="An RDS instance class PostgreSQL 16 runs on.")
    allocated_storage_gb: int = Field(100, ge=20, le=16384)
    max_allocated_storage_gb: int = Field(1000, ge=20, le=65536)
    backup_retention_days: int = Field(35, ge=1, le=35)
    backup_window: str = Field("03:00-04:00", description="Daily backup window, UTC, at least 30 minutes.")
    maintenance_window: str = Field("sun:05:00-sun:06:00",
                                    description="Weekly maintenance window, UTC, at least 30 minutes, "
                                                "not overlapping the backup window.")
    multi_az: bool = True
    deletion_protection: bool = True
    performance_insights_retention_days: Literal[7, 31, 93, 186, 372, 731] = 7
    monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = 60
    replicate_backups_to_dr: bool = True

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
    weekly_days: int = Field(28, ge=7, le=365)
    monthly_days: int = Field(365, ge=30, le=3650)


class StorageSettings(Strict):
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = "GOVERNANCE"
    object_lock_days: int = Field(35, ge=1, le=3650)
    backup_object_lock_days: int = Field(7, ge=1, le=3650)
    noncurrent_version_days: int = Field(90, ge=1, le=3650)
    abort_multipart_days: int = Field(7, ge=1, le=30)
    backup_lifecycle: BackupLifecycle = Field(default_factory=BackupLifecycle)
    force_destroy: bool = False

    @model_validator(mode="after")
    def _backup_lock_fits_lifecycle(self) -> "StorageSettings":
        if self.backup_object_lock_days > self.backup_lifecycle.daily_days:
            raise ValueError("backup_object_lock_days must not exceed backup_lifecycle.daily_days "
                             "(a locked daily dump cannot expire on schedule)")
        return self


# --------------------------------------------------------------------------- queue store / cache
class QueueStoreSettings(Strict):
    engine: Literal["redis", "valkey"] = "valkey"
    engine_version: str = Field("7.2", description="A MemoryDB version of the engine: redis 7.0/7.1, "
                                                   "valkey 7.2/7.3.")
    node_type: str = Field("db.r7g.large", description="A MemoryDB node type.")
    replicas_per_shard: int = Field(1, ge=1, le=5)
    snapshot_retention_days: int = Field(7, ge=7, le=35)
    snapshot_window: str = Field("04:00-05:00", description="Daily snapshot window, UTC, at least 60 minutes.")
    username: str = Field(
        "app", pattern=r"^[a-z][a-z0-9-]{1,18}$",
        description="ACL user for the apps; the stack's name prefix is put in front of it, since "
                    "MemoryDB user names are unique per account and region.")


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
    node_type: str = Field("cache.t4g.small", description="An ElastiCache node type.")
    replicas: int = Field(1, ge=1, le=5)

    @field_validator("node_type")
    @classmethod
    def _node_type(cls, value: str) -> str:
        if value not in catalog.ELASTICACHE_NODE_TYPES:
            raise ValueError(f"'{shown(value)}' is not an ElastiCache node type (e.g. cache.t4g.small)")
        return value


# --------------------------------------------------------------------------- secrets
class SecretsSettings(Strict):
    rotation_generation: int = Field(1, ge=1, description="Bump to rotate APP_KEY and the internal secret.")
    recovery_window_days: int = Field(30, ge=7, le=30)


# --------------------------------------------------------------------------- app settings
_SECRETISH = re.compile(r"(key|secret|password|passwd|token|credential)", re.IGNORECASE)
_SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
DEFAULT_APPS = {
    "laravel": {
        "APP_ENV": "production", "APP_DEBUG": "false", "LOG_LEVEL": "warning",
        "LOG_CHANNEL": "stderr", "QUEUE_CONNECTION": "redis", "CACHE_STORE": "redis",
        "SESSION_DRIVER": "redis", "FILESYSTEM_DISK": "s3", "DB_CONNECTION": "pgsql",
    },
    "pdf-service": {
        "NODE_ENV": "production", "APP_ENV": "production", "APP_DEBUG": "false",
        "LOG_LEVEL": "info", "QUEUE_CONNECTION": "redis", "WORKER_CONCURRENCY": "2",
        "STORAGE_DRIVER": "s3",
    },
}


AppName = Literal["laravel", "pdf-service"]


def _as_setting(value: Any) -> Any:
    """YAML gives booleans and numbers; the apps read strings (`false`, not `False`). Anything
    else is left for validation to refuse with the key's name."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _merge_app_settings(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    merged: dict[Any, Any] = {app: dict(settings) for app, settings in DEFAULT_APPS.items()}
    for app, settings in value.items():
        if not isinstance(settings, dict):
            merged[app] = settings
            continue
        merged.setdefault(app, {}).update({k: _as_setting(v) for k, v in settings.items()})
    return merged


PROGRAM_SETTINGS = frozenset({
    "AWS_BUCKET", "AWS_DEFAULT_REGION", "REDIS_HOST", "REDIS_PORT", "REDIS_USERNAME", "DB_HOST",
    "DB_PORT", "DB_DATABASE", "REDIS_CLIENT", "REDIS_CLUSTER", "REDIS_QUEUE", "REDIS_SCHEME",
    "REDIS_CLUSTER_MODE", "BULLMQ_PREFIX", "REDIS_TLS"})
"""Settings the program publishes itself (endpoints, the queue client contract): not overridable."""


def _check_app_settings(apps: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    for app, settings in apps.items():
        for name, value in settings.items():
            if not _SETTING_NAME.fullmatch(name):
                raise ValueError(f"apps.{app}.{shown(name)}: setting names are UPPER_SNAKE_CASE")
            if name in PROGRAM_SETTINGS:
                raise ValueError(f"apps.{app}.{name} is set by the program (endpoint or queue client "
                                 "contract); remove it from the stack config")
            if not value or len(value.encode()) > catalog.SSM_STANDARD_VALUE_MAX:
                raise ValueError(f"apps.{app}.{name} must be 1 to {catalog.SSM_STANDARD_VALUE_MAX} "
                                 "bytes (an SSM Standard parameter)")
            if _SECRETISH.search(name):
                raise ValueError(
                    f"apps.{app}.{name} looks like a secret; secrets are generated by the "
                    "program into Secrets Manager, never set as plain app settings")
    return apps


# --------------------------------------------------------------------------- alarms
THRESHOLD_MAX = 1e15
"""CloudWatch thresholds are doubles; a bound keeps absurd values (10**400) out."""


class AlarmThresholds(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    rds_cpu_percent: float = Field(80, gt=0, le=100)
    rds_freeable_memory_bytes: int = Field(256 * 1024**2, gt=0, le=THRESHOLD_MAX)
    rds_free_storage_bytes: int = Field(10 * 1024**3, gt=0, le=THRESHOLD_MAX)
    rds_connections: int = Field(400, gt=0, le=THRESHOLD_MAX)
    rds_replica_lag_seconds: int = Field(300, gt=0, le=THRESHOLD_MAX)
    queue_memory_percent: float = Field(70, gt=0, lt=100)
    queue_engine_cpu_percent: float = Field(80, gt=0, le=100)
    queue_connections: int = Field(5000, gt=0, le=THRESHOLD_MAX)
    replication_latency_seconds: int = Field(900, gt=0, le=86400)
    print_queue_oldest_job_seconds: int = Field(300, gt=0, le=THRESHOLD_MAX)
    failed_jobs: int = Field(0, ge=0, le=THRESHOLD_MAX)
    nightly_dump_period_seconds: int = Field(86400, ge=3600, le=86400)
    nightly_dump_periods: int = Field(2, ge=1, le=7)

    @field_validator("nightly_dump_period_seconds")
    @classmethod
    def _whole_minutes(cls, value: int) -> int:
        if value % 60:
            raise ValueError("must be a multiple of 60 (CloudWatch alarm periods above 30 s are whole minutes)")
        return value


class AlarmSettings(Strict):
    email_endpoints: list[str] = Field(default_factory=list)
    https_endpoints: list[SecretStr] = Field(
        default_factory=list,
        description="Pager webhooks (e.g. PagerDuty's CloudWatch integration URL). The URL carries "
                    "the integration key, so it is secret config: pulumi config set --secret --path "
                    "'printflow:alarms.https_endpoints[0]' URL.")
    thresholds: AlarmThresholds = Field(default_factory=AlarmThresholds)

    @field_validator("email_endpoints")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _EMAIL.fullmatch(item):
                raise ValueError(f"'{shown(item)}' is not an email address (name@example.com)")
        return value

    @field_validator("https_endpoints")
    @classmethod
    def _https(cls, value: list[SecretStr]) -> list[SecretStr]:
        for index, item in enumerate(value):
            if not _is_https_url(item.get_secret_value()):
                raise ValueError(f"entry {index} must be an https:// URL with a host and no "
                                 "spaces or credentials (the value is not shown: it is secret)")
        return value

    @model_validator(mode="after")
    def _someone_is_paged(self) -> "AlarmSettings":
        if not self.email_endpoints and not self.https_endpoints:
            raise ValueError("at least one email_endpoints or https_endpoints entry is required: "
                             "an alarm nobody receives pages nobody")
        return self


_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}")


def _is_https_url(url: str) -> bool:
    parts = urlsplit(url)
    return (parts.scheme == "https" and bool(parts.hostname) and "@" not in parts.netloc
            and not any(c.isspace() for c in url))


# --------------------------------------------------------------------------- DR
ARN_RE = r"^arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$"


class ReplicaKeyArns(Strict):
    database: str = Field(pattern=ARN_RE)
    storage: str = Field(pattern=ARN_RE)
    secrets: str = Field(pattern=ARN_RE)


class PrimaryDrOutputs(Strict):
    """The prod stack's `dr` output block: what a DR stack restores from."""

    region: Region
    replicated_backups_arn: str = Field(pattern=ARN_RE)
    source_db_arn: str = Field(pattern=ARN_RE)
    replica_bucket_name: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    replica_bucket_arn: str = Field(pattern=r"^arn:aws:s3:::.+$")
    backup_bucket_name: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    backup_bucket_arn: str = Field(pattern=r"^arn:aws:s3:::.+$")
    replica_key_arns: ReplicaKeyArns
    laravel_secret_arn: str = Field(pattern=ARN_RE)
    pdf_service_secret_arn: str = Field(pattern=ARN_RE)


STACK_NAME = r"[A-Za-z0-9_.-]+"


class DrSettings(Strict):
    mode: Literal["drill", "failover"]
    primary_stack: Optional[str] = Field(
        None,
        description="The primary stack to restore from, as a StackReference name: org/printflow/prod "
                    "(Pulumi Cloud; `organization/printflow/prod` on a DIY backend) or a bare stack "
                    "name (legacy DIY backends). Unset: the current organisation's stack named like "
                    "this stack's environment.")
    restore_time: Optional[datetime] = Field(
        None, description="UTC point to restore to; None restores the latest restorable time.")
    primary: Optional[PrimaryDrOutputs] = Field(
        None, description="Explicit copy of the prod stack's `dr` outputs, used when the prod "
                          "state backend is unreachable.")

    @field_validator("primary_stack")
    @classmethod
    def _reference_name(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.fullmatch(rf"{STACK_NAME}|{STACK_NAME}/{STACK_NAME}/{STACK_NAME}", value):
            raise ValueError("must be a stack name (prod, legacy DIY backends) or "
                             "<organization>/<project>/<stack> (Pulumi Cloud, DIY backends)")
        return value

    @field_validator("restore_time", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, (str, datetime)):
            raise ValueError("restore_time must be an ISO 8601 time with a timezone, e.g. "
                             "2026-11-22T14:05:00Z (not a number)")
        return value

    @field_validator("restore_time")
    @classmethod
    def _utc(cls, value: Optional[datetime]) -> Optional[datetime]:
        if value is not None and value.tzinfo is None:
            raise ValueError("restore_time needs a timezone, e.g. 2026-11-22T14:05:00Z")
        if value is not None and value > datetime.now(timezone.utc):
            raise ValueError("restore_time is in the future; a restore can only go back in time")
        return value

    def primary_stack_reference(self, organization: str, environment: str) -> str:
        """The StackReference name: as configured, else `<organization>/printflow/<environment>`."""
        return self.primary_stack or f"{organization}/{PROJECT}/{environment}"


# --------------------------------------------------------------------------- the stack
class StackSettings(Strict):
    environment: Literal["prod", "staging"]
    role: Literal["primary", "dr"] = "primary"
    aws_region: Region = Field(alias="aws:region")
    primary_region: Region
    dr_region: Region
    owner: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    protect_stateful: bool = True
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    queue_store: QueueStoreSettings = Field(default_factory=QueueStoreSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    apps: dict[AppName, dict[str, str]] = Field(
        default_factory=lambda: _merge_app_settings({}),
        description="Non-secret runtime settings per app, published as SSM String parameters.")
    alarms: AlarmSettings
    dr: Optional[DrSettings] = None

    @field_validator("dr", mode="before")
    @classmethod
    def _no_dr_block(cls, value: Any) -> Any:
        """Pulumi.yaml declares `dr` with the default {} (so the CLI does not require it in a
        primary stack): an empty block means 'not a DR stack'."""
        return None if value == {} else value

    @field_validator("apps", mode="before")
    @classmethod
    def _merge_apps(cls, value: Any) -> Any:
        return _merge_app_settings(value)

    @field_validator("apps")
    @classmethod
    def _check_apps(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        return _check_app_settings(value)

    @model_validator(mode="after")
    def _consistent(self) -> "StackSettings":
        if self.dr_region == self.primary_region:
            raise ValueError(f"dr_region must differ from primary_region ({self.primary_region}): "
                             "a second copy in the same region does not survive a region outage")
        expected = self.primary_region if self.role == "primary" else self.dr_region
        if self.aws_region != expected:
            raise ValueError(f"aws:region must be {expected} for a {self.role} stack "
                             f"(primary_region={self.primary_region}, dr_region={self.dr_region})")
        if self.role == "dr" and self.dr is None:
            raise ValueError("dr: a dr stack needs the dr block (mode; primary_stack or primary optional)")
        if self.role == "primary" and self.dr is not None:
            raise ValueError("dr: only a stack with role dr takes the dr block")
        if self.storage.noncurrent_version_days <= self.database.backup_retention_days:
            raise ValueError("storage.noncurrent_version_days must exceed database.backup_retention_days "
                             "so a restored row still finds its file")
        if len(self.queue_user_name) > catalog.MEMORYDB_NAME_MAX:
            raise ValueError(f"queue_store.username makes the MemoryDB user '{shown(self.queue_user_name, 60)}' "
                             f"longer than {catalog.MEMORYDB_NAME_MAX} characters")
        if self.dr is not None and self.dr.restore_time is not None:
            oldest = datetime.now(timezone.utc) - timedelta(days=self.database.backup_retention_days)
            if self.dr.restore_time < oldest:
                raise ValueError(f"dr.restore_time is older than the {self.database.backup_retention_days}-day "
                                 "backup retention: no backup reaches back that far")
        if self.is_production:
            self._production_guards()
        return self

    def _production_guards(self) -> None:
        if not self.protect_stateful:
            raise ValueError("protect_stateful must be true in a production stack")
        if not self.database.deletion_protection:
            raise ValueError("database.deletion_protection must be true in a production stack")
        if not self.database.multi_az:
            raise ValueError("database.multi_az must be true in a production stack")
        if self.storage.force_destroy:
            raise ValueError("storage.force_destroy must be false in a production stack")
        if self.database.backup_retention_days < 7:
            raise ValueError("database.backup_retention_days must be at least 7 in a production stack")
        required = {"APP_ENV": "production", "APP_DEBUG": "false"}
        for app, settings in self.apps.items():
            for key, allowed in required.items():
                if settings.get(key, allowed).lower() != allowed:
                    raise ValueError(f"apps.{app}.{key} must be '{allowed}' in production "
                                     f"(got '{shown(settings[key])}')")
            if settings.get("QUEUE_CONNECTION", "redis") != "redis":
                raise ValueError(f"apps.{app}.QUEUE_CONNECTION must be 'redis' in production "
                                 f"(got '{shown(settings['QUEUE_CONNECTION'])}'): a sync queue loses "
                                 "paid jobs on any crash")

    # ---- derived facts the components use
    @property
    def is_production(self) -> bool:
        """Prod and a DR failover are production; a DR drill is disposable."""
        return self.environment == "prod" and not self.is_drill

    @property
    def is_drill(self) -> bool:
        return self.role == "dr" and self.dr is not None and self.dr.mode == "drill"

    @property
    def protect(self) -> bool:
        return self.protect_stateful and not self.is_drill

    @property
    def home_region(self) -> str:
        """Where this stack's own resources live."""
        return self.aws_region

    @property
    def name_prefix(self) -> str:
        return f"{PROJECT}-{self.environment}" + ("-dr" if self.role == "dr" else "")

    @property
    def queue_user_name(self) -> str:
        """MemoryDB user names are unique per account and region: the stack prefix keeps prod's
        and staging's apart."""
        return f"{self.name_prefix}-{self.queue_store.username}"

    def tags(self, data_tier: str, **extra: str) -> dict[str, str]:
        return {"app": PROJECT, "env": self.environment, "owner": self.owner,
                "data-tier": data_tier, "stack-role": self.role, **extra}


# --------------------------------------------------------------------------- loading
def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _parse_value(raw: Any) -> Any:
    """Pulumi passes structured config as JSON strings; scalars stay strings for pydantic."""
    if isinstance(raw, str) and raw[:1] in "{[":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _allowed_for(loc: tuple, model: type[BaseModel]) -> Optional[list[str]]:
    """The field names valid at the parent of `loc`, for 'unknown key' messages."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part)) or next(
                (f for f in current.model_fields.values() if f.alias == part), None)
            if field is None:
                return None
            annotation = field.annotation
            args = getattr(annotation, "__args__", ()) or ()
            candidates = [annotation, *args]
            current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        else:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return _field_names(current)
    return None


def _describe(error: dict) -> str:
    loc = tuple(str(p) for p in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if not loc:  # a cross-field rule: its message starts with the key it is about
        return message if message.startswith("aws:") else f"{PROJECT}:{message}"
    key = "aws:region" if loc[0] == "aws:region" else f"{PROJECT}:" + ".".join(loc)
    if error["type"] == "extra_forbidden":
        allowed = _allowed_for(error["loc"], StackSettings)
        message = "is not a known setting" + (f" (allowed here: {', '.join(allowed)})" if allowed else "")
    elif error["type"] == "missing":
        message = "is required but not set"
    elif error["type"] == "literal_error":
        message = message.replace("Input should be", "must be one of")
    else:
        message = message.replace("Input should be", "must be")
    return f"{key} {message}"


SECRET_CONFIG_KEYS = {f"{PROJECT}:alarms": "https_endpoints"}
"""Keys whose named part must arrive as secret config (`secure:` in the stack file)."""


def _plain_secrets(data: dict[str, Any], secret_keys: Iterable[str]) -> list[str]:
    secret = set(secret_keys)
    problems = []
    for full_key, field in SECRET_CONFIG_KEYS.items():
        value = data.get(full_key.partition(":")[2])
        if isinstance(value, dict) and value.get(field) and full_key not in secret:
            problems.append(
                f"{full_key}.{field} is in plain text, but a pager URL carries its integration key: "
                f"store it encrypted with `pulumi config set --secret --path '{full_key}.{field}[0]' "
                "URL` (the stack file then holds only `secure:` ciphertext)")
    return problems


def load_settings(config: dict[str, Any], stack: str,
                  secret_keys: Iterable[str] = ()) -> StackSettings:
    """Validate a stack's whole configuration (`project:key` -> value) into StackSettings.

    `secret_keys` are the keys the CLI marked secret (their stack-file value had `secure:` parts).
    Raises ConfigError with one paragraph naming every offending key and what is allowed.
    """
    data: dict[str, Any] = {}
    foreign = []
    for full_key, raw in config.items():
        namespace, _, key = str(full_key).partition(":")
        if namespace == PROJECT and key:
            data[key] = _parse_value(raw)
        elif full_key == "aws:region":
            data["aws:region"] = raw
        elif namespace not in ("aws", "pulumi", "random") or not key:
            foreign.append(str(full_key))
    problems = [f"{key} is not a known setting (project keys are {PROJECT}:<name>)" for key in sorted(foreign)]
    problems += _plain_secrets(data, secret_keys)
    try:
        settings = StackSettings.model_validate(data)
    except ValidationError as exc:
        problems += [_describe(e) for e in exc.errors(include_url=False)]
        settings = None
    if settings is not None and settings.dr is not None and settings.dr.primary_stack is not None:
        parts = settings.dr.primary_stack.split("/")
        if parts[-1] == stack and (len(parts) == 1 or parts[1] == PROJECT):
            problems.append(f"{PROJECT}:dr.primary_stack names this stack itself; a DR stack restores "
                            "from its primary stack")
    if problems:
        raise ConfigError(
            f"Invalid configuration for stack '{stack}': " + "; ".join(problems) +
            f". Fix it in Pulumi.{stack}.yaml (or with `pulumi config set`) and run again; "
            "nothing was created or changed.")
    assert settings is not None
    return settings


def read_pulumi_config() -> tuple[dict[str, Any], list[str]]:
    """Every config key of the running stack and the keys marked secret, as the Pulumi language
    host provides them."""
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    return merged, sorted(secret_keys)
