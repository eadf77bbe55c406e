"""The policy pack's own modules, imported in the test process. The pack imports its modules as
top-level modules (the CLI runs it with the pack directory as sys.path[0]), so they are imported
the same way here, with that directory on sys.path only while importing."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

PACK_DIR = Path(__file__).resolve().parents[1] / "policies"


def pack_module(name: str) -> ModuleType:
    sys.path.insert(0, str(PACK_DIR))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(PACK_DIR))
