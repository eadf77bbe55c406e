"""Laravel's APP_KEY and the internal API secret, generated once, shared by both apps (replicated),
and each stack's own connection secrets (never replicated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .base import InputStr, child_options


@dataclass(frozen=True)
class AppSecretsArgs:
    region: str
    """The AWS region the resources are created in."""
    kms_key_arn: InputStr
    """The customer-managed KMS key that encrypts the data at rest."""
    rotation_generation: int
    """Bumped to rotate APP_KEY and the internal secret."""
    recovery_window_days: int
    """Days a deleted secret stays recoverable (0: deleted at once)."""
    protect: bool
    """Pulumi `protect` on the stateful resources (`StackSettings.durability.protect`)."""
    replica: Optional[tuple[str, pulumi.Input[str]]] = None
    """(DR region, replica key ARN): the entries are replicated there."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""

    def __post_init__(self) -> None:
        if self.rotation_generation < 1:
            raise ValueError("rotation_generation starts at 1")
        if not (self.recovery_window_days == 0 or 7 <= self.recovery_window_days <= 30):
            raise ValueError("recovery_window_days is 0 or 7..30")


def _slot_generation(generation: int, slot: int) -> int:
    """The newest generation <= `generation` that lands in `slot` (0 even, 1 odd)."""
    return generation if generation % 2 == slot else generation - 1


class AppSecrets(pulumi.ComponentResource):
    """Two Secrets Manager entries built from the same generated values, so they cannot drift.

    Rotation: the key lives in two slots (even and odd generations). Bumping the generation
    regenerates only the slot it lands in; the other slot still holds the previous key, which
    becomes APP_PREVIOUS_KEYS so data encrypted under it stays readable.
    """

    def __init__(self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:secrets:AppSecrets", name, None, opts)
        gen = args.rotation_generation
        slots = [random.RandomBytes(
            f"{name}-app-key-slot-{slot}", length=32,
            keepers={"generation": str(_slot_generation(gen, slot))},
            opts=child_options(self)) for slot in (0, 1)]
        current, previous = slots[gen % 2], slots[(gen + 1) % 2]
        self.app_key = pulumi.Output.concat("base64:", current.base64)
        previous_keys = (pulumi.Output.concat("base64:", previous.base64) if gen > 1
                         else pulumi.Output.from_input(""))
        internal = random.RandomPassword(
            f"{name}-internal-api-secret", length=64, special=False,
            keepers={"generation": str(gen)}, opts=child_options(self))
        # Region-independent values only: these entries are replicated, and a replica is a
        # read-only copy, so whatever they hold arrives unchanged in the DR region.
        shared = {
            "APP_KEY": self.app_key,
            "APP_PREVIOUS_KEYS": previous_keys,
            "INTERNAL_API_SECRET": internal.result,
            "PDF_SERVICE_INTERNAL_SECRET": internal.result,
        }
        replicas = [args.replica] if args.replica else []
        self.laravel = secret_entry(self, f"{name}-laravel", "Laravel keys (region-independent)",
                                    shared, args.region, args.kms_key_arn, args.recovery_window_days,
                                    args.protect, args.tags, replicas)
        self.pdf_service = secret_entry(self, f"{name}-pdf-service",
                                        "pdf-service keys (region-independent)", shared, args.region,
                                        args.kms_key_arn, args.recovery_window_days, args.protect,
                                        args.tags, replicas)
        self.laravel_arn, self.pdf_service_arn = self.laravel.arn, self.pdf_service.arn
        self.register_outputs({"laravel_arn": self.laravel_arn, "pdf_service_arn": self.pdf_service_arn})


def secret_entry(parent: pulumi.Resource, name: str, description: str, values: dict, region: str,
                 kms_key_arn: pulumi.Input[str], recovery_window_days: int, protect: bool,
                 tags: dict[str, str], replicas: list[tuple[str, pulumi.Input[str]]] = ()
                 ) -> aws.secretsmanager.Secret:
    """A Secrets Manager entry holding `values` as one JSON document, marked secret."""
    secret = aws.secretsmanager.Secret(
        name, region=region, description=description, kms_key_id=kms_key_arn,
        recovery_window_in_days=recovery_window_days,
        replicas=[aws.secretsmanager.SecretReplicaArgs(region=reg, kms_key_id=key)
                  for reg, key in replicas],
        tags=tags, opts=child_options(parent, protect=protect))
    aws.secretsmanager.SecretVersion(
        name, secret_id=secret.id, region=region,
        secret_string=pulumi.Output.secret(pulumi.Output.json_dumps(values)),
        opts=child_options(parent))
    return secret


@dataclass(frozen=True)
class AppConnectionsArgs:
    region: str
    """The AWS region the resources are created in."""
    kms_key_arn: InputStr
    """The customer-managed KMS key that encrypts the data at rest."""
    db_host: InputStr
    """This stack's PostgreSQL address."""
    db_port: int
    """Its port."""
    db_name: str
    """The database the apps use."""
    redis_host: InputStr
    """This stack's queue-store endpoint."""
    redis_port: int
    """Its port."""
    redis_username: InputStr
    """The queue store's ACL user."""
    redis_password: InputStr
    """That user's password (secret)."""
    recovery_window_days: int
    """Days a deleted secret stays recoverable (0: deleted at once)."""
    protect: bool
    """Pulumi `protect` on the stateful resources (`StackSettings.durability.protect`)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""


class AppConnections(pulumi.ComponentResource):
    """Where this stack's apps connect: its own database and queue store, with the queue password.

    Never replicated. Each stack (prod, and the DR stack after a restore) writes its own, so a
    failover hands the apps DR-region endpoints, not the dead region's.
    """

    def __init__(self, name: str, args: AppConnectionsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:secrets:AppConnections", name, None, opts)
        redis = {"REDIS_HOST": args.redis_host, "REDIS_PORT": str(args.redis_port),
                 "REDIS_USERNAME": args.redis_username, "REDIS_PASSWORD": args.redis_password}
        laravel = {**redis, "REDIS_SCHEME": "tls", "DB_HOST": args.db_host,
                   "DB_PORT": str(args.db_port), "DB_DATABASE": args.db_name}
        pdf_service = {**redis, "REDIS_TLS": "true"}
        common = (args.region, args.kms_key_arn, args.recovery_window_days, args.protect, args.tags)
        self.laravel = secret_entry(self, f"{name}-laravel", "Laravel connections (this region)",
                                    laravel, *common)
        self.pdf_service = secret_entry(self, f"{name}-pdf-service",
                                        "pdf-service connections (this region)", pdf_service, *common)
        self.laravel_arn, self.pdf_service_arn = self.laravel.arn, self.pdf_service.arn
        self.register_outputs({"laravel_arn": self.laravel_arn, "pdf_service_arn": self.pdf_service_arn})
