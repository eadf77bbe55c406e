"""ALL_POLICIES: every policy of the printflow-guardrails pack, in one list.

Importing this module has no side effects beyond building Policy objects (no gRPC server), so
tools and tests may import it; only __main__.py constructs the PolicyPack."""

from __future__ import annotations

import property_rules
import waivers

try:  # a malformed property_rules.yaml stops the pack with one paragraph, not a traceback
    property_rules.modules()
except property_rules.PropertyRuleError as exc:
    raise SystemExit(f"error: {exc}") from None

import alarms  # noqa: E402  (the policy modules read property_rules.yaml as they are imported)
import app_settings  # noqa: E402
import kms  # noqa: E402
import network  # noqa: E402
import pack_common  # noqa: E402
import queue_store  # noqa: E402
import rds  # noqa: E402
import s3  # noqa: E402
import s3_replication  # noqa: E402
import secrets_manager  # noqa: E402
import stack_wide  # noqa: E402

PACK_NAME = "printflow-guardrails"

ALL_POLICIES = [
    *app_settings.POLICIES,
    *s3.POLICIES,
    *s3_replication.POLICIES,
    *rds.POLICIES,
    *queue_store.POLICIES,
    *kms.POLICIES,
    *network.POLICIES,
    *secrets_manager.POLICIES,
    *alarms.POLICIES,
    *stack_wide.POLICIES,
]

_names = [p.name for p in ALL_POLICIES]
assert len(_names) == len(set(_names)), "duplicate policy names"

_unregistered = sorted(set(property_rules.modules()) - pack_common.DECLARING_MODULES)
if _unregistered:
    raise SystemExit(f"error: policies/property_rules.yaml declares rules for {', '.join(_unregistered)}, "
                     "which no policy module registers (rules.declared(...)).")

try:
    pack_common.WAIVERS[:] = waivers.load(known_policies=_names)
except waivers.WaiverError as exc:
    raise SystemExit(f"error: {exc}") from None  # one paragraph, not a traceback, in the CLI too
