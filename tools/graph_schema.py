"""The resource-graph format (docs/contracts.md §1), checked once before anything reads a graph.

A graph file is user input: every field the policy check reads has the type it expects, numbers
fit a protobuf double, and nesting is bounded, or the check stops with one line naming the
resource and the field (exit 2) instead of crashing half-way.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

from tools.wire import GRAPH_FORMAT

MAX_DEPTH = 64
"""Deeper than any resource property (IAM documents are strings); deeper is refused."""
MAX_NUMBER = 1e300


class GraphError(ValueError):
    """The graph document breaks the format; the message names where."""


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def _expect(value: Any, types: tuple, where: str, what: str) -> None:
    if not isinstance(value, types) or (bool not in types and isinstance(value, bool) and int in types):
        raise GraphError(f"{where}: '{what}' must be {_describe(types)}, not {_kind(value)}")


def _describe(types: tuple) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return " or ".join(dict.fromkeys(names[t] for t in types))


def check_values(value: Any, where: str, what: str) -> None:
    """Bounded depth, finite numbers a double can hold; iterative (no recursion limit)."""
    stack = [(value, what, 1)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise GraphError(f"{where}: '{what}' is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}", depth + 1) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item))
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            if isinstance(item, float) and not math.isfinite(item) or abs(item) > MAX_NUMBER:
                raise GraphError(f"{where}: '{path}' holds a number out of range")


_STRING_LISTS = ("ignoreChanges", "additionalSecretOutputs", "dependsOn", "aliases")


def check_resource(resource: Any, index: int) -> None:
    if not isinstance(resource, dict):
        raise GraphError(f"resource #{index} must be an object, not {_kind(resource)}")
    urn = resource.get("urn")
    where = f"resource #{index}"
    _expect(urn, (str,), where, "urn")
    where = f"resource {urn}"
    _expect(resource.get("type"), (str,), where, "type")
    for key in ("name", "provider", "sourcePosition"):
        if key in resource:
            _expect(resource[key], (str,), where, key)
    if "parent" in resource:
        _expect(resource["parent"], (str, type(None)), where, "parent")
    if "custom" in resource:
        _expect(resource["custom"], (bool,), where, "custom")
    for key in ("inputs", "outputs", "options", "propertyDependencies"):
        if resource.get(key) is not None:
            _expect(resource[key], (dict,), where, key)
            check_values(resource[key], where, key)
    if resource.get("dependencies") is not None:
        _expect(resource["dependencies"], (list,), where, "dependencies")
        for dep in resource["dependencies"]:
            _expect(dep, (str,), where, "dependencies[]")
    for prop, deps in (resource.get("propertyDependencies") or {}).items():
        _expect(deps, (list,), where, f"propertyDependencies.{prop}")
        for dep in deps:
            _expect(dep, (str,), where, f"propertyDependencies.{prop}[]")
    options = resource.get("options") or {}
    for key in ("protect", "retainOnDelete", "deleteBeforeReplace"):
        if options.get(key) is not None:
            _expect(options[key], (bool,), where, f"options.{key}")
    for key in _STRING_LISTS:
        if options.get(key) is not None:
            _expect(options[key], (list,), where, f"options.{key}")
            for item in options[key]:
                _expect(item, (str,), where, f"options.{key}[]")
    if options.get("customTimeouts") is not None:
        timeouts = options["customTimeouts"]
        _expect(timeouts, (dict,), where, "options.customTimeouts")
        for key in ("create", "update", "delete"):
            if timeouts.get(key) is not None:
                _expect(timeouts[key], (int, float), where, f"options.customTimeouts.{key}")


def check_graph(graph: Any, source: str) -> dict:
    """The graph, or GraphError naming the source, the resource and the field."""
    try:
        if not isinstance(graph, Mapping):
            raise GraphError(f"the document must be an object, not {_kind(graph)}")
        if graph.get("format") != GRAPH_FORMAT:
            raise GraphError(f"'format' is {str(graph.get('format'))[:60]!r}; expected '{GRAPH_FORMAT}' "
                             "(write it with `python -m tools.render --graph`)")
        for key in ("project", "stack"):
            if key in graph:
                _expect(graph[key], (str,), "the graph", key)
        for key in ("config", "outputs"):
            if graph.get(key) is not None:
                _expect(graph[key], (dict,), "the graph", key)
                check_values(graph[key], "the graph", key)
        _expect(graph.get("resources"), (list,), "the graph", "resources")
        for index, resource in enumerate(graph["resources"]):
            check_resource(resource, index)
    except GraphError as exc:
        raise GraphError(f"{source}: {exc}") from None
    return dict(graph)


def load_graph_text(text: str, source: str) -> Any:
    """json.loads with the recursion and big-number failures turned into GraphError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise GraphError(f"{source}: nested too deeply to read") from None
    except ValueError as exc:
        raise GraphError(f"{source}: not JSON ({str(exc)[:120]})") from None
