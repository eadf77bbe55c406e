"""The whole platform for one stack: the primary (prod) or its DR-region counterpart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from .alarms import AlarmArgs, PagingTopic, PagingTopicArgs, PlatformAlarms, ReplicationTarget
from .app_secrets import AppConnections, AppConnectionsArgs, AppSecrets, AppSecretsArgs
from .app_settings import AppSettingsArgs, AppSettingsParameters
from .config import StackSettings
from .database import INITIAL_DATABASE, PointInTimeSource, PostgresArgs, PostgresDatabase
from .kms import KeyRing, KeyRingArgs
from .network import POSTGRES_PORT, REDIS_PORT, DataNetwork, DataNetworkArgs
from .cache import Cache, CacheArgs
from .queue_store import CLIENT_CONTRACT, QueueStore, QueueStoreArgs
from .storage import (
    BackupVault, BackupVaultArgs, PrintFileStorage, PrintFileStorageArgs, ReplicaBucketAccess,
    ReplicaBucketAccessArgs,
)

REPLICATION_RULE_ID = "print-files-to-dr"
PRIMARY_KEY_PURPOSES = ("database", "storage", "secrets", "queue", "alarms", "logs")
REPLICATED_KEY_PURPOSES = ("database", "storage", "secrets")
DR_LOCAL_KEY_PURPOSES = ("queue", "alarms", "logs")


def replica_arn_in(arn: pulumi.Input[str], source: str, target: str) -> pulumi.Output[str]:
    """A Secrets Manager replica keeps the primary's ARN with the region swapped."""
    return pulumi.Output.from_input(arn).apply(lambda a: a.replace(f":{source}:", f":{target}:", 1))


def build_platform(settings: StackSettings) -> dict[str, Any]:
    """Register every resource of the stack and return the stack outputs."""
    if settings.role == "dr":
        return _build_dr(settings)
    return _build_primary(settings)


def _network(settings: StackSettings, logs_key: pulumi.Input[str]) -> DataNetwork:
    n = settings.network
    return DataNetwork(f"{settings.name_prefix}-net", DataNetworkArgs(
        region=settings.home_region, cidr=n.cidr, az_count=n.az_count,
        flow_log_retention_days=n.flow_log_retention_days, flow_log_key_arn=logs_key,
        existing_vpc_id=n.existing_vpc_id, existing_subnet_ids=tuple(n.existing_subnet_ids),
        with_cache_subnets=settings.cache.enabled, app_egress=n.app_egress,
        tags=settings.tags("network")))


def _queue_store(settings: StackSettings, network: DataNetwork, keys: dict[str, pulumi.Input[str]],
                 paging: PagingTopic) -> QueueStore:
    return QueueStore(f"{settings.name_prefix}-queue", QueueStoreArgs(
        settings=settings.queue_store, region=settings.home_region,
        user_name=settings.queue_user_name,
        subnet_group_name=network.memorydb_subnet_group.name,
        security_group_ids=[network.redis_security_group.id],
        kms_key_arn=keys["queue"], secrets_kms_key_arn=keys["secrets"],
        events_topic_arn=paging.queue_events_topic.arn, protect=settings.protect,
        keep_final_snapshot=not settings.is_drill,
        recovery_window_days=_recovery_window(settings), tags=settings.tags("queue")))


def _connections(settings: StackSettings, keys: dict[str, pulumi.Input[str]],
                 database: PostgresDatabase, queue: QueueStore) -> AppConnections:
    """This stack's own endpoints and queue credentials for its apps (never replicated)."""
    return AppConnections(f"{settings.name_prefix}-connections", AppConnectionsArgs(
        region=settings.home_region, kms_key_arn=keys["secrets"],
        db_host=database.instance.address, db_port=POSTGRES_PORT, db_name=INITIAL_DATABASE,
        redis_host=queue.endpoint, redis_port=REDIS_PORT, redis_username=queue.username,
        redis_password=queue.password_value, recovery_window_days=_recovery_window(settings),
        protect=settings.protect, tags=settings.tags("secrets")))


def _recovery_window(settings: StackSettings) -> int:
    """A drill leaves nothing behind; production keeps deleted secrets recoverable."""
    return 0 if settings.is_drill else settings.secrets.recovery_window_days


