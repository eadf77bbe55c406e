"""Analyze and AnalyzeStack that convert each resource once per request.

pulumi-policy's servicer converts a request's properties (protobuf Struct -> dict -> proxy),
options and provider once per policy: 38 resource policies per Analyze, and every resource once
for each of 27 stack policies in AnalyzeStack (81,000 conversions for a 3,000-resource stack).
These two methods do the same work in the same order with one conversion per resource, and skip
resource policies declared for other types (`_printflow_types`, set by pack_common). Policies
only read what they are given, so sharing the converted resources between them is safe.
Diagnostics, enforcement levels, not-applicable reports and the "can't run policy during
preview" advisories are produced as the SDK produces them. If the SDK no longer has the pieces
these rely on, nothing is replaced (slower, same verdicts).
"""

from __future__ import annotations

import asyncio
import inspect
import math
from inspect import isawaitable
from typing import Any, Callable, Dict, List, Optional


def _value(value: Any) -> Any:
    """google.protobuf.Value as json_format.MessageToDict gives it (Proto3 JSON mapping:
    null -> None, numbers stay doubles, and infinity/NaN are refused), without the descriptor
    walk that makes MessageToDict the largest cost of a big stack."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return struct_to_dict(value.struct_value)
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    if kind is None or kind == "null_value":
        return None
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number) or math.isnan(number):
            raise ValueError(f"Fail to serialize {number} for Value.number_value")
        return number
    return getattr(value, kind)


def struct_to_dict(struct: Any) -> Dict[str, Any]:
    return {key: _value(item) for key, item in struct.fields.items()}


def _run(validate: Callable, args: Any, report: Callable) -> None:
    result = validate(args, report)
    if isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(asyncio.ensure_future(result, loop=loop))
        finally:
            loop.close()


SDK_METHODS: Dict[str, Callable] = {}
"""The SDK's own Analyze and AnalyzeStack, kept so a test can hold these to the same answers."""


def _sdk_has_what_this_relies_on(p: Any) -> bool:
    """The names these methods use, and the five-argument _create_report_violation (policy
    severity) that pulumi-policy 1.21 has and 1.19 lacks."""
    servicer = p._PolicyAnalyzerServicer  # noqa: SLF001
    names = ("EnforcementLevel", "ResourceValidationPolicy", "StackValidationPolicy",
             "ResourceValidationArgs", "StackValidationArgs", "PolicyResource", "_NotApplicableError",
             "UnknownValueError", "deserialize_properties", "unknown_checking_proxy", "proto")
    methods = ("_configure_runtime_settings", "_get_enforcement_level", "_create_report_violation",
               "_get_resource_options", "_get_provider_resource", "_get_policy_config",
               "_map_enforcement_level")
    if not all(hasattr(p, n) for n in names) or not all(hasattr(servicer, m) for m in methods):
        return False
    return "severity" in inspect.signature(servicer._create_report_violation).parameters  # noqa: SLF001


