"""What the Pulumi CLI does with a stack's configuration before the program runs, emulated.

`pulumi preview` and `pulumi up` read `Pulumi.yaml` and `Pulumi.<stack>.yaml` and refuse to start
the program when they disagree (pulumi/pulumi `pkg/workspace/config.go`, `mergeConfig` →
`validateStackConfigValues`, and Project.Validate in `sdk/go/common/workspace/project.go`):

- every key declared under `config:` in `Pulumi.yaml` in the project's namespace without `default`
  or `value` is required in every stack: "Stack 'prod' is missing configuration value
  'printflow:dr'";
- a declared key's default is written into the stack's config when the stack does not set it;
- a key declared with a `type` must hold a value of that type (string, integer, boolean, array);
- a key declared `secret: true` must be stored encrypted (`secure:`) in the stack file.

The offline preview applies the same rules, so a stack file the CLI would refuse is refused here
too, and the program sees the config the CLI would hand it. The CLI decrypts `secure:` values;
offline there is no key, so each stands in as SECRET_PLACEHOLDER and its key is marked secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SECRET_PLACEHOLDER = "https://offline-placeholder.invalid/secret"
"""What a `secure:` value reads as offline (a valid https URL: the secrets this project keeps in
stack files are pager webhooks)."""


class CliConfigError(Exception):
    """The CLI would refuse this stack's configuration; the message says why, as the CLI would."""


@dataclass(frozen=True)
class StackConfig:
    values: dict[str, Any]
    """Full key -> value, with the project's defaults applied and secrets replaced offline."""
    secret_keys: tuple[str, ...]
    """Keys whose stack-file value holds a `secure:` part (the CLI marks them secret)."""


def load_project(path: Path) -> tuple[str, dict[str, dict]]:
    """The project name and its `config:` declarations, keyed by full key (`project:key`)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    name = str(document.get("name", ""))
    declared: dict[str, dict] = {}
    for key, spec in (document.get("config") or {}).items():
        full = str(key) if ":" in str(key) else f"{name}:{key}"
        # A bare value is shorthand for {value: ...} (sdk/go/common/workspace/project.go).
        declared[full] = spec if isinstance(spec, dict) else {"value": spec}
    return name, declared


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str)


def _replace_secure(value: Any) -> tuple[Any, bool]:
    if _is_secure(value):
        return SECRET_PLACEHOLDER, True
    if isinstance(value, dict):
        pairs = {k: _replace_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        pairs = [_replace_secure(v) for v in value]
        return [v for v, _ in pairs], any(s for _, s in pairs)
    return value, False


def _type_error(type_name: str, spec: dict, value: Any) -> bool:
    """True when `value` does not fit the declared type, as project.go ValidateConfigValue judges
    it: the CLI stores a YAML scalar as a string (so a `string` key takes any scalar), an integer
    may be a string strconv.Atoi accepts or a whole number, a boolean `true`/`false`."""
    if type_name == "string":
        return isinstance(value, (dict, list))
    if type_name == "integer":
        if isinstance(value, bool):
            return False  # stored as the string "true"/"false", which Atoi refuses
        if isinstance(value, int):
            return False
        if isinstance(value, float):
            return value != int(value)
        return not (isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value) is not None)
    if type_name == "boolean":
        return not (isinstance(value, bool) or value in ("true", "false"))
    if type_name == "object":
        return not isinstance(value, dict)
    if type_name == "array":
        if not isinstance(value, list):
            return True
        items = spec.get("items") or {}
        return any(_type_error(str(items.get("type")), items, v) for v in value)
    return False


def _type_name(spec: dict) -> str:
    """As InferFullTypeName prints it: array<string>, array<array<integer>>, ..."""
    if spec.get("type") == "array":
        return f"array<{_type_name(spec.get('items') or {})}>"
    return str(spec.get("type"))


def validate_project(project: str, declared: dict[str, dict]) -> None:
    """Project.Validate (sdk/go/common/workspace/project.go) for the `config:` block."""
    problems = []
    for key, spec in declared.items():
        namespaced = key.partition(":")[0] == project
        if "default" in spec and "value" in spec:
            problems.append(f"project config '{key}' cannot have both a 'default' and 'value' attribute")
        if not namespaced:
            if "type" in spec:
                problems.append(f"Configuration key '{key}' is not namespaced by the project and should not define a type")
            if "default" in spec:
                problems.append(f"Configuration key '{key}' is not namespaced by the project and should not define a default value")
            continue
        if spec.get("type") == "array" and not spec.get("items"):
            problems.append(f"The configuration key '{key}' declares an array but does not specify the "
                            "underlying type via the 'items' attribute")
        if spec.get("type") and "default" in spec and _type_error(str(spec["type"]), spec, spec["default"]):
            problems.append(f"The default value specified for configuration key '{key}' is not of the "
                            f"expected type '{_type_name(spec)}'")
    if problems:
        raise CliConfigError("; ".join(problems))


def _missing_message(stack: str, keys: list[str]) -> str:
    """config.go: one key, or 'values 'a', 'b' and 'c'', sorted."""
    quoted = [f"'{k}'" for k in sorted(keys)]
    if len(quoted) == 1:
        return f"Stack '{stack}' is missing configuration value {quoted[0]}"
    return f"Stack '{stack}' is missing configuration values {', '.join(quoted[:-1])} and {quoted[-1]}"


def apply_project_config(stack: str, project: str, declared: dict[str, dict],
                         stack_values: dict[str, Any]) -> StackConfig:
    """The stack's config as the CLI hands it to the program, or CliConfigError with the CLI's
    words (`pulumi up` prefixes them with "validating stack config: ")."""
    validate_project(project, declared)
    values: dict[str, Any] = {}
    secret_keys = []
    for key, raw in stack_values.items():
        values[str(key)], secret = _replace_secure(raw)
        if secret:
            secret_keys.append(str(key))
    missing, problems = [], []
    for key, spec in declared.items():
        if key.partition(":")[0] != project:
            continue  # other namespaces (aws:region, ...) are the providers' to check
        if key not in values:
            default = spec.get("default", spec.get("value"))
            if default is None:
                missing.append(key)
                continue
            values[key] = default  # applied as a plain (not secure) value
        if not spec.get("type"):
            continue  # untyped keys are not checked, not even `secret: true`
        if _type_error(str(spec["type"]), spec, values[key]):
            problems.append(f"Stack '{stack}' with configuration key '{key}' must be of type "
                            f"'{_type_name(spec)}'")
        if spec.get("secret") and key not in secret_keys:
            problems.append(f"Stack '{stack}' with configuration key '{key}' must be encrypted "
                            "as it's secret")
    if missing:
        problems.insert(0, _missing_message(stack, missing))
    if problems:
        raise CliConfigError("; ".join(problems))
    return StackConfig(values, tuple(sorted(secret_keys)))