def _paging_topic(settings: StackSettings, alarms_key: pulumi.Input[str]) -> PagingTopic:
    a = settings.alarms
    return PagingTopic(f"{settings.name_prefix}-paging", PagingTopicArgs(
        name_prefix=settings.name_prefix, region=settings.home_region, kms_key_arn=alarms_key,
        email_endpoints=tuple(a.email_endpoints),
        https_endpoints=tuple(u.get_secret_value() for u in a.https_endpoints),
        tags=settings.tags("observability")))


def _alarms(settings: StackSettings, paging: PagingTopic, database: PostgresDatabase,
            queue: QueueStore, replication: ReplicationTarget | None) -> PlatformAlarms:
    return PlatformAlarms(f"{settings.name_prefix}-alarms", AlarmArgs(
        settings=settings.alarms, environment=settings.environment,
        name_prefix=settings.name_prefix, region=settings.home_region, topic_arn=paging.topic.arn,
        database_id=database.instance.identifier, queue_cluster_name=queue.cluster.name,
        queue_node_count=1 + settings.queue_store.replicas_per_shard,
        replication=replication, tags=settings.tags("observability")))


def _app_settings(settings: StackSettings, database: PostgresDatabase, queue: QueueStore,
                  bucket_name: pulumi.Input[str]) -> AppSettingsParameters:
    connection = {
        "AWS_BUCKET": bucket_name, "AWS_DEFAULT_REGION": settings.home_region,
        "REDIS_HOST": queue.endpoint, "REDIS_PORT": str(REDIS_PORT), "REDIS_USERNAME": queue.username,
    }
    database_facts = {"DB_HOST": database.instance.address, "DB_PORT": str(POSTGRES_PORT),
                      "DB_DATABASE": INITIAL_DATABASE}
    values = {app: {**kv, **connection, **CLIENT_CONTRACT[app],
                    **(database_facts if app == "laravel" else {})}
              for app, kv in settings.apps.items()}
    return AppSettingsParameters(f"{settings.name_prefix}-settings", AppSettingsArgs(
        environment=settings.environment, region=settings.home_region, settings=values,
        tags=settings.tags("config")))


def _common_outputs(settings: StackSettings, mode: str, keys: dict[str, pulumi.Input[str]],
                    network: DataNetwork, database: PostgresDatabase, queue: QueueStore,
                    paging: PagingTopic, alarms: PlatformAlarms) -> dict[str, Any]:
    instance = database.instance
    return {
        "environment": settings.environment if settings.role == "primary" else "dr",
        "mode": mode,
        "primary_region": settings.primary_region,
        "dr_region": settings.dr_region,
        "database": {
            "identifier": instance.identifier, "arn": instance.arn, "endpoint": instance.endpoint,
            "address": instance.address, "port": instance.port, "name": INITIAL_DATABASE,
            "master_user_secret_arn": instance.master_user_secrets.apply(
                lambda s: s[0].secret_arn if s else None),
            "backup_retention_days": settings.database.backup_retention_days,
            "region": settings.home_region,
            "expected_settings": database.expected_settings,
        },
        "queue_store": {
            "name": queue.cluster.name, "arn": queue.cluster.arn, "endpoint": queue.endpoint,
            "port": REDIS_PORT, "user_secret_arn": queue.credentials.arn,
            "region": settings.home_region,
        },
        "kms_keys": keys,
        "alarms": {
            "topic_arn": paging.topic.arn, "queue_events_topic_arn": paging.queue_events_topic.arn,
            "alarm_names": sorted(alarms.alarms),
            "heartbeat_alarm_names": alarms.heartbeat_alarm_names,
            "composite_alarm_name": alarms.composite_name,
        },
        "network": {
            "vpc_id": network.vpc_id, "app_security_group_id": network.app_security_group.id,
            "data_subnet_ids": network.subnet_ids, "app_subnet_ids": network.app_subnet_ids,
        },
    }


