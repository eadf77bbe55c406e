"""Stack settings mapped to each component's Args: the one place a config value becomes a
component input. The primary and the DR stack both build from these."""

from __future__ import annotations

from typing import Any, Optional

import pulumi

from .alarms import AlarmArgs, PagingTopic, PagingTopicArgs, PlatformAlarms, ReplicationTarget
from .app_secrets import AppConnections, AppConnectionsArgs
from .app_settings import AppSettingsArgs, AppSettingsParameters
from .config import StackSettings
from .database import INITIAL_DATABASE, BackupReplica, PointInTimeSource, PostgresArgs, PostgresDatabase
from .kms import KeyRing, KeyRingArgs
from .network import POSTGRES_PORT, REDIS_PORT, DataNetwork, DataNetworkArgs
from .queue_store import CLIENT_CONTRACT, QueueStore, QueueStoreArgs

Keys = dict[str, pulumi.Input[str]]

DATABASE_FIELDS = ("instance_class", "engine_version", "allocated_storage_gb", "max_allocated_storage_gb",
                   "multi_az", "backup_retention_days", "backup_window", "maintenance_window",
                   "performance_insights_retention_days", "monitoring_interval_seconds")
QUEUE_STORE_FIELDS = ("engine", "engine_version", "node_type", "replicas_per_shard",
                      "snapshot_retention_days", "snapshot_window")
"""Settings that reach a component's Args unchanged, under the same name. Deletion protection and
the like are not among them: they come from the stack's durability."""


# --------------------------------------------------------------------------- settings -> Args
def keyring(settings: StackSettings, purposes: tuple[str, ...], replicated: tuple[str, ...] = ()) -> KeyRing:
    return KeyRing(f"{settings.name_prefix}-keys", KeyRingArgs(
        prefix=settings.name_prefix, region=settings.home_region, purposes=purposes,
        replica_region=settings.dr_region if replicated else None, replicated_purposes=replicated,
        deletion_window_days=settings.durability.key_deletion_window_days,
        protect=settings.durability.protect, tags=settings.tags("security")))


def network(settings: StackSettings, logs_key: pulumi.Input[str]) -> DataNetwork:
    n = settings.network
    return DataNetwork(f"{settings.name_prefix}-net", DataNetworkArgs(
        region=settings.home_region, cidr=n.cidr, az_count=n.az_count,
        flow_log_retention_days=n.flow_log_retention_days, flow_log_key_arn=logs_key,
        existing_vpc_id=n.existing_vpc_id, existing_subnet_ids=tuple(n.existing_subnet_ids),
        with_cache_subnets=settings.cache.enabled, app_egress=n.app_egress,
        tags=settings.tags("network")))


def database(settings: StackSettings, net: DataNetwork, kms_key_arn: pulumi.Input[str], *,
             backup_replica: Optional[BackupReplica] = None,
             restore_from: Optional[PointInTimeSource] = None) -> PostgresDatabase:
    d, durability = settings.database, settings.durability
    return PostgresDatabase(f"{settings.name_prefix}-db", PostgresArgs(
        region=settings.home_region, **d.model_dump(include=set(DATABASE_FIELDS)),
        subnet_group_name=net.db_subnet_group_name, security_group_ids=[net.database_security_group_id],
        kms_key_arn=kms_key_arn, protect=durability.protect,
        deletion_protection=durability.database_deletion_protection,
        keep_final_snapshot=durability.keep_final_snapshot, backup_replica=backup_replica,
        restore_from=restore_from, tags=settings.tags("database")))


def paging_topic(settings: StackSettings, alarms_key: pulumi.Input[str]) -> PagingTopic:
    a = settings.alarms
    return PagingTopic(f"{settings.name_prefix}-paging", PagingTopicArgs(
        name_prefix=settings.name_prefix, region=settings.home_region, kms_key_arn=alarms_key,
        email_endpoints=tuple(a.email_endpoints),
        https_endpoints=tuple(u.get_secret_value() for u in a.https_endpoints),
        tags=settings.tags("observability")))


def queue_store(settings: StackSettings, net: DataNetwork, keys: Keys, paging: PagingTopic) -> QueueStore:
    q, durability = settings.queue_store, settings.durability
    return QueueStore(f"{settings.name_prefix}-queue", QueueStoreArgs(
        region=settings.home_region, **q.model_dump(include=set(QUEUE_STORE_FIELDS)),
        user_name=settings.queue_user_name, subnet_group_name=net.queue_subnet_group_name,
        security_group_ids=[net.redis_security_group_id],
        kms_key_arn=keys["queue"], secrets_kms_key_arn=keys["secrets"],
        events_topic_arn=paging.queue_events_topic_arn, protect=durability.protect,
        keep_final_snapshot=durability.keep_final_snapshot,
        recovery_window_days=durability.secret_recovery_window_days, tags=settings.tags("queue")))


