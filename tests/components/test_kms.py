"""KeyRing built alone: one rotating key per purpose, replicas only where data replicates."""

from __future__ import annotations

import pytest

from components.kms import KeyRing, KeyRingArgs
from tests.components.conftest import TAGS


def test_replicas_only_for_replicated_purposes(build):
    graph = build(lambda: KeyRing("unit-keys", KeyRingArgs(
        prefix="unit", region="us-east-1", purposes=("database", "logs"), replica_region="us-west-2",
        replicated_purposes=("database",), tags=TAGS)))
    keys = graph.of_type("aws:kms/key:Key")
    assert sorted(k.inputs["tags"]["purpose"] for k in keys) == ["database", "logs"]
    assert all(k.inputs["enableKeyRotation"] for k in keys)
    (replica,) = graph.of_type("aws:kms/replicaKey:ReplicaKey")
    assert replica.inputs["region"] == "us-west-2" and replica.inputs["tags"]["purpose"] == "database"


def test_replicated_purposes_need_a_replica_region():
    with pytest.raises(ValueError, match="replica_region"):
        KeyRingArgs(prefix="unit", region="us-east-1", purposes=("database",),
                    replicated_purposes=("database",))