def _build_primary(settings: StackSettings) -> dict[str, Any]:
    region, dr_region = settings.home_region, settings.dr_region
    keyring = KeyRing(f"{settings.name_prefix}-keys", KeyRingArgs(
        prefix=settings.name_prefix, region=region, purposes=PRIMARY_KEY_PURPOSES,
        replica_region=dr_region, replicated_purposes=REPLICATED_KEY_PURPOSES,
        protect=settings.protect, tags=settings.tags("security")))
    keys = {p: k.arn for p, k in keyring.keys.items()}
    replica_keys = {p: k.arn for p, k in keyring.replicas.items()}
    network = _network(settings, keys["logs"])

    database = PostgresDatabase(f"{settings.name_prefix}-db", PostgresArgs(
        settings=settings.database, region=region,
        subnet_group_name=network.db_subnet_group.name,
        security_group_ids=[network.database_security_group.id],
        kms_key_arn=keys["database"], protect=settings.protect, production=settings.is_production,
        dr_region=dr_region, dr_kms_key_arn=replica_keys["database"],
        tags=settings.tags("database")))
    storage = PrintFileStorage(f"{settings.name_prefix}-print-files", PrintFileStorageArgs(
        settings=settings.storage, region=region, replica_region=dr_region,
        kms_key_arn=keys["storage"], replica_kms_key_arn=replica_keys["storage"],
        protect=settings.protect,
        tags=settings.tags("print-files")))
    backups = BackupVault(f"{settings.name_prefix}-backups", BackupVaultArgs(
        settings=settings.storage, region=dr_region, kms_key_arn=replica_keys["storage"],
        protect=settings.protect, tags=settings.tags("backup")))

    paging = _paging_topic(settings, keys["alarms"])
    queue = _queue_store(settings, network, keys, paging)
    cache = None
    if settings.cache.enabled:
        cache = Cache(f"{settings.name_prefix}-cache", CacheArgs(
            settings=settings.cache, region=region,
            subnet_group_name=network.cache_subnet_group.name,
            security_group_ids=[network.redis_security_group.id], kms_key_arn=keys["queue"],
            protect=settings.protect, tags=settings.tags("cache")))
    secrets = AppSecrets(f"{settings.name_prefix}-app-secrets", AppSecretsArgs(
        region=region, kms_key_arn=keys["secrets"],
        rotation_generation=settings.secrets.rotation_generation,
        recovery_window_days=_recovery_window(settings),
        protect=settings.protect, replica=(dr_region, replica_keys["secrets"]),
        tags=settings.tags("secrets")))
    connections = _connections(settings, keys, database, queue)
    _app_settings(settings, database, queue, storage.primary.bucket.bucket)
    alarms = _alarms(settings, paging, database, queue, ReplicationTarget(
        source_bucket=storage.primary.bucket.bucket,
        destination_bucket=storage.replica.bucket.bucket, rule_id=REPLICATION_RULE_ID))

    lock = settings.storage
    outputs = _common_outputs(settings, "primary", keys, network, database, queue, paging, alarms)
    outputs.update({
        "print_bucket": {"name": storage.primary.bucket.bucket, "arn": storage.primary.bucket.arn,
                         "region": region, "object_lock_mode": lock.object_lock_mode,
                         "object_lock_days": lock.object_lock_days},
        "print_replica_bucket": {"name": storage.replica.bucket.bucket,
                                 "arn": storage.replica.bucket.arn, "region": dr_region},
        "backup_bucket": {"name": backups.vault.bucket.bucket, "arn": backups.vault.bucket.arn,
                          "region": dr_region, "object_lock_mode": "COMPLIANCE",
                          "object_lock_days": lock.backup_object_lock_days,
                          "writer_policy_arn": backups.writer_policy.arn},
        "app_secrets": {"laravel_arn": secrets.laravel.arn, "pdf_service_arn": secrets.pdf_service.arn,
                        "replica_regions": [dr_region],
                        "laravel_connection_arn": connections.laravel.arn,
                        "pdf_service_connection_arn": connections.pdf_service.arn},
        "cache": {"endpoint": cache.group.primary_endpoint_address} if cache else None,
        "dr": {
            "region": dr_region,
            "replicated_backups_arn": database.backup_replication.id if database.backup_replication else None,
            "source_db_arn": database.instance.arn,
            "replica_bucket_name": storage.replica.bucket.bucket,
            "replica_bucket_arn": storage.replica.bucket.arn,
            "backup_bucket_name": backups.vault.bucket.bucket,
            "backup_bucket_arn": backups.vault.bucket.arn,
            "replica_key_arns": replica_keys,
            "laravel_secret_arn": replica_arn_in(secrets.laravel.arn, region, dr_region),
            "pdf_service_secret_arn": replica_arn_in(secrets.pdf_service.arn, region, dr_region),
        },
    })
    return outputs


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


