"""The policy factory of the printflow-guardrails pack, and the one import of the policy modules.

Everything the policy modules (s3.py, rds.py, ...) use is imported from here: the factory and
config handling live in this module; value access, the stack index and the SDK patches live in
pack_values.py, pack_stack.py and pack_sdk.py and are re-exported. The pack runs inside
`python -m pulumi.policy <engine> .` with the pack directory as sys.path[0], so modules import
each other as top-level modules (`from pack_common import ...`).

Conventions (documented in policies/README.md):
- Every policy has a config schema with `stackRole` (`prod` | `dr-drill` | `dr-failover`; no
  schema default, absent means `prod`), `primaryRegion` (default us-east-1) and `drRegion`
  (default us-west-2), plus its own thresholds. Defaults are written into the schema (the CLI
  fills them in, see ReconcilePolicyPackConfig) and applied again here when the pack is driven
  without the CLI's reconciliation.
- Values unknown during a preview never crash a policy: a policy that needs an unknown value
  skips that resource (UnknownValueError is swallowed per resource); any other unexpected error
  is reported as a violation naming the policy, so a pack bug is visible and never aborts the
  whole preview.
"""
from __future__ import annotations

import contextlib
import inspect
from datetime import date
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Dict, Iterable, Optional

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

import property_rules
import waivers
from pack_fast import ONE_CONVERSION_PER_REQUEST  # noqa: F401
from pack_sdk import ADVISORY_REPORTS, SECRET_MARKING, SecretFloat, SecretInt, SecretStr, is_secret  # noqa: F401
from pack_stack import (  # noqa: F401
    Stack, is_regional_aws, label, parameter_groups_used, parameters, region_of_resource,
)
from pack_values import (  # noqa: F401  (the policies import everything from here)
    REFERENCE_NAME, SECRETISH_NAME, UNKNOWN, NotKnownYet, as_list, fmt_num, get, has_unknown,
    is_reference_value, items, known,
    looks_like_secret_value, number, one, parse_json_doc, tags_of, truthy,
)

PROD = "prod"
DR_DRILL = "dr-drill"
DR_FAILOVER = "dr-failover"
STACK_ROLES = (PROD, DR_DRILL, DR_FAILOVER)
DEFAULT_PRIMARY_REGION = "us-east-1"
DEFAULT_DR_REGION = "us-west-2"
STACK_TYPE = "pulumi:pulumi:Stack"

# ---------------------------------------------------------------------------------------------
# Policy context and construction
# ---------------------------------------------------------------------------------------------

COMMON_SCHEMA: Dict[str, Dict[str, Any]] = {
    "stackRole": {
        "type": "string",
        "enum": list(STACK_ROLES),
        "description": "Which kind of stack is checked: prod (default when unset), dr-drill "
                       "(a throw-away restore in the DR region) or dr-failover (the DR region "
                       "serving production).",
    },
    "primaryRegion": {"type": "string", "default": DEFAULT_PRIMARY_REGION,
                      "description": "The primary AWS region (default us-east-1)."},
    "drRegion": {"type": "string", "default": DEFAULT_DR_REGION,
                 "description": "The disaster-recovery AWS region (default us-west-2)."},
}


class Ctx:
    """Per-evaluation view of a policy's config."""

    def __init__(self, policy_name: str, config: Mapping[str, Any], defaults: Mapping[str, Any]):
        merged: Dict[str, Any] = dict(defaults)
        for k, v in (config or {}).items():
            if v is not None:
                merged[k] = v
        self.policy = policy_name
        self.config = merged
        role = merged.get("stackRole") or PROD
        self.role = role if role in STACK_ROLES else PROD
        self.primary_region = merged.get("primaryRegion") or DEFAULT_PRIMARY_REGION
        self.dr_region = merged.get("drRegion") or DEFAULT_DR_REGION

    def __getitem__(self, key: str) -> Any:
        return self.config.get(key)

    def num(self, key: str) -> float:
        v = number(self.config.get(key))
        return 0.0 if v is None else v

    @property
    def is_prod(self) -> bool:
        return self.role == PROD

    @property
    def is_dr(self) -> bool:
        return self.role in (DR_DRILL, DR_FAILOVER)

    @property
    def is_drill(self) -> bool:
        return self.role == DR_DRILL

    @property
    def serves_production(self) -> bool:
        """prod and dr-failover carry production traffic; a drill does not."""
        return self.role in (PROD, DR_FAILOVER)


def _schema(extra: Optional[Dict[str, Dict[str, Any]]]) -> tuple:
    props: Dict[str, Dict[str, Any]] = {k: dict(v) for k, v in COMMON_SCHEMA.items()}
    for k, v in (extra or {}).items():
        props[k] = dict(v)
    defaults = {k: v["default"] for k, v in props.items() if "default" in v}
    return PolicyConfigSchema(properties=props), defaults


