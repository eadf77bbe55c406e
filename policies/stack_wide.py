"""Stack-wide policies: protection of stateful resources, DR region placement, explicit
regions. (Final snapshots / forceDestroy in production are covered per resource by
aws-rds-instance-final-snapshot, aws-memorydb-cluster-final-snapshot and
aws-s3-bucket-no-force-destroy.)"""

from __future__ import annotations

import re

from pack_common import UNKNOWN, About, Rules, expect, is_regional_aws, label, per_resource, tags_of

STATEFUL_TYPES = [
    "aws:rds/instance:Instance",
    # deleting it stops backups reaching the DR region: a later restore there silently loses data
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:kms/replicaKey:ReplicaKey",
    "aws:secretsmanager/secret:Secret",
    "aws:memorydb/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
]
DR_TYPES = ("aws:kms/replicaKey:ReplicaKey",
            "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
DR_TOKEN = re.compile(r"(^|[-_:/])(replica|dr)($|[-_:/])", re.IGNORECASE)


rules = Rules()


def is_dr_resource(res) -> bool:
    if res.resource_type in DR_TYPES:
        return True
    tags = tags_of(res.props)
    if tags.get("data-tier", "").endswith("-replica"):
        return True
    if tags.get("role", "").lower() in ("dr", "replica", "dr-replica"):
        return True
    return bool(DR_TOKEN.search(res.name))


@rules.stack("printflow-stateful-resources-protected",
             About("critical", "reliability", "https://www.pulumi.com/docs/iac/concepts/resources/options/protect/"),
             production_only=True,
             config={"statefulTypes": {"type": "array", "items": {"type": "string"},
                                       "default": STATEFUL_TYPES,
                                       "description": "Type tokens that must be protected."}})
def _protected(stack, ctx, report):
    """Stateful resources in a production stack are protected (protect=True).

    Production only: a drill is thrown away after the exercise."""
    types = set(ctx["statefulTypes"] or [])
    for r in stack.resources:
        if r.resource_type in types and not r.opts.protect:
            report(f"Stateful resource {label(r)} is not protected in a production stack; a "
                   "mistaken `pulumi destroy` or replacement would delete it. Pass "
                   "ResourceOptions(protect=True).", r.urn)


@rules.stack("printflow-dr-resources-in-dr-region",
             About("high", "reliability", "https://docs.aws.amazon.com/whitepapers/latest/disaster-recovery-workloads-on-aws/disaster-recovery-options-in-the-cloud.html"))
def _dr_region(stack, ctx, report):
    """Replica/DR resources, and every regional resource of a DR stack, are in the DR region."""
    for r in stack.resources:
        with per_resource():
            if not is_regional_aws(r.resource_type) or r.resource_type.startswith(
                    "pulumi:providers:"):
                continue
            if not (ctx.is_dr or is_dr_resource(r)):
                continue
            region = stack.region_of(r)
            if region is UNKNOWN or region is None:
                continue
            if region != ctx.dr_region:
                why = ("every regional resource of a DR stack" if ctx.is_dr
                       else "it is tagged or named as a DR/replica resource")
                report(f"{label(r)} is in {region}, but {why} must be in the DR region "
                       f"{ctx.dr_region}. Set region='{ctx.dr_region}' on it.", r.urn)


@rules.resource("printflow-aws-resources-explicit-region", [],
                About("medium", "reliability", "https://www.pulumi.com/registry/packages/aws/installation-configuration/"),
                config={"exemptTypes": {"type": "array", "items": {"type": "string"},
                                        "default": [],
                                        "description": "Type tokens exempt from the check."}})
def _explicit_region(args, ctx, report):
    """Regional AWS resources set their region explicitly."""
    t = args.resource_type
    if not is_regional_aws(t) or t in (ctx["exemptTypes"] or []):
        return
    expect(args, report, "region", bool,
           f"AWS resource '{{name}}' ({t}) has no explicit region input. Set region= explicitly "
           "(pulumi-aws v7 per-resource region) so primary and DR placement is visible in the "
           "code and checkable by policy.")


POLICIES = rules.policies
