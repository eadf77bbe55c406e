"""Laravel's APP_KEY and the internal API secret, generated once, shared by both apps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .base import child_options


@dataclass(frozen=True)
class Connection:
    """Non-secret connection facts plus the queue password, merged into the app entries."""

    db_host: pulumi.Input[str]
    db_port: pulumi.Input[int]
    db_name: str
    redis_host: pulumi.Input[str]
    redis_port: int
    redis_username: pulumi.Input[str]
    redis_password: pulumi.Input[str]


@dataclass(frozen=True)
class AppSecretsArgs:
    region: str
    kms_key_arn: pulumi.Input[str]
    rotation_generation: int
    recovery_window_days: int
    connection: Connection
    protect: bool
    replica: Optional[tuple[str, pulumi.Input[str]]] = None
    """(DR region, replica key ARN): the entries are replicated there."""
    tags: dict[str, str] = field(default_factory=dict)

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
        c = args.connection
        shared = {
            "APP_KEY": self.app_key,
            "APP_PREVIOUS_KEYS": previous_keys,
            "INTERNAL_API_SECRET": internal.result,
            "PDF_SERVICE_INTERNAL_SECRET": internal.result,
            "REDIS_HOST": c.redis_host, "REDIS_PORT": str(c.redis_port),
            "REDIS_USERNAME": c.redis_username, "REDIS_PASSWORD": c.redis_password,
        }
        laravel = {**shared, "DB_HOST": c.db_host, "DB_PORT": pulumi.Output.from_input(c.db_port).apply(str),
                   "DB_DATABASE": c.db_name, "REDIS_SCHEME": "tls"}
        pdf_service = {**shared, "REDIS_TLS": "true"}
        self.laravel = self._entry(f"{name}-laravel", "Laravel runtime secrets", laravel, args)
        self.pdf_service = self._entry(f"{name}-pdf-service", "pdf-service runtime secrets", pdf_service, args)
        self.register_outputs({"laravel_arn": self.laravel.arn, "pdf_service_arn": self.pdf_service.arn})

    def _entry(self, name: str, description: str, values: dict, args: AppSecretsArgs) -> aws.secretsmanager.Secret:
        secret = aws.secretsmanager.Secret(
            name, region=args.region, description=description, kms_key_id=args.kms_key_arn,
            recovery_window_in_days=args.recovery_window_days,
            replicas=[aws.secretsmanager.SecretReplicaArgs(region=reg, kms_key_id=key)
                      for reg, key in ([args.replica] if args.replica else [])],
            tags=args.tags, opts=child_options(self, protect=args.protect))
        aws.secretsmanager.SecretVersion(
            name, secret_id=secret.id, region=args.region,
            secret_string=pulumi.Output.secret(pulumi.Output.json_dumps(values)),
            opts=child_options(self))
        return secret
