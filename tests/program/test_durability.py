"""Durability is derived once, on the settings, from the stack's role, mode and protect_stateful;
every component that keeps data takes it from there (components/wiring.py)."""

from __future__ import annotations

import pytest

from components.config import Durability, load_settings
from tests.program.graph import config_with

KEPT = Durability(protect=True, database_deletion_protection=True, keep_final_snapshot=True,
                  secret_recovery_window_days=30, key_deletion_window_days=30)


@pytest.mark.parametrize("stack, overrides, expected", [
    ("prod", {}, KEPT),
    ("dr", {"printflow:dr": {"mode": "failover"}}, KEPT),
    ("dr", {"printflow:dr": {"mode": "drill"}},
     Durability(protect=False, database_deletion_protection=False, keep_final_snapshot=False,
                secret_recovery_window_days=0, key_deletion_window_days=7)),
    # Unprotected staging can be destroyed, but still leaves its final snapshots behind.
    ("staging", {"printflow:protect_stateful": False, "printflow:secrets": {"recovery_window_days": 7}},
     Durability(protect=False, database_deletion_protection=False, keep_final_snapshot=True,
                secret_recovery_window_days=7, key_deletion_window_days=30)),
])
def test_durability_follows_role_and_mode(stack, overrides, expected):
    assert load_settings(config_with(stack, overrides), stack).durability == expected
