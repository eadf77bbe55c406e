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
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterable, Optional

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from pack_sdk import REQUEST_MEMO, SECRET_MARKING, SecretFloat, SecretInt, SecretStr, is_secret  # noqa: F401
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
    """Every value marked secret inside `values`, as it would print."""
    found, pending = set(), list(values)
    while pending:
        item = pending.pop()
        if isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
        elif getattr(item, "is_secret", False):
            text = fmt_num(item) if isinstance(item, (int, float)) else str(item)
            if text:
                found.update({text, str(item)})
    return found


def scrub(message: str, secrets: Iterable[str]) -> str:
    """A message with every secret value replaced: a policy never prints a secret, whatever it
    quotes (table, JSON and SARIF all carry this text)."""
    for text in sorted(set(secrets), key=len, reverse=True):
        message = message.replace(text, "[secret]")
    return message


def _bug_message(policy: str, where: str, exc: BaseException) -> str:
    return (f"Policy {policy} could not evaluate {where} ({type(exc).__name__}: {exc}). "
            "This is a bug in the printflow-guardrails pack; report it to the platform team.")


def resource_policy(name: str, description: str, types: Iterable[str],
                    check: Callable[[Any, Ctx, Callable[[str], None]], None],
                    config: Optional[Dict[str, Dict[str, Any]]] = None) -> ResourceValidationPolicy:
    """Wrap `check(args, ctx, report)` for the given type tokens."""
    type_set = frozenset(types)
    schema, defaults = _schema(config)

    def validate(args, report_violation):
        if type_set and args.resource_type not in type_set:
            return
        ctx = Ctx(name, args.get_config(), defaults)

        def report(message: str) -> None:
            report_violation(scrub(message, secret_texts([args.props])), None)

        try:
            check(args, ctx, report)
        except UnknownValueError:
            return  # not known yet during a preview: checked again at `pulumi up`
        except Exception as exc:  # noqa: BLE001 - never abort a preview
            report(_bug_message(name, f"resource {args.urn}", exc))

    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    config_schema=schema)


def stack_policy(name: str, description: str,
                 check: Callable[["Stack", Ctx, Callable[[str, Optional[str]], None]], None],
                 config: Optional[Dict[str, Dict[str, Any]]] = None) -> StackValidationPolicy:
    schema, defaults = _schema(config)

    def validate(args, report_violation):
        ctx = Ctx(name, args.get_config(), defaults)
        stack = Stack(args.resources, ctx)
        secrets: list = []

        def report(message: str, urn: Optional[str] = None) -> None:
            if not secrets:
                secrets.append(secret_texts(r.props for r in args.resources))
            report_violation(scrub(message, secrets[0]), urn)

        try:
            check(stack, ctx, report)
        except UnknownValueError:
            return
        except Exception as exc:  # noqa: BLE001
            report(_bug_message(name, "the stack", exc), None)

    return StackValidationPolicy(name=name, description=description, validate=validate,
                                 config_schema=schema)


@contextlib.contextmanager
def per_resource():
    """Skip (only) the current resource of a stack loop when one of its values is unknown."""
    try:
        yield
    except UnknownValueError:
        pass
