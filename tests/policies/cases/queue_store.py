"""Policy cases: Redis."""

from __future__ import annotations

from tests.policies.cases.registry import case
from tests.policies.graphs import (
    ELASTICACHE, MEMDB, MEMDB_PG, add_resource, database, delp, getp, one, setp,
)


def _cache_group(g, **overrides):
    region = database(g)["inputs"]["region"]
    inputs = {"region": region, "replicationGroupId": "printflow-prod-cache",
              "description": "Printflow page cache", "engine": "valkey", "nodeType":
              "cache.t4g.small", "numCacheClusters": 2, "atRestEncryptionEnabled": True,
              "transitEncryptionEnabled": True, "multiAzEnabled": True,
              "automaticFailoverEnabled": True, "kmsKeyId": "arn:aws:kms:x",
              "tags": {"app": "printflow", "env": "prod", "owner": "platform-team",
                       "purpose": "cache"}}
    inputs.update(overrides)
    return add_resource(g, ELASTICACHE, "printflow-prod-cache", inputs)


@case("aws-elasticache-not-used-for-queues")
def _(g):
    _cache_group(g, description="BullMQ queue", tags={"purpose": "queue", "app": "printflow",
                                                      "env": "prod", "owner": "platform-team"})


@case("aws-elasticache-cache-encryption")
def _(g):
    _cache_group(g, atRestEncryptionEnabled=False)


@case("aws-elasticache-cache-multi-az")
def _(g):
    _cache_group(g, multiAzEnabled=False)


def _set_param(pg_res, name, value):
    params = [p for p in getp(pg_res, "parameters") if p["name"] != name]
    params.append({"name": name, "value": value})
    setp(pg_res, "parameters", params)


case("aws-memorydb-parameter-group-noeviction")(
    lambda g: _set_param(one(g, MEMDB_PG), "maxmemory-policy", "allkeys-lru"))
case("aws-memorydb-cluster-noeviction-parameter-group:group-evicts")(
    lambda g: _set_param(one(g, MEMDB_PG), "maxmemory-policy", "volatile-lru"))


@case("aws-memorydb-cluster-noeviction-parameter-group:default-group")
def _(g):
    c = one(g, MEMDB)
    setp(c, "parameterGroupName", "default.memorydb-valkey7")
    c.get("propertyDependencies", {}).pop("parameterGroupName", None)


@case("aws-memorydb-cluster-replicas")
def _(g):
    setp(one(g, MEMDB), "numReplicasPerShard", 0)


@case("aws-memorydb-cluster-tls")
def _(g):
    setp(one(g, MEMDB), "tlsEnabled", False)


@case("aws-memorydb-cluster-kms")
def _(g):
    delp(one(g, MEMDB), "kmsKeyArn")


@case("aws-memorydb-cluster-snapshot-retention")
def _(g):
    setp(one(g, MEMDB), "snapshotRetentionLimit", 1)


@case("aws-memorydb-cluster-acl")
def _(g):
    c = one(g, MEMDB)
    setp(c, "aclName", "open-access")
    c.get("propertyDependencies", {}).pop("aclName", None)


@case("aws-memorydb-cluster-final-snapshot")
def _(g):
    delp(one(g, MEMDB), "finalSnapshotName")
