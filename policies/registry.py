"""ALL_POLICIES: every policy of the printflow-guardrails pack, in one list.

Importing this module has no side effects beyond building Policy objects (no gRPC server), so
tools and tests may import it; only __main__.py constructs the PolicyPack."""

from __future__ import annotations

import alarms
import pack_common
import waivers
import app_settings
import kms
import network
import queue_store
import rds
import s3
import s3_replication
import secrets_manager
import stack_wide

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

try:
    pack_common.WAIVERS[:] = waivers.load(known_policies=_names)
except waivers.WaiverError as exc:
    raise SystemExit(f"error: {exc}") from None  # one paragraph, not a traceback, in the CLI too
