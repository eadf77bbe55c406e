"""The DR stack: the platform stood up in the DR region from what prod left there.

The database is restored from prod's replicated automated backups, the print files are prod's
replica bucket, the keys are prod's replicas; the queue store, the alarms and the connection
secrets are the DR stack's own (queues are recovered by replay, runbook §5.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from . import wiring as p
from .kms import DR_LOCAL_KEY_PURPOSES, REPLICATED_KEY_PURPOSES
from .config import StackSettings
from .database import PointInTimeSource
from .storage import ReplicaBucketAccess, ReplicaBucketAccessArgs


@dataclass(frozen=True)
class DrSource:
    """What the DR stack restores from: the prod stack's `dr` outputs."""

    replicated_backups_arn: pulumi.Output[str]
    source_db_arn: pulumi.Output[str]
    replica_bucket_name: pulumi.Output[str]
    replica_bucket_arn: pulumi.Output[str]
    backup_bucket_name: pulumi.Output[str]
    backup_bucket_arn: pulumi.Output[str]
    replica_key_arns: dict[str, pulumi.Output[str]]
    laravel_secret_arn: pulumi.Output[str]
    pdf_service_secret_arn: pulumi.Output[str]


_SCALARS = ("replicated_backups_arn", "source_db_arn", "replica_bucket_name", "replica_bucket_arn",
            "backup_bucket_name", "backup_bucket_arn", "laravel_secret_arn", "pdf_service_secret_arn")


def dr_source(settings: StackSettings) -> DrSource:
    """From a StackReference to prod when configured, else from the copy kept in config."""
    dr = settings.dr
    assert dr is not None
    if dr.primary is not None:
        copy = dr.primary.model_dump()
        return DrSource(**{k: pulumi.Output.from_input(copy[k]) for k in _SCALARS},
                        replica_key_arns={k: pulumi.Output.from_input(v)
                                          for k, v in copy["replica_key_arns"].items()})
    name = dr.primary_stack_reference(pulumi.get_organization(), settings.environment)
    block = pulumi.StackReference(name).require_output("dr")
    return DrSource(**{k: block.apply(lambda b, k=k: b[k]) for k in _SCALARS},
                    replica_key_arns={k: block.apply(lambda b, k=k: b["replica_key_arns"][k])
                                      for k in REPLICATED_KEY_PURPOSES})


def build_dr(settings: StackSettings) -> dict[str, Any]:
    dr = settings.dr
    assert dr is not None
    source = dr_source(settings)
    keys: p.Keys = dict(p.keyring(settings, DR_LOCAL_KEY_PURPOSES).key_arns)
    keys.update(source.replica_key_arns)
    net = p.network(settings, keys["logs"])
    db = p.database(settings, net, keys["database"],
                    restore_from=PointInTimeSource(source.replicated_backups_arn, dr.restore_time))
    paging = p.paging_topic(settings, keys["alarms"])
    queue = p.queue_store(settings, net, keys, paging)
    own = p.connections(settings, keys, db, queue)
    access = ReplicaBucketAccess(f"{settings.name_prefix}-print-file-access", ReplicaBucketAccessArgs(
        replica_bucket_arn=source.replica_bucket_arn, replica_key_arn=source.replica_key_arns["storage"],
        drill=settings.is_drill, tags=settings.tags("print-files")))
    p.app_settings(settings, db, queue, source.replica_bucket_name)
    platform_alarms = p.alarms(settings, paging, db, queue, None)

    lock = settings.storage
    replica_bucket = {"name": source.replica_bucket_name, "arn": source.replica_bucket_arn,
                      "region": settings.home_region, "object_lock_mode": lock.object_lock_mode,
                      "object_lock_days": lock.object_lock_days}
    outputs = p.common_outputs(settings, dr.mode, keys, net, db, queue, paging, platform_alarms)
    outputs.update({
        "print_bucket": replica_bucket,
        "print_replica_bucket": replica_bucket,
        # After a failover the DR apps keep dumping into prod's offsite vault (already in this
        # region). A drill gets no dump target: the vault is COMPLIANCE-locked, so a drill's
        # dumps there could never be deleted.
        "backup_bucket": None if settings.is_drill else {
            "name": source.backup_bucket_name, "arn": source.backup_bucket_arn,
            "region": settings.home_region, "object_lock_mode": "COMPLIANCE",
            "object_lock_days": lock.backup_object_lock_days},
        "app_secrets": {"laravel_arn": source.laravel_secret_arn,
                        "pdf_service_arn": source.pdf_service_secret_arn, "replica_regions": [],
                        "laravel_connection_arn": own.laravel_arn,
                        "pdf_service_connection_arn": own.pdf_service_arn},
        "print_file_access_policy_arn": access.policy_arn,
        "restore": {"source_automated_backups_arn": source.replicated_backups_arn,
                    "source_db_arn": source.source_db_arn,
                    "restore_time": dr.restore_time.isoformat() if dr.restore_time else "latest"},
    })
    return outputs
