"""Pulumi's wire format for property values, as the engine and the analyzer protocol carry it,
and the id of this project's resource-graph files. One place for these constants."""

from __future__ import annotations

from typing import Any

GRAPH_FORMAT = "printflow-resource-graph/1"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""A value not known yet during a preview."""


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def is_wire_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def reveal(value: Any) -> Any:
    """Plain values, secrets revealed (only for mock data and tests)."""
    if is_wire_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def redact(value: Any) -> Any:
    """Plain values with every secret replaced by "[secret]", for display."""
    if is_wire_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def contains_secret(value: Any) -> bool:
    if is_wire_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


def secret_texts(value: Any) -> set[str]:
    """Every value inside a secret signature, as text (iterative: any depth)."""
    found: set[str] = set()
    pending = [(value, False)]
    while pending:
        item, inside = pending.pop()
        if is_wire_secret(item):
            pending.append((item.get("value"), True))
        elif isinstance(item, dict):
            pending.extend((v, inside) for v in item.values())
        elif isinstance(item, list):
            pending.extend((v, inside) for v in item)
        elif inside and item is not None and not isinstance(item, bool):
            text = str(int(item)) if isinstance(item, float) and item.is_integer() else str(item)
            if text:
                found.update({text, str(item)})
    return found


def scrub(message: str, secrets: set[str]) -> str:
    """`message` with every secret text replaced by [secret], longest first."""
    for text in sorted(secrets, key=len, reverse=True):
        message = message.replace(text, "[secret]")
    return message
