"""The Mermaid diagram of the rendered stacks: components, their dependencies and data flows."""

from __future__ import annotations

import hashlib
from typing import Any, Optional

from tools.wire import reveal

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
    outputs = reveal(resource.get("outputs") or {})
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
            inputs = reveal(resource["inputs"])
            owner = _component_of(resource["urn"], by_urn)
            if owner is None:
                continue
            if resource["type"] == "aws:s3/bucketReplicationConfig:BucketReplicationConfig":
                buckets = {reveal(b["outputs"]).get(k): _component_of(b["urn"], by_urn) for b in resources
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
