"""S3 for print files and backups: versioned, locked, encrypted, private, replicated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

import pulumi
import pulumi_aws as aws

from .base import InputStr, assume_role_policy, child_options, policy_document

LockMode = Literal["GOVERNANCE", "COMPLIANCE"]
ENABLED = "Enabled"


@dataclass(frozen=True)
class LifecycleRule:
    id: str
    """The rule's id in the lifecycle configuration."""
    prefix: str = ""
    """Objects the rule applies to ('' for all)."""
    expire_days: Optional[int] = None
    """Current versions expire after this many days."""
    noncurrent_days: Optional[int] = None
    """Noncurrent versions expire after this many days."""
    abort_multipart_days: Optional[int] = None
    """Incomplete multipart uploads are aborted after this many days."""
    expire_delete_markers: bool = False
    """Remove delete markers that no longer hide a version."""


@dataclass(frozen=True)
class HardenedBucketArgs:
    region: str
    """The AWS region the resources are created in."""
    kms_key_arn: InputStr
    """The customer-managed KMS key that encrypts the data at rest."""
    lock_mode: LockMode
    """Object Lock default retention mode."""
    lock_days: int
    """Object Lock default retention, in days."""
    lifecycle: tuple[LifecycleRule, ...]
    """Lifecycle rules (at least one)."""
    protect: bool
    """Pulumi `protect` on the stateful resources (`StackSettings.durability.protect`)."""
    force_destroy: bool = False
    """Let a destroy delete a non-empty bucket (never in production)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""

    def __post_init__(self) -> None:
        if self.lock_days < 1:
            raise ValueError("lock_days must be at least 1")
        if not self.lifecycle:
            raise ValueError("a bucket needs lifecycle rules (at least aborting stale uploads)")


class HardenedBucket(pulumi.ComponentResource):
    """One bucket with every hardening as its own v7 resource (versioning, lock, SSE-KMS, ...)."""

    def __init__(self, name: str, args: HardenedBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:storage:HardenedBucket", name, None, opts)
        r = args.region
        self.region = r
        self.bucket = aws.s3.Bucket(
            name, region=r, object_lock_enabled=True, force_destroy=args.force_destroy,
            tags=args.tags, opts=child_options(self, protect=args.protect))
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=self.bucket.id, region=r,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status=ENABLED),
            opts=child_options(self))
        aws.s3.BucketObjectLockConfiguration(
            f"{name}-object-lock", bucket=self.bucket.id, region=r, object_lock_enabled=ENABLED,
            rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                    mode=args.lock_mode, days=args.lock_days)),
            opts=child_options(self, depends_on=[self.versioning]))
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.bucket.id, region=r,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                bucket_key_enabled=True,
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn))],
            opts=child_options(self))
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access", bucket=self.bucket.id, region=r,
            block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child_options(self))
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=self.bucket.id, region=r,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child_options(self))
        aws.s3.BucketPolicy(
            f"{name}-tls-only", bucket=self.bucket.id, region=r,
            policy=policy_document({
                "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [self.bucket.arn, pulumi.Output.concat(self.bucket.arn, "/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }),
            opts=child_options(self, depends_on=[public_access]))
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=self.bucket.id, region=r,
            rules=[self._lifecycle_rule(rule) for rule in args.lifecycle],
            opts=child_options(self, depends_on=[self.versioning]))
        self.name, self.arn = self.bucket.bucket, self.bucket.arn
        self.register_outputs({"name": self.bucket.bucket, "arn": self.bucket.arn})

    @staticmethod
    def _lifecycle_rule(rule: LifecycleRule) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
        s3 = aws.s3
        expiration = None
        if rule.expire_days is not None:
            expiration = s3.BucketLifecycleConfigurationRuleExpirationArgs(days=rule.expire_days)
        elif rule.expire_delete_markers:
            expiration = s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True)
        return s3.BucketLifecycleConfigurationRuleArgs(
            id=rule.id, status=ENABLED,
            filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule.prefix),
            expiration=expiration,
            noncurrent_version_expiration=(
                s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(noncurrent_days=rule.noncurrent_days)
                if rule.noncurrent_days else None),
            abort_incomplete_multipart_upload=(
                s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=rule.abort_multipart_days)
                if rule.abort_multipart_days else None))


def soft_delete_rules(noncurrent_version_days: int, abort_multipart_days: int) -> tuple[LifecycleRule, ...]:
    """Deleted or overwritten files stay recoverable longer than the database can be rewound."""
    return (LifecycleRule("soft-delete-noncurrent", noncurrent_days=noncurrent_version_days,
                          expire_delete_markers=True),
            LifecycleRule("abort-stale-multipart", abort_multipart_days=abort_multipart_days))


@dataclass(frozen=True)
class PrintFileStorageArgs:
    region: str
    """The region of the print-file bucket."""
    replica_region: str
    """The region of its replica (the DR region)."""
    kms_key_arn: InputStr
    """The customer-managed KMS key that encrypts the data at rest."""
    replica_kms_key_arn: InputStr
    """The storage key's replica in `replica_region`."""
    lock_mode: LockMode
    """Object Lock mode of both buckets."""
    lock_days: int
    """Default Object Lock retention of each print file, in days."""
    noncurrent_version_days: int
    """Days an overwritten or deleted file stays recoverable."""
    abort_multipart_days: int
    """Days before stale multipart uploads are aborted."""
    protect: bool
    """Pulumi `protect` on the stateful resources (`StackSettings.durability.protect`)."""
    force_destroy: bool = False
    """Let a destroy delete non-empty buckets (never in production)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""

    def __post_init__(self) -> None:
        if self.replica_region == self.region:
            raise ValueError("the replica bucket must be in another region")


class PrintFileStorage(pulumi.ComponentResource):
    """Uploads and print-ready PDFs (per-tenant prefixes) and their DR-region replica."""

    def __init__(self, name: str, args: PrintFileStorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:storage:PrintFileStorage", name, None, opts)
        rules = soft_delete_rules(args.noncurrent_version_days, args.abort_multipart_days)
        self.primary = HardenedBucket(name, HardenedBucketArgs(
            region=args.region, kms_key_arn=args.kms_key_arn, lock_mode=args.lock_mode,
            lock_days=args.lock_days, lifecycle=rules, protect=args.protect,
            force_destroy=args.force_destroy, tags={**args.tags, "data-tier": "print-files"}),
            opts=child_options(self))
        self.replica = HardenedBucket(f"{name}-replica", HardenedBucketArgs(
            region=args.replica_region, kms_key_arn=args.replica_kms_key_arn,
            lock_mode=args.lock_mode, lock_days=args.lock_days, lifecycle=rules,
            protect=args.protect, force_destroy=args.force_destroy,
            tags={**args.tags, "data-tier": "print-files-replica"}),
            opts=child_options(self))
        self.replication_role = self._replication_role(name, args)
        aws.s3.BucketReplicationConfig(
            f"{name}-replication", region=args.region, bucket=self.primary.bucket.id,
            role=self.replication_role.arn,
            rules=[aws.s3.BucketReplicationConfigRuleArgs(
                id="print-files-to-dr", status=ENABLED, priority=1,
                filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status=ENABLED),
                source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                    sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(status=ENABLED),
                    replica_modifications=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaReplicaModificationsArgs(status=ENABLED)),
                destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                    bucket=self.replica.bucket.arn, storage_class="STANDARD",
                    encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                        replica_kms_key_id=args.replica_kms_key_arn),
                    replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                        status=ENABLED, time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(minutes=15)),
                    metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                        status=ENABLED, event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(minutes=15))))],
            opts=child_options(self, depends_on=[self.primary.versioning, self.replica.versioning]))
        self.bucket_name, self.bucket_arn = self.primary.name, self.primary.arn
        self.replica_bucket_name, self.replica_bucket_arn = self.replica.name, self.replica.arn
        self.register_outputs({"name": self.primary.bucket.bucket, "replica_name": self.replica.bucket.bucket})

    def _replication_role(self, name: str, args: PrintFileStorageArgs) -> aws.iam.Role:
        """Least privilege: read versions from the source, write replicas, use exactly two keys."""
        role = aws.iam.Role(f"{name}-replication", assume_role_policy=assume_role_policy("s3.amazonaws.com"),
                            tags=args.tags, opts=child_options(self))
        source, target = self.primary.bucket.arn, self.replica.bucket.arn
        aws.iam.RolePolicy(f"{name}-replication", role=role.id, policy=policy_document(
            {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
             "Resource": source},
            {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                                           "s3:GetObjectVersionTagging", "s3:GetObjectRetention",
                                           "s3:GetObjectLegalHold"],
             "Resource": pulumi.Output.concat(source, "/*")},
            {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags",
                                           "s3:ObjectOwnerOverrideToBucketOwner"],
             "Resource": pulumi.Output.concat(target, "/*")},
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": args.kms_key_arn,
             "Condition": {"StringLike": {"kms:ViaService": f"s3.{args.region}.amazonaws.com"}}},
            {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
             "Resource": args.replica_kms_key_arn,
             "Condition": {"StringLike": {"kms:ViaService": f"s3.{args.replica_region}.amazonaws.com"}}},
        ), opts=child_options(self))
        return role


@dataclass(frozen=True)
class BackupVaultArgs:
    region: str
    """The DR region: logical dumps live offsite."""
    kms_key_arn: InputStr
    """The storage key's replica in the DR region."""
    lock_days: int
    """COMPLIANCE retention of each dump, in days (at most daily_days)."""
    daily_days: int
    """Days a dump under daily/ is kept."""
    weekly_days: int
    """Days a dump under weekly/ is kept."""
    monthly_days: int
    """Days a dump under daily/, weekly/ or monthly/ is kept."""
    abort_multipart_days: int
    """Days before stale multipart uploads are aborted."""
    protect: bool
    """Pulumi `protect` on the stateful resources (`StackSettings.durability.protect`)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""


class BackupVault(pulumi.ComponentResource):
    """Offsite, COMPLIANCE-locked bucket for the nightly logical dumps, and its writer policy."""

    def __init__(self, name: str, args: BackupVaultArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:storage:BackupVault", name, None, opts)
        rules = (
            LifecycleRule("daily", prefix="daily/", expire_days=args.daily_days, noncurrent_days=1),
            LifecycleRule("weekly", prefix="weekly/", expire_days=args.weekly_days, noncurrent_days=1),
            LifecycleRule("monthly", prefix="monthly/", expire_days=args.monthly_days, noncurrent_days=1),
            LifecycleRule("abort-stale-multipart", abort_multipart_days=args.abort_multipart_days),
        )
        self.vault = HardenedBucket(name, HardenedBucketArgs(
            region=args.region, kms_key_arn=args.kms_key_arn, lock_mode="COMPLIANCE",
            lock_days=args.lock_days, lifecycle=rules, protect=args.protect,
            force_destroy=False, tags={**args.tags, "data-tier": "backup"}),
            opts=child_options(self))
        arn = self.vault.bucket.arn
        self.writer_policy = aws.iam.Policy(
            f"{name}-writer",
            description="Nightly dump writer: put and read, never delete versions or loosen the lock",
            policy=policy_document(
                {"Sid": "WriteAndReadDumps", "Effect": "Allow",
                 "Action": ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"],
                 "Resource": pulumi.Output.concat(arn, "/*")},
                {"Sid": "ListDumps", "Effect": "Allow",
                 "Action": ["s3:ListBucket", "s3:ListBucketVersions"], "Resource": arn},
                {"Sid": "EncryptDumps", "Effect": "Allow",
                 "Action": ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"],
                 "Resource": args.kms_key_arn},
                {"Sid": "NeverDestroyBackups", "Effect": "Deny",
                 "Action": ["s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
                            "s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration",
                            "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration",
                            "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:DeleteBucket"],
                 "Resource": [arn, pulumi.Output.concat(arn, "/*")]},
            ),
            tags=args.tags, opts=child_options(self))
        self.bucket_name, self.bucket_arn = self.vault.name, self.vault.arn
        self.writer_policy_arn = self.writer_policy.arn
        self.register_outputs({"name": self.vault.bucket.bucket, "writer_policy": self.writer_policy.arn})


READ_PRINT_FILES = ("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions",
                    "s3:GetBucketLocation")
"""What the DR apps may do to prod's replica bucket in a drill: read, nothing else."""