def secret_texts(values: Iterable[Any]) -> set:
    """Every value marked secret inside `values`, as it would print. The SDK hands policies its
    proxies (a Mapping and a Sequence, not dict and list); an unknown value (a preview, an
    encrypted secret in state) has no text: it is passed over, never allowed to abort the
    report that is scrubbing its message."""
    found, pending = set(), list(values)
    while pending:
        item = pending.pop()
        if isinstance(item, Mapping):
            pending.extend(_readable_items(item, list(item.keys())))
        elif isinstance(item, Sequence) and not isinstance(item, str):
            pending.extend(_readable_items(item, range(len(item))))
        elif getattr(item, "is_secret", False):
            text = fmt_num(item) if isinstance(item, (int, float)) else str(item)
            if text:
                found.update({text, str(item)})
    return found


def _readable_items(container: Any, keys: Iterable[Any]) -> list:
    """container[key] for every key whose value is known."""
    known_values = []
    for key in keys:
        try:
            known_values.append(container[key])
        except UnknownValueError:
            continue
    return known_values


def scrub(message: str, secrets: Iterable[str]) -> str:
    """A message with every secret value replaced: a policy never prints a secret, whatever it
    quotes (table, JSON and SARIF all carry this text)."""
    for text in sorted(set(secrets), key=len, reverse=True):
        message = message.replace(text, "[secret]")
    return message


def _bug_message(policy: str, where: str, exc: BaseException) -> str:
    return (f"Policy {policy} could not evaluate {where} ({type(exc).__name__}: {exc}). "
            "This is a bug in the printflow-guardrails pack; report it to the platform team.")


SEVERITIES = {s.value: s for s in Severity}
CATEGORIES = ("security", "reliability", "operations")


class About:
    """What a reviewer needs besides the message: how bad a finding is, what kind of rule it
    is, and where the documentation of the setting lives (pulumi/compliance-policies keeps the
    same metadata per policy). The engine receives it in GetAnalyzerInfo; SARIF shows it."""

    def __init__(self, severity: str, category: str, url: str):
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
        if category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
        if not url.startswith("https://"):
            raise ValueError("url must be an https:// link to the setting's documentation")
        self.metadata = {"severity": SEVERITIES[severity], "tags": [category], "url": url}


DECLARING_MODULES: set = set()
"""The modules that registered their property_rules.yaml entries (registry.py checks all did)."""

WAIVERS: list = []
"""The pack's waivers (policies/waivers.yaml), loaded by registry.py once every policy exists."""


def _deliver(report_violation: Callable, policy: str, message: str, match_urn: str,
             urn: Optional[str]) -> None:
    """A finding, through the waivers: an unexpired waiver makes exactly this finding an advisory
    note naming the waiver; an expired one keeps it and says when it expired."""
    today = date.today()
    waiver = waivers.find(WAIVERS, policy, match_urn, waivers.stack_of(match_urn), today) if match_urn else None
    if waiver is None:
        report_violation(message, urn)
    elif waiver.expired(today):
        report_violation(message + waiver.expiry_note(), urn)
    elif ADVISORY_REPORTS:
        report_violation(waiver.note() + message, urn, waived=True)
    else:  # the SDK could not be taught an advisory level: named, but at the policy's level
        report_violation(waiver.note() + message, urn)


def _evaluate(name: str, where: str, check: Callable[[], None], report: Callable[[str], None]) -> None:
    try:
        check()
    except UnknownValueError:
        return  # not known yet during a preview: checked again at `pulumi up`
    except Exception as exc:  # noqa: BLE001 - never abort a preview
        report(_bug_message(name, where, exc))


def resource_policy(name: str, description: str, types: Iterable[str],
                    check: Callable[[Any, Ctx, Callable[[str], None]], None],
                    config: Optional[Dict[str, Dict[str, Any]]] = None, *, about: About,
                    production_only: bool = False) -> ResourceValidationPolicy:
    """Wrap `check(args, ctx, report)` for the given type tokens. `production_only` skips
    stacks that serve no production traffic (a DR drill)."""
    type_set = frozenset(types)
    schema, defaults = _schema(config)

    def validate(args, report_violation):
        if type_set and args.resource_type not in type_set:
            return
        ctx = Ctx(name, args.get_config(), defaults)
        if production_only and not ctx.serves_production:
            return

        def report(message: str) -> None:
            _deliver(report_violation, name, scrub(message, secret_texts([args.props])), args.urn, None)

        _evaluate(name, f"resource {args.urn}", lambda: check(args, ctx, report), report)

    policy = ResourceValidationPolicy(name=name, description=description, validate=validate,
                                      config_schema=schema, **about.metadata)
    policy._printflow_types = type_set  # pack_fast skips the policy for other types, as validate would
    return policy


def stack_policy(name: str, description: str,
                 check: Callable[["Stack", Ctx, Callable[[str, Optional[str]], None]], None],
                 config: Optional[Dict[str, Dict[str, Any]]] = None, *, about: About,
                 production_only: bool = False) -> StackValidationPolicy:
    schema, defaults = _schema(config)

    def validate(args, report_violation):
        ctx = Ctx(name, args.get_config(), defaults)
        if production_only and not ctx.serves_production:
            return
        stack = Stack(args.resources, ctx)
        secrets: list = []
        # A finding about the whole stack is the stack resource's, for waivers as for the engine.
        stack_urn = next((r.urn for r in args.resources if r.resource_type == STACK_TYPE), "")

        def report(message: str, urn: Optional[str] = None) -> None:
            if not secrets:
                secrets.append(secret_texts(r.props for r in args.resources))
            _deliver(report_violation, name, scrub(message, secrets[0]), urn or stack_urn, urn)

        _evaluate(name, "the stack", lambda: check(stack, ctx, report), report)

    return StackValidationPolicy(name=name, description=description, validate=validate,
                                 config_schema=schema, **about.metadata)


