"""The offline check's side of the waivers: the same file and parser the pack uses
(waivers.py, loaded from the pack folder, which Pulumi ships alone). The pack validates the file
and applies the waivers; this reads back what it applied, and lists the waivers it never used."""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Iterable, List, Sequence

from tools.pack_process import PACK_DIR
from tools.policy_types import CheckInputError, Violation


@lru_cache(maxsize=None)
def waivers_module(pack_dir: Path = PACK_DIR) -> ModuleType:
    name = f"printflow_pack_waivers_{abs(hash(str(pack_dir)))}"
    spec = importlib.util.spec_from_file_location(name, Path(pack_dir) / "waivers.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def load_waivers(known_policies: Iterable[str] = (), pack_dir: Path = PACK_DIR) -> list:
    module = waivers_module(Path(pack_dir))
    try:
        return module.load(Path(pack_dir) / "waivers.yaml", known_policies)
    except module.WaiverError as exc:
        raise CheckInputError(str(exc)) from None


def waiver_of(violation: Violation) -> dict | None:
    """{index, owner, expires, reason} when the finding was waived."""
    return waivers_module().waived_in(violation.message)


def unused_waivers(waivers: Sequence, violations: Sequence[Violation], stacks: Iterable[str],
                   pack_dir: Path = PACK_DIR) -> List:
    """Waivers for a checked stack (or any stack) that the pack applied to no finding, as waived
    or as expired (read from the findings, so this agrees with the pack by construction)."""
    checked = set(stacks)
    named_in = waivers_module(Path(pack_dir)).waiver_named_in
    used = {named_in(v.message) for v in violations}
    return [w for w in waivers if w.index not in used and (w.stack is None or w.stack in checked)]
