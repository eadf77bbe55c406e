"""PagingTopic and PlatformAlarms built alone."""

from __future__ import annotations

from components.alarms import AlarmArgs, PagingTopic, PagingTopicArgs, PlatformAlarms
from components.config import AlarmThresholds
from tests.components.conftest import KEY, TAGS
from tools.wire import is_wire_secret


def test_both_topics_reach_the_same_people_and_the_pager_url_stays_secret(build):
    graph = build(lambda: PagingTopic("unit-paging", PagingTopicArgs(
        name_prefix="unit", region="us-east-1", kms_key_arn=KEY, email_endpoints=("ops@unit.example",),
        https_endpoints=("https://pager.unit.example/x",), tags=TAGS)))
    subs = graph.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert len(subs) == 4
    assert all(is_wire_secret(s.wire_inputs["endpoint"]) for s in subs if s.inputs["protocol"] == "https")
    encrypted = {t.name: bool(t.inputs.get("kmsMasterKeyId")) for t in graph.of_type("aws:sns/topic:Topic")}
    assert encrypted == {"unit-paging-topic": True, "unit-paging-queue-events": False}


def test_heartbeats_are_dead_mans_switches(build):
    graph = build(lambda: PlatformAlarms("unit-alarms", AlarmArgs(
        thresholds=AlarmThresholds(), environment="staging", name_prefix="unit", region="us-east-1",
        topic_arn="arn:aws:sns:us-east-1:123456789012:unit-alarms", tags=TAGS)))
    heartbeats = [a for a in graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.name.endswith("-heartbeat")]
    assert len(heartbeats) == 3 and all(a.inputs["treatMissingData"] == "breaching" for a in heartbeats)
    assert graph.one("aws:cloudwatch/compositeAlarm:CompositeAlarm").inputs["alarmRule"]
