"""S3 policies. In pulumi-aws v7 a bucket's settings are separate resources, so most checks are
stack policies that relate each `aws:s3/bucket:Bucket` to its sub-resources (a missing
sub-resource is a violation)."""

from __future__ import annotations

from collections.abc import Mapping

from pack_common import (
    UNKNOWN, About, Rules, as_list, expect, fmt_num, get, items, label, number, one,
    parse_json_doc, per_resource, tags_of, truthy,
)

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"

TIER_TAG = "data-tier"
PRINT_TIER = "print-files"
REPLICA_TIER = "print-files-replica"
BACKUP_TIER = "backup"
LOCKED_TIERS = [PRINT_TIER, REPLICA_TIER, BACKUP_TIER]


PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")

TIERS_SCHEMA = {"tiers": {"type": "array", "items": {"type": "string"}, "default": LOCKED_TIERS,
                          "description": "data-tier tag values whose buckets need Object Lock."}}


GUIDE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
rules = Rules()


def tier(res) -> str:
    return tags_of(res.props).get(TIER_TAG, "")


def is_backup_bucket(res) -> bool:
    tags = tags_of(res.props)
    return tags.get(TIER_TAG) == BACKUP_TIER or tags.get("role") == BACKUP_TIER


def bucket_name(res) -> str:
    name = get(res.props, "bucket")
    return f"'{name}'" if isinstance(name, str) and name is not UNKNOWN else f"'{res.name}'"


def _sub(stack, bucket, sub_type):
    return stack.referencing(bucket, "bucket", sub_type)


def _missing(report, bucket, what: str, fix: str) -> None:
    report(f"S3 bucket {label(bucket)} has no {what}. {fix}", bucket.urn)


def for_bucket_parts(stack, report, part_type, missing, check, applies=None) -> None:
    """The shape of every bucket rule: for each bucket (that `applies`), its v7 sub-resources of
    `part_type` go to `check(bucket, parts)`; a bucket without one is reported with `missing`
    ((what, fix), or a function of the bucket that returns them), or skipped when it is None. An unknown value skips only that bucket."""
    for bucket in stack.of(BUCKET):
        with per_resource():
            if applies is not None and not applies(bucket):
                continue
            parts = _sub(stack, bucket, part_type)
            if parts:
                check(bucket, parts)
            elif missing is not None:
                _missing(report, bucket, *(missing(bucket) if callable(missing) else missing))


def expect_part(stack, report, part_type, value_of, expected, wrong, missing, applies=None) -> None:
    """Each bucket's `part_type` sub-resources hold `expected` (read with `value_of`); a part
    holding something else is reported with `wrong(bucket, part, value)`, a bucket without one
    with `missing`. A value not known yet is not judged."""
    def check(bucket, parts):
        for part in parts:
            value = value_of(part)
            if value is not UNKNOWN and value != expected:
                report(wrong(bucket, part, value), part.urn)

    for_bucket_parts(stack, report, part_type, missing, check, applies)


# -- resource policies ---------------------------------------------------------------------------

@rules.resource("aws-s3-bucket-required-tags", [BUCKET],
                About("low", "operations", GUIDE + "tagging-managing.html"),
                config={"requiredTags": {"type": "array", "items": {"type": "string"},
                                         "default": ["app", "env", "owner", TIER_TAG],
                                         "description": "Tags every bucket must have."}})
def _required_tags(args, ctx, report):
    """S3 buckets carry the app, env, owner and data-tier tags."""
    if get(args.props, "tags") is UNKNOWN:
        return
    tags = tags_of(args.props)
    present = {str(k) for key in ("tagsAll", "tags") if isinstance(get(args.props, key), Mapping)
               for k in get(args.props, key).keys()}  # a tag whose value is not known yet is there
    missing = [t for t in ctx["requiredTags"] or [] if not tags.get(t) and t not in present]
    if missing:
        report(f"S3 bucket '{args.name}' is missing the tag(s) {', '.join(missing)}. Tag every "
               f"bucket with {', '.join(ctx['requiredTags'])} so the guardrails can tell print "
               "files, replicas and backups apart.")


@rules.resource("aws-s3-bucket-object-lock-enabled", [BUCKET],
                About("high", "reliability", GUIDE + "object-lock.html"),
                config=TIERS_SCHEMA)
def _object_lock_enabled(args, ctx, report):
    """Print-file, replica and backup buckets are created with Object Lock enabled."""
    t = tags_of(args.props).get(TIER_TAG)
    if t not in (ctx["tiers"] or []):
        return
    expect(args, report, "objectLockEnabled", truthy,
           f"S3 bucket '{{name}}' (data-tier {t}) is created without Object Lock. Set "
           "objectLockEnabled=true on the bucket and add a BucketObjectLockConfiguration.")


# -- stack policies ------------------------------------------------------------------------------

@rules.stack("aws-s3-bucket-versioning-enabled",
             About("high", "reliability", GUIDE + "Versioning.html"))
