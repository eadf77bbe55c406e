"""Stack files as the Pulumi CLI reads them: the YAML (duplicate keys refused, timestamps kept as
text, bounded depth), the project's config declarations applied (tools.cli_config), and the
values as the CLI hands them to the program (strings; objects and lists as JSON)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any, Optional

import yaml

from components.config import shown

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"


class RenderError(Exception):
    """The stack could not be rendered; the message is for the user."""

def _config_string(value: Any) -> str:
    """As the CLI hands config to a program: strings, with objects and lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def stack_config_with_secrets(stack: str, directory: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    """Config strings and secret keys, after the CLI's own checks against Pulumi.yaml
    (tools.cli_config): a stack file the CLI would refuse is refused here."""
    from tools.cli_config import CliConfigError, apply_project_config, load_project

    path = directory / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise RenderError(f"No stack file {path.name}; stacks here: "
                          + ", ".join(sorted(p.name for p in directory.glob("Pulumi.*.yaml"))))
    document = read_stack_file(path)
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise RenderError(f"{path.name} needs a top-level 'config:' mapping")
    project_file = directory / "Pulumi.yaml"
    project, declared = load_project(project_file if project_file.exists() else PROJECT_FILE)
    try:
        applied = apply_project_config(stack, project, declared, config)
    except CliConfigError as exc:
        raise RenderError(f"{path.name}: the Pulumi CLI would refuse this stack: {exc}") from None
    return {str(k): _config_string(v) for k, v in applied.values.items()}, applied.secret_keys


MAX_DEPTH = 32
"""Deeper nesting than any setting needs; a deeper document is refused, not recursed into."""


class _StackFileLoader(yaml.SafeLoader):
    """Reads a stack file as the Pulumi CLI does (Go yaml.v3): a key given twice is an error, not
    'the last one wins', and a timestamp stays the text it is."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{shown(key)}' is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StackFileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _depth(value: Any, limit: int) -> int:
    stack, deepest = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def read_stack_file(path: Path) -> Any:
    """The stack file's YAML, or RenderError naming the file and what is wrong. (Parsed once per
    version of the file: a render reads each stack file several times.)"""
    try:
        stat = path.stat()
    except OSError as exc:
        raise RenderError(f"cannot read {path.name}: {exc.strerror}") from None
    return copy.deepcopy(_parse_stack_file(path, stat.st_mtime_ns, stat.st_size))


def stack_file_node(path: Path) -> Optional[yaml.Node]:
    """The stack file as YAML nodes, which keep each key's line (for SARIF), read with the same
    loader as the render and parsed once per version of the file; None when it cannot be read
    (the render reports why)."""
    try:
        stat = path.stat()
        return _compose_stack_file(path, stat.st_mtime_ns, stat.st_size)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None


@functools.lru_cache(maxsize=16)
def _compose_stack_file(path: Path, _mtime_ns: int, _size: int) -> Optional[yaml.Node]:
    return yaml.compose(path.read_bytes().decode("utf-8"), Loader=_StackFileLoader)


@functools.lru_cache(maxsize=64)
def _parse_stack_file(path: Path, _mtime_ns: int, _size: int) -> Any:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RenderError(f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise RenderError(f"cannot read {path.name}: {exc.strerror}") from None
    try:
        document = yaml.load(text, Loader=_StackFileLoader) or {}
    except yaml.YAMLError as exc:
        raise RenderError(f"{path.name} is not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise RenderError(f"{path.name} is nested too deeply (more than {MAX_DEPTH} levels)") from None
    if _depth(document, MAX_DEPTH) > MAX_DEPTH:
        raise RenderError(f"{path.name} is nested too deeply (more than {MAX_DEPTH} levels)")
    return document
