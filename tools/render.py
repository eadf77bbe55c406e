"""Offline preview: run the real program with the real stack files under Pulumi's mock runtime.

    python -m tools.render                      # prod, dr and staging: components and settings
    python -m tools.render --preview-mode       # as a first `pulumi preview`: computed outputs unknown
    python -m tools.render --stack prod --graph out/prod.json   # the full resource graph
    python -m tools.render --mermaid            # components and their data flows

No Pulumi CLI, provider plugin or AWS account is needed: the engine and provider are replaced by
tools.mocks, so this shows what the program registers, not what AWS would do with it.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import functools
import json
import os
import runpy
import signal
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

import yaml

from components.config import shown
from tools.lifetime import die_with_parent, track, untrack
from tools.wire import GRAPH_FORMAT, is_secret, redact, unwrap

if TYPE_CHECKING:
    from tools.mocks import RecordingMonitor

ROOT = Path(__file__).resolve().parent.parent
STACK_DIR = ROOT  # where Pulumi.<stack>.yaml files are read from
PROJECT = "printflow"
STACKS = ("prod", "dr", "staging")
ALL_STACKS = ("prod", "dr", "staging", "staging-dr")
ORGANIZATION = "organization"
"""What `pulumi.get_organization()` returns offline: the name a DIY backend reports."""


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
    """The stack's config as the CLI would hand it to the program (see stack_config_with_secrets)."""
    return stack_config_with_secrets(stack, root)[0]


def stack_config_with_secrets(stack: str, root: Optional[Path] = None) -> tuple[dict[str, str], tuple[str, ...]]:
    """Config strings and secret keys, after the CLI's own checks against Pulumi.yaml
    (tools.cli_config): a stack file the CLI would refuse is refused here."""
    from tools.cli_config import CliConfigError, apply_project_config, load_project

    directory = root or STACK_DIR
    path = directory / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise RenderError(f"No stack file {path.name}; stacks here: "
                          + ", ".join(sorted(p.name for p in directory.glob("Pulumi.*.yaml"))))
    document = read_stack_file(path)
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise RenderError(f"{path.name} needs a top-level 'config:' mapping")
    project_file = directory / "Pulumi.yaml"
    project, declared = load_project(project_file if project_file.exists() else ROOT / "Pulumi.yaml")
    try:
        applied = apply_project_config(stack, project, declared, config)
    except CliConfigError as exc:
        raise RenderError(f"{path.name}: the Pulumi CLI would refuse this stack: {exc}") from None
    return {str(k): _config_string(v) for k, v in applied.values.items()}, applied.secret_keys


MAX_DEPTH = 32
"""Deeper nesting than any setting needs; a deeper document is refused, not recursed into."""


