"""Policy cases: alarms."""

from __future__ import annotations

from tests.policies.cases.registry import case
from tests.policies.graphs import (
    ALARM, TOPIC, delp, drop, find, one, setp,
)


def _alarm(g, metric):
    return one(g, ALARM, lambda r: r["inputs"].get("metricName") == metric)


@case("aws-cloudwatch-alarm-actions")
def _(g):
    setp(_alarm(g, "CPUUtilization"), "okActions", [])


@case("aws-sns-topic-kms-encrypted")
def _(g):
    delp(one(g, TOPIC, lambda r: r["name"].endswith("-topic")), "kmsMasterKeyId")


@case("aws-memorydb-cluster-events-topic")
def _(g):
    """An encrypted events topic: MemoryDB could not publish there."""
    setp(one(g, TOPIC, lambda r: r["name"].endswith("-queue-events")), "kmsMasterKeyId",
         "arn:aws:kms:us-east-1:123456789012:key/alarms")


@case("printflow-heartbeat-alarm-missing-data-breaching")
def _(g):
    setp(_alarm(g, "NightlyLogicalDump"), "treatMissingData", "notBreaching")


@case("printflow-required-alarms")
def _(g):
    drop(g, *[a for a in find(g, ALARM) if a["inputs"].get("metricName") == "CPUUtilization"
              and a["inputs"].get("namespace") == "AWS/RDS"])


@case("printflow-backup-heartbeat-alarm")
def _(g):
    drop(g, *find(g, ALARM, lambda r: r["inputs"].get("metricName") == "NightlyLogicalDump"))
