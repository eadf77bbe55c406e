"""Shared helpers for the printflow-guardrails policy pack.

Everything here is imported by the policy modules (s3.py, rds.py, ...). The pack runs inside
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
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Dict, Iterable, List, Optional

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, _is_unknown  # noqa: F401  (re-exported)
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE

PROD = "prod"
DR_DRILL = "dr-drill"
DR_FAILOVER = "dr-failover"
STACK_ROLES = (PROD, DR_DRILL, DR_FAILOVER)
DEFAULT_PRIMARY_REGION = "us-east-1"
DEFAULT_DR_REGION = "us-west-2"

UNKNOWN = object()  # returned by get() for values not known during a preview

# ---------------------------------------------------------------------------------------------
# Secret marking. The Python SDK unwraps Pulumi secrets before a policy sees them, so a policy
# cannot tell a secret from a plain value. We mark values that arrived inside a secret wrapper
# with transparent subclasses (a SecretStr behaves exactly like str). If the SDK internals change,
# the patch is skipped and every value is treated as plain (stricter, never looser).
# ---------------------------------------------------------------------------------------------


class SecretStr(str):
    is_secret = True


class SecretInt(int):
    is_secret = True


class SecretFloat(float):
    is_secret = True


def _mark_secret(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, int):
        return SecretInt(value)
    if isinstance(value, float):
        return SecretFloat(value)
    if isinstance(value, list):
        return [_mark_secret(v) for v in value]
    if isinstance(value, dict):
        return {k: _mark_secret(v) for k, v in value.items()}
    return value


def _install_secret_marking() -> bool:
    try:
        from pulumi_policy import deserialize as _d
        original = _d._deserialize_property
        sig_key, secret_sig = _d.SPECIAL_SIG_KEY, _d.SPECIAL_SECRET_SIG
    except (ImportError, AttributeError):  # pragma: no cover - SDK changed
        return False
    if getattr(original, "_printflow_marks_secrets", False):
        return True

    def _deserialize_property(prop: Any, proxy_secrets: bool = False) -> Any:
        if (not proxy_secrets and isinstance(prop, dict) and prop.get(sig_key) == secret_sig
                and "value" in prop):
            return _mark_secret(original(prop["value"], proxy_secrets))
        return original(prop, proxy_secrets)

    _deserialize_property._printflow_marks_secrets = True  # type: ignore[attr-defined]
    _d._deserialize_property = _deserialize_property
    return True


SECRET_MARKING = _install_secret_marking()


def _install_request_memo() -> bool:
    """pulumi-policy's Analyze converts and proxies the same request once per policy (62 times a
    resource here). Remember the last conversion, keyed by the request's bytes, so each resource
    is converted once. Policies only read props. If the SDK changes, this is skipped (slower, same
    verdicts)."""
    try:
        from pulumi_policy import policy as _p
        to_dict, deserialize, proxy = _p.json_format.MessageToDict, _p.deserialize_properties, _p.unknown_checking_proxy
    except AttributeError:  # pragma: no cover - SDK changed
        return False
    if getattr(proxy, "_printflow_memo", False):
        return True
    # Enough entries for one AnalyzeStack, whose stack policies each walk every resource.
    recent: dict[Any, tuple[Any, Any]] = {}

    def remember(key: Any, source: Any, compute) -> Any:
        """Entries keep their source alive, so an id in a key cannot be reused while cached."""
        entry = recent.get(key)
        if entry is None or entry[0] is not source:
            if len(recent) >= 2048:
                recent.pop(next(iter(recent)))
            entry = recent[key] = (source, compute())
        return entry[1]

    class _JsonFormat:
        """json_format as policy.py sees it, with MessageToDict remembering recent answers."""

        def __getattr__(self, name: str) -> Any:
            return getattr(_p.json_format_module, name)

        @staticmethod
        def MessageToDict(message, *args, **kwargs):  # noqa: N802 - protobuf's name
            key = ("dict", type(message).__name__, message.SerializeToString(deterministic=True),
                   args, tuple(sorted(kwargs.items())))
            return remember(key, None, lambda: to_dict(message, *args, **kwargs))

    def _deserialize(props, *args, **kwargs):
        return remember(("props", id(props), args, tuple(sorted(kwargs.items()))), props,
                        lambda: deserialize(props, *args, **kwargs))

    def _proxy(value):
        return remember(("proxy", id(value)), value, lambda: proxy(value))

    _proxy._printflow_memo = True  # type: ignore[attr-defined]
    _p.json_format_module = _p.json_format
    _p.json_format = _JsonFormat()
    _p.deserialize_properties = _deserialize
    _p.unknown_checking_proxy = _proxy
    return True


REQUEST_MEMO = _install_request_memo()


def is_secret(value: Any) -> bool:
    return bool(getattr(value, "is_secret", False))


# ---------------------------------------------------------------------------------------------
# Value access
# ---------------------------------------------------------------------------------------------


def get(obj: Any, *path: Any, default: Any = None) -> Any:
    """Walk `path` through mappings/lists. Missing -> default; unknown -> UNKNOWN."""
    cur = obj
    try:
        for key in path:
            if cur is None or cur is UNKNOWN:
                return default if cur is None else UNKNOWN
            if isinstance(cur, str):
                return UNKNOWN if _is_unknown(cur) else default
            if isinstance(key, int):
                if not isinstance(cur, Sequence) or key >= len(cur):
                    return default
                cur = cur[key]
            else:
                if not isinstance(cur, Mapping) or key not in cur:
                    return default
                cur = cur[key]
    except UnknownValueError:
        return UNKNOWN
    if isinstance(cur, str) and _is_unknown(cur):
        return UNKNOWN
    return default if cur is None else cur


def one(value: Any) -> Any:
    """A single nested block, whether the provider shapes it as an object or a 1-item list."""
    if value is UNKNOWN or value is None:
        return value
    if isinstance(value, Sequence) and not isinstance(value, str):
        try:
            return value[0] if len(value) else None
        except UnknownValueError:
            return UNKNOWN
    return value


class NotKnownYet(UnknownValueError):
    """A value a policy needs is unknown (a preview): the resource is skipped, never judged."""

    def __init__(self) -> None:
        super().__init__(UNKNOWN_OBJECT_VALUE, [])


def has_unknown(value: Any) -> bool:
    """Is any part of `value` unknown? (iterative: any depth)"""
    pending = [value]
    while pending:
        item = pending.pop()
        if item is UNKNOWN or (isinstance(item, str) and _is_unknown(item)):
            return True
        try:
            if isinstance(item, Mapping):
                pending.extend(item[k] for k in list(item.keys()))
            elif isinstance(item, Sequence) and not isinstance(item, str):
                pending.extend(item[i] for i in range(len(item)))
        except UnknownValueError:
            return True
    return False


def known(value: Any) -> Any:
    """`value`, or NotKnownYet if any part of it is unknown: a collection with an unknown entry
    cannot be judged (an unknown parameter may be the very one a policy looks for)."""
    if has_unknown(value):
        raise NotKnownYet()
    return value


def items(value: Any) -> List[Any]:
    """A list block as a plain list (an object counts as a 1-item list). A block with anything
    unknown in it raises NotKnownYet: the policy skips the resource instead of misjudging it."""
    known(value)
    if value is None or isinstance(value, str):
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Sequence):
        out = []
        for i in range(len(value)):
            try:
                out.append(value[i])
            except UnknownValueError:
                out.append(UNKNOWN)
        return out
    return []


def truthy(value: Any) -> Optional[bool]:
    """True/False for a known boolean-ish value, None when unknown or absent."""
    if value is UNKNOWN or value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "enabled")
    return bool(value)


def number(value: Any) -> Optional[float]:
    if value is UNKNOWN or value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def fmt_num(value: Any) -> str:
    n = number(value)
    if n is None:
        return str(value)
    return str(int(n)) if n == int(n) else str(n)


def tags_of(props: Mapping[str, Any]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for key in ("tagsAll", "tags"):
        t = get(props, key)
        if isinstance(t, Mapping):
            for k in list(t.keys()):
                v = get(t, k)
                if isinstance(v, str) and v is not UNKNOWN:
                    out[str(k)] = v
    return out


def parse_json_doc(value: Any) -> Any:
    """A JSON policy document given as a string (or already an object). UNKNOWN/None pass through."""
    if value is None or value is UNKNOWN:
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def as_list(value: Any) -> List[Any]:
    known(value)
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return items(value)
    return [value]


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


# ---------------------------------------------------------------------------------------------
# Stack view
# ---------------------------------------------------------------------------------------------

GLOBAL_TYPE_PREFIXES = ("aws:iam/", "aws:organizations/", "aws:cloudfront/", "aws:route53/",
                        "aws:globalaccelerator/", "aws:budgets/", "aws:ce/", "aws:shield/")


def is_regional_aws(resource_type: str) -> bool:
    return resource_type.startswith("aws:") and not resource_type.startswith(GLOBAL_TYPE_PREFIXES)


class Stack:
    """Indexes AnalyzeStack resources by type and resolves references between them."""

    def __init__(self, resources: List[Any], ctx: Ctx):
        self.resources = list(resources)
        self.ctx = ctx
        self.by_type: Dict[str, List[Any]] = {}
        for r in self.resources:
            self.by_type.setdefault(r.resource_type, []).append(r)

    def of(self, *types: str) -> List[Any]:
        out: List[Any] = []
        for t in types:
            out.extend(self.by_type.get(t, []))
        return out

    @staticmethod
    def identifiers(res: Any) -> set:
        ids = set()
        for key in ("id", "arn", "bucket", "name", "identifier", "keyId", "clusterName"):
            v = get(res.props, key)
            if isinstance(v, str) and v and v is not UNKNOWN:
                ids.add(v)
        return ids

    def refers_to(self, res: Any, prop: str, target: Any) -> bool:
        """Does `res.props[prop]` point at `target`? Checks propertyDependencies, then values."""
        for dep in (res.property_dependencies or {}).get(prop, []) or []:
            if getattr(dep, "urn", None) == target.urn:
                return True
        value = get(res.props, prop)
        if isinstance(value, str) and value is not UNKNOWN and value:
            ids = self.identifiers(target)
            if value in ids:
                return True
            # `arn:aws:s3:::bucket-name` style references
            for ident in ids:
                if value.endswith(":" + ident) or value.endswith("/" + ident):
                    return True
        return False

    def referencing(self, target: Any, prop: str, *types: str) -> List[Any]:
        return [r for r in self.of(*types) if self.refers_to(r, prop, target)]

    def region_of(self, res: Any) -> Any:
        region = get(res.props, "region")
        if isinstance(region, str) and region:
            return region
        if region is UNKNOWN:
            return UNKNOWN
        provider = getattr(res, "provider", None)
        if provider is not None:
            pregion = get(provider.props, "region")
            if pregion is not None:
                return pregion
        return None


def region_of_resource(args: Any) -> Any:
    region = get(args.props, "region")
    if region is not None:
        return region
    if args.provider is not None:
        return get(args.provider.props, "region")
    return None


def label(res: Any) -> str:
    """How messages name a resource: its logical name (the URN travels with the violation)."""
    return f"'{res.name}'"


SECRETISH_NAME = re.compile(r"(key|secret|password|passwd|token|credential)", re.IGNORECASE)
REFERENCE_NAME = re.compile(r"(_ARNS?|_ID|_IDS|_NAME|_REGION|_URL|_ENDPOINT)$", re.IGNORECASE)
LARAVEL_KEY_VALUE = re.compile(r"^base64:[A-Za-z0-9+/=]{16,}$")
PEM_VALUE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def looks_like_secret_value(value: Any) -> bool:
    return isinstance(value, str) and bool(LARAVEL_KEY_VALUE.match(value.strip())
                                           or PEM_VALUE.search(value))


def is_reference_value(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith("arn:") or value == "")