def install() -> bool:
    try:
        from pulumi_policy import policy as p
    except ImportError:  # pragma: no cover - SDK changed
        return False
    if not _sdk_has_what_this_relies_on(p):  # pragma: no cover - SDK changed
        return False
    servicer = p._PolicyAnalyzerServicer  # noqa: SLF001
    SDK_METHODS.setdefault("Analyze", servicer.Analyze)
    SDK_METHODS.setdefault("AnalyzeStack", servicer.AnalyzeStack)
    level = p.EnforcementLevel

    def private(self: Any, name: str) -> Any:
        return getattr(self, f"_PolicyAnalyzerServicer__{name}")

    def props_of(message: Any) -> Any:
        return p.unknown_checking_proxy(p.deserialize_properties(struct_to_dict(message)))

    def cannot_run(self: Any, response: Any, policy: Any, error: Any) -> None:
        pack, version = private(self, "policy_pack_name"), private(self, "policy_pack_version")
        response.diagnostics.append(p.proto.AnalyzeDiagnostic(
            policyName=policy.name, policyPackName=pack, policyPackVersion=version,
            message=(f"can't run policy '{policy.name}' from policy pack '{pack}@v{version}' "
                     f"during preview: {error.message}"),
            urn="", description=policy.description,
            enforcementLevel=self._map_enforcement_level(level.ADVISORY)))

    def not_applicable(response: Any, policy: Any, reason: str) -> None:
        response.not_applicable.append(p.proto.PolicyNotApplicable(policy_name=policy.name, reason=reason))

    def validate(self: Any, response: Any, policy: Any, args: Any, report: Callable) -> None:
        """One policy on its args; what the SDK reports for a value not known yet, or a policy
        that does not apply, is reported the same way."""
        try:
            _run(policy.validate, args, report)
        except p.UnknownValueError as error:
            cannot_run(self, response, policy, error)
        except p._NotApplicableError as error:  # noqa: SLF001
            not_applicable(response, policy, error.reason or "")

    def applies_to(policy: Any, resource_type: Optional[str]) -> bool:
        """False only for a resource policy declared for other types (`_printflow_types`): its
        check would return at once. A policy without a validation is reported, whatever the type."""
        types = getattr(policy, "_printflow_types", None)
        return resource_type is None or not types or resource_type in types or not policy.has_validation()

    def active(self: Any, kind: type, resource_type: Optional[str] = None) -> List[tuple]:
        """(policy, level) for the enabled policies of `kind` that apply to `resource_type`;
        remediate runs as mandatory. Worked out once per Configure (which replaces the levels
        dict the SDK reads) and type, not once per request."""
        levels = getattr(self, "_PolicyAnalyzerServicer__policy_pack_config_enforcement_level", None)
        memo = getattr(self, "_printflow_active", None)
        if memo is None or memo[0] is not levels:
            memo = self._printflow_active = (levels, {})
        key = (kind, resource_type)
        if levels is not None and key in memo[1]:
            return memo[1][key]
        found = []
        for policy in private(self, "policies"):
            enforcement = self._get_enforcement_level(policy)
            if enforcement == level.DISABLED or not isinstance(policy, kind) or not applies_to(policy, resource_type):
                continue
            found.append((policy, level.MANDATORY if enforcement == level.REMEDIATE else enforcement))
        memo[1][key] = found
        return found

    def Analyze(self: Any, request: Any, _context: Any) -> Any:  # noqa: N802 - gRPC method name
        self._configure_runtime_settings()
        response = p.proto.AnalyzeResponse()
        converted: Dict[str, Any] = {}
        for policy, enforcement in active(self, p.ResourceValidationPolicy, request.type):
            if not policy.has_validation():
                not_applicable(response, policy, "Policy does not implement validate")
                continue
            if not converted:
                converted.update(props=props_of(request.properties),
                                 opts=self._get_resource_options(request),
                                 provider=self._get_provider_resource(request))
            report = self._create_report_violation(response, policy.name, policy.description,
                                                   enforcement, policy.severity)
            args = p.ResourceValidationArgs(request.type, converted["props"], request.urn, request.name,
                                            converted["opts"], converted["provider"],
                                            self._get_policy_config(policy.name), private(self, "stack_tags"))
            validate(self, response, policy, args, report)
        return response

    def stack_resources(self: Any, request: Any) -> List[Any]:
        """Every resource converted once, parents and dependencies linked as the SDK links them."""
        resources, by_urn, links = [], {}, []
        for r in request.resources:
            resource = p.PolicyResource(r.type, props_of(r.properties), r.urn, r.name,
                                        self._get_resource_options(r), self._get_provider_resource(r),
                                        None, [], {})
            resources.append(resource)
            by_urn[resource.urn] = resource
            links.append((resource, r.parent, list(r.dependencies),
                          {k: list(v.urns) for k, v in r.propertyDependencies.items()}))
        for resource, parent, dependencies, property_dependencies in links:
            if parent and parent in by_urn:
                resource.parent = by_urn[parent]
            resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
            for key, urns in property_dependencies.items():
                resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
        return resources

    def AnalyzeStack(self: Any, request: Any, _context: Any) -> Any:  # noqa: N802
        self._configure_runtime_settings()
        response = p.proto.AnalyzeResponse()
        resources: List[Any] = []
        for policy, enforcement in active(self, p.StackValidationPolicy):
            if not resources and len(request.resources):
                resources = stack_resources(self, request)
            report = self._create_report_violation(response, policy.name, policy.description,
                                                   enforcement, policy.severity)
            args = p.StackValidationArgs(list(resources), self._get_policy_config(policy.name),
                                         private(self, "stack_tags"))
            validate(self, response, policy, args, report)
        return response

    servicer.Analyze = Analyze
    servicer.AnalyzeStack = AnalyzeStack
    return True


ONE_CONVERSION_PER_REQUEST = install()
