"""Redis policies: the BullMQ/Laravel queue store is MemoryDB (durable); ElastiCache is only
acceptable as a cache. (Named queue_store.py rather than redis.py so it never shadows the
`redis` client library on sys.path.)"""

from __future__ import annotations

from pack_common import (
    UNKNOWN, About, Rules, fmt_num, for_parameter_group_users, get, label, number,
    parameters, tags_of, truthy,
)

TOPIC = "aws:sns/topic:Topic"
MEMORYDB_CLUSTER = "aws:memorydb/cluster:Cluster"
MEMORYDB_PG = "aws:memorydb/parameterGroup:ParameterGroup"
ELASTICACHE_RG = "aws:elasticache/replicationGroup:ReplicationGroup"


CLUSTER = [MEMORYDB_CLUSTER]


GUIDE = "https://docs.aws.amazon.com/memorydb/latest/devguide/"
ELASTICACHE_GUIDE = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/"
rules = Rules()


def is_queue_group(args_or_res) -> bool:
    props = args_or_res.props
    purpose = tags_of(props).get("purpose", "")
    if isinstance(purpose, str) and purpose:
        return purpose.lower() == "queue"  # an explicit purpose tag decides
    texts = [args_or_res.name, get(props, "replicationGroupId"), get(props, "description")]
    return any(isinstance(t, str) and t is not UNKNOWN and "queue" in t.lower() for t in texts)


@rules.resource("aws-elasticache-not-used-for-queues", [ELASTICACHE_RG],
                About("critical", "reliability", GUIDE + "what-is-memorydb.html"))
def _no_queue_on_elasticache(args, ctx, report):
    """Job queues run on MemoryDB, never on an ElastiCache replication group."""
    if is_queue_group(args):
        report(f"ElastiCache replication group '{args.name}' is used as the job queue store. "
               "ElastiCache has no AOF or durable transaction log (appendonly is not supported) "
               "and its default maxmemory-policy volatile-lru evicts keys under memory pressure, "
               "so queued print jobs can be lost. Move the queue to an aws.memorydb.Cluster with "
               "a noeviction parameter group.")


@rules.resource("aws-memorydb-parameter-group-noeviction", [MEMORYDB_PG],
                About("critical", "reliability", GUIDE + "parametergroups.redis.html"))
def _pg_noeviction(args, ctx, report):
    """MemoryDB parameter groups set maxmemory-policy=noeviction."""
    value = parameters(args).get("maxmemory-policy")
    if value is UNKNOWN:
        return
    if value != "noeviction":
        shown = f"'{value}'" if value else "the default (volatile-lru)"
        report(f"MemoryDB parameter group '{args.name}' uses maxmemory-policy {shown}. Set the "
               "parameter maxmemory-policy to 'noeviction' so a full queue rejects writes "
               "instead of evicting jobs.")


def _cache_flags(args, report, flags: dict[str, str], why: str = "") -> None:
    """A cache group (not a queue group: aws-elasticache-not-used-for-queues reports those) sets
    every flag of `flags` (property: argument name) to true."""
    if is_queue_group(args):
        return
    off = [arg for prop, arg in flags.items()
           if get(args.props, prop) is not UNKNOWN and not truthy(get(args.props, prop))]
    if off:
        report(f"ElastiCache replication group '{args.name}' does not enable {' and '.join(off)}. "
               f"Set both to true{why}.")


@rules.resource("aws-memorydb-cluster-replicas", CLUSTER,
                About("high", "reliability", GUIDE + "replication.html"),
                production_only=True,
                config={"minimumReplicas": {"type": "number", "minimum": 0, "maximum": 5,
                                            "default": 1,
                                            "description": "Minimum replicas per shard (default 1)."}})
def _replicas(args, ctx, report):
    """Production MemoryDB clusters have at least one replica per shard."""
    minimum = ctx.num("minimumReplicas")
    v = get(args.props, "numReplicasPerShard")
    if v is UNKNOWN:
        return
    n = number(v)
    n = 1.0 if n is None else n  # AWS default is 1
    if n < minimum:
        report(f"MemoryDB cluster '{args.name}' has {fmt_num(n)} replica(s) per shard, below "
               f"{fmt_num(minimum)}. Set num_replicas_per_shard >= {fmt_num(minimum)} so a "
               "primary failure does not lose the queue.")


