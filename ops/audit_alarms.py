"""The audit's alarm area: every alarm exists, can notify (actions enabled, ALARM and OK actions),
heartbeats are dead-man's switches that are OK now, the composite pages, and the SNS topics the
alarms and MemoryDB events go to exist.

Alarms live where the stack created them: the region of its paging topic (a DR stack's alarms
are in the DR region), not the primary region.
"""

from __future__ import annotations

from typing import Any

from ops.aws import Clients, describe_error, error_code, is_not_implemented, region_of_arn
from ops.checks import CheckResult, check_if, fail, skip
from ops.outputs import StackOutputs

AREA = "alarms"


def _describe_alarms(cw: Any, names: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for i in range(0, len(names), 100):
        for page in cw.get_paginator("describe_alarms").paginate(
                AlarmNames=names[i:i + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
            for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                found[alarm["AlarmName"]] = alarm
    return found


def _actions_check(name: str, alarm: dict | None, check: str = "alarm-actions") -> CheckResult:
    """An alarm notifies only with actions enabled and both ALARM and OK actions set
    (CloudWatch DescribeAlarms: ActionsEnabled, AlarmActions, OKActions)."""
    if alarm is None:
        return fail(check, name, "alarm does not exist", AREA)
    missing = [k for k in ("AlarmActions", "OKActions") if not alarm.get(k)]
    problems = [f"no {' and no '.join(missing)}"] if missing else []
    if alarm.get("ActionsEnabled") is False:
        problems.insert(0, "actions disabled (ActionsEnabled=false): it notifies nobody")
    return check_if(not problems, check, name, "actions enabled, AlarmActions and OKActions set",
                    "; ".join(problems), AREA)


def _heartbeat_check(name: str, alarm: dict) -> CheckResult:
    """A heartbeat alarm is a dead-man's switch: missing data must breach, or a job that stops
    reporting never fires it; and it must be OK now (the job is reporting)."""
    missing = alarm.get("TreatMissingData", "missing")
    state = alarm.get("StateValue", "?")
    if missing != "breaching":
        return fail("heartbeat", name, f"TreatMissingData={missing}: a job that stops reporting never "
                    "fires it (must be breaching)", AREA, state=state)
    return check_if(state == "OK", "heartbeat", name, "OK (job reporting)",
                    f"dead job: heartbeat alarm in {state}", AREA, state=state)


def _topic_check(clients: Clients, label: str, arn: str) -> CheckResult:
    """The topic exists and someone confirmed a subscription (SNS ListSubscriptionsByTopic: a
    subscription still waiting for its e-mail confirmation has the ARN `PendingConfirmation`)."""
    sns = clients.get("sns", region_of_arn(arn))
    try:
        subscriptions = [s for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
                         for s in page.get("Subscriptions", [])]
    except Exception as exc:  # noqa: BLE001 - a missing topic is the finding
        if error_code(exc) in ("NotFound", "NotFoundException"):
            return fail("sns-topic", label, f"{arn} does not exist: alarms notify nobody", AREA)
        raise
    confirmed = [s for s in subscriptions if s.get("SubscriptionArn", "").startswith("arn:")]
    pending = len(subscriptions) - len(confirmed)
    return check_if(bool(confirmed), "sns-topic", label,
                    f"{arn}: {len(confirmed)} confirmed subscription(s)",
                    f"{arn} has no confirmed subscription ({pending} pending): it pages nobody", AREA)


def alarms_area(clients: Clients, out: StackOutputs) -> list[CheckResult]:
    a = out.alarms
    cw = clients.get("cloudwatch", region_of_arn(a.topic_arn))
    names = list(dict.fromkeys(a.alarm_names + a.heartbeat_alarm_names))
    found = _describe_alarms(cw, names)
    res = [_actions_check(n, found.get(n)) for n in names]
    res += [_heartbeat_check(n, found[n]) for n in a.heartbeat_alarm_names if n in found]
    res += _composite(cw, a.composite_alarm_name)
    res.append(_topic_check(clients, "alarms topic", a.topic_arn))
    if a.queue_events_topic_arn:
        res.append(_topic_check(clients, "MemoryDB events topic", a.queue_events_topic_arn))
    return res


def _composite(cw: Any, name: str | None) -> list[CheckResult]:
    if not name:
        return [skip("composite-alarm", "-", "no composite_alarm_name in outputs", AREA)]
    try:
        resp = cw.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])
    except Exception as exc:  # noqa: BLE001
        if is_not_implemented(exc):
            return [skip("composite-alarm", name, f"API not available here: {describe_error(exc)}", AREA)]
        raise
    alarm = next(iter(resp.get("CompositeAlarms", [])), None)
    return [_actions_check(name, alarm, "composite-alarm")]


