"""Offline preview: run the real program with the real stack files under Pulumi's mock runtime.

    python -m tools.render                      # prod and dr: a tree of components and settings
    python -m tools.render --stack prod --graph out/prod.json   # the full resource graph
    python -m tools.render --mermaid            # components and their data flows

No Pulumi CLI, provider plugin or AWS account is needed: the engine and provider are replaced by
tools.mocks, so this shows what the program registers, not what AWS would do with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import runpy
import sys
from pathlib import Path
from typing import Any, Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "printflow"
STACKS = ("prod", "dr")
GRAPH_FORMAT = "printflow-resource-graph/1"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


class RenderError(Exception):
    """The stack could not be rendered; the message is for the user."""


# ----------------------------------------------------------------------------- config
def _config_string(value: Any) -> str:
    """As the CLI hands config to a program: strings, with objects and lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def stack_config(stack: str, root: Optional[Path] = None) -> dict[str, str]:
    path = (root or ROOT) / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise RenderError(f"No stack file {path.name}; stacks here: "
                          + ", ".join(sorted(p.name for p in (root or ROOT).glob("Pulumi.*.yaml"))))
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise RenderError(f"{path.name} is not valid YAML: {exc}") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise RenderError(f"{path.name} needs a top-level 'config:' mapping")
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value:
            raise RenderError(f"{path.name}: {key} is an encrypted secret; this project keeps no "
                              "secrets in stack files (the program generates them)")
    return {str(k): _config_string(v) for k, v in config.items()}


