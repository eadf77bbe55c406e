"""CloudWatch alarms and MemoryDB events that page a human, through SNS."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from .base import InputStr, account_id, child_options, policy_document
from .config import AlarmThresholds

HEARTBEAT_NAMESPACE = "Printflow/Heartbeats"
QUEUE_NAMESPACE = "Printflow/Queues"
# metric -> (alarm slug, period seconds, evaluation periods): the beat each job keeps. The nightly
# dump's window comes from config (alarms.thresholds.nightly_dump_*).
HEARTBEATS = {
    "NightlyLogicalDump": ("nightly-dump", None, None),
    "SchedulerHeartbeat": ("scheduler", 300, 2),
    "PdfWorkerHeartbeat": ("pdf-worker", 300, 2),
}


@dataclass(frozen=True)
class ReplicationTarget:
    source_bucket: InputStr
    """The print-file bucket that replicates."""
    destination_bucket: InputStr
    """Its replica in the DR region."""
    rule_id: str
    """The replication rule's id (a CloudWatch dimension)."""


@dataclass(frozen=True)
class PagingTopicArgs:
    name_prefix: str
    """The stack's name prefix (printflow-<env>[-dr]); physical names start with it."""
    region: str
    """The AWS region the resources are created in."""
    kms_key_arn: InputStr
    """Encrypts the alarm topic."""
    email_endpoints: tuple[str, ...] = ()
    """E-mail addresses subscribed to both topics."""
    https_endpoints: tuple[pulumi.Input[str], ...] = ()
    """Pager webhooks; secret (the URL carries the integration key)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""


class PagingTopic(pulumi.ComponentResource):
    """The SNS topics that reach a human, both subscribed by the same endpoints.

    Alarms publish to an encrypted topic. MemoryDB cannot publish events to a KMS-encrypted topic
    (MemoryDB guide, "Event notifications and Amazon SNS"), so its events get a topic of their own,
    unencrypted (events carry no data) and writable only by MemoryDB in this account.
    """

    def __init__(self, name: str, args: PagingTopicArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:observability:PagingTopic", name, None, opts)
        r = args.region
        alarm_topic = aws.sns.Topic(f"{name}-topic", region=r, name=f"{args.name_prefix}-alarms",
                                    kms_master_key_id=args.kms_key_arn, tags=args.tags,
                                    opts=child_options(self))
        events_topic = aws.sns.Topic(
            f"{name}-queue-events", region=r, name=f"{args.name_prefix}-queue-events",
            tags={**args.tags, "purpose": "memorydb-events"}, opts=child_options(self))
        aws.sns.TopicPolicy(f"{name}-queue-events", region=r, arn=events_topic.arn,
                            policy=_memorydb_publishes(events_topic.arn),
                            opts=child_options(self))
        subscribers = [("email", e) for e in args.email_endpoints] + \
                      [("https", pulumi.Output.secret(u)) for u in args.https_endpoints]
        for slug, topic in (("", alarm_topic), ("-events", events_topic)):
            for index, (protocol, endpoint) in enumerate(subscribers):
                aws.sns.TopicSubscription(f"{name}{slug}-{protocol}-{index}", region=r, topic=topic.arn,
                                          protocol=protocol, endpoint=endpoint,
                                          endpoint_auto_confirms=protocol == "https",
                                          opts=child_options(self))
        self.topic_arn, self.queue_events_topic_arn = alarm_topic.arn, events_topic.arn
        self.register_outputs({"topic_arn": self.topic_arn, "queue_events_topic_arn": self.queue_events_topic_arn})


def _memorydb_publishes(topic_arn: pulumi.Output[str]) -> pulumi.Output[str]:
    """Only MemoryDB, on behalf of this account, may publish (confused-deputy condition)."""
    return policy_document({
        "Sid": "MemoryDBPublishesEvents", "Effect": "Allow",
        "Principal": {"Service": "memorydb.amazonaws.com"}, "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id()}}})


@dataclass(frozen=True)
class AlarmArgs:
    thresholds: AlarmThresholds
    """The alarm thresholds (config alarms.thresholds)."""
    environment: str
    """The Environment dimension the apps' heartbeat and queue metrics carry."""
    name_prefix: str
    """The stack's name prefix (printflow-<env>[-dr]); physical names start with it."""
    region: str
    """The AWS region the resources are created in."""
    topic_arn: InputStr
    """The paging topic every alarm notifies, on ALARM and on OK."""
    database_id: Optional[InputStr] = None
    """The RDS instance identifier, or None for no database alarms."""
    database_has_replica: bool = False
    """Alarm on read-replica lag too."""
    queue_cluster_name: Optional[InputStr] = None
    """The MemoryDB cluster, or None for no queue-store alarms."""
    queue_node_count: int = 0
    """Nodes of the queue store (primary and replicas), alarmed one by one."""
    replication: Optional[ReplicationTarget] = None
    """The print-file replication to alarm on (primary stacks only)."""
    heartbeats: bool = True
    """Dead-man's switches for the scheduler, the pdf worker and the nightly dump. A DR drill has
    none: its apps send no heartbeats, and a drill must not page anyone for what it is expected
    to lack."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""


@dataclass(frozen=True)
class _Spec:
    slug: str
    description: str
    namespace: str
    metric: str
    statistic: str
    comparison: str
    threshold: float
    dimensions: dict
    period: int = 300
    evaluation_periods: int = 3
    treat_missing_data: str = "missing"
    critical: bool = False


class PlatformAlarms(pulumi.ComponentResource):
    """Every alarm notifies on ALARM and on OK; the composite pages for the critical ones."""

    def __init__(self, name: str, args: AlarmArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:observability:PlatformAlarms", name, None, opts)
        r = args.region
        actions = [args.topic_arn]
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        critical: list[str] = []
        for spec in self._specs(args):
            alarm_name = f"{args.name_prefix}-{spec.slug}"
            self.alarms[alarm_name] = aws.cloudwatch.MetricAlarm(
                f"{name}-{spec.slug}", region=r, name=alarm_name, alarm_description=spec.description,
                namespace=spec.namespace, metric_name=spec.metric, statistic=spec.statistic,
                comparison_operator=spec.comparison, threshold=spec.threshold,
                dimensions=spec.dimensions, period=spec.period,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.evaluation_periods,
                treat_missing_data=spec.treat_missing_data,
                alarm_actions=actions, ok_actions=actions,
                insufficient_data_actions=actions if spec.treat_missing_data == "breaching" else [],
                tags=args.tags, opts=child_options(self))
            if spec.critical:
                critical.append(alarm_name)
        self.heartbeat_alarm_names = [n for n in self.alarms if n.endswith("-heartbeat")]
        self.composite_name = f"{args.name_prefix}-platform-critical"
        self.composite = aws.cloudwatch.CompositeAlarm(
            f"{name}-platform-critical", region=r, alarm_name=self.composite_name,
            alarm_description="Platform critical: data at risk or paid jobs stuck. Page the on-call.",
            alarm_rule=" OR ".join(f'ALARM("{n}")' for n in critical),
            actions_enabled=True, alarm_actions=actions, ok_actions=actions,
            tags=args.tags,
            opts=child_options(self, depends_on=[self.alarms[n] for n in critical]))
        self.alarm_names = sorted(self.alarms)
        self.register_outputs({"alarm_names": self.alarm_names})

    @staticmethod
    def _specs(args: AlarmArgs) -> list[_Spec]:
        t = args.thresholds
        specs: list[_Spec] = []
        gt, lt = "GreaterThanThreshold", "LessThanThreshold"
        if args.database_id is not None:
            db = {"DBInstanceIdentifier": args.database_id}
            specs += [
                _Spec("rds-cpu", "PostgreSQL CPU high", "AWS/RDS", "CPUUtilization", "Average", gt,
                      t.rds_cpu_percent, db),
                _Spec("rds-freeable-memory", "PostgreSQL memory low", "AWS/RDS", "FreeableMemory",
                      "Average", lt, t.rds_freeable_memory_bytes, db),
                _Spec("rds-free-storage", "PostgreSQL storage low: writes stop when it is full",
                      "AWS/RDS", "FreeStorageSpace", "Minimum", lt, t.rds_free_storage_bytes, db,
                      critical=True),
                _Spec("rds-connections", "PostgreSQL connections near the limit", "AWS/RDS",
                      "DatabaseConnections", "Maximum", gt, t.rds_connections, db),
            ]
            if args.database_has_replica:
                specs.append(_Spec("rds-replica-lag", "Read replica lagging", "AWS/RDS", "ReplicaLag",
                                   "Maximum", gt, t.rds_replica_lag_seconds, db))
        if args.queue_cluster_name is not None:
            for node in range(1, args.queue_node_count + 1):
                dims = {"ClusterName": args.queue_cluster_name,
                        "NodeName": pulumi.Output.concat(args.queue_cluster_name, f"-0001-{node:03d}")}
                specs += [
                    _Spec(f"queue-memory-node{node}",
                          "Queue store memory high: with noeviction a full store rejects new jobs",
                          "AWS/MemoryDB", "DatabaseMemoryUsagePercentage", "Maximum", gt,
                          t.queue_memory_percent, dims, evaluation_periods=2, critical=True),
                    _Spec(f"queue-engine-cpu-node{node}", "Queue store engine CPU high", "AWS/MemoryDB",
                          "EngineCPUUtilization", "Average", gt, t.queue_engine_cpu_percent, dims),
                    _Spec(f"queue-connections-node{node}", "Queue store connections high",
                          "AWS/MemoryDB", "CurrConnections", "Maximum", gt, t.queue_connections, dims),
                ]
        if args.replication is not None:
            rep = args.replication
            dims = {"SourceBucket": rep.source_bucket, "DestinationBucket": rep.destination_bucket,
                    "RuleId": rep.rule_id}
            specs += [
                _Spec("print-replication-latency", "Print files reach the DR region late (RTC 15 min)",
                      "AWS/S3", "ReplicationLatency", "Maximum", gt, t.replication_latency_seconds, dims,
                      period=300, evaluation_periods=3, treat_missing_data="ignore"),
                _Spec("print-replication-failed", "Print-file replication failed: DR copy missing",
                      "AWS/S3", "OperationsFailedReplication", "Sum", gt, 0, dims,
                      period=300, evaluation_periods=1, treat_missing_data="ignore", critical=True),
            ]
        env = {"Environment": args.environment}
        for metric, (slug, period, periods) in HEARTBEATS.items() if args.heartbeats else ():
            period = period or t.nightly_dump_period_seconds
            periods = periods or t.nightly_dump_periods
            specs.append(_Spec(f"{slug}-heartbeat", f"Dead man's switch: no {metric} beat",
                               HEARTBEAT_NAMESPACE, metric, "Sum", lt, 1, env, period=period,
                               evaluation_periods=periods, treat_missing_data="breaching",
                               critical=True))
        specs += [
            _Spec("print-queue-oldest-job", "Print-file jobs waiting too long: paid customers wait",
                  QUEUE_NAMESPACE, "PrintFileQueueOldestJobAgeSeconds", "Maximum", gt,
                  t.print_queue_oldest_job_seconds, env, period=60, evaluation_periods=2, critical=True),
            _Spec("failed-jobs", "Failed queue jobs: a paid order may be stuck", QUEUE_NAMESPACE,
                  "FailedJobs", "Sum", gt, t.failed_jobs, env, period=300, evaluation_periods=1,
                  treat_missing_data="notBreaching", critical=True),
        ]
        return specs
