"""The data-driven table: (policy, mutation of the compliant prod baseline, expected policy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

from tests.policies.graphs import Graph


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[Graph], None]
    expect: str
    config: Optional[Dict[str, Any]] = field(default=None)


CASES: list = []


def case(id_: str, expect: Optional[str] = None, config: Optional[Dict[str, Any]] = None):
    def register(fn):
        CASES.append(Case(id_, fn, expect or id_.split(":")[0], config))
        return fn
    return register
