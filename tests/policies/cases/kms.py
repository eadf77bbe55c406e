"""Policy cases: KMS."""

from __future__ import annotations

import json

from tests.policies.cases.registry import case
from tests.policies.graphs import (
    KEY, find, getp, setp,
)


@case("aws-kms-key-rotation")
def _(g):
    setp(find(g, KEY)[0], "enableKeyRotation", False)


@case("aws-kms-key-deletion-window")
def _(g):
    setp(find(g, KEY)[0], "deletionWindowInDays", 7)


@case("aws-kms-key-policy-no-wildcard-principal")
def _(g):
    key = find(g, KEY)[-1]
    doc = json.loads(getp(key, "policy"))
    doc["Statement"].append({"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"},
                             "Action": "kms:Decrypt", "Resource": "*"})
    setp(key, "policy", json.dumps(doc))
