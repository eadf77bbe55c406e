"""Read-only views over a rendered resource graph, for assertions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from typing import Any, Optional

from tests.pack_modules import pack_module
from tools.render import render_stack, stack_config
from tools.wire import reveal

RECENT_RESTORE_TIME = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:00Z")
"""A restore point inside every stack's retention window (restore_time may not be in the future)."""


def _stateful_types() -> tuple:
    """The types the pack requires protected in production (printflow-stateful-resources-protected,
    policies/stack_wide.py): the program is held to the rule's one list."""
    return tuple(pack_module("stack_wide").STATEFUL_TYPES)


STATEFUL_TYPES = _stateful_types()


@dataclass(frozen=True)
class Res:
    raw: dict

    @property
    def type(self) -> str:
        return self.raw["type"]

    @property
    def name(self) -> str:
        return self.raw["name"]

    @property
    def urn(self) -> str:
        return self.raw["urn"]

    @property
    def parent(self) -> Optional[str]:
        return self.raw["parent"]

    @property
    def inputs(self) -> dict:
        """Plain values: secrets revealed (mock data only)."""
        return reveal(self.raw["inputs"])

    @property
    def wire_inputs(self) -> dict:
        return self.raw["inputs"]

    @property
    def outputs(self) -> dict:
        return reveal(self.raw["outputs"])

    @property
    def protected(self) -> bool:
        return bool(self.raw["options"].get("protect"))

    @property
    def region(self) -> Optional[str]:
        return self.raw["inputs"].get("region")


class Graph:
    def __init__(self, raw: dict):
        self.raw = raw
        self.resources = [Res(r) for r in raw["resources"]]
        self.by_urn = {r.urn: r for r in self.resources}

    @property
    def outputs(self) -> dict:
        return reveal(self.raw["outputs"])

    @property
    def wire_outputs(self) -> dict:
        return self.raw["outputs"]

    def of_type(self, type_: str) -> list[Res]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name_part: str = "") -> Res:
        found = [r for r in self.of_type(type_) if name_part in r.name]
        assert len(found) == 1, f"expected one {type_} named *{name_part}*, found {[r.name for r in found]}"
        return found[0]

    def custom(self) -> list[Res]:
        return [r for r in self.resources if r.raw["custom"]]

    def component_of(self, resource: Res) -> Optional[Res]:
        return self.by_urn.get(resource.parent) if resource.parent else None

    def children(self, component: Res) -> list[Res]:
        return [r for r in self.resources if r.parent == component.urn]

    def bucket_part(self, type_: str, bucket: Res) -> list[Res]:
        """The v7 sub-resources (versioning, lock, ...) attached to a bucket by its id."""
        return [r for r in self.of_type(type_) if r.inputs.get("bucket") == bucket.outputs["bucket"]]


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


def config_with(stack: str, overrides: dict[str, Any]) -> dict[str, str]:
    """The stack's real config with some keys changed (objects are merged, None deletes)."""
    config = stack_config(stack)
    for key, value in overrides.items():
        if value is None:
            config.pop(key, None)
            continue
        current = config.get(key)
        if isinstance(value, dict) and current and current.startswith("{"):
            value = _merge(json.loads(current), value)
        config[key] = json.dumps(value) if isinstance(value, (dict, list)) else (
            ("true" if value else "false") if isinstance(value, bool) else str(value))
    return config


def render(stack: str, overrides: Optional[dict[str, Any]] = None,
           references: Optional[dict[str, dict]] = None, secret_keys: tuple[str, ...] = (),
           preview: bool = False) -> Graph:
    config = config_with(stack, overrides or {})
    return Graph(render_stack(stack, references=references, config=config, secret_keys=secret_keys,
                              preview=preview))


def render_cli(stack_dir, *args: str) -> "subprocess.CompletedProcess[str]":
    """`python -m tools.render --stack-dir DIR ...` as a user runs it."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "tools.render", "--stack-dir", str(stack_dir), *args],
                          cwd=root, capture_output=True, text=True, timeout=120)