def passes(props: Any, must: Mapping[str, Callable[[Any], bool]],
           when_unset: Optional[Mapping[str, Any]] = None) -> Optional[bool]:
    """Whether every property of `must` passes its test, an unset one counting as its
    `when_unset` value (AWS's default); None while one of them is unknown (a preview)."""
    values = {prop: get(props, prop) for prop in must}
    if any(value is UNKNOWN for value in values.values()):
        return None
    unset = when_unset or {}
    return all(ok(unset.get(prop) if values[prop] is None else values[prop]) for prop, ok in must.items())


def expect(args, report: Callable[[str], None], prop: str, ok: Callable[[Any], bool], message: str, *,
           absent: Any = None) -> None:
    """A rule about one property inside a check (Checkov's BaseResourceValueCheck): an unknown
    value is skipped, an unset one counts as `absent` (AWS's default), and a value `ok` refuses
    is reported with `message`, formatted with the resource's {name}."""
    if passes(args.props, {prop: ok}, {prop: absent}) is False:
        report(message.format(name=args.name))


def description_of(check: Callable) -> str:
    """A policy's description is the first paragraph of its check's docstring."""
    doc = inspect.getdoc(check) or ""
    first = doc.split("\n\n", 1)[0]
    if not first.strip():
        raise ValueError(f"policy check {check.__name__} needs a docstring: its first paragraph "
                         "is the policy's description")
    return " ".join(first.split())


class Rules:
    """The policies of one module, each declared on its check (Checkov's one-class-per-check,
    as a decorator): the docstring's first paragraph is the description.

        @rules.resource("aws-rds-instance-multi-az", [INSTANCE],
                        About("high", "reliability", GUIDE + "..."), production_only=True)
        def _multi_az(args, ctx, report):
            \"\"\"Production RDS instances are Multi-AZ.\"\"\"

    The decorator registers the policy and returns the check unchanged."""

    def __init__(self) -> None:
        self.policies: list = []

    def resource(self, name: str, types: Iterable[str], about: About, *,
                 config: Optional[Dict[str, Dict[str, Any]]] = None, production_only: bool = False):
        def register(check):
            self.policies.append(resource_policy(name, description_of(check), types, check, config,
                                                 about=about, production_only=production_only))
            return check
        return register

    def declared(self, module: str) -> None:
        """Register the policies property_rules.yaml declares for `module`, here in the module's
        order: each is a resource policy whose check is `passes` over its `must` properties
        (Checkov's BaseResourceValueCheck: nothing to write but the declaration)."""
        DECLARING_MODULES.add(module)
        for rule in property_rules.declared_for(module):
            try:
                about = About(rule.severity, rule.category, rule.url)
            except ValueError as exc:  # one paragraph, not a traceback, in the CLI too
                raise SystemExit(f"error: policies/{property_rules.RULES_FILE.name}: {module} rule "
                                 f"{rule.name}: {exc}.") from None

            def check(args, ctx, report, rule=rule):
                if passes(args.props, rule.must, rule.when_unset) is False:
                    report(rule.message.format(name=args.name))
            self.policies.append(resource_policy(rule.name, rule.description, rule.types, check,
                                                 about=about, production_only=rule.production_only))

    def stack(self, name: str, about: About, *, config: Optional[Dict[str, Dict[str, Any]]] = None,
              production_only: bool = False):
        def register(check):
            self.policies.append(stack_policy(name, description_of(check), check, config, about=about,
                                              production_only=production_only))
            return check
        return register


@contextlib.contextmanager
def per_resource():
    """Skip (only) the current resource of a stack loop when one of its values is unknown."""
    try:
        yield
    except UnknownValueError:
        pass


def for_parameter_group_users(stack: "Stack", users: Iterable[Any], group_type: str, parameter: str,
                              ok: Callable[[Any], bool], report: Callable[[str, Optional[str]], None], *,
                              unmanaged: Callable[[Any, Any], str], wrong: Callable[[Any, Any], str]) -> None:
    """Each of `users` (RDS instances, MemoryDB clusters) uses a parameter group of this stack
    whose `parameter` passes `ok`. `unmanaged(user, name)` words a user on a group from outside
    the stack (name None: the engine's default group); `wrong(user, group)` a group that sets
    the parameter otherwise. An unknown value skips only that user."""
    for user in users:
        with per_resource():
            name, groups = parameter_groups_used(stack, user, group_type)
            if not groups:
                report(unmanaged(user, name), user.urn)
                continue
            for group in groups:
                value = parameters(group).get(parameter)
                if value is not UNKNOWN and not ok(value):
                    report(wrong(user, group), user.urn)