@rules.resource("aws-memorydb-cluster-snapshot-retention", CLUSTER,
                About("medium", "reliability", GUIDE + "snapshots.html"),
                config={"minimumDays": {"type": "number", "minimum": 1, "maximum": 35, "default": 7,
                                        "description": "Minimum snapshot retention in days "
                                                       "(default 7)."}})
def _snapshots(args, ctx, report):
    """MemoryDB clusters keep snapshots for at least the threshold."""
    minimum = ctx.num("minimumDays")
    v = get(args.props, "snapshotRetentionLimit")
    if v is UNKNOWN:
        return
    n = number(v) or 0.0
    if n < minimum:
        report(f"MemoryDB cluster '{args.name}' keeps snapshots for {fmt_num(n)} day(s), below "
               f"{fmt_num(minimum)}. Set snapshot_retention_limit >= {fmt_num(minimum)}.")


@rules.stack("aws-memorydb-cluster-events-topic",
             About("medium", "operations", GUIDE + "memorydbsns.html"))
def _events_topic_unencrypted(stack, ctx, report):
    """MemoryDB clusters send events to an SNS topic MemoryDB can publish to (not KMS-encrypted).

    MemoryDB guide, "Event notifications and Amazon SNS": events are not delivered to a topic
        encrypted with KMS. Such a cluster's failovers and node replacements reach nobody."""
    for c in stack.of(MEMORYDB_CLUSTER):
        for topic in stack.of(TOPIC):
            if not stack.refers_to(c, "snsTopicArn", topic):
                continue
            key = get(topic.props, "kmsMasterKeyId")
            if key is not UNKNOWN and key:
                report(f"MemoryDB cluster {label(c)} sends its events to the KMS-encrypted SNS topic "
                       f"{label(topic)}, where MemoryDB cannot publish: failovers and node "
                       "replacements would reach nobody. Give it an unencrypted topic whose policy "
                       "lets only memorydb.amazonaws.com (this account) publish.", c.urn)


@rules.stack("aws-memorydb-cluster-noeviction-parameter-group",
             About("critical", "reliability", GUIDE + "parametergroups.html"))
def _cluster_uses_noeviction_group(stack, ctx, report):
    """MemoryDB clusters use a custom parameter group with noeviction."""
    for_parameter_group_users(
        stack, stack.of(MEMORYDB_CLUSTER), MEMORYDB_PG, "maxmemory-policy", lambda v: v == "noeviction",
        report,
        unmanaged=lambda c, name: (
            f"MemoryDB cluster {label(c)} uses {repr(name) if name else 'the default parameter group'}, "
            "not a parameter group from this stack, so maxmemory-policy noeviction is not guaranteed. "
            "Create an aws.memorydb.ParameterGroup with maxmemory-policy=noeviction and set "
            "parameter_group_name."),
        wrong=lambda c, g: (f"MemoryDB cluster {label(c)} uses parameter group {label(g)}, whose "
                            "maxmemory-policy is not noeviction. Set it to noeviction."))


@rules.resource("aws-elasticache-cache-encryption", [ELASTICACHE_RG],
                About("high", "security", ELASTICACHE_GUIDE + "encryption.html"))
def _elasticache_cache_encryption(args, ctx, report):
    """ElastiCache cache groups encrypt at rest and in transit."""
    _cache_flags(args, report, {"atRestEncryptionEnabled": "at_rest_encryption_enabled",
                                "transitEncryptionEnabled": "transit_encryption_enabled"})


@rules.resource("aws-elasticache-cache-multi-az", [ELASTICACHE_RG],
                About("medium", "reliability", ELASTICACHE_GUIDE + "AutoFailover.html"),
                production_only=True)
def _elasticache_cache_multi_az(args, ctx, report):
    """Production ElastiCache cache groups are Multi-AZ with automatic failover."""
    _cache_flags(args, report, {"multiAzEnabled": "multi_az_enabled",
                                "automaticFailoverEnabled": "automatic_failover_enabled"},
                 " so a node failure fails over to another zone")


rules.declared("queue_store")  # its one-property policies: property_rules.yaml


POLICIES = rules.policies
