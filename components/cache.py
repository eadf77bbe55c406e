"""The optional ElastiCache cache: evictable data only, never a queue (queues live in MemoryDB)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .base import InputStr, InputStrs, child_options
from .network import REDIS_PORT

CACHE_PARAMETERS = {"maxmemory-policy": "allkeys-lru"}


@dataclass(frozen=True)
class CacheArgs:
    region: str
    """The AWS region the resources are created in."""
    node_type: str
    """An ElastiCache node type."""
    replicas: int
    """Replicas beside the primary node, each in another AZ."""
    subnet_group_name: InputStr
    """The subnet group of the private data subnets."""
    security_group_ids: InputStrs
    """Security groups that admit only the app tier, on the store's port."""
    kms_key_arn: InputStr
    """The customer-managed KMS key that encrypts the data at rest."""
    protect: bool
    """Pulumi `protect` on the stateful resources (`StackSettings.durability.protect`)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""


class Cache(pulumi.ComponentResource):
    """A throwaway-by-design cache (allkeys-lru). Never point a queue at it."""

    def __init__(self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:queue:Cache", name, None, opts)
        params = aws.elasticache.ParameterGroup(
            f"{name}-params", family="redis7", region=args.region,
            description="Cache only: evicts least-recently-used keys",
            parameters=[aws.elasticache.ParameterGroupParameterArgs(name=k, value=v)
                        for k, v in CACHE_PARAMETERS.items()],
            tags=args.tags, opts=child_options(self))
        group = aws.elasticache.ReplicationGroup(
            f"{name}-group", region=args.region,
            description="Printflow cache: evictable, regenerable data only",
            engine="redis", engine_version="7.1", node_type=args.node_type,
            num_cache_clusters=args.replicas + 1,
            automatic_failover_enabled=True, multi_az_enabled=True,
            at_rest_encryption_enabled=True, transit_encryption_enabled=True,
            kms_key_id=args.kms_key_arn, parameter_group_name=params.name,
            subnet_group_name=args.subnet_group_name, security_group_ids=args.security_group_ids,
            port=REDIS_PORT, tags={**args.tags, "purpose": "cache"},
            opts=child_options(self, protect=args.protect))
        self.endpoint = group.primary_endpoint_address
        self.register_outputs({"endpoint": self.endpoint})