@dataclass(frozen=True)
class ReplicaBucketAccessArgs:
    replica_bucket_arn: InputStr
    """prod's replica print bucket in this (the DR) region."""
    replica_key_arn: InputStr
    """The storage key's replica in this region, which the replica's objects are encrypted with."""
    drill: bool
    """A drill only reads; a failover may also write new print files."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""


class ReplicaBucketAccess(pulumi.ComponentResource):
    """What the DR apps may do to prod's replica bucket: a drill only reads it."""

    def __init__(self, name: str, args: ReplicaBucketAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:dr:ReplicaBucketAccess", name, None, opts)
        bucket = args.replica_bucket_arn
        objects = pulumi.Output.from_input(bucket).apply(lambda a: f"{a}/*")
        statements = [
            {"Sid": "ReadPrintFiles", "Effect": "Allow", "Action": list(READ_PRINT_FILES),
             "Resource": [bucket, objects]},
            {"Sid": "UseReplicaStorageKey", "Effect": "Allow",
             "Action": ["kms:Decrypt"] if args.drill else ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": args.replica_key_arn},
        ]
        if args.drill:
            # An allow-list, not a deny-list: whatever S3 adds next (lifecycle, replication,
            # encryption, inventory, Replicate*, ...) is denied to a drill too.
            statements.append({"Sid": "DrillNeverChangesProdData", "Effect": "Deny",
                               "NotAction": list(READ_PRINT_FILES), "Resource": [bucket, objects]})
        else:
            statements += [
                {"Sid": "FailoverWritesPrintFiles", "Effect": "Allow", "Action": ["s3:PutObject"],
                 "Resource": objects},
                {"Sid": "NeverDestroyVersions", "Effect": "Deny",
                 "Action": ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"], "Resource": objects},
            ]
        self.policy = aws.iam.Policy(
            f"{name}-policy", description=f"DR ({'drill' if args.drill else 'failover'}) app access to the replica print bucket",
            policy=policy_document(*statements), tags=args.tags, opts=child_options(self))
        self.policy_arn = self.policy.arn
        self.register_outputs({"policy_arn": self.policy.arn})
