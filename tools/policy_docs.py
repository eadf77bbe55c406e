"""The policy table of policies/README.md, generated from the pack itself (name with its
documentation link, kind, severity and category, description, thresholds with their defaults). `python -m tools.policy_docs` rewrites it; a test
keeps it current."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Sequence

from tools.policy_types import PolicyInfo

README = Path(__file__).resolve().parent.parent / "policies" / "README.md"
TABLE = re.compile(r"(<!-- policies:start -->\n)(.*?)(<!-- policies:end -->)", re.S)
COMMON = ("stackRole", "primaryRegion", "drRegion")


def _value(value) -> str:
    """As written in the policy (the protocol carries numbers as doubles: 35.0 is 35)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


def _thresholds(policy: PolicyInfo) -> str:
    props = policy.config_schema.get("properties", policy.config_schema) or {}
    shown = [f"`{key}`={_value(spec['default'])}" for key, spec in sorted(props.items())
             if key not in COMMON and isinstance(spec, dict) and "default" in spec]
    return ", ".join(shown) or "-"


def policy_table(policies: Sequence[PolicyInfo]) -> str:
    rows = ["| Policy | Kind | Severity | Rule | Thresholds (defaults) |", "|---|---|---|---|---|"]
    rows += [f"| [`{p.name}`]({p.url}) | {p.kind} | {p.severity} ({', '.join(p.tags)}) | {p.description} "
             f"| {_thresholds(p)} |" for p in policies]
    return "\n".join(rows) + "\n"


def current_readme(policies: Sequence[PolicyInfo]) -> str:
    text = README.read_text()
    if not TABLE.search(text):
        raise SystemExit("policies/README.md has no <!-- policies:start --> block")
    count = re.sub(r"\b\d+ policies, all \*\*mandatory\*\*", f"{len(policies)} policies, all **mandatory**", text)
    return TABLE.sub(lambda m: m.group(1) + policy_table(policies) + m.group(3), count)


def main() -> int:
    from tools.policy_analyzer import list_policies

    README.write_text(current_readme(list_policies()))
    print("policies/README.md policy table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
