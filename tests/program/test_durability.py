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


@pytest.mark.parametrize("names, settings_model, args_class", [
    ("DATABASE_FIELDS", "DatabaseSettings", "PostgresArgs"),
    ("QUEUE_STORE_FIELDS", "QueueStoreSettings", "QueueStoreArgs"),
])
def test_settings_passed_through_unchanged_exist_on_both_sides(names, settings_model, args_class):
    """wiring.py hands these over with model_dump(include=...), which would skip a misspelt name
    without a word: each must be a field of the settings model and of the Args."""
    import dataclasses

    from components import config, database, queue_store, wiring

    args = {"PostgresArgs": database.PostgresArgs, "QueueStoreArgs": queue_store.QueueStoreArgs}[args_class]
    fields = set(getattr(wiring, names))
    assert fields <= set(getattr(config, settings_model).model_fields)
    assert fields <= {f.name for f in dataclasses.fields(args)}