class _StackFileLoader(yaml.SafeLoader):
    """Reads a stack file as the Pulumi CLI does (Go yaml.v3): a key given twice is an error, not
    'the last one wins', and a timestamp stays the text it is."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{shown(key)}' is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StackFileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _depth(value: Any, limit: int) -> int:
    stack, deepest = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def read_stack_file(path: Path) -> Any:
    """The stack file's YAML, or RenderError naming the file and what is wrong. (Parsed once per
    version of the file: a render reads each stack file several times.)"""
    try:
        stat = path.stat()
    except OSError as exc:
        raise RenderError(f"cannot read {path.name}: {exc.strerror}") from None
    return copy.deepcopy(_parse_stack_file(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=64)
def _parse_stack_file(path: Path, _mtime_ns: int, _size: int) -> Any:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RenderError(f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise RenderError(f"cannot read {path.name}: {exc.strerror}") from None
    try:
        document = yaml.load(text, Loader=_StackFileLoader) or {}
    except yaml.YAMLError as exc:
        raise RenderError(f"{path.name} is not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise RenderError(f"{path.name} is nested too deeply (more than {MAX_DEPTH} levels)") from None
    if _depth(document, MAX_DEPTH) > MAX_DEPTH:
        raise RenderError(f"{path.name} is nested too deeply (more than {MAX_DEPTH} levels)")
    return document


# ----------------------------------------------------------------------------- rendering
def run_program(stack: str, config: dict[str, str], references: Mapping[str, dict],
                monitor: Optional["RecordingMonitor"] = None, secret_keys: tuple[str, ...] = (),
                preview: bool = False) -> "RecordingMonitor":
    """Run __main__.py under the mocks; the monitor holds what it registered. `preview` runs it as
    a first `pulumi preview` sees it: the outputs AWS computes are unknown."""
    import pulumi
    from pulumi.runtime import settings as runtime_settings
    from pulumi.runtime.stack import run_in_stack

    from tools.mocks import PlatformMocks, RecordingMonitor, skip_source_positions

    skip_source_positions()
    mocks = PlatformMocks(default_region=config.get("aws:region", "us-east-1"), stack_references=references,
                          preview=preview)
    monitor = monitor or RecordingMonitor(mocks)
    monitor.mocks = mocks
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor,
                                 organization=ORGANIZATION)
        pulumi.runtime.set_all_config(config, list(secret_keys))
        runtime_settings.ROOT.set(None)  # run_in_stack creates the root Stack that holds exports
        program = str(ROOT / "__main__.py")
        loop.run_until_complete(run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return monitor


def _validated(stack: str, config: dict[str, str], secret_keys: tuple[str, ...] = ()):
    from components.config import ConfigError, load_settings

    try:
        return load_settings(config, stack, secret_keys)
    except ConfigError as exc:
        raise RenderError(str(exc)) from None


def render_stack(stack: str, references: Optional[Mapping[str, dict]] = None,
                 config: Optional[dict[str, str]] = None, secret_keys: Optional[tuple[str, ...]] = None,
                 preview: bool = False) -> dict:
    """Render one stack into a resource graph (see docs/contracts.md). A stack that reads another
    through a StackReference needs its outputs in `references` (render_stacks provides them)."""
    if config is None:
        config, file_secret_keys = stack_config_with_secrets(stack)
        secret_keys = file_secret_keys if secret_keys is None else secret_keys
    secret_keys = tuple(secret_keys or ())
    _validated(stack, config, secret_keys)
    monitor = run_program(stack, config, references or {}, secret_keys=secret_keys, preview=preview)
    resources = sorted((r.to_json() for r in monitor.registrations.values()), key=lambda r: r["urn"])
    return {"format": GRAPH_FORMAT, "project": PROJECT, "stack": stack, "config": config,
            "outputs": monitor.stack_outputs, "resources": resources}


def _referenced(stack: str) -> Optional[tuple[str, str]]:
    """(StackReference name, local stack) that `stack` reads, if any: a DR stack reads prod."""
    settings = _validated(stack, *stack_config_with_secrets(stack))
    if settings.dr is None or settings.dr.primary is not None:
        return None
    name = settings.dr.primary_stack_reference(ORGANIZATION, settings.environment)
    parts = name.split("/")
    project, local = (PROJECT, parts[0]) if len(parts) == 1 else (parts[1], parts[2])
    if project == PROJECT and local == stack:
        raise RenderError(f"Stack '{stack}' reads printflow:dr.primary_stack '{name}', which is the "
                          "stack itself: a DR stack restores from its primary stack.")
    if project != PROJECT or not (STACK_DIR / f"Pulumi.{local}.yaml").exists():
        raise RenderError(f"Stack '{stack}' reads printflow:dr.primary_stack '{name}', which is not a "
                          f"stack of this project with a Pulumi.<stack>.yaml here, so it cannot be "
                          "rendered offline. Name a stack of project printflow, or copy its dr "
                          "outputs into printflow:dr.primary.")
    primary = _validated(local, *stack_config_with_secrets(local))
    if primary.network.cidr == settings.network.cidr and not settings.network.uses_existing_vpc:
        raise RenderError(f"Stack '{stack}' uses network.cidr {settings.network.cidr}, the same as its "
                          f"primary stack '{local}': give the DR network its own range so the two "
                          "can ever be peered (e.g. 10.41.0.0/16 beside 10.40.0.0/16).")
    return name, local


def render_stacks(stacks: tuple[str, ...] = STACKS, parallel: bool = False,
                  on_graph: Optional[Callable[[str, dict], None]] = None,
                  on_start: Optional[Callable[[], None]] = None, preview: bool = False) -> dict[str, dict]:
    """Render the given stacks, each after any stack it references (a DR stack reads prod's
    outputs, so prod is rendered first even if not asked for); returns the ones asked for.

    `parallel` renders the last stack in a forked process on the other core while this one renders
    the rest; the fork's StackReference waits only for the outputs it reads. `on_graph` is called
    as each asked-for graph is ready; `on_start` once rendering has begun (after the fork, so
    threads it starts are never forked)."""
    asked = set(stacks)
    notify = on_graph or (lambda _stack, _graph: None)

    def ready(stack: str, graph: dict) -> None:
        if stack in asked:
            notify(stack, graph)

    started = on_start or (lambda: None)
    order: list[str] = []
    reads: dict[str, tuple[str, str]] = {}
    for stack in stacks:  # every config first: a bad one stops everything before any render
        reference = _referenced(stack)
        if reference is not None:
            reads[stack] = reference
            if _referenced(reference[1]) is not None:
                raise RenderError(f"Stack '{stack}' reads printflow:dr.primary_stack '{reference[0]}', "
                                  "which is itself a DR stack; name the primary stack it restores from.")
            if reference[1] not in order:
                order.append(reference[1])
        if stack not in order:
            order.append(stack)

    def references_for(stack: str, graphs: dict[str, dict]) -> dict[str, dict]:
        if stack not in reads:
            return {}
        name, local = reads[stack]
        return {name: unwrap(graphs[local]["outputs"])}

    if parallel and len(order) >= 2 and hasattr(os, "fork"):
        graphs = _render_with_fork(tuple(order), references_for, ready, started, preview)
    else:
        started()
        graphs = {}
        for stack in order:
            graphs[stack] = render_stack(stack, references=references_for(stack, graphs), preview=preview)
            ready(stack, graphs[stack])
    return {stack: graphs[stack] for stack in stacks}


class _PendingReferences(Mapping):
    """Stack outputs that arrive through a pipe the first time a StackReference reads them."""

    def __init__(self, read_fd: int):
        self._read_fd = read_fd
        self._loaded: Optional[dict] = None

    def _load(self) -> dict:
        if self._loaded is None:
            with os.fdopen(self._read_fd) as source:
                self._loaded = json.load(source)
        return self._loaded

    def __bool__(self) -> bool:  # present, even before it has arrived
        return True

    def __getitem__(self, key: str) -> dict:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def _render_with_fork(stacks: tuple[str, ...],
                      references_for: Callable[[str, dict[str, dict]], dict[str, dict]],
                      notify: Callable[[str, dict], None], started: Callable[[], None],
                      preview: bool = False) -> dict[str, dict]:
    *earlier, last = stacks
    # Import what the child runs before forking: a module another thread is importing at the
    # moment of the fork would stay locked in the child.
    import components.platform  # noqa: F401
    import pulumi.runtime.stack  # noqa: F401
    import tools.mocks  # noqa: F401

    outputs_read, outputs_write = os.pipe()
    graph_read, graph_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child renders the last stack and sends its graph back
        status = 0
        die_with_parent()
        try:
            os.close(outputs_write)
            os.close(graph_read)
            try:
                payload: dict = {"graph": render_stack(last, references=_PendingReferences(outputs_read),
                                                     preview=preview)}
            except RenderError as exc:
                payload = {"error": str(exc)}
            except BaseException:  # noqa: BLE001 - reported by the parent with its traceback
                payload = {"crash": traceback.format_exc()}
            with os.fdopen(graph_write, "w") as sink:
                json.dump(payload, sink)
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)
    track(pid)
    os.close(outputs_read)
    os.close(graph_write)
    graphs: dict[str, dict] = {}
    try:
        started()
        sink = os.fdopen(outputs_write, "w")
        for stack in earlier:
            graphs[stack] = render_stack(stack, references=references_for(stack, graphs), preview=preview)
        try:
            with sink:
                json.dump(references_for(last, graphs), sink)
        except BrokenPipeError:
            pass  # the child stopped without reading; its payload says why
        for stack in earlier:
            notify(stack, graphs[stack])
        with os.fdopen(graph_read) as source:
            text = source.read()
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    os.waitpid(pid, 0)
    untrack(pid)
    payload = json.loads(text) if text else {"crash": "the render process died without a result"}
    if "error" in payload:
        raise RenderError(payload["error"])
    if "crash" in payload:
        raise RuntimeError(f"rendering {last} failed:\n{payload['crash']}")
    graphs[last] = payload["graph"]
    notify(last, graphs[last])
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
    if is_secret(value):
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
    if isinstance(value, dict) and not is_secret(value):
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


# ----------------------------------------------------------------------------- mermaid
def _component_of(urn: Optional[str], by_urn: dict[str, dict]) -> Optional[dict]:
    """The nearest ancestor component below the stack (or the resource itself)."""
    node = by_urn.get(urn) if urn else None
    while node is not None and node["custom"]:
        node = by_urn.get(node["parent"])
    if node is None or node["type"] == "pulumi:pulumi:Stack":
        return None
    return node


def _top_level(urn: Optional[str], by_urn: dict[str, dict]) -> Optional[dict]:
    node = _component_of(urn, by_urn)
    while node is not None and by_urn.get(node["parent"], {}).get("type") != "pulumi:pulumi:Stack":
        node = by_urn.get(node["parent"])
    return node


def _mid(stack: str, urn: str) -> str:
    import hashlib
    return f"{stack}_{hashlib.sha1(urn.encode()).hexdigest()[:8]}"


def _strings(value: Any, path: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, path or key)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)
    elif isinstance(value, str):
        yield path, value


def _identities(resource: dict) -> set[str]:
    outputs = unwrap(resource.get("outputs") or {})
    keys = ("arn", "id", "bucket") if resource["type"] == "aws:s3/bucket:Bucket" else ("arn", "id")
    return {v for k in keys if isinstance(v := outputs.get(k), str) and len(v) > 8}


def format_mermaid(graphs: dict[str, dict]) -> str:
    """Components per stack (nested ones as subgraphs), their dependencies and the data flows:
    replication to the DR region, and what the DR stack takes from prod."""
    lines = ["flowchart LR"]
    flows: dict[tuple[str, str, str], set[str]] = {}
    identities: dict[str, tuple[str, str]] = {}  # identity -> (stack, node id) of earlier stacks
    for stack, graph in graphs.items():
        resources = graph["resources"]
        by_urn = {r["urn"]: r for r in resources}
        components = sorted((r for r in resources if not r["custom"] and r["type"] != "pulumi:pulumi:Stack"),
                            key=lambda r: r["urn"])
        nested = {c["urn"]: [n for n in components if n["parent"] == c["urn"]] for c in components}

        def label(component: dict) -> str:
            regions = sorted({r["inputs"].get("region") for r in resources if r["custom"]
                              and _component_of(r["urn"], by_urn) is component and r["inputs"].get("region")})
            text = f"{component['type'].rsplit(':', 1)[-1]}<br/>{component['name']}"
            return text + ("<br/>" + ", ".join(regions) if regions else "")

        lines.append(f'  subgraph {stack}["stack {stack}"]')
        for component in components:
            if by_urn.get(component["parent"], {}).get("type") != "pulumi:pulumi:Stack":
                continue
            node = _mid(stack, component["urn"])
            if nested[component["urn"]]:
                lines.append(f'    subgraph {node}["{label(component)}"]')
                for child in nested[component["urn"]]:
                    lines.append(f'      {_mid(stack, child["urn"])}["{label(child)}"]')
                lines.append("    end")
            else:
                lines.append(f'    {node}["{label(component)}"]')
        lines.append("  end")

        edges: dict[tuple[str, str], set[str]] = {}
        for resource in resources:
            target = _top_level(resource["urn"], by_urn)
            if target is None:
                continue
            for prop, deps in resource["propertyDependencies"].items():
                for dep in deps:
                    source = _top_level(dep, by_urn)
                    if source is not None and source is not target:
                        edges.setdefault((_mid(stack, source["urn"]), _mid(stack, target["urn"])), set()).add(prop)
            # what this stack takes from an earlier one (DR from prod), matched by identity
            for prop, value in _strings(resource["inputs"]):
                if value in identities:
                    origin_stack, origin = identities[value]
                    flows.setdefault((origin, "-.->", _mid(stack, target["urn"])), set()).add(f"{origin_stack} to {stack}: {prop}")
        for (source, target), props in sorted(edges.items()):
            lines.append(f"  {source} -->|{', '.join(sorted(props)[:3])}| {target}")

        for resource in resources:
            inputs = unwrap(resource["inputs"])
            owner = _component_of(resource["urn"], by_urn)
            if owner is None:
                continue
            if resource["type"] == "aws:s3/bucketReplicationConfig:BucketReplicationConfig":
                buckets = {unwrap(b["outputs"]).get(k): _component_of(b["urn"], by_urn) for b in resources
                           if b["type"] == "aws:s3/bucket:Bucket" for k in ("bucket", "arn")}
                for rule in inputs.get("rules", []):
                    source, target = buckets.get(inputs.get("bucket")), buckets.get(rule["destination"]["bucket"])
                    if source and target:
                        flows.setdefault((_mid(stack, source["urn"]), "==>", _mid(stack, target["urn"])), set()).add("replicates, RTC 15 min")
            elif resource["type"].endswith(":InstanceAutomatedBackupsReplication"):
                node = _mid(stack, resource["urn"])
                lines.append(f'  {node}[("automated backups + WAL<br/>{inputs.get("region")}")]')
                flows.setdefault((_mid(stack, owner["urn"]), "==>", node), set()).add("PITR copy")
                identities.update({i: (stack, node) for i in _identities(resource)})
            if resource["custom"]:
                top = _top_level(resource["urn"], by_urn)
                node = _mid(stack, (owner if owner is not top and resource["type"] == "aws:s3/bucket:Bucket" else top)["urn"])
                identities.update({i: (stack, node) for i in _identities(resource)
                                   if resource["type"] != "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"})
    flow_lines = [f"  {a} {arrow}|{', '.join(sorted(labels)[:3])}| {b}" for (a, arrow, b), labels in sorted(flows.items())]
    return "\n".join(lines + flow_lines) + "\n"


# ----------------------------------------------------------------------------- CLI
def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.render", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", action="append", choices=ALL_STACKS,
                        help="stack to render (repeatable; default: prod, dr and staging)")
    parser.add_argument("--stack-dir", metavar="DIR", type=Path,
                        help="read Pulumi.<stack>.yaml from DIR instead of the project folder")
    parser.add_argument("--preview-mode", action="store_true",
                        help="render as a first `pulumi preview` sees it: computed outputs unknown")
    parser.add_argument("--graph", metavar="FILE",
                        help="write the resource graph JSON (one stack: the graph; several: {stack: graph})")
    parser.add_argument("--mermaid", action="store_true", help="print the Mermaid component diagram")
    parser.add_argument("--quiet", action="store_true", help="no tree output")
    args = parser.parse_args(argv)
    stacks = tuple(args.stack) if args.stack else STACKS
    if args.stack_dir is not None:
        global STACK_DIR
        STACK_DIR = args.stack_dir
    try:
        graphs = render_stacks(stacks, parallel=True, preview=args.preview_mode)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.graph:
        path = Path(args.graph)
        payload = graphs[stacks[0]] if len(stacks) == 1 else graphs
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(payload, indent=1, sort_keys=True))
        except OSError as exc:
            print(f"error: cannot write the graph to {args.graph}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    try:
        if args.mermaid:
            print(format_mermaid(graphs), end="")
        elif not args.quiet:
            for graph in graphs.values():
                print(format_tree(graph))
                print()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader closed the pipe (`| head`): stop quietly, as Unix tools do on SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    code = main()
    # Everything is written and the forked renderer reaped by now. Skip tearing down the large
    # module graph (pulumi_aws): a third of a second on every run.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
