"""The offline preview's tree: components, their resources and the settings that matter."""

from __future__ import annotations

import json
from typing import Any, Optional

from tools.wire import is_wire_secret, redact

KEY_SETTINGS: dict[str, tuple[str, ...]] = {
    "aws:kms/key:Key": ("multiRegion", "enableKeyRotation", "deletionWindowInDays"),
    "aws:kms/replicaKey:ReplicaKey": ("deletionWindowInDays",),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "mapPublicIpOnLaunch"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("ingress", "egress"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("fromPort", "ipProtocol"),
    "aws:cloudwatch/logGroup:LogGroup": ("retentionInDays", "kmsKeyId"),
    "aws:ec2/flowLog:FlowLog": ("trafficType",),
    "aws:rds/parameterGroup:ParameterGroup": ("family", "parameters"),
    "aws:rds/instance:Instance": (
        "engine", "engineVersion", "instanceClass", "dbName", "multiAz", "storageEncrypted",
        "backupRetentionPeriod", "deletionProtection", "skipFinalSnapshot", "finalSnapshotIdentifier",
        "copyTagsToSnapshot", "manageMasterUserPassword", "enabledCloudwatchLogsExports",
        "performanceInsightsEnabled", "monitoringInterval", "iamDatabaseAuthenticationEnabled",
        "autoMinorVersionUpgrade", "publiclyAccessible", "allocatedStorage", "maxAllocatedStorage",
        "restoreToPointInTime"),
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": ("retentionPeriod", "kmsKeyId"),
    "aws:s3/bucket:Bucket": ("objectLockEnabled", "forceDestroy"),
    "aws:s3/bucketVersioning:BucketVersioning": ("versioningConfiguration",),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": ("rule",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": ("rules",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("rule",),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("rules",),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": ("rules",),
    "aws:memorydb/parameterGroup:ParameterGroup": ("family", "parameters"),
    "aws:memorydb/cluster:Cluster": (
        "engine", "engineVersion", "nodeType", "numShards", "numReplicasPerShard", "tlsEnabled",
        "kmsKeyArn", "snapshotRetentionLimit", "finalSnapshotName", "aclName"),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "atRestEncryptionEnabled", "transitEncryptionEnabled", "multiAzEnabled", "automaticFailoverEnabled"),
    "aws:secretsmanager/secret:Secret": ("kmsKeyId", "recoveryWindowInDays", "replicas"),
    "aws:ssm/parameter:Parameter": ("name", "type", "value", "insecureValue"),
    "aws:sns/topic:Topic": ("kmsMasterKeyId",),
    "aws:sns/topicSubscription:TopicSubscription": ("protocol",),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "namespace", "metricName", "comparisonOperator", "threshold", "treatMissingData"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": ("alarmRule",),
    "random:index/randomBytes:RandomBytes": ("length", "keepers"),
    "random:index/randomPassword:RandomPassword": ("length", "keepers"),
}


def _short(value: Any, limit: int = 140) -> str:
    if is_wire_secret(value):
        return "[secret]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = json.dumps(redact(value), separators=(",", ":"), sort_keys=True) \
        if isinstance(value, (dict, list)) else str(value)
    text = text.replace('"', "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arn_name(value: Any) -> Any:
    """ARNs are long; the tree shows their last segment."""
    if isinstance(value, str) and value.startswith("arn:aws:"):
        return "…" + value.rsplit("/", 1)[-1].rsplit(":", 1)[-1][-16:]
    return value


def _flatten(key: str, value: Any) -> list[str]:
    """Nested settings as dotted key=value pairs, so nothing is cut off."""
    if isinstance(value, dict) and not is_wire_secret(value):
        if not value:
            return [f"{key}={{}}"]
        return [pair for k, v in sorted(value.items()) for pair in _flatten(f"{key}.{k}", v)]
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return [pair for i, v in enumerate(value) for pair in _flatten(f"{key}[{i}]", v)]
    return [f"{key}={_short(_arn_name(value))}"]


def _wrap(pairs: list[str], indent: str, width: int = 118) -> list[str]:
    lines: list[str] = []
    current = ""
    for pair in pairs:
        if current and len(indent) + len(current) + 1 + len(pair) > width:
            lines.append(indent + current)
            current = pair
        else:
            current = f"{current} {pair}" if current else pair
    if current:
        lines.append(indent + current)
    return lines


def format_tree(graph: dict) -> str:
    resources = graph["resources"]
    children: dict[Optional[str], list[dict]] = {}
    for resource in resources:
        children.setdefault(resource["parent"], []).append(resource)
    root = next(r for r in resources if r["type"] == "pulumi:pulumi:Stack")
    region = graph["config"].get("aws:region")
    counts = {"custom": sum(r["custom"] for r in resources),
              "protected": sum(r["options"].get("protect", False) for r in resources)}
    lines = [f"stack {graph['stack']} (default region {region}): {counts['custom']} resources, "
             f"{counts['protected']} protected"]

    def walk(node: dict, depth: int) -> None:
        for child in children.get(node["urn"], []):
            inputs = child["inputs"]
            flags = []
            if child["options"].get("protect"):
                flags.append("protected")
            if inputs.get("region"):
                flags.append(inputs["region"])
            label = f"{'  ' * depth}{'■' if not child['custom'] else '-'} {child['type'].rsplit(':', 1)[-1]} {child['name']}"
            if flags:
                label += f" [{', '.join(flags)}]"
            lines.append(label)
            keys = KEY_SETTINGS.get(child["type"], ())
            settings = [pair for k in keys if k in inputs for pair in _flatten(k, inputs[k])]
            if "tags" in inputs and isinstance(inputs["tags"], dict) and "data-tier" in inputs["tags"]:
                settings.append(f"data-tier={inputs['tags']['data-tier']}")
            lines.extend(_wrap(settings, f"{'  ' * depth}    "))
            walk(child, depth + 1)

    walk(root, 1)
    lines.append("  outputs: " + ", ".join(sorted(graph["outputs"])))
    return "\n".join(lines)
