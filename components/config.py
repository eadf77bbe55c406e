"""Stack configuration: read once, validated with pydantic, passed down as typed settings.

Components never read `pulumi.Config`; `__main__.py` calls `load_settings()` before any
resource exists, so a bad value stops the program with one message and nothing is created.
The per-concern models live in config_data.py and config_runtime.py; this module holds the
whole stack's model, its cross-field rules and the loading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Literal, Optional

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from components import aws_catalog as catalog
from components.config_base import AWS_REGIONS, PROJECT, ConfigError, Region, Strict, shown
from components.config_data import (
    BackupLifecycle, CacheSettings, DatabaseSettings, NetworkSettings, QueueStoreSettings,
    StorageSettings,
)
from components.config_runtime import (
    DEFAULT_APPS, PROGRAM_SETTINGS, AlarmSettings, AlarmThresholds, AppName, DrSettings,
    PrimaryDrOutputs, ReplicaKeyArns, SecretsSettings, _check_app_settings, _merge_app_settings,
)

__all__ = [
    "AWS_REGIONS", "DEFAULT_APPS", "PROGRAM_SETTINGS", "PROJECT", "AlarmSettings", "AlarmThresholds",
    "BackupLifecycle", "CacheSettings", "ConfigError", "DatabaseSettings", "DrSettings", "Durability",
    "NetworkSettings", "PrimaryDrOutputs", "QueueStoreSettings", "Region", "ReplicaKeyArns",
    "SecretsSettings", "StackSettings", "StorageSettings", "load_settings", "read_pulumi_config",
    "shown",
]


# --------------------------------------------------------------------------- the stack
@dataclass(frozen=True)
class Durability:
    """How hard the stack's stateful resources are to lose: derived once, from the role, the mode
    and protect_stateful, and handed to every component that keeps data."""

    protect: bool
    """Pulumi `protect` on databases, buckets, keys and secrets (never in a drill)."""
    database_deletion_protection: bool
    """RDS deletion protection."""
    keep_final_snapshot: bool
    """Deleting the database or the queue store leaves a final snapshot (a drill leaves none)."""
    secret_recovery_window_days: int
    """0 deletes at once (a drill); otherwise deleted secrets stay recoverable this long."""
    key_deletion_window_days: int
    """Days a deleted KMS key can still be recovered (7 in a drill)."""


class StackSettings(Strict):
    environment: Literal["prod", "staging"]
    """Business environment: prod or staging. Production rules apply to prod (and a DR failover of
    it)."""
    role: Literal["primary", "dr"] = "primary"
    """primary (the live platform) or dr (the same program in the DR region)."""
    aws_region: Region = Field(alias="aws:region")
    """The provider's region; must be primary_region for a primary stack, dr_region for a DR stack."""
    primary_region: Region
    """Region of the live platform."""
    dr_region: Region
    """Second region: replicas, offsite backups and the DR stack. Must differ from primary_region."""
    owner: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    """Owning team, in the owner tag of every resource."""
    protect_stateful: bool = True
    """Protect databases, buckets, keys and secrets against deletion; must stay true in production."""
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    """The data network (VPC, subnets, endpoints, NAT)."""
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    """PostgreSQL on RDS."""
    storage: StorageSettings = Field(default_factory=StorageSettings)
    """The print-file and backup buckets."""
    queue_store: QueueStoreSettings = Field(default_factory=QueueStoreSettings)
    """The MemoryDB queue store."""
    cache: CacheSettings = Field(default_factory=CacheSettings)
    """The optional ElastiCache cache (never for queues)."""
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    """Generated app secrets."""
    apps: dict[AppName, dict[str, str]] = Field(default_factory=lambda: _merge_app_settings({}))
    """Non-secret runtime settings per app, published as SSM String parameters."""
    alarms: AlarmSettings
    """Who is paged, and the alarm thresholds."""
    dr: Optional[DrSettings] = None
    """DR stacks only: what to restore from and how."""

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
    def durability(self) -> Durability:
        """A drill leaves nothing behind; everything else keeps its data recoverable."""
        drill = self.is_drill
        protect = self.protect_stateful and not drill
        return Durability(
            protect=protect,
            database_deletion_protection=self.database.deletion_protection and protect,
            keep_final_snapshot=not drill,
            secret_recovery_window_days=0 if drill else self.secrets.recovery_window_days,
            key_deletion_window_days=7 if drill else 30)

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