def unwrap(value: Any) -> Any:
    """Wire-format value -> plain value (secrets revealed; only for mock data)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


# ----------------------------------------------------------------------------- rendering
def run_program(stack: str, config: dict[str, str], references: dict[str, dict],
                monitor: Optional["RecordingMonitor"] = None) -> "RecordingMonitor":
    """Run __main__.py under the mocks; the monitor holds what it registered."""
    import pulumi
    from pulumi.runtime import settings as runtime_settings
    from pulumi.runtime.stack import run_in_stack

    from tools.mocks import PlatformMocks, RecordingMonitor

    mocks = PlatformMocks(default_region=config.get("aws:region", "us-east-1"), stack_references=references)
    monitor = monitor or RecordingMonitor(mocks)
    monitor.mocks = mocks
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
        pulumi.runtime.set_all_config(config)
        runtime_settings.ROOT.set(None)  # run_in_stack creates the root Stack that holds exports
        program = str(ROOT / "__main__.py")
        loop.run_until_complete(run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return monitor


def render_stack(stack: str, references: Optional[dict[str, dict]] = None,
                 config: Optional[dict[str, str]] = None) -> dict:
    """Render one stack into a resource graph (see docs/contracts.md)."""
    from components.config import ConfigError, load_settings

    config = stack_config(stack) if config is None else config
    try:
        settings = load_settings(config, stack)
    except ConfigError as exc:
        raise RenderError(str(exc)) from None
    if references is None and settings.dr and settings.dr.primary_stack:
        primary = render_stack(settings.dr.primary_stack.rsplit("/", 1)[-1])
        references = {settings.dr.primary_stack: unwrap(primary["outputs"])}
    monitor = run_program(stack, config, references or {})
    resources = [r.to_json() for r in monitor.registrations.values()]
    return {"format": GRAPH_FORMAT, "project": PROJECT, "stack": stack, "config": config,
            "outputs": monitor.stack_outputs, "resources": resources}


def render_stacks(stacks: tuple[str, ...] = STACKS) -> dict[str, dict]:
    """Render stacks in order; a DR stack reads the already rendered prod outputs."""
    graphs: dict[str, dict] = {}
    for stack in stacks:
        references = {f"{PROJECT}/{PROJECT}/{name}": unwrap(g["outputs"]) for name, g in graphs.items()}
        graphs[stack] = render_stack(stack, references=references or None)
    return graphs


# ----------------------------------------------------------------------------- tree view
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
    if isinstance(value, dict) and value.get(SECRET_SIG):
        return "[secret]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = json.dumps(unwrap_redacted(value), separators=(",", ":"), sort_keys=True) \
        if isinstance(value, (dict, list)) else str(value)
    text = text.replace('"', "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unwrap_redacted(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SECRET_SIG):
            return "[secret]"
        return {k: unwrap_redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_redacted(v) for v in value]
    return value


def _arn_name(value: Any) -> Any:
    """ARNs are long; the tree shows their last segment."""
    if isinstance(value, str) and value.startswith("arn:aws:"):
        return "…" + value.rsplit("/", 1)[-1].rsplit(":", 1)[-1][-16:]
    return value


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
            settings = [f"{k}={_short(_arn_name(inputs[k]))}" for k in keys if k in inputs]
            if "tags" in inputs and isinstance(inputs["tags"], dict) and "data-tier" in inputs["tags"]:
                settings.append(f"data-tier={inputs['tags']['data-tier']}")
            if settings:
                lines.append(f"{'  ' * depth}    " + " ".join(settings))
            walk(child, depth + 1)

    walk(root, 1)
    lines.append("  outputs: " + ", ".join(sorted(graph["outputs"])))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- mermaid
def _component_of(urn: str, by_urn: dict[str, dict]) -> Optional[dict]:
    """The nearest ancestor component below the stack (or the resource itself)."""
    node = by_urn.get(urn)
    while node is not None and node["custom"]:
        node = by_urn.get(node["parent"])
    if node is None or node["type"] == "pulumi:pulumi:Stack":
        return None
    return node


def _node_id(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def format_mermaid(graphs: dict[str, dict]) -> str:
    """Components (per stack and region) and the data flows between them, from the graphs."""
    lines = ["flowchart LR"]
    for stack, graph in graphs.items():
        by_urn = {r["urn"]: r for r in graph["resources"]}
        components = [r for r in graph["resources"] if not r["custom"] and r["type"] != "pulumi:pulumi:Stack"]
        lines.append(f"  subgraph {_node_id(stack)}[\"stack {stack}\"]")
        for component in components:
            regions = sorted({r["inputs"].get("region") for r in graph["resources"]
                              if r["custom"] and _component_of(r["urn"], by_urn) is component
                              and r["inputs"].get("region")})
            label = f"{component['type'].rsplit(':', 1)[-1]}<br/>{component['name']}"
            if regions:
                label += "<br/>" + ", ".join(regions)
            lines.append(f"    {_node_id(stack + '_' + component['name'])}[\"{label}\"]")
        lines.append("  end")
        edges: dict[tuple[str, str], set[str]] = {}
        for resource in graph["resources"]:
            target = _component_of(resource["urn"], by_urn)
            if target is None:
                continue
            for prop, deps in resource["propertyDependencies"].items():
                for dep in deps:
                    source = _component_of(dep, by_urn)
                    if source is None or source is target or by_urn.get(source["parent"]) is target \
                            or by_urn.get(target["parent"]) is source:
                        continue
                    edges.setdefault((source["name"], target["name"]), set()).add(prop)
        for (source, target), props in sorted(edges.items()):
            label = ", ".join(sorted(props)[:3])
            lines.append(f"  {_node_id(stack + '_' + source)} -->|{label}| {_node_id(stack + '_' + target)}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- CLI
def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.render", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", action="append", choices=STACKS,
                        help="stack to render (repeatable; default: prod and dr)")
    parser.add_argument("--graph", metavar="FILE",
                        help="write the resource graph JSON (one stack: the graph; several: {stack: graph})")
    parser.add_argument("--mermaid", action="store_true", help="print the Mermaid component diagram")
    parser.add_argument("--quiet", action="store_true", help="no tree output")
    args = parser.parse_args(argv)
    stacks = tuple(args.stack) if args.stack else STACKS
    try:
        graphs = render_stacks(stacks)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.graph:
        path = Path(args.graph)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = graphs[stacks[0]] if len(stacks) == 1 else graphs
        path.write_text(json.dumps(payload, indent=1, sort_keys=True))
    if args.mermaid:
        print(format_mermaid(graphs), end="")
    elif not args.quiet:
        for graph in graphs.values():
            print(format_tree(graph))
            print()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
