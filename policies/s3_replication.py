"""S3 replication policies: the print-files bucket reaches the DR region (another region, RTC with
metrics, delete markers, SSE-KMS objects re-encrypted with a DR key)."""

from __future__ import annotations

from pack_common import UNKNOWN, About, Rules, fmt_num, get, items, label, number, one, per_resource
from s3 import BUCKET, PRINT_TIER, REPLICATION, _missing, _sub, tier

GUIDE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
rules = Rules()


def _print_buckets(stack):
    return [b for b in stack.of(BUCKET) if tier(b) == PRINT_TIER]


def _replication_rules(stack, b):
    subs = _sub(stack, b, REPLICATION)
    return subs, [(s, r) for s in subs for r in items(get(s.props, "rules"))
                  if r is not UNKNOWN and get(r, "status") != "Disabled"]


@rules.stack("aws-s3-print-bucket-cross-region-replication",
             About("high", "reliability", GUIDE + "replication.html"))
def _replication(stack, ctx, report):
    """The print-files bucket replicates to a bucket in another region."""
    if not ctx.is_prod:
        return
    for b in _print_buckets(stack):
        with per_resource():
            subs, rules = _replication_rules(stack, b)
            if not subs:
                _missing(report, b, "BucketReplicationConfig",
                         f"Replicate the print-files bucket to a bucket in {ctx.dr_region}.")
                continue
            if not rules:
                report(f"S3 bucket {label(b)} has no enabled replication rule. Enable a rule "
                       f"that replicates to the replica bucket in {ctx.dr_region}.", subs[0].urn)
                continue
            src_region = stack.region_of(b)
            for s, r in rules:
                dest_arn = get(one(get(r, "destination")), "bucket")
                if dest_arn is UNKNOWN:
                    dests = [d for d in (s.property_dependencies or {}).get("rules", [])
                             if d.resource_type == BUCKET and d.urn != b.urn]
                else:
                    dests = [d for d in stack.of(BUCKET) if d.urn != b.urn and isinstance(
                        dest_arn, str) and (dest_arn in stack.identifiers(d) or any(
                            dest_arn.endswith(":" + i) for i in stack.identifiers(d)))]
                for d in dests:
                    dregion = stack.region_of(d)
                    if dregion is UNKNOWN or src_region is UNKNOWN:
                        continue
                    if dregion == src_region:
                        report(f"S3 bucket {label(b)} replicates to {label(d)} in the same region "
                               f"({dregion}). Replicate the print files to a bucket in "
                               f"{ctx.dr_region}.", s.urn)


def _print_replication_rules(stack, ctx):
    """(bucket, replication resource, rule) for every rule of every print bucket, in prod;
    a failure while reading one bucket does not stop the others."""
    if not ctx.is_prod:
        return
    for b in _print_buckets(stack):
        with per_resource():
            _, rules = _replication_rules(stack, b)
            for s, r in rules:
                yield b, s, r


def _rule_label(r, b) -> str:
    return f"S3 replication rule '{get(r, 'id') or '?'}' of bucket {label(b)}"


@rules.stack("aws-s3-replication-time-control",
             About("medium", "reliability", GUIDE + "replication-time-control.html"),
             config={"minutes": {"type": "number", "enum": [15], "default": 15,
                                 "description": "RTC threshold in minutes (S3 only supports 15)."}})
def _rtc(stack, ctx, report):
    """Print-file replication uses Replication Time Control (15 minutes) with metrics."""
    minutes_required = ctx.num("minutes")
    for b, s, r in _print_replication_rules(stack, ctx):
        dest = one(get(r, "destination"))
        rt = one(get(dest, "replicationTime"))
        mt = one(get(dest, "metrics"))
        if UNKNOWN in (rt, mt):
            continue
        rt_ok = get(rt, "status") == "Enabled" and number(
            get(one(get(rt, "time")), "minutes")) == minutes_required
        mt_ok = get(mt, "status") == "Enabled"
        if not (rt_ok and mt_ok):
            report(f"{_rule_label(r, b)} does not use Replication Time Control. Set destination."
                   f"replication_time (status Enabled, time.minutes {fmt_num(minutes_required)}) "
                   f"and destination.metrics (status Enabled, event_threshold.minutes "
                   f"{fmt_num(minutes_required)}) on {label(s)}.", s.urn)


@rules.stack("aws-s3-replication-delete-markers",
             About("medium", "reliability", GUIDE + "delete-marker-replication.html"))
def _delete_markers(stack, ctx, report):
    """Print-file replication replicates delete markers."""
    for b, s, r in _print_replication_rules(stack, ctx):
        st = get(one(get(r, "deleteMarkerReplication")), "status")
        if st is not UNKNOWN and st != "Enabled":
            report(f"{_rule_label(r, b)} does not replicate delete markers, so the replica "
                   "diverges from the source. Set delete_marker_replication.status to 'Enabled' "
                   f"on {label(s)}.", s.urn)


@rules.stack("aws-s3-replication-kms-objects",
             About("high", "reliability", GUIDE + "replication-config-for-kms-objects.html"))
def _replication_kms(stack, ctx, report):
    """Print-file replication includes SSE-KMS objects and re-encrypts them with a DR key."""
    for b, s, r in _print_replication_rules(stack, ctx):
        ssc = one(get(r, "sourceSelectionCriteria"))
        sse = get(one(get(ssc, "sseKmsEncryptedObjects")), "status")
        key = get(one(get(one(get(r, "destination")), "encryptionConfiguration")), "replicaKmsKeyId")
        if UNKNOWN in (sse, key):
            continue
        if sse != "Enabled" or not key:
            report(f"{_rule_label(r, b)} would skip SSE-KMS objects. Set source_selection_criteria."
                   "sse_kms_encrypted_objects.status 'Enabled' and destination."
                   "encryption_configuration.replica_kms_key_id (a key in the DR region) on "
                   f"{label(s)}.", s.urn)


POLICIES = rules.policies
