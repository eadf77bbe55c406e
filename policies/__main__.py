"""printflow-guardrails: run with `pulumi preview --policy-pack policies`.

Only builds the PolicyPack (which starts the analyzer gRPC server and blocks); the policies live
in the sibling modules and are collected in registry.ALL_POLICIES."""

from pulumi_policy import EnforcementLevel, PolicyPack

from registry import ALL_POLICIES, PACK_NAME

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
