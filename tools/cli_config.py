"""What the Pulumi CLI does with a stack's configuration before the program runs, emulated.

`pulumi preview` and `pulumi up` read `Pulumi.yaml` and `Pulumi.<stack>.yaml` and refuse to start
the program when they disagree (pulumi/pulumi `pkg/workspace/config.go`, `mergeConfig` →
`ValidateStackConfigAndApplyProjectConfig` in `sdk/go/common/workspace/config.go`):

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
    """True when `value` does not fit the declared type (integers and booleans may also be the
    strings the CLI would parse, as `pulumi config set` stores them)."""
    if type_name == "string":
        return not isinstance(value, (str, int, float)) or isinstance(value, bool)
    if type_name == "integer":
        if isinstance(value, bool):
            return True
        if isinstance(value, int):
            return False
        return not (isinstance(value, str) and value.lstrip("-").isdigit())
    if type_name == "boolean":
        return not (isinstance(value, bool) or (isinstance(value, str) and value in ("true", "false")))
    if type_name == "array":
        if not isinstance(value, list):
            return True
        items = spec.get("items") or {}
        return bool(items.get("type")) and any(_type_error(items["type"], items, v) for v in value)
    return False


def apply_project_config(stack: str, project: str, declared: dict[str, dict],
                         stack_values: dict[str, Any]) -> StackConfig:
    """The stack's config as the CLI hands it to the program, or CliConfigError."""
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
            values[key] = default
            continue
        type_name = spec.get("type")
        if type_name and _type_error(str(type_name), spec, values[key]):
            problems.append(f"Stack '{stack}' with configuration key '{key}' must be of type "
                            f"'{type_name}'")
        if spec.get("secret") and key not in secret_keys:
            problems.append(f"Stack '{stack}' with configuration key '{key}' must be encrypted "
                            "as it's secret")
    if missing:
        problems.insert(0, "; ".join(f"Stack '{stack}' is missing configuration value '{key}'"
                                     for key in sorted(missing)))
    if problems:
        raise CliConfigError("; ".join(problems))
    return StackConfig(values, tuple(sorted(secret_keys)))