def _dr_source(settings: StackSettings) -> DrSource:
    """From a StackReference to prod when configured, else from the copy kept in config."""
    dr = settings.dr
    assert dr is not None
    if dr.primary is not None:
        p = dr.primary
        out = pulumi.Output.from_input
        return DrSource(out(p.replicated_backups_arn), out(p.source_db_arn), out(p.replica_bucket_name),
                        out(p.replica_bucket_arn), out(p.backup_bucket_name), out(p.backup_bucket_arn),
                        {k: out(v) for k, v in p.replica_key_arns.model_dump().items()},
                        out(p.laravel_secret_arn), out(p.pdf_service_secret_arn))
    name = dr.primary_stack_reference(pulumi.get_organization(), settings.environment)
    block = pulumi.StackReference(name).require_output("dr")
    field_ = lambda key: block.apply(lambda b: b[key])  # noqa: E731
    return DrSource(field_("replicated_backups_arn"), field_("source_db_arn"),
                    field_("replica_bucket_name"), field_("replica_bucket_arn"),
                    field_("backup_bucket_name"), field_("backup_bucket_arn"),
                    {k: block.apply(lambda b, k=k: b["replica_key_arns"][k]) for k in REPLICATED_KEY_PURPOSES},
                    field_("laravel_secret_arn"), field_("pdf_service_secret_arn"))


def _build_dr(settings: StackSettings) -> dict[str, Any]:
    dr = settings.dr
    assert dr is not None
    region = settings.home_region
    source = _dr_source(settings)
    keyring = KeyRing(f"{settings.name_prefix}-keys", KeyRingArgs(
        prefix=settings.name_prefix, region=region, purposes=DR_LOCAL_KEY_PURPOSES,
        deletion_window_days=7 if settings.is_drill else 30,
        protect=settings.protect, tags=settings.tags("security")))
    keys: dict[str, pulumi.Input[str]] = {p: k.arn for p, k in keyring.keys.items()}
    keys.update(source.replica_key_arns)
    network = _network(settings, keys["logs"])
    database = PostgresDatabase(f"{settings.name_prefix}-db", PostgresArgs(
        settings=settings.database.model_copy(update={"replicate_backups_to_dr": False}),
        region=region, subnet_group_name=network.db_subnet_group.name,
        security_group_ids=[network.database_security_group.id],
        kms_key_arn=keys["database"], protect=settings.protect, production=settings.is_production,
        restore_from=PointInTimeSource(source.replicated_backups_arn, dr.restore_time),
        tags=settings.tags("database")))
    paging = _paging_topic(settings, keys["alarms"])
    # Queues are recovered by replay (runbook 5.4): a fresh store, its own generated credentials.
    queue = _queue_store(settings, network, keys, paging)
    connections = _connections(settings, keys, database, queue)
    access = ReplicaBucketAccess(f"{settings.name_prefix}-print-file-access", ReplicaBucketAccessArgs(
        replica_bucket_arn=source.replica_bucket_arn, replica_key_arn=source.replica_key_arns["storage"],
        drill=settings.is_drill, tags=settings.tags("print-files")))
    _app_settings(settings, database, queue, source.replica_bucket_name)
    alarms = _alarms(settings, paging, database, queue, None)

    replica_bucket = {"name": source.replica_bucket_name, "arn": source.replica_bucket_arn,
                      "region": region, "object_lock_mode": settings.storage.object_lock_mode,
                      "object_lock_days": settings.storage.object_lock_days}
    outputs = _common_outputs(settings, dr.mode, keys, network, database, queue, paging, alarms)
    outputs.update({
        "print_bucket": replica_bucket,
        "print_replica_bucket": replica_bucket,
        # prod's offsite vault already lives in this region: the DR apps keep dumping there
        "backup_bucket": {"name": source.backup_bucket_name, "arn": source.backup_bucket_arn,
                          "region": region, "object_lock_mode": "COMPLIANCE",
                          "object_lock_days": settings.storage.backup_object_lock_days},
        "app_secrets": {"laravel_arn": source.laravel_secret_arn,
                        "pdf_service_arn": source.pdf_service_secret_arn, "replica_regions": [],
                        "laravel_connection_arn": connections.laravel.arn,
                        "pdf_service_connection_arn": connections.pdf_service.arn},
        "print_file_access_policy_arn": access.policy.arn,
        "restore": {"source_automated_backups_arn": source.replicated_backups_arn,
                    "source_db_arn": source.source_db_arn,
                    "restore_time": dr.restore_time.isoformat() if dr.restore_time else "latest"},
    })
    return outputs
