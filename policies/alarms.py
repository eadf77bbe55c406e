"""CloudWatch alarm and SNS policies."""

from __future__ import annotations

from pack_common import UNKNOWN, About, Rules, as_list, get, items, label, one, truthy

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
TOPIC = "aws:sns/topic:Topic"
MEMORYDB_CLUSTER = "aws:memorydb/cluster:Cluster"
HEARTBEAT_NAMESPACE = "Printflow/Heartbeats"

# which resource type makes a required metric alarm applicable outside the prod stack
SERVICE_OF_NAMESPACE = {
    "AWS/RDS": ["aws:rds/instance:Instance"],
    "AWS/MemoryDB": ["aws:memorydb/cluster:Cluster"],
    "AWS/S3": ["aws:s3/bucketReplicationConfig:BucketReplicationConfig"],
}


GUIDE = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
rules = Rules()


def alarm_metrics(props):
    """(namespace, metricName) pairs an alarm watches, including metric-math queries; a pair
    with a value not known yet is UNKNOWN in it."""
    out = []
    ns, mn = get(props, "namespace"), get(props, "metricName")
    if isinstance(mn, str) or mn is UNKNOWN:
        out.append((ns if isinstance(ns, str) or ns is UNKNOWN else None, mn))
    for q in items(get(props, "metricQueries")):
        m = one(get(q, "metric"))
        qn, qm = get(m, "namespace"), get(m, "metricName")
        if isinstance(qm, str) or qm is UNKNOWN:
            out.append((qn if isinstance(qn, str) or qn is UNKNOWN else None, qm))
    return out


def watched_metrics(stack) -> tuple:
    """The (namespace, metric) pairs the stack's alarms watch, and whether some alarm's metric
    is not known yet (then a missing one cannot be judged until `pulumi up`)."""
    watched, unknown = set(), False
    for a in stack.of(METRIC_ALARM):
        for pair in alarm_metrics(a.props):
            unknown |= UNKNOWN in pair
            watched.add(pair)
    return watched, unknown


@rules.resource("aws-cloudwatch-alarm-actions", [METRIC_ALARM, COMPOSITE_ALARM],
                About("high", "operations", GUIDE + "AlarmThatSendsEmail.html"))
def _actions(args, ctx, report):
    """Every CloudWatch alarm notifies on ALARM and on OK."""
    kind = "composite alarm" if args.resource_type == COMPOSITE_ALARM else "alarm"
    enabled = get(args.props, "actionsEnabled")
    if enabled is not UNKNOWN and enabled is not None and not truthy(enabled):
        report(f"CloudWatch {kind} '{args.name}' has actions_enabled=False, so nobody is told "
               "when it fires. Remove actions_enabled or set it to True.")
    missing = []
    for key, shown in (("alarmActions", "alarm_actions"), ("okActions", "ok_actions")):
        v = get(args.props, key)
        if v is UNKNOWN:
            continue
        if not [a for a in as_list(v) if a]:
            missing.append(shown)
    if missing:
        report(f"CloudWatch {kind} '{args.name}' has no {' and no '.join(missing)}. Point both "
               "at the alarms SNS topic so on-call hears when it fires and when it recovers.")


@rules.stack("aws-sns-topic-kms-encrypted",
             About("medium", "security", "https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html"))
def _topic_kms(stack, ctx, report):
    """SNS topics are encrypted with a customer-managed KMS key, except the topic MemoryDB publishes
    its events to (it cannot publish to an encrypted one).
    """
    for topic in stack.of(TOPIC):
        v = get(topic.props, "kmsMasterKeyId")
        if v is UNKNOWN or v:
            continue
        if stack.referencing(topic, "snsTopicArn", MEMORYDB_CLUSTER):
            continue  # MemoryDB cannot publish to an encrypted topic (aws-memorydb-cluster-events-topic)
        report(f"SNS topic {label(topic)} is not encrypted. Set kms_master_key_id to the alarms "
               "customer-managed KMS key (its policy must let CloudWatch use it). Only a topic "
               "that MemoryDB publishes events to stays unencrypted.", topic.urn)


@rules.resource("printflow-heartbeat-alarm-missing-data-breaching", [METRIC_ALARM],
                About("high", "operations", GUIDE + "alarms-and-missing-data.html"))
def _heartbeat_breaching(args, ctx, report):
    """Alarms on Printflow/Heartbeats metrics treat missing data as breaching."""
    metrics = alarm_metrics(args.props)
    if not any(ns == HEARTBEAT_NAMESPACE for ns, _ in metrics):
        return
    tmd = get(args.props, "treatMissingData")
    if tmd is UNKNOWN:
        return
    if tmd != "breaching":
        report(f"Heartbeat alarm '{args.name}' treats missing data as '{tmd or 'missing'}'; a job "
               "that stops running publishes nothing, so the alarm would never fire. Set "
               "treat_missing_data='breaching'.")


@rules.stack("printflow-required-alarms",
             About("high", "operations", GUIDE + "AlarmThatSendsEmail.html"),
             config={"requiredMetrics": {
                        "type": "array", "items": {"type": "string"},
                        "default": ["AWS/RDS:FreeStorageSpace", "AWS/RDS:CPUUtilization",
                                    "AWS/MemoryDB:DatabaseMemoryUsagePercentage",
                                    "AWS/S3:OperationsFailedReplication"],
                        "description": "namespace:metric pairs that need an alarm. Outside prod a "
                                       "pair applies only if the stack has that service."}})
def _required(stack, ctx, report):
    """The stack alarms on RDS storage and CPU, MemoryDB memory and failed S3 replication."""
    watched, unknown = watched_metrics(stack)
    for entry in ctx["requiredMetrics"] or []:
        ns, _, mn = str(entry).partition(":")
        if not ctx.is_prod and not stack.of(*SERVICE_OF_NAMESPACE.get(ns, [])):
            continue
        if (ns, mn) not in watched and not unknown:
            report(f"No CloudWatch alarm watches {ns} {mn}. Add an aws.cloudwatch.MetricAlarm "
                   f"on namespace {ns}, metric {mn}, with alarm and OK actions on the alarms "
                   "topic.", None)


@rules.stack("printflow-backup-heartbeat-alarm",
             About("high", "reliability", GUIDE + "alarms-and-missing-data.html"),
             production_only=True,
             config={"metricName": {"type": "string", "default": "NightlyLogicalDump",
                                    "description": "The backup heartbeat metric."}})
def _backup_heartbeat(stack, ctx, report):
    """A heartbeat alarm on NightlyLogicalDump treats missing data as breaching."""
    metric = ctx["metricName"]
    alarms = [a for a in stack.of(METRIC_ALARM)
              if any(mn == metric for _, mn in alarm_metrics(a.props))]
    if not alarms and watched_metrics(stack)[1]:
        return  # some alarm's metric is not known yet: judged at `pulumi up`
    if not alarms:
        report(f"No heartbeat alarm watches the {metric} metric ({HEARTBEAT_NAMESPACE}), so a "
               "nightly logical dump that silently stops running goes unnoticed. Add a "
               f"MetricAlarm on {metric} with treat_missing_data='breaching'.", None)
        return
    if not any(get(a.props, "treatMissingData") in ("breaching", UNKNOWN) for a in alarms):
        report(f"The {metric} heartbeat alarm {label(alarms[0])} does not treat missing data as "
               "breaching, so a dump that stops running never alarms. Set "
               "treat_missing_data='breaching'.", alarms[0].urn)


POLICIES = rules.policies
