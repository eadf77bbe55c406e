"""Policy config as the CLI handles it: `--policy-pack-config` parsed, then reconciled with each
policy's schema (pulumi/pulumi ReconcilePolicyPackConfig: schema defaults, then `all`, then the
policy's own entry), and the role files in policies/config/."""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Mapping, Optional, Sequence

from tools.policy_types import LEVEL_VALUES, CheckInputError, PolicyInfo

# ------------------------------------------------------------------------------------------------
# Policy config: parse (CLI --policy-pack-config format) and reconcile like the CLI
# ------------------------------------------------------------------------------------------------

def parse_policy_config(raw: Any, source: str = "policy config") -> Dict[str, Dict[str, Any]]:
    """{policy|all: level-string | {enforcementLevel?, prop: value}} -> {name: {level, props}}."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise CheckInputError(f"The {source} must be a JSON object mapping policy names (or 'all') to "
                         "an enforcement level string or an object of properties.")
    out: Dict[str, Dict[str, Any]] = {}
    for name, value in raw.items():
        level, props = None, {}
        if isinstance(value, str):
            level = value
        elif isinstance(value, Mapping):
            props = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = value.get("enforcementLevel")
            if level is not None and not isinstance(level, str):
                raise CheckInputError(f"In the {source}, '{name}'.enforcementLevel must be a string.")
        else:
            raise CheckInputError(f"In the {source}, '{name}' must be a string or an object, not "
                             f"{type(value).__name__}.")
        if level is not None and level not in LEVEL_VALUES:
            raise CheckInputError(f"In the {source}, '{name}' has enforcement level '{level}'; use one "
                             "of advisory, mandatory, remediate, disabled.")
        if level is None and not props:
            continue
        out[str(name)] = {"level": level, "props": dict(props)}
    return out


def _check_value(schema: Mapping[str, Any], value: Any, where: str) -> List[str]:
    errors = []
    t = schema.get("type")
    checks = {"string": lambda v: isinstance(v, str),
              "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "boolean": lambda v: isinstance(v, bool),
              "array": lambda v: isinstance(v, list),
              "object": lambda v: isinstance(v, dict)}
    if t in checks and not checks[t](value):
        return [f"{where}: expected {t}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: must be one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: must be <= {schema['maximum']}")
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            errors.extend(_check_value(schema["items"], item, f"{where}[{i}]"))
    return errors


def reconcile_config(policies: Sequence[PolicyInfo], given: Mapping[str, Dict[str, Any]],
                     stack_role: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
    """Mirror of the CLI's ReconcilePolicyPackConfig (+ applyConfig, validatePolicyPackConfig).

    `stack_role`, when given, is written as the `stackRole` property of every policy whose config
    does not set one explicitly (what a per-stack --policy-pack-config file would do)."""
    result: Dict[str, Dict[str, Any]] = {}
    for p in policies:
        props = {k: copy.deepcopy(v["default"]) for k, v in p.config_schema.items()
                 if isinstance(v, Mapping) and "default" in v}
        result[p.name] = {"level": p.level, "props": props}
    all_cfg = given.get("all")
    if all_cfg and all_cfg.get("level"):
        for name in result:
            result[name]["level"] = all_cfg["level"]
    for name, cfg in given.items():
        entry = result.setdefault(name, {"level": None, "props": {}})
        if cfg.get("level"):
            entry["level"] = cfg["level"]
        entry["props"].update(copy.deepcopy(cfg.get("props") or {}))
    if stack_role:
        for p in policies:
            if "stackRole" in p.config_schema and "stackRole" not in (
                    given.get(p.name, {}).get("props") or {}):
                result[p.name]["props"]["stackRole"] = stack_role
    errors = []
    known = {p.name: p for p in policies}
    for name, entry in result.items():
        p = known.get(name)
        if p is None:
            if name != "all":
                errors.append(f"{name}: no such policy in the pack")
            continue
        for k, v in entry["props"].items():
            if k in p.config_schema:
                errors.extend(_check_value(p.config_schema[k], v, f"{name}.{k}"))
    if errors:
        raise CheckInputError("The policy config does not match the pack's config schema: "
                         + "; ".join(errors) + ".")
    return result


def role_config(policies: Sequence[PolicyInfo], role: str) -> Dict[str, Any]:
    """The --policy-pack-config document that selects `role` for every policy (the files in
    policies/config/ are generated from this)."""
    return {p.name: {"stackRole": role} for p in sorted(policies, key=lambda p: p.name)
            if "stackRole" in p.config_schema}
