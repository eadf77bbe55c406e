"""Policy cases: stack-wide."""

from __future__ import annotations

from tests.policies.cases.registry import case
from tests.policies.graphs import (
    TOPIC, bucket, database, delp, one, setp,
)


@case("printflow-stateful-resources-protected")
def _(g):
    database(g)["options"]["protect"] = False


@case("printflow-dr-resources-in-dr-region")
def _(g):
    setp(bucket(g, "print-files-replica"), "region", g["config"]["aws:region"])


@case("printflow-aws-resources-explicit-region")
def _(g):
    delp(one(g, TOPIC), "region")
