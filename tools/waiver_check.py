"""The offline check's side of the waivers: the same file and parser the pack uses
(policies/waivers.py, loaded from the pack folder, which Pulumi ships alone), validated before
the pack starts, and the waivers no finding used."""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Iterable, List, Sequence

from tools.policy_types import PACK_DIR, CheckInputError, Violation


@lru_cache(maxsize=1)
def waivers_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("printflow_pack_waivers", PACK_DIR / "waivers.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def load_waivers(known_policies: Iterable[str] = (), pack_dir: Path = PACK_DIR) -> list:
    module = waivers_module()
    try:
        return module.load(Path(pack_dir) / "waivers.yaml", known_policies)
    except module.WaiverError as exc:
        raise CheckInputError(str(exc)) from None


def waiver_of(violation: Violation) -> dict | None:
    """{index, owner, expires, reason} when the finding was waived."""
    return waivers_module().waived_in(violation.message)


def unused_waivers(waivers: Sequence, violations: Sequence[Violation], stacks: Iterable[str]) -> List:
    """Waivers for a checked stack (or any stack) that matched no finding, waived or expired."""
    checked = set(stacks)
    used = set()
    for v in violations:
        for w in waivers:
            if w.matches(v.policy, v.urn, v.stack):
                used.add(w.index)
    return [w for w in waivers if w.index not in used and (w.stack is None or w.stack in checked)]
