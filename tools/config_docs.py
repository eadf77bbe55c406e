"""The configuration reference, generated from the pydantic models (their fields and descriptions
are the one source): the README's configuration table and the `config:` declarations of
Pulumi.yaml. `python -m tools.config_docs` rewrites both; a test keeps them current.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator, Literal, Optional, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from components.config import PROJECT, StackSettings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PROJECT_FILE = ROOT / "Pulumi.yaml"
TABLE = re.compile(r"(<!-- config:start -->\n)(.*?)(<!-- config:end -->)", re.S)
PROVIDER_KEYS = ("aws:region",)
"""Declared by the provider, not the project (the CLI refuses a type or default on them)."""


def _model_of(annotation: Any) -> Optional[type[BaseModel]]:
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        value = field.default_factory()
        return value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return None if field.default is PydanticUndefined else field.default


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        text = json.dumps(value)
        return "" if not value else f"`{text}`" if len(text) < 40 else "built-in defaults"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _leaves(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, FieldInfo]]:
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        yield key, field
        sub = _model_of(field.annotation)
        if sub is not None:
            yield from _leaves(sub, key + ".")


def described(field: Any) -> str:
    """A field's description on one line (the models document fields with attribute docstrings,
    which may wrap)."""
    return " ".join((field.description or "").split())


def config_table() -> str:
    """Every setting with its meaning and default, one row each."""
    rows = ["| key | meaning | default |", "|---|---|---|"]
    for key, field in _leaves(StackSettings, ""):
        full = key if ":" in key.split(".")[0] else f"{PROJECT}:{key}"
        required = field.is_required()
        nested = _model_of(field.annotation) is not None
        default = "required" if required else "" if nested else _shown(_default(field))
        meaning = described(field).replace("|", "\\|")
        rows.append(f"| `{full}` | {meaning} | {default} |")
    return "\n".join(rows) + "\n"


def _cli_type(annotation: Any) -> Optional[str]:
    """The `type` the CLI checks: scalars only (objects and lists stay untyped)."""
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation is str or get_origin(annotation) is Literal:
        values = get_args(annotation) if get_origin(annotation) is Literal else ("",)
        return "string" if all(isinstance(v, str) for v in values) else None
    if get_origin(annotation) is Union:
        return None
    return None


def pulumi_yaml_config() -> str:
    """The `config:` block of Pulumi.yaml: required keys have no default, optional blocks `{}`."""
    lines = [
        "config:",
        "  # Generated from components/config*.py by `python -m tools.config_docs`; a test keeps it current.",
        "  # The CLI requires every key declared here without a default in every stack",
        "  # (pkg/workspace/config.go): optional blocks default to {} (all defaults; for `dr`, \"not a DR stack\").",
    ]
    for name, field in StackSettings.model_fields.items():
        key = field.alias or name
        if key in PROVIDER_KEYS:
            continue
        lines.append(f"  {PROJECT}:{key}:")
        cli_type = _cli_type(field.annotation)
        if cli_type:
            lines.append(f"    type: {cli_type}")
        lines.append(f"    description: {json.dumps(described(field))}")
        if not field.is_required():
            default = _default(field)
            if _model_of(field.annotation) is not None or isinstance(default, dict) or default is None:
                lines.append("    default: {}")
            else:
                lines.append(f"    default: {json.dumps(default)}")
    return "\n".join(lines) + "\n"


def current_project_file() -> str:
    text = PROJECT_FILE.read_text()
    return text[: text.index("\nconfig:\n") + 1] + pulumi_yaml_config()


def current_readme() -> str:
    text = README.read_text()
    if not TABLE.search(text):
        raise SystemExit("README.md has no <!-- config:start --> block")
    return TABLE.sub(lambda m: m.group(1) + config_table() + m.group(3), text)


def main() -> int:
    PROJECT_FILE.write_text(current_project_file())
    README.write_text(current_readme())
    print("Pulumi.yaml config declarations and the README configuration table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