def _versioning(stack, ctx, report):
    """Every S3 bucket has a BucketVersioning resource with status Enabled."""
    expect_part(stack, report, VERSIONING, lambda s: get(s.props, "versioningConfiguration", "status"), "Enabled",
                lambda b, s, status: f"S3 bucket {label(b)} has versioning status '{status}'. Set "
                                     f"{label(s)} versioning_configuration.status to 'Enabled'.",
                ("BucketVersioning resource",
                 "Add an aws.s3.BucketVersioning with versioning_configuration status 'Enabled' for it."))


def _retention_days(rule) -> object:
    dr = one(get(rule, "defaultRetention"))
    if dr is UNKNOWN:
        return UNKNOWN
    days, years = get(dr, "days"), get(dr, "years")
    if days is UNKNOWN or years is UNKNOWN:
        return UNKNOWN
    if number(days) is not None:
        return number(days)
    if number(years) is not None:
        return number(years) * 365
    return None


def _minimum_lock_days(ctx, b) -> float:
    return ctx.num("backupMinimumRetentionDays" if is_backup_bucket(b) else "minimumRetentionDays")


@rules.stack("aws-s3-bucket-object-lock-retention",
             About("high", "reliability", GUIDE + "object-lock.html"),
             config={**TIERS_SCHEMA,
                     "minimumRetentionDays": {"type": "number", "minimum": 1, "default": 35,
                                              "description": "Minimum default Object Lock retention in "
                                                             "days for print-file buckets (default 35)."},
                     "backupMinimumRetentionDays": {"type": "number", "minimum": 1, "default": 7,
                                                    "description": "Minimum default Object Lock retention "
                                                                   "in days for backup buckets (default 7; "
                                                                   "the lifecycle keeps weekly/monthly "
                                                                   "dumps longer)."}})
def _object_lock_retention(stack, ctx, report):
    """Object Lock buckets have a default retention at or above the threshold."""
    def applies(b):
        return tier(b) in (ctx["tiers"] or []) or is_backup_bucket(b)

    def check(b, subs):
        minimum = _minimum_lock_days(ctx, b)
        rules = [one(get(s.props, "rule")) for s in subs]
        for s, rule in zip(subs, rules):
            days = _retention_days(rule) if rule not in (None, UNKNOWN) else rule
            if days is UNKNOWN:
                continue
            if days is None or days < minimum:
                shown = "no default retention" if days is None else f"{fmt_num(days)} days"
                report(f"S3 bucket {label(b)} has an Object Lock default retention of {shown}, "
                       f"below the required {fmt_num(minimum)} days. Set "
                       f"rule.default_retention.days >= {fmt_num(minimum)} on {label(s)}.",
                       s.urn)

    for_bucket_parts(stack, report, OBJECT_LOCK, lambda b: (
        "BucketObjectLockConfiguration",
        f"Add one with a default retention of at least {fmt_num(_minimum_lock_days(ctx, b))} days."),
        check, applies)


@rules.stack("aws-s3-backup-bucket-compliance-lock",
             About("high", "reliability", GUIDE + "object-lock.html"))
def _backup_compliance(stack, ctx, report):
    """Backup buckets (tag data-tier=backup or role=backup) use Object Lock COMPLIANCE mode."""
    expect_part(stack, report, OBJECT_LOCK,
                lambda s: get(one(get(one(get(s.props, "rule")), "defaultRetention")), "mode"), "COMPLIANCE",
                lambda b, s, mode: f"Backup bucket {label(b)} uses Object Lock mode '{mode}'; GOVERNANCE "
                                   "retention can be bypassed by an administrator. Set "
                                   f"rule.default_retention.mode to 'COMPLIANCE' on {label(s)}.",
                ("BucketObjectLockConfiguration", "Backup buckets need Object Lock in COMPLIANCE mode."),
                is_backup_bucket)


@rules.stack("aws-s3-bucket-sse-kms-cmk",
             About("high", "security", GUIDE + "UsingKMSEncryption.html"))
def _sse_kms(stack, ctx, report):
    """Every S3 bucket is encrypted with SSE-KMS using a customer-managed key."""
    def encrypted_with_cmk(s) -> bool:
        for r in items(get(s.props, "rules")):
            d = one(get(r, "applyServerSideEncryptionByDefault"))
            alg, key = get(d, "sseAlgorithm"), get(d, "kmsMasterKeyId")
            if alg is UNKNOWN or key is UNKNOWN or (isinstance(alg, str) and alg.startswith("aws:kms") and key):
                return True
        return False

    def check(b, subs):
        for s in subs:
            if not encrypted_with_cmk(s):
                report(f"S3 bucket {label(b)} is not encrypted with a customer-managed KMS key. "
                       f"Set sse_algorithm 'aws:kms' and kms_master_key_id on {label(s)}.", s.urn)

    for_bucket_parts(stack, report, SSE, (
        "BucketServerSideEncryptionConfiguration",
        "Add one with sse_algorithm 'aws:kms' and a customer-managed kms_master_key_id."), check)


@rules.stack("aws-s3-bucket-public-access-block",
             About("critical", "security", GUIDE + "access-control-block-public-access.html"))
