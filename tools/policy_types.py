"""What the policy check deals in: enforcement levels, stack roles, policies, violations, errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict

from pulumi.runtime.proto import analyzer_pb2
LEVELS = {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory",
          analyzer_pb2.DISABLED: "disabled", analyzer_pb2.REMEDIATE: "remediate"}
LEVEL_VALUES = {v: k for k, v in LEVELS.items()}
SEVERITIES = {analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "", analyzer_pb2.POLICY_SEVERITY_LOW: "low",
              analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium", analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
              analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical"}
STACK_ROLES = ("prod", "dr-drill", "dr-failover")


class CheckInputError(Exception):
    """Bad user input (graph, config): reported as one paragraph, exit code 2."""


class AnalyzerError(Exception):
    """The policy pack could not be started or failed while analyzing."""


@dataclass
class Violation:
    stack: str
    policy: str
    level: str
    message: str
    urn: str
    resource_type: str = ""
    resource_name: str = ""
    description: str = ""
    source_position: str = ""
    """Where the program declares the resource (`project:///<path>#<line>`), when known."""

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)




@dataclass
class PolicyInfo:
    name: str
    description: str
    level: str
    kind: str  # resource | stack
    config_schema: Dict[str, Any] = field(default_factory=dict)
    severity: str = ""
    """low | medium | high | critical, as the pack declares it (GetAnalyzerInfo)."""
    tags: tuple = ()
    """The rule's category: security, reliability or operations."""
    url: str = ""
    """Documentation of the setting the rule is about."""
