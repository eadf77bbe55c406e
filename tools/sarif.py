"""Policy findings as SARIF 2.1.0, in the shape GitHub code scanning can place.

GitHub shows a result only at a physical location, and only its first one ("SARIF support for
code scanning": `locations[0].physicalLocation` with `artifactLocation.uri` relative to the
repository root and `region.startLine`). Each result is placed at the line that declares the
resource (the source position the Python SDK sends with every registration); when the value
comes from stack config, the key's line in `Pulumi.<stack>.yaml` is a related location the
message links to (SARIF 3.27.22). GitHub tells alerts apart by `partialFingerprints`: a finding
is one policy on one resource of one stack, so the same line in prod and staging is two alerts.
Rules carry the pack's own metadata: severity, category, documentation link.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from components.config_base import PROJECT
from tools.pack_process import PACK_DIR, REPO_ROOT
from tools.policy_types import PolicyInfo, Violation
from tools.stack_files import stack_file_node
from tools.waiver_check import waiver_of

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"mandatory": "error", "remediate": "error", "advisory": "warning", "disabled": "none"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
"""GitHub ranks security alerts by properties.security-severity (0.0-10.0): over 9.0 is
critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low."""

CONFIG_KEYS = {
    "aws-rds-instance-backup-retention": "database.backup_retention_days",
    "aws-rds-instance-multi-az": "database.multi_az",
    "aws-rds-instance-deletion-protection": "database.deletion_protection",
    "aws-rds-instance-backups-replicated": "database.replicate_backups_to_dr",
    "aws-s3-bucket-no-force-destroy": "storage.force_destroy",
    "aws-s3-bucket-object-lock-retention": "storage.object_lock_days",
    "aws-s3-backup-bucket-compliance-lock": "storage.backup_object_lock_days",
    "aws-s3-bucket-noncurrent-version-retention": "storage.noncurrent_version_days",
    "aws-memorydb-cluster-replicas": "queue_store.replicas_per_shard",
    "aws-memorydb-cluster-snapshot-retention": "queue_store.snapshot_retention_days",
    "aws-elasticache-cache-multi-az": "cache.replicas",
    "aws-secretsmanager-secret-recovery-window": "secrets.recovery_window_days",
    "printflow-stateful-resources-protected": "protect_stateful",
    "printflow-app-settings-debug-disabled": "apps",
    "printflow-app-settings-production-env": "apps",
    "printflow-app-settings-queue-not-sync": "apps",
    "printflow-required-alarms": "alarms",
    "printflow-dr-resources-in-dr-region": "dr_region",
}
"""The stack-config key behind each policy whose findings all come from that one setting (a test
holds every entry to a policy of the pack and a field of the config models)."""


def pack_version(pack_dir: Path = PACK_DIR) -> str:
    """The version the CLI publishes the pack under: PulumiPolicy.yaml `version`."""
    try:
        return str((yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}).get("version") or "")
    except (OSError, yaml.YAMLError):
        return ""


def _code_location(source_position: str) -> Optional[tuple]:
    """(path, line) from `project:///<path>#<line>` when the file is in the repository (a state
    export's position never leads outside it)."""
    match = re.fullmatch(r"project:///(.+)#(\d+)(?:,\d+)?", source_position or "")
    if not match:
        return None
    path = (REPO_ROOT / match.group(1)).resolve()
    if not path.is_relative_to(REPO_ROOT.resolve()) or not path.is_file():
        return None
    return path.relative_to(REPO_ROOT.resolve()).as_posix(), int(match.group(2))


def config_key_line(stack_file: Path, dotted: str) -> Optional[int]:
    """The 1-based line of `printflow:<dotted>` (or of its nearest enclosing key present) in a
    stack file; None when the stack file does not set it (the program's default applies)."""
    config = _child(stack_file_node(stack_file), "config")
    head, *rest = dotted.split(".")
    node = _key_node(config, f"{PROJECT}:{head}")
    if node is None:
        return None
    line = node[0].start_mark.line + 1
    value = node[1]
    for part in rest:
        found = _key_node(value, part)
        if found is None:
            break
        line, value = found[0].start_mark.line + 1, found[1]
    return line


def _key_node(mapping: Any, key: str) -> Optional[tuple]:
    if not isinstance(mapping, yaml.MappingNode):
        return None
    return next(((k, v) for k, v in mapping.value if getattr(k, "value", None) == key), None)


def _child(mapping: Any, key: str) -> Any:
    found = _key_node(mapping, key)
    return found[1] if found else None


def _physical(uri: str, line: int) -> Dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}}


