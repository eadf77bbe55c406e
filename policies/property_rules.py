"""The property policies declared in property_rules.yaml, read and checked once.

A rule there is metadata plus the inspected properties and what each must be; `Rules.declared`
(pack_common.py) turns each entry into a resource policy that owns lookup, comparison and
unknown values. Standalone (yaml and pack_values only), so a malformed file is
reported with the module, the entry and the key before any policy is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import yaml

from pack_values import truthy

RULES_FILE = Path(__file__).resolve().with_name("property_rules.yaml")
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it: the pack reads this file each time it starts."""
REQUIRED = ("name", "types", "severity", "category", "url", "description", "must", "message")
ALLOWED = REQUIRED + ("production_only", "when_unset", "must_not_be")
MUST_BE: dict[str, Callable[[Any], bool]] = {
    "true": truthy,
    "false": lambda value: not truthy(value),
    "set": bool,
}


class PropertyRuleError(ValueError):
    """property_rules.yaml breaks the format; the message names the module, entry and key."""


@dataclass(frozen=True)
class PropertyRule:
    name: str
    types: tuple[str, ...]
    severity: str
    category: str
    url: str
    description: str
    must: dict[str, Callable[[Any], bool]]
    """Each inspected property and the test its value (or `when_unset`) must pass."""
    message: str
    when_unset: dict[str, Any] = field(default_factory=dict)
    production_only: bool = False


def _mapping_of_properties(where: str, key: str, value: Any) -> dict[str, Any]:
    if value is None and key != "must":
        return {}
    if not (isinstance(value, dict) and value and all(isinstance(k, str) for k in value)):
        raise PropertyRuleError(f"{where}: `{key}` must map property names to values.")
    return value


def _test(where: str, prop: str, must_be: Any, refused: list) -> Callable[[Any], bool]:
    word = {True: "true", False: "false"}.get(must_be, must_be) if isinstance(must_be, (bool, str)) else None
    if word not in MUST_BE:
        raise PropertyRuleError(f"{where}: `must.{prop}` is {must_be!r}; allowed: true, false, set.")
    if not isinstance(refused, list):
        raise PropertyRuleError(f"{where}: `must_not_be.{prop}` must be a list of values.")
    passes = MUST_BE[word]
    return (lambda value: passes(value) and value not in refused) if refused else passes


def _checked(module: str, index: int, entry: Any) -> PropertyRule:
    where = f"policies/{RULES_FILE.name}: {module} entry #{index + 1}"
    if not isinstance(entry, dict):
        raise PropertyRuleError(f"{where} is not a mapping of {', '.join(REQUIRED)}.")
    unknown = sorted(set(entry) - set(ALLOWED))
    if unknown:
        raise PropertyRuleError(f"{where} has unknown key(s) {', '.join(unknown)}; allowed: "
                                f"{', '.join(ALLOWED)}.")
    missing = [k for k in REQUIRED if entry.get(k) in (None, "")]
    if missing:
        raise PropertyRuleError(f"{where} lacks {', '.join(missing)}.")
    types = entry["types"]
    if not (isinstance(types, list) and types and all(isinstance(t, str) for t in types)):
        raise PropertyRuleError(f"{where}: `types` must be a list of resource type tokens.")
    must = _mapping_of_properties(where, "must", entry["must"])
    unset = _mapping_of_properties(where, "when_unset", entry.get("when_unset"))
    refused = _mapping_of_properties(where, "must_not_be", entry.get("must_not_be"))
    stray = sorted((set(unset) | set(refused)) - set(must))
    if stray:
        raise PropertyRuleError(f"{where}: {', '.join(stray)} is not a property under `must`.")
    if not isinstance(entry.get("production_only", False), bool):
        raise PropertyRuleError(f"{where}: `production_only` must be true or false.")
    try:
        entry["message"].format(name="x")
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise PropertyRuleError(f"{where}: `message` may use only {{name}} ({exc}).") from None
    return PropertyRule(
        name=entry["name"], types=tuple(types), severity=entry["severity"],
        category=entry["category"], url=entry["url"],
        description=" ".join(str(entry["description"]).split()),
        must={prop: _test(where, prop, v, refused.get(prop) or []) for prop, v in must.items()},
        message=" ".join(entry["message"].split()), when_unset=unset,
        production_only=entry.get("production_only") is True)


@lru_cache(maxsize=None)
def _all() -> dict[str, tuple[PropertyRule, ...]]:
    path = RULES_FILE
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PropertyRuleError(f"policies/{path.name} cannot be read: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise PropertyRuleError(f"policies/{path.name} must map each policy module (rds, s3, ...) "
                                "to a list of rules.")
    return {module: tuple(_checked(module, i, e) for i, e in enumerate(entries))
            for module, entries in data.items()}


def declared_for(module: str) -> tuple[PropertyRule, ...]:
    """The rules property_rules.yaml declares for `module` (none when it names none)."""
    return _all().get(module, ())


def modules() -> list[str]:
    """Every module the file declares rules for: each must register them (registry.py checks)."""
    return list(_all())
