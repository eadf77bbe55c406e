"""Typed view of `pulumi stack output --json` (docs/contracts.md §2) with readable load errors.

Both the audit and the drill read these files; a bad file must give exit 2 and one paragraph
naming the missing/invalid key, never a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class InputError(Exception):
    """Bad user input (unreadable/malformed file, bad timestamp): CLI exit code 2."""


ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="after")
    def _arns_are_arns(self) -> "_Section":
        """Every `arn` / `*_arn` field is an ARN: the tools split them for region and account."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            if (name == "arn" or name.endswith("_arn")) and isinstance(value, str) and not ARN.match(value):
                raise ValueError(f"`{name}` is not an ARN (arn:aws:<service>:<region>:<account>:...)")
        return self


class Database(_Section):
    identifier: str
    arn: str
    region: str
    backup_retention_days: int
    endpoint: Optional[str] = None
    master_user_secret_arn: Optional[str] = None
    expected_settings: dict[str, Any] = Field(default_factory=dict)
    """What the stack asked of the instance (DescribeDBInstances field names)."""


class LockedBucket(_Section):
    name: str
    arn: str
    region: str
    object_lock_mode: str
    object_lock_days: int


class Bucket(_Section):
    name: str
    arn: str
    region: str


class QueueStore(_Section):
    name: str
    region: str
    arn: Optional[str] = None


class AppSecrets(_Section):
    laravel_arn: str
    pdf_service_arn: str
    replica_regions: list[str] = Field(default_factory=list)


class Alarms(_Section):
    topic_arn: str
    queue_events_topic_arn: Optional[str] = None
    alarm_names: list[str]
    heartbeat_alarm_names: list[str]
    composite_alarm_name: Optional[str] = None


class DrReplicaKeys(_Section):
    database: str
    storage: str
    secrets: str

    @model_validator(mode="after")
    def _all_arns(self) -> "DrReplicaKeys":
        for name in ("database", "storage", "secrets"):
            if not ARN.match(getattr(self, name)):
                raise ValueError(f"`{name}` is not a KMS key ARN")
        return self


class Dr(_Section):
    region: str
    replicated_backups_arn: Optional[str] = None
    source_db_arn: str
    replica_bucket_name: str
    replica_bucket_arn: Optional[str] = None
    replica_key_arns: DrReplicaKeys


class Restore(_Section):
    """What the dr stack restored from (exported by the program as `restore`)."""

    source_db_arn: str
    source_automated_backups_arn: Optional[str] = None
    restore_time: Optional[str] = None  # ISO 8601 or "latest"


class StackOutputs(_Section):
    environment: str
    mode: str
    primary_region: str
    dr_region: str
    database: Database
    print_bucket: LockedBucket
    print_replica_bucket: Bucket
    queue_store: QueueStore
    app_secrets: AppSecrets
    kms_keys: dict[str, str]
    alarms: Alarms
    # contracts.md §2 lists these for both stacks; the dr stack may omit them and export
    # `restore` instead, so they are optional here and required per command (see `require`).
    backup_bucket: Optional[LockedBucket] = None
    dr: Optional[Dr] = None
    restore: Optional[Restore] = None

    @property
    def is_primary(self) -> bool:
        return self.mode == "primary"

    @property
    def source_db_arn(self) -> str:
        """The prod instance whose backups the DR region holds."""
        if self.dr is not None:
            return self.dr.source_db_arn
        if self.restore is not None:
            return self.restore.source_db_arn
        return self.database.arn

    @property
    def replicated_backups_arn(self) -> Optional[str]:
        if self.dr is not None and self.dr.replicated_backups_arn:
            return self.dr.replicated_backups_arn
        return self.restore.source_automated_backups_arn if self.restore is not None else None


def _describe(err: dict) -> str:
    where = ".".join(str(p) for p in err.get("loc", ())) or "(top level)"
    if err.get("type") == "missing":
        return f"missing key `{where}`"
    return f"invalid value at `{where}` ({err.get('msg', 'invalid')})"


def load_outputs(path: str | Path, require: tuple[str, ...] = (), command: str = "this command",
                 require_primary: tuple[str, ...] = ()) -> StackOutputs:
    """Read and validate a stack outputs file; raise InputError with a one-paragraph message.

    ``require``: optional sections this command cannot run without; ``require_primary``: ones
    only a primary (prod) stack must have.
    """
    path = Path(path)
    hint = ("Expected the JSON written by `pulumi stack output --stack <stack> --json` "
            "(shape in docs/contracts.md §2).")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"Cannot read outputs file {path}: {exc.strerror or exc}. {hint}") from None
    except RecursionError:
        raise InputError(f"Outputs file {path} is nested too deeply to be stack outputs. {hint}") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSON errors, numbers over 4300 digits
        raise InputError(f"Outputs file {path} is not valid JSON ({str(exc)[:120]}). {hint}") from None
    if not isinstance(raw, dict):
        raise InputError(f"Outputs file {path} must hold a JSON object, got {type(raw).__name__}. {hint}")
    try:
        out = StackOutputs.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise InputError(f"Outputs file {path} is not a valid stack outputs file: {problems}. {hint}") from None
    needed = list(require) + (list(require_primary) if out.is_primary else [])
    missing = [key for key in needed if getattr(out, key) is None]
    if missing:
        keys = ", ".join(f"`{k}`" for k in missing)
        raise InputError(f"Outputs file {path} ({out.environment}, mode {out.mode}) has no {keys}, "
                         f"which {command} needs. {hint}")
    return out
