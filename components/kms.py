"""Customer-managed KMS keys, one per purpose, multi-region where the data replicates."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .base import account_id, child_options, policy_document

# Service principals that must use a key directly (not through a grant made by the caller).
# MemoryDB is not among them: it cannot publish events to a KMS-encrypted topic at all (MemoryDB
# guide, "Event notifications and Amazon SNS"), so its events go to their own topic.
_SERVICE_USERS = {
    "alarms": lambda region: ["cloudwatch.amazonaws.com", "events.amazonaws.com", "s3.amazonaws.com"],
}
LOGS_PURPOSE = "logs"
PRIMARY_KEY_PURPOSES = ("database", "storage", "secrets", "queue", "alarms", LOGS_PURPOSE)
REPLICATED_KEY_PURPOSES = ("database", "storage", "secrets")
"""Data copied to the DR region (backups, print files, app secrets) needs a replica key there."""
DR_LOCAL_KEY_PURPOSES = ("queue", "alarms", LOGS_PURPOSE)
"""What a DR stack keys itself; the rest are prod's replicas."""


@dataclass(frozen=True)
class KeyRingArgs:
    prefix: str
    """Alias prefix: keys are alias/<prefix>-<purpose>."""
    region: str
    """The region of the primary keys."""
    purposes: tuple[str, ...]
    """Key purposes, e.g. database, storage, secrets, queue, alarms, logs."""
    replica_region: str | None = None
    """Where replicated purposes get a replica key."""
    replicated_purposes: tuple[str, ...] = ()
    """Purposes whose data is copied to `replica_region` and so need a replica key there."""
    deletion_window_days: int = 30
    """Days a deleted key stays recoverable (7-30)."""
    protect: bool = True
    """Pulumi `protect` on the keys."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""

    def __post_init__(self) -> None:
        if not 7 <= self.deletion_window_days <= 30:
            raise ValueError("deletion_window_days must be within 7..30")
        stray = set(self.replicated_purposes) - set(self.purposes)
        if stray:
            raise ValueError(f"replicated_purposes not among purposes: {sorted(stray)}")
        if self.replicated_purposes and not self.replica_region:
            raise ValueError("replicated_purposes needs a replica_region")


class KeyRing(pulumi.ComponentResource):
    """The stack's KMS keys. `keys[p]` are in `region`, `replicas[p]` in the replica region."""

    def __init__(self, name: str, args: KeyRingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:security:KeyRing", name, None, opts)
        self.keys: dict[str, aws.kms.Key] = {}
        self.replicas: dict[str, aws.kms.ReplicaKey] = {}
        account = account_id()
        for purpose in args.purposes:
            multi_region = purpose in args.replicated_purposes
            policy = self._key_policy(account, purpose, args.region)
            key = aws.kms.Key(
                f"{name}-{purpose}",
                description=f"{args.prefix} {purpose} data",
                region=args.region,
                multi_region=multi_region,
                enable_key_rotation=True,
                deletion_window_in_days=args.deletion_window_days,
                policy=policy,
                tags={**args.tags, "purpose": purpose},
                opts=child_options(self, protect=args.protect))
            aws.kms.Alias(f"{name}-{purpose}-alias", name=f"alias/{args.prefix}-{purpose}",
                          target_key_id=key.key_id, region=args.region,
                          opts=child_options(self))
            self.keys[purpose] = key
            if multi_region:
                replica = aws.kms.ReplicaKey(
                    f"{name}-{purpose}-replica",
                    description=f"{args.prefix} {purpose} data (DR replica)",
                    primary_key_arn=key.arn,
                    region=args.replica_region,
                    deletion_window_in_days=args.deletion_window_days,
                    policy=self._key_policy(account, purpose, args.replica_region),
                    tags={**args.tags, "purpose": purpose, "replica-of": args.region},
                    opts=child_options(self, protect=args.protect))
                aws.kms.Alias(f"{name}-{purpose}-replica-alias", name=f"alias/{args.prefix}-{purpose}",
                              target_key_id=replica.key_id, region=args.replica_region,
                              opts=child_options(self))
                self.replicas[purpose] = replica
        self.key_arns = {p: k.arn for p, k in self.keys.items()}
        self.replica_key_arns = {p: k.arn for p, k in self.replicas.items()}
        self.register_outputs(self.key_arns)

    @staticmethod
    def _key_policy(account: pulumi.Output[str], purpose: str, region: str) -> pulumi.Output[str]:
        """Root stays administrator (no lock-out); services named per purpose may use the key."""
        statements: list[dict] = [{
            "Sid": "AccountRootAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": pulumi.Output.concat("arn:aws:iam::", account, ":root")},
            "Action": "kms:*",
            "Resource": "*",
        }]
        if purpose == LOGS_PURPOSE:
            statements.append(_cloudwatch_logs_statement(account, region))
        services = _SERVICE_USERS.get(purpose, lambda _r: [])(region)
        if services:
            statements.append({
                "Sid": "ServicesUseKey",
                "Effect": "Allow",
                "Principal": {"Service": services},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*",
                           "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            })
        return policy_document(*statements)


def _cloudwatch_logs_statement(account: pulumi.Output[str], region: str) -> dict:
    """The statement the CloudWatch Logs guide ("Encrypt log data in CloudWatch Logs using AWS
    KMS") documents: the regional logs principal, limited by the log group ARN in the encryption
    context. CloudWatch Logs sends no aws:SourceAccount, so that condition would deny it."""
    return {
        "Sid": "CloudWatchLogsUseKey",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                   "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": pulumi.Output.concat(
            "arn:aws:logs:", region, ":", account, ":log-group:*")}},
    }
