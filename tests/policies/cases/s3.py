"""Policy cases: S3."""

from __future__ import annotations

import json

from tests.policies.cases.registry import case
from tests.policies.graphs import (
    BUCKET, BUCKET_POLICY, LIFECYCLE, OBJECT_LOCK, OWNERSHIP, PAB, REPLICATION, SSE,
    VERSIONING, bucket, drop, getp, one, setp, sub,
)


@case("aws-s3-bucket-required-tags")
def _(g):
    b = bucket(g, "print-files")
    tags = dict(b["inputs"]["tags"])
    tags.pop("owner")
    setp(b, "tags", tags)


@case("aws-s3-bucket-no-force-destroy")
def _(g):
    setp(bucket(g, "print-files"), "forceDestroy", True)


@case("aws-s3-bucket-object-lock-enabled")
def _(g):
    setp(bucket(g, "backup"), "objectLockEnabled", False)


@case("aws-s3-bucket-versioning-enabled:suspended")
def _(g):
    setp(sub(g, VERSIONING, bucket(g, "print-files")), "versioningConfiguration.status",
         "Suspended")


@case("aws-s3-bucket-versioning-enabled:missing")
def _(g):
    drop(g, sub(g, VERSIONING, bucket(g, "print-files-replica")))


@case("aws-s3-bucket-object-lock-retention")
def _(g):
    setp(sub(g, OBJECT_LOCK, bucket(g, "print-files")), "rule.defaultRetention.days", 1)


@case("aws-s3-bucket-object-lock-retention:missing")
def _(g):
    drop(g, sub(g, OBJECT_LOCK, bucket(g, "backup")))


@case("aws-s3-backup-bucket-compliance-lock")
def _(g):
    setp(sub(g, OBJECT_LOCK, bucket(g, "backup")), "rule.defaultRetention.mode", "GOVERNANCE")


@case("aws-s3-bucket-sse-kms-cmk")
def _(g):
    setp(sub(g, SSE, bucket(g, "backup")), "rules",
         [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}])


@case("aws-s3-bucket-sse-kms-cmk:missing")
def _(g):
    drop(g, sub(g, SSE, bucket(g, "print-files")))


@case("aws-s3-bucket-public-access-block")
def _(g):
    setp(sub(g, PAB, bucket(g, "print-files")), "blockPublicPolicy", False)


@case("aws-s3-bucket-public-access-block:missing")
def _(g):
    drop(g, sub(g, PAB, bucket(g, "backup")))


@case("aws-s3-bucket-ownership-enforced")
def _(g):
    setp(sub(g, OWNERSHIP, bucket(g, "print-files")), "rule.objectOwnership", "ObjectWriter")


@case("aws-s3-bucket-tls-only")
def _(g):
    setp(sub(g, BUCKET_POLICY, bucket(g, "print-files")), "policy", json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
            "AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject", "Resource": "*"}]}))


@case("aws-s3-bucket-tls-only:missing")
def _(g):
    drop(g, sub(g, BUCKET_POLICY, bucket(g, "backup")))


@case("aws-s3-bucket-noncurrent-version-retention")
def _(g):
    lc = sub(g, LIFECYCLE, bucket(g, "print-files"))
    rules = getp(lc, "rules")
    for r in rules:
        if "noncurrentVersionExpiration" in r:
            r["noncurrentVersionExpiration"]["noncurrentDays"] = 7
    setp(lc, "rules", rules)


@case("aws-s3-print-bucket-cross-region-replication:missing")
def _(g):
    drop(g, one(g, REPLICATION))


@case("aws-s3-print-bucket-cross-region-replication:same-region")
def _(g):
    b = bucket(g, "print-files-replica")
    setp(b, "region", one(g, BUCKET, lambda r: r["inputs"]["tags"].get("data-tier") ==
                          "print-files")["inputs"]["region"])


def _edit_rule(g, fn):
    rc = one(g, REPLICATION)
    rules = getp(rc, "rules")
    for r in rules:
        fn(r)
    setp(rc, "rules", rules)


@case("aws-s3-replication-time-control")
def _(g):
    _edit_rule(g, lambda r: r["destination"]["replicationTime"].update(status="Disabled"))


@case("aws-s3-replication-time-control:no-metrics")
def _(g):
    _edit_rule(g, lambda r: r["destination"].pop("metrics"))


@case("aws-s3-replication-delete-markers")
def _(g):
    _edit_rule(g, lambda r: r["deleteMarkerReplication"].update(status="Disabled"))


@case("aws-s3-replication-kms-objects")
def _(g):
    _edit_rule(g, lambda r: r["sourceSelectionCriteria"]["sseKmsEncryptedObjects"].update(
        status="Disabled"))
