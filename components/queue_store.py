"""The durable queue store for Laravel's queue workers and BullMQ (the cache is components/cache.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .base import InputStr, InputStrs, child_options, unique_final_name
from .network import REDIS_PORT

# MemoryDB, not ElastiCache: ElastiCache has no AOF, and a queue must never evict a job.
QUEUE_PARAMETERS = {"maxmemory-policy": "noeviction"}

# Everything but @dangerous, plus the @dangerous commands the clients send: INFO (BullMQ's version
# check on connect, phpredis/Laravel `info`), as valkey's src/commands/info.json files it there.
QUEUE_ACCESS_STRING = "on ~* &* +@all -@dangerous +info"

# MemoryDB serves only the Redis Cluster protocol: every key a queue operation touches must hash
# to one slot, which a hash tag ({...}) in the key guarantees. These settings are published to the
# apps beside the endpoint (Laravel: config/database.php `options.cluster`, config/queue.php
# `queue`; BullMQ: the Queue/Worker `prefix`).
CLIENT_CONTRACT = {
    "laravel": {"REDIS_CLIENT": "phpredis", "REDIS_CLUSTER": "redis", "REDIS_QUEUE": "{default}",
                "REDIS_SCHEME": "tls"},
    "pdf-service": {"REDIS_CLUSTER_MODE": "true", "BULLMQ_PREFIX": "{bull}", "REDIS_TLS": "true"},
}


@dataclass(frozen=True)
class QueueStoreArgs:
    region: str
    """The AWS region the resources are created in."""
    engine: str
    """redis or valkey."""
    engine_version: str
    """A MemoryDB version of the engine."""
    node_type: str
    """A MemoryDB node type."""
    replicas_per_shard: int
    """Replicas per shard, each in another AZ."""
    snapshot_retention_days: int
    """Days daily snapshots are kept."""
    snapshot_window: str
    """Daily snapshot window, UTC."""
    user_name: str
    """The ACL user, unique per account and region (so it carries the stack's prefix)."""
    subnet_group_name: InputStr
    """The MemoryDB subnet group of the data subnets."""
    security_group_ids: InputStrs
    """Security groups that admit only the app tier, on the store's port."""
    kms_key_arn: InputStr
    """The customer-managed KMS key that encrypts the data at rest."""
    secrets_kms_key_arn: InputStr
    """Encrypts the credentials secret."""
    events_topic_arn: InputStr
    """An unencrypted SNS topic: MemoryDB cannot publish to a KMS-encrypted one."""
    protect: bool
    """Pulumi `protect` on the stateful resources (`StackSettings.durability.protect`)."""
    keep_final_snapshot: bool
    """Deleting the cluster leaves a final snapshot."""
    recovery_window_days: int
    """Days a deleted secret stays recoverable (0: deleted at once)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""


class QueueStore(pulumi.ComponentResource):
    """MemoryDB: every write is in a Multi-AZ transaction log before it is acknowledged.

    Physical names are explicit and short: MemoryDB allows 40 characters and Pulumi's autonaming
    adds 8, which overflows for the longer stack prefixes (printflow-staging-dr-...). Names are
    unique per account and region, which the stack prefix guarantees.
    """

    def __init__(self, name: str, args: QueueStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:queue:QueueStore", name, None, opts)
        r = args.region
        family = f"memorydb_{args.engine}7"
        parameter_group = aws.memorydb.ParameterGroup(
            f"{name}-params", name=f"{name}-{args.engine}7", family=family, region=r,
            description="Queue store: noeviction (a full store rejects writes instead of dropping jobs)",
            parameters=[aws.memorydb.ParameterGroupParameterArgs(name=k, value=v)
                        for k, v in QUEUE_PARAMETERS.items()],
            tags=args.tags, opts=child_options(self))
        password = random.RandomPassword(
            f"{name}-user-password", length=40, special=False,
            opts=child_options(self, additional_secret_outputs=["result"]))
        # Marked secret here too, so no engine or provider has to remember it.
        self.password = pulumi.Output.secret(password.result)
        user = aws.memorydb.User(
            f"{name}-user", user_name=args.user_name, region=r,
            access_string=QUEUE_ACCESS_STRING,
            authentication_mode=aws.memorydb.UserAuthenticationModeArgs(
                type="password", passwords=[self.password]),
            tags=args.tags, opts=child_options(self))
        acl = aws.memorydb.Acl(f"{name}-acl", name=f"{name}-acl", user_names=[user.user_name],
                               region=r, tags=args.tags, opts=child_options(self))
        final_snapshot = None
        if args.keep_final_snapshot:
            final_snapshot = unique_final_name(self, name)
        cluster = aws.memorydb.Cluster(
            f"{name}-cluster", name=name, region=r,
            description="Printflow queues (Laravel queue:work and pdf-service BullMQ, cluster mode)",
            engine=args.engine, engine_version=args.engine_version, node_type=args.node_type,
            num_shards=1, num_replicas_per_shard=args.replicas_per_shard,
            parameter_group_name=parameter_group.name,
            acl_name=acl.name, tls_enabled=True, kms_key_arn=args.kms_key_arn,
            subnet_group_name=args.subnet_group_name, security_group_ids=args.security_group_ids,
            snapshot_retention_limit=args.snapshot_retention_days, snapshot_window=args.snapshot_window,
            final_snapshot_name=final_snapshot,
            sns_topic_arn=args.events_topic_arn, auto_minor_version_upgrade=True,
            port=REDIS_PORT, tags=args.tags,
            opts=child_options(self, protect=args.protect))
        self.endpoint = cluster.cluster_endpoints.apply(lambda eps: eps[0].address if eps else "")
        self.username = user.user_name
        # Not replicated: it names this store's host, which is useless (and misleading) in the
        # other region; a DR stack has its own store and its own credentials.
        credentials = aws.secretsmanager.Secret(
            f"{name}-credentials", region=r, kms_key_id=args.secrets_kms_key_arn,
            description="Queue store ACL user (generated)",
            recovery_window_in_days=args.recovery_window_days,
            tags=args.tags, opts=child_options(self, protect=args.protect))
        aws.secretsmanager.SecretVersion(
            f"{name}-credentials", secret_id=credentials.id, region=r,
            secret_string=pulumi.Output.secret(pulumi.Output.json_dumps({
                "username": user.user_name, "password": self.password,
                "host": self.endpoint, "port": REDIS_PORT, "tls": True, "cluster": True})),
            opts=child_options(self))
        self.cluster_name, self.arn, self.credentials_arn = cluster.name, cluster.arn, credentials.arn
        self.register_outputs({"endpoint": self.endpoint, "arn": cluster.arn})