def _public_access_block(stack, ctx, report):
    """Every S3 bucket has a public access block with all four flags on."""
    def check(b, subs):
        for s in subs:
            off = [f for f in PAB_FLAGS if get(s.props, f) is not UNKNOWN and not truthy(get(s.props, f))]
            if off:
                report(f"S3 bucket {label(b)} leaves {', '.join(off)} off in {label(s)}. Set "
                       "all four public-access-block flags to true.", s.urn)

    for_bucket_parts(stack, report, PUBLIC_ACCESS, (
        "BucketPublicAccessBlock", "Add one with all four block/ignore/restrict flags set to true."), check)


@rules.stack("aws-s3-bucket-ownership-enforced",
             About("medium", "security", GUIDE + "about-object-ownership.html"))
def _ownership(stack, ctx, report):
    """Every S3 bucket uses BucketOwnerEnforced object ownership (no ACLs)."""
    expect_part(stack, report, OWNERSHIP, lambda s: get(one(get(s.props, "rule")), "objectOwnership"),
                "BucketOwnerEnforced",
                lambda b, s, own: f"S3 bucket {label(b)} has object ownership '{own}'. Set "
                                  f"rule.object_ownership to 'BucketOwnerEnforced' on {label(s)}.",
                ("BucketOwnershipControls",
                 "Add one with rule.object_ownership 'BucketOwnerEnforced' (disables ACLs)."))


def _denies_insecure_transport(doc) -> bool:
    for st in as_list(get(doc, "Statement")):
        if get(st, "Effect") != "Deny":
            continue
        actions = [a for a in as_list(get(st, "Action")) if isinstance(a, str)]
        if not any(a in ("s3:*", "*") for a in actions):
            continue
        cond = get(st, "Condition")
        bool_cond = get(cond, "Bool")
        value = get(bool_cond, "aws:SecureTransport")
        values = [str(v).lower() for v in as_list(value)]
        if "false" in values:
            return True
    return False


@rules.stack("aws-s3-bucket-tls-only",
             About("high", "security", GUIDE + "security-best-practices.html"))
def _tls_only(stack, ctx, report):
    """Every S3 bucket has a policy that denies requests without TLS."""
    def check(b, subs):
        docs = [parse_json_doc(get(s.props, "policy")) for s in subs]
        if any(d is UNKNOWN for d in docs):
            return
        if not any(_denies_insecure_transport(d) for d in docs if d is not None):
            report(f"S3 bucket {label(b)} has a bucket policy that does not deny non-TLS "
                   "requests. Add a Deny statement for s3:* with Condition "
                   "{\"Bool\": {\"aws:SecureTransport\": \"false\"}}.", subs[0].urn)

    for_bucket_parts(stack, report, POLICY, (
        "BucketPolicy", "Add a bucket policy that denies s3:* when aws:SecureTransport is 'false'."), check)


@rules.stack("aws-s3-bucket-noncurrent-version-retention",
             About("high", "reliability", GUIDE + "object-lifecycle-mgmt.html"),
             config={"tiers": {"type": "array", "items": {"type": "string"},
                               "default": [PRINT_TIER, REPLICA_TIER],
                               "description": "data-tier tag values whose buckets are checked (default the "
                                              "print-file tiers; backup buckets have their own tiered "
                                              "lifecycle)."},
                     "minimumNoncurrentDays": {"type": "number", "minimum": 1, "default": 35,
                                               "description": "Minimum noncurrent-version expiration in "
                                                              "days (default 35, the RDS backup retention)."},
                     "requireLifecycle": {"type": "boolean", "default": True,
                                          "description": "Require a lifecycle configuration on tiered "
                                                         "buckets (default true)."}})
def _lifecycle(stack, ctx, report):
    """Noncurrent object versions are kept at least as long as database backups."""
    minimum = ctx.num("minimumNoncurrentDays")

    def check(b, subs):
        for s in subs:
            for rule in items(get(s.props, "rules")):
                if rule is UNKNOWN or get(rule, "status") == "Disabled":
                    continue
                days = number(get(one(get(rule, "noncurrentVersionExpiration")), "noncurrentDays"))
                if days is not None and days < minimum:
                    rid = get(rule, "id") or "?"
                    report(f"S3 bucket {label(b)} expires noncurrent versions after "
                           f"{fmt_num(days)} days in lifecycle rule '{rid}', shorter than "
                           f"the {fmt_num(minimum)}-day database backup retention. Raise "
                           f"noncurrent_version_expiration.noncurrent_days on {label(s)}.", s.urn)

    missing = ("BucketLifecycleConfiguration", "Add one that expires noncurrent versions after at "
               f"least {fmt_num(minimum)} days (the database backup retention).")
    for_bucket_parts(stack, report, LIFECYCLE, missing if ctx["requireLifecycle"] else None, check,
                     lambda b: tier(b) in (ctx["tiers"] or []))


rules.declared("s3")  # its one-property policies: property_rules.yaml


POLICIES = rules.policies
