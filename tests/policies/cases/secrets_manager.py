"""Policy cases: Secrets Manager."""

from __future__ import annotations

import base64

from tests.policies.cases.registry import case
from tests.policies.graphs import (
    SECRET, app_secret_version, delp, edit_secret_json, one, setp,
)


def _laravel_secret(g):
    """The shared (replicated) Laravel key entry, not its connection entry."""
    return one(g, SECRET, lambda r: "laravel" in r["name"] and "connection" not in r["name"])


@case("aws-secretsmanager-secret-cmk")
def _(g):
    delp(_laravel_secret(g), "kmsKeyId")


@case("aws-secretsmanager-secret-dr-replica")
def _(g):
    setp(_laravel_secret(g), "replicas", [])


@case("aws-secretsmanager-secret-recovery-window")
def _(g):
    setp(_laravel_secret(g), "recoveryWindowInDays", 0)


@case("printflow-app-secrets-consistent:app-key")
def _(g):
    edit_secret_json(app_secret_version(g, "pdf-service"), lambda d: d.update(
        APP_KEY="base64:" + base64.b64encode(b"z" * 32).decode()))


@case("printflow-app-secrets-consistent:internal-secret")
def _(g):
    edit_secret_json(app_secret_version(g, "laravel"), lambda d: d.update(
        PDF_SERVICE_INTERNAL_SECRET="something-else-entirely"))


@case("printflow-app-secrets-required-keys")
def _(g):
    edit_secret_json(app_secret_version(g, "laravel", connection=True), lambda d: d.pop("REDIS_PASSWORD"))


@case("printflow-app-secrets-required-keys:shared-key")
def _(g):
    edit_secret_json(app_secret_version(g, "pdf-service"), lambda d: d.pop("INTERNAL_API_SECRET"))


@case("printflow-secrets-no-replicated-endpoints")
def _(g):
    """The old layout: prod's connection secret replicated, so DR apps would get prod's hosts."""
    secret = one(g, SECRET, lambda r: r["name"].endswith("connections-laravel"))
    setp(secret, "replicas", [{"region": "us-west-2", "kmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/mrk-1"}])


@case("printflow-app-secrets-required-keys:bad-app-key")
def _(g):
    for app in ("laravel", "pdf-service"):
        edit_secret_json(app_secret_version(g, app), lambda d: d.update(APP_KEY="short"))
