"""QueueStore and Cache built alone: a durable, noeviction queue store and an evicting cache."""

from __future__ import annotations

from components.cache import Cache, CacheArgs
from components.queue_store import QUEUE_ACCESS_STRING, QueueStore, QueueStoreArgs
from tests.components.conftest import KEY, TAGS

TOPIC = "arn:aws:sns:us-east-1:123456789012:unit-queue-events"


def _queue(keep_final_snapshot: bool) -> QueueStore:
    return QueueStore("unit-queue", QueueStoreArgs(
        region="us-east-1", engine="valkey", engine_version="7.2", node_type="db.t4g.small",
        replicas_per_shard=1, snapshot_retention_days=7, snapshot_window="04:00-05:00",
        user_name="unit-app", subnet_group_name="q",
        security_group_ids=["sg-1"], kms_key_arn=KEY, secrets_kms_key_arn=KEY, events_topic_arn=TOPIC,
        protect=keep_final_snapshot, keep_final_snapshot=keep_final_snapshot, recovery_window_days=7,
        tags=TAGS))


def test_queue_store_never_evicts_and_keeps_a_final_snapshot(build):
    graph = build(lambda: _queue(True))
    params = graph.one("aws:memorydb/parameterGroup:ParameterGroup").inputs["parameters"]
    assert params == [{"name": "maxmemory-policy", "value": "noeviction"}]
    cluster = graph.one("aws:memorydb/cluster:Cluster").inputs
    assert cluster["name"] == "unit-queue" and cluster["snsTopicArn"] == TOPIC
    assert cluster["finalSnapshotName"].startswith("unit-queue-final-")
    assert graph.one("aws:memorydb/user:User").inputs["accessString"] == QUEUE_ACCESS_STRING
    assert not graph.one("aws:secretsmanager/secret:Secret").inputs.get("replicas")


def test_a_disposable_queue_store_has_no_final_snapshot(build):
    graph = build(lambda: _queue(False))
    assert "finalSnapshotName" not in graph.one("aws:memorydb/cluster:Cluster").inputs


def test_the_cache_evicts_and_is_separate(build):
    graph = build(lambda: Cache("unit-cache", CacheArgs(
        region="us-east-1", node_type="cache.t4g.small", replicas=1, subnet_group_name="c",
        security_group_ids=["sg-1"], kms_key_arn=KEY, protect=False, tags=TAGS)))
    params = graph.one("aws:elasticache/parameterGroup:ParameterGroup").inputs["parameters"]
    assert params == [{"name": "maxmemory-policy", "value": "allkeys-lru"}]
    assert graph.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs["tags"]["purpose"] == "cache"