def connections(settings: StackSettings, keys: Keys, db: PostgresDatabase, queue: QueueStore) -> AppConnections:
    """This stack's own endpoints and queue credentials for its apps (never replicated)."""
    return AppConnections(f"{settings.name_prefix}-connections", AppConnectionsArgs(
        region=settings.home_region, kms_key_arn=keys["secrets"],
        db_host=db.address, db_port=POSTGRES_PORT, db_name=INITIAL_DATABASE,
        redis_host=queue.endpoint, redis_port=REDIS_PORT, redis_username=queue.username,
        redis_password=queue.password, recovery_window_days=settings.durability.secret_recovery_window_days,
        protect=settings.durability.protect, tags=settings.tags("secrets")))


def alarms(settings: StackSettings, paging: PagingTopic, db: PostgresDatabase, queue: QueueStore,
           replication: ReplicationTarget | None) -> PlatformAlarms:
    return PlatformAlarms(f"{settings.name_prefix}-alarms", AlarmArgs(
        thresholds=settings.alarms.thresholds, environment=settings.environment,
        name_prefix=settings.name_prefix, region=settings.home_region, topic_arn=paging.topic_arn,
        database_id=db.identifier, queue_cluster_name=queue.cluster_name,
        queue_node_count=1 + settings.queue_store.replicas_per_shard,
        replication=replication, heartbeats=not settings.is_drill, tags=settings.tags("observability")))


def app_settings(settings: StackSettings, db: PostgresDatabase, queue: QueueStore,
                 bucket_name: pulumi.Input[str]) -> AppSettingsParameters:
    connection = {
        "AWS_BUCKET": bucket_name, "AWS_DEFAULT_REGION": settings.home_region,
        "REDIS_HOST": queue.endpoint, "REDIS_PORT": str(REDIS_PORT), "REDIS_USERNAME": queue.username,
    }
    database_facts = {"DB_HOST": db.address, "DB_PORT": str(POSTGRES_PORT), "DB_DATABASE": INITIAL_DATABASE}
    values = {app: {**kv, **connection, **CLIENT_CONTRACT[app],
                    **(database_facts if app == "laravel" else {})}
              for app, kv in settings.apps.items()}
    return AppSettingsParameters(f"{settings.name_prefix}-settings", AppSettingsArgs(
        environment=settings.environment, region=settings.home_region, settings=values,
        tags=settings.tags("config")))


def common_outputs(settings: StackSettings, mode: str, keys: Keys, net: DataNetwork,
                   db: PostgresDatabase, queue: QueueStore, paging: PagingTopic,
                   platform_alarms: PlatformAlarms) -> dict[str, Any]:
    return {
        "environment": settings.environment if settings.role == "primary" else "dr",
        "mode": mode,
        "primary_region": settings.primary_region,
        "dr_region": settings.dr_region,
        "database": {
            "identifier": db.identifier, "arn": db.arn, "endpoint": db.endpoint,
            "address": db.address, "port": db.port, "name": INITIAL_DATABASE,
            "master_user_secret_arn": db.master_user_secret_arn,
            "backup_retention_days": settings.database.backup_retention_days,
            "region": settings.home_region,
            "expected_settings": db.expected_settings,
        },
        "queue_store": {
            "name": queue.cluster_name, "arn": queue.arn, "endpoint": queue.endpoint,
            "port": REDIS_PORT, "user_secret_arn": queue.credentials_arn,
            "region": settings.home_region,
        },
        "kms_keys": keys,
        "alarms": {
            "topic_arn": paging.topic_arn, "queue_events_topic_arn": paging.queue_events_topic_arn,
            "alarm_names": platform_alarms.alarm_names,
            "heartbeat_alarm_names": platform_alarms.heartbeat_alarm_names,
            "composite_alarm_name": platform_alarms.composite_name,
        },
        "network": {
            "vpc_id": net.vpc_id, "app_security_group_id": net.app_security_group_id,
            "data_subnet_ids": net.subnet_ids, "app_subnet_ids": net.app_subnet_ids,
        },
    }
