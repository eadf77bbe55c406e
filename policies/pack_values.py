"""Reading resource properties the way every policy should: unknown-safe (a preview's unknown
values raise NotKnownYet, so the resource is skipped, never misjudged), shape-tolerant (an object
or a 1-item list), and with the pack's notion of secret-looking values."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Dict, List, Optional

from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UnknownValueError, _is_unknown

UNKNOWN = object()  # returned by get() for values not known during a preview

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


SECRETISH_NAME = re.compile(r"(key|secret|password|passwd|token|credential)", re.IGNORECASE)
REFERENCE_NAME = re.compile(r"(_ARNS?|_ID|_IDS|_NAME|_REGION|_URL|_ENDPOINT)$", re.IGNORECASE)
LARAVEL_KEY_VALUE = re.compile(r"^base64:[A-Za-z0-9+/=]{16,}$")
PEM_VALUE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def looks_like_secret_value(value: Any) -> bool:
    return isinstance(value, str) and bool(LARAVEL_KEY_VALUE.match(value.strip())
                                           or PEM_VALUE.search(value))


def is_reference_value(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith("arn:") or value == "")
