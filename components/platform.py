"""The whole platform for one stack: the primary (prod, staging) or its DR-region counterpart.

Components hand back flat outputs (components/wiring.py maps settings to their Args), which
become the stack outputs (docs/contracts.md, ops/outputs.py).
"""

from __future__ import annotations

from typing import Any

import pulumi

from . import wiring as w
from .alarms import ReplicationTarget
from .app_secrets import AppSecrets, AppSecretsArgs
from .cache import Cache, CacheArgs
from .config import StackSettings
from .database import BackupReplica
from .dr_platform import build_dr
from .kms import PRIMARY_KEY_PURPOSES, REPLICATED_KEY_PURPOSES
from .storage import BackupVault, BackupVaultArgs, PrintFileStorage, PrintFileStorageArgs

REPLICATION_RULE_ID = "print-files-to-dr"


def replica_arn_in(arn: pulumi.Input[str], source: str, target: str) -> pulumi.Output[str]:
    """A Secrets Manager replica keeps the primary's ARN with the region swapped."""
    return pulumi.Output.from_input(arn).apply(lambda a: a.replace(f":{source}:", f":{target}:", 1))


def build_platform(settings: StackSettings) -> dict[str, Any]:
    """Register every resource of the stack and return the stack outputs."""
    if settings.role == "dr":
        return build_dr(settings)
    return _build_primary(settings)


# --------------------------------------------------------------------------- the primary stack
def _build_primary(settings: StackSettings) -> dict[str, Any]:
    region, dr_region = settings.home_region, settings.dr_region
    durability, storage_settings = settings.durability, settings.storage
    keyring_ = w.keyring(settings, PRIMARY_KEY_PURPOSES, REPLICATED_KEY_PURPOSES)
    keys, replica_keys = keyring_.key_arns, keyring_.replica_key_arns
    net = w.network(settings, keys["logs"])
    replica = (BackupReplica(dr_region, replica_keys["database"])
               if settings.database.replicate_backups_to_dr else None)
    db = w.database(settings, net, keys["database"], backup_replica=replica)
    storage = PrintFileStorage(f"{settings.name_prefix}-print-files", PrintFileStorageArgs(
        region=region, replica_region=dr_region, kms_key_arn=keys["storage"],
        replica_kms_key_arn=replica_keys["storage"], lock_mode=storage_settings.object_lock_mode,
        lock_days=storage_settings.object_lock_days,
        noncurrent_version_days=storage_settings.noncurrent_version_days,
        abort_multipart_days=storage_settings.abort_multipart_days, protect=durability.protect,
        force_destroy=storage_settings.force_destroy, tags=settings.tags("print-files")))
    tiers = storage_settings.backup_lifecycle
    backups = BackupVault(f"{settings.name_prefix}-backups", BackupVaultArgs(
        region=dr_region, kms_key_arn=replica_keys["storage"],
        lock_days=storage_settings.backup_object_lock_days, daily_days=tiers.daily_days,
        weekly_days=tiers.weekly_days, monthly_days=tiers.monthly_days,
        abort_multipart_days=storage_settings.abort_multipart_days, protect=durability.protect,
        tags=settings.tags("backup")))

    paging = w.paging_topic(settings, keys["alarms"])
    queue = w.queue_store(settings, net, keys, paging)
    cache = None
    if settings.cache.enabled:
        cache = Cache(f"{settings.name_prefix}-cache", CacheArgs(
            region=region, node_type=settings.cache.node_type, replicas=settings.cache.replicas,
            subnet_group_name=net.cache_subnet_group_name,
            security_group_ids=[net.redis_security_group_id], kms_key_arn=keys["queue"],
            protect=durability.protect, tags=settings.tags("cache")))
    secrets = AppSecrets(f"{settings.name_prefix}-app-secrets", AppSecretsArgs(
        region=region, kms_key_arn=keys["secrets"],
        rotation_generation=settings.secrets.rotation_generation,
        recovery_window_days=durability.secret_recovery_window_days,
        protect=durability.protect, replica=(dr_region, replica_keys["secrets"]),
        tags=settings.tags("secrets")))
    own = w.connections(settings, keys, db, queue)
    w.app_settings(settings, db, queue, storage.bucket_name)
    platform_alarms = w.alarms(settings, paging, db, queue, ReplicationTarget(
        source_bucket=storage.bucket_name, destination_bucket=storage.replica_bucket_name,
        rule_id=REPLICATION_RULE_ID))

    outputs = w.common_outputs(settings, "primary", keys, net, db, queue, paging, platform_alarms)
    outputs.update({
        "print_bucket": {"name": storage.bucket_name, "arn": storage.bucket_arn,
                         "region": region, "object_lock_mode": storage_settings.object_lock_mode,
                         "object_lock_days": storage_settings.object_lock_days},
        "print_replica_bucket": {"name": storage.replica_bucket_name,
                                 "arn": storage.replica_bucket_arn, "region": dr_region},
        "backup_bucket": {"name": backups.bucket_name, "arn": backups.bucket_arn,
                          "region": dr_region, "object_lock_mode": "COMPLIANCE",
                          "object_lock_days": storage_settings.backup_object_lock_days,
                          "writer_policy_arn": backups.writer_policy_arn},
        "app_secrets": {"laravel_arn": secrets.laravel_arn, "pdf_service_arn": secrets.pdf_service_arn,
                        "replica_regions": [dr_region],
                        "laravel_connection_arn": own.laravel_arn,
                        "pdf_service_connection_arn": own.pdf_service_arn},
        "cache": {"endpoint": cache.endpoint} if cache else None,
        "dr": {
            "region": dr_region,
            "replicated_backups_arn": db.replicated_backups_arn,
            "source_db_arn": db.arn,
            "replica_bucket_name": storage.replica_bucket_name,
            "replica_bucket_arn": storage.replica_bucket_arn,
            "backup_bucket_name": backups.bucket_name,
            "backup_bucket_arn": backups.bucket_arn,
            "replica_key_arns": replica_keys,
            "laravel_secret_arn": replica_arn_in(secrets.laravel_arn, region, dr_region),
            "pdf_service_secret_arn": replica_arn_in(secrets.pdf_service_arn, region, dr_region),
        },
    })
    return outputs