def _stack_file(v: Violation) -> str:
    return f"Pulumi.{v.stack}.yaml" if (REPO_ROOT / f"Pulumi.{v.stack}.yaml").is_file() else "Pulumi.yaml"


def locations(v: Violation) -> List[Dict[str, Any]]:
    """Where GitHub shows the finding: the declaring line; a finding about the stack as a whole
    (or from a graph without source positions) is placed in the stack file, at the config key
    when there is one."""
    stack_file = _stack_file(v)
    code = _code_location(v.source_position)
    if code is not None:
        found = _physical(*code)
    else:
        found = _physical(stack_file, config_line(v) or 1)
    found["logicalLocations"] = [{"name": v.resource_name or v.urn.split("::")[-1],
                                  "fullyQualifiedName": v.urn, "kind": "resource"}]
    return [found]


def config_line(v: Violation) -> Optional[int]:
    key = CONFIG_KEYS.get(v.policy)
    return config_key_line(REPO_ROOT / _stack_file(v), key) if key else None


def fingerprint(v: Violation) -> str:
    """One policy on one resource of one stack: stable across commits and line moves."""
    return hashlib.sha256(f"{v.policy}\n{v.stack}\n{v.urn}".encode()).hexdigest()


def rule(p: PolicyInfo) -> Dict[str, Any]:
    """A reportingDescriptor from the policy's own metadata (severity, category, link)."""
    properties: Dict[str, Any] = {"enforcementLevel": p.level, "kind": p.kind, "tags": list(p.tags)}
    if p.severity:
        properties["severity"] = p.severity
        if "security" in p.tags:
            properties["security-severity"] = SECURITY_SEVERITY[p.severity]
    descriptor = {"id": p.name, "name": p.name, "shortDescription": {"text": p.description},
                  "fullDescription": {"text": p.description},
                  "defaultConfiguration": {"level": LEVELS.get(p.level, "warning")},
                  "properties": properties}
    if p.url:
        descriptor["helpUri"] = p.url
        descriptor["help"] = {
            "text": f"{p.description} Each finding's message says what to change. See {p.url}",
            "markdown": f"**{p.description}**\n\nEach finding's message names the resource and the "
                        f"setting to change.\n\nDocumentation of the setting: [{p.url}]({p.url})"}
    return descriptor


def sarif(violations: Sequence[Violation], policies: Sequence[PolicyInfo], pack_name: str,
          version: str) -> Dict[str, Any]:
    """The run: `version` is the pack's (pack_version of the pack that was run)."""
    index = {p.name: i for i, p in enumerate(policies)}
    results = []
    for v in violations:
        identity = fingerprint(v)
        result: Dict[str, Any] = {
            "ruleId": v.policy, "level": LEVELS.get(v.level, "warning"),
            "message": {"text": v.message},
            "locations": locations(v),
            # upload-sarif computes primaryLocationLineHash only when it is absent: give it the
            # finding's identity, so stacks sharing a declaring line stay separate alerts
            "partialFingerprints": {"printflowFinding/v1": identity, "primaryLocationLineHash": identity},
            "properties": {"stack": v.stack, "urn": v.urn, "resourceType": v.resource_type,
                           "enforcementLevel": v.level},
            "suppressions": [],  # SARIF 3.27.23: all results have suppressions, or none does
        }
        line = config_line(v) if _code_location(v.source_position) is not None else None
        if line is not None:
            result["relatedLocations"] = [{"id": 1, **_physical(_stack_file(v), line)}]
            result["message"]["text"] += f" The value is set in [{_stack_file(v)}, line {line}](1)."
        if v.policy in index:
            result["ruleIndex"] = index[v.policy]
        waiver = waiver_of(v)
        if waiver is not None:
            result["suppressions"] = [{
                "kind": "external", "status": "accepted",
                "justification": f"{waiver['reason']} (waiver #{waiver['index']} in policies/waivers.yaml, "
                                 f"owner {waiver['owner']}, expires {waiver['expires']})"}]
        results.append(result)
    driver: Dict[str, Any] = {
        "name": pack_name, "rules": [rule(p) for p in policies],
        "informationUri": "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/"}
    if version:
        driver["version"] = driver["semanticVersion"] = version
    return {"version": "2.1.0", "$schema": SARIF_SCHEMA,
            "runs": [{"tool": {"driver": driver}, "results": results}]}
