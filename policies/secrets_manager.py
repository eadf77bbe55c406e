"""Secrets Manager policies. (Named secrets_manager.py rather than secrets.py so it never shadows
the standard library's `secrets` module on sys.path.)

Secret values are compared through SHA-256 digests only; no message ever contains a value."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from pack_common import UNKNOWN, About, Rules, fmt_num, get, items, label, number, per_resource

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"

# The shared (replicated) entries hold region-independent values only; each stack's connection
# entries hold its own endpoints (docs/contracts.md section 3).
LARAVEL_KEYS = ["APP_KEY", "APP_PREVIOUS_KEYS", "INTERNAL_API_SECRET", "PDF_SERVICE_INTERNAL_SECRET"]
PDF_SERVICE_KEYS = LARAVEL_KEYS
LARAVEL_CONNECTION_KEYS = ["DB_HOST", "DB_PORT", "DB_DATABASE", "REDIS_HOST", "REDIS_PORT",
                           "REDIS_USERNAME", "REDIS_PASSWORD", "REDIS_SCHEME"]
PDF_SERVICE_CONNECTION_KEYS = ["REDIS_HOST", "REDIS_PORT", "REDIS_USERNAME", "REDIS_PASSWORD",
                               "REDIS_TLS"]
CONNECTION_MARK = "connection"


GUIDE = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/"
rules = Rules()


rules.declared("secrets_manager")  # its one-property policies: property_rules.yaml


@rules.stack("aws-secretsmanager-secret-dr-replica",
             About("high", "reliability", GUIDE + "replicate-secrets.html"))
def _replica(stack, ctx, report):
    """Secrets in the primary stack are replicated to the DR region with a customer key, except those
    naming endpoints.
    """
    if ctx.is_dr:
        return  # a DR stack reads the replicas created by prod
    for secret in stack.of(SECRET):
        with per_resource():
            _, data = secret_payload(stack, secret)
            if data is UNKNOWN or holds_endpoint(data):
                continue  # endpoints stay in their region (printflow-secrets-no-replicated-endpoints)
            regions = replica_regions(secret)
            if regions is UNKNOWN:
                continue
            if ctx.dr_region not in regions:
                report(f"Secrets Manager secret {label(secret)} is not replicated to the DR region "
                       f"{ctx.dr_region}. Add replicas=[{{region: '{ctx.dr_region}', kms_key_id: "
                       "<DR replica of the secrets key>}].", secret.urn)
            elif not regions[ctx.dr_region] and regions[ctx.dr_region] is not UNKNOWN:
                report(f"Secrets Manager secret {label(secret)} replicates to {ctx.dr_region} with "
                       "the AWS-managed key. Set the replica's kms_key_id to the DR replica key.",
                       secret.urn)


def replica_regions(secret):
    """{region: kms key} of a secret's replicas, or UNKNOWN."""
    replicas = get(secret.props, "replicas")
    if replicas is UNKNOWN:
        return UNKNOWN
    regions = {}
    for r in items(replicas):
        reg = get(r, "region")
        if reg is UNKNOWN:
            return UNKNOWN
        regions[reg] = get(r, "kmsKeyId")
    return regions


def holds_endpoint(data) -> bool:
    """A JSON secret naming a host: REDIS_HOST, DB_HOST, host, ..."""
    return isinstance(data, dict) and any(
        str(k).upper() == "HOST" or str(k).upper().endswith("_HOST") for k in data)


@rules.stack("printflow-secrets-no-replicated-endpoints",
             About("high", "reliability", GUIDE + "replicate-secrets.html"))
def _no_replicated_endpoints(stack, ctx, report):
    """No secret replicated to another region holds an endpoint: a failover must hand the apps the DR
    region's hosts.
    """
    for secret in stack.of(SECRET):
        with per_resource():
            _, data = secret_payload(stack, secret)
            regions = replica_regions(secret)
            if data is UNKNOWN or regions is UNKNOWN or not regions or not holds_endpoint(data):
                continue
            report(f"Secrets Manager secret {label(secret)} holds endpoints (host names) and is "
                   f"replicated to {', '.join(sorted(map(str, regions)))}. A replica is a read-only "
                   "copy: after a failover the apps there would connect to the dead region. "
                   "Replicate only region-independent values and let each stack write its own "
                   "connection secret.", secret.urn)


@rules.resource("aws-secretsmanager-secret-recovery-window", [SECRET],
                About("medium", "reliability", GUIDE + "manage_delete-secret.html"),
                production_only=True,
                config={"minimumDays": {"type": "number", "minimum": 7, "maximum": 30, "default": 7,
                                        "description": "Minimum recovery window (default 7)."}})
def _recovery_window(args, ctx, report):
    """Secrets in production stacks keep a recovery window of at least the threshold.

    Production only: a drill's secrets are disposable; 0 lets the next drill reuse the names."""
    minimum = ctx.num("minimumDays")
    v = get(args.props, "recoveryWindowInDays")
    if v is UNKNOWN:
        return
    n = number(v)
    n = 30.0 if n is None else n
    if n < minimum:
        what = "deletes immediately (0 days)" if n == 0 else f"keeps a {fmt_num(n)}-day window"
        report(f"Secrets Manager secret '{args.name}' {what} on deletion. Set "
               f"recovery_window_in_days between {fmt_num(minimum)} and 30.")


# -- app secret consistency ------------------------------------------------------------------

def _entry_name(res) -> str:
    name = get(res.props, "name")
    text = f"{name if isinstance(name, str) and name is not UNKNOWN else ''} {res.name}".lower()
    return text


def find_app_secrets(stack, connections: bool = False):
    """(laravel, pdf-service) secrets: the shared key entries, or with `connections` this stack's
    connection entries."""
    chosen = [s for s in stack.of(SECRET) if (CONNECTION_MARK in _entry_name(s)) == connections]
    laravel = [s for s in chosen if "laravel" in _entry_name(s)]
    pdf = [s for s in chosen if "pdf-service" in _entry_name(s) or "pdf_service" in _entry_name(s)]
    return laravel, pdf


def secret_payload(stack, secret):
    """(version, dict|None|UNKNOWN) for the SecretVersion of `secret`."""
    versions = stack.referencing(secret, "secretId", SECRET_VERSION)
    if not versions:
        return None, None
    v = versions[-1]
    raw = get(v.props, "secretString")
    if raw is UNKNOWN:
        return v, UNKNOWN
    if not isinstance(raw, str):
        return v, None
    try:
        data = json.loads(raw)
    except ValueError:
        return v, None
    return v, data if isinstance(data, dict) else None


def _digest(value) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


@rules.stack("printflow-app-secrets-consistent",
             About("high", "reliability", "https://laravel.com/docs/11.x/encryption#configuration"))
def _consistent(stack, ctx, report):
    """The Laravel and pdf-service secrets share APP_KEY and INTERNAL_API_SECRET, and
    PDF_SERVICE_INTERNAL_SECRET equals INTERNAL_API_SECRET.
    """
    laravel, pdf = find_app_secrets(stack)
    if not laravel or not pdf:
        if ctx.is_prod:
            missing = "Laravel" if not laravel else "pdf-service"
            report(f"No Secrets Manager secret for the {missing} app was found (a secret whose "
                   "name contains 'laravel' / 'pdf-service'). Create both app secrets so their "
                   "shared keys can be checked.", None)
        return
    lv, ldata = secret_payload(stack, laravel[0])
    pv, pdata = secret_payload(stack, pdf[0])
    for sec, ver, data in ((laravel[0], lv, ldata), (pdf[0], pv, pdata)):
        if ver is None and ctx.is_prod:
            report(f"Secrets Manager secret {label(sec)} has no SecretVersion in this stack. "
                   "Add an aws.secretsmanager.SecretVersion with its JSON secret_string.", sec.urn)
    if UNKNOWN in (ldata, pdata) or ldata is None or pdata is None:
        return
    problems = []
    for key in ("APP_KEY", "INTERNAL_API_SECRET"):
        if key in ldata and key in pdata and _digest(ldata[key]) != _digest(pdata[key]):
            problems.append(f"{key} differs between the two secrets")
    for name, data in (("Laravel", ldata), ("pdf-service", pdata)):
        a, b = data.get("PDF_SERVICE_INTERNAL_SECRET"), data.get("INTERNAL_API_SECRET")
        if a is not None and b is not None and _digest(a) != _digest(b):
            problems.append(f"PDF_SERVICE_INTERNAL_SECRET != INTERNAL_API_SECRET in the {name} "
                            "secret")
    if problems:
        report(f"The app secrets {label(laravel[0])} and {label(pdf[0])} disagree: "
               f"{'; '.join(problems)}. Every internal call would fail with 401. Generate "
               "APP_KEY and INTERNAL_API_SECRET once and write the same values into both "
               "SecretVersions (values not shown; compared by SHA-256).", pv.urn)


def _valid_app_key(value) -> bool:
    if not isinstance(value, str) or not value.startswith("base64:"):
        return False
    try:
        return len(base64.b64decode(value[len("base64:"):], validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


@rules.stack("printflow-app-secrets-required-keys",
             About("high", "reliability", "https://laravel.com/docs/11.x/encryption#gracefully-rotating-encryption-keys"))
def _required_keys(stack, ctx, report):
    """The app secrets contain every key of the contract and a well-formed APP_KEY."""
    laravel, pdf = find_app_secrets(stack)
    laravel_conn, pdf_conn = find_app_secrets(stack, connections=True)
    for secrets, keys in ((laravel, LARAVEL_KEYS), (pdf, PDF_SERVICE_KEYS),
                          (laravel_conn, LARAVEL_CONNECTION_KEYS),
                          (pdf_conn, PDF_SERVICE_CONNECTION_KEYS)):
        for sec in secrets:
            with per_resource():
                ver, data = secret_payload(stack, sec)
                if ver is None or data is UNKNOWN:
                    continue
                if data is None:
                    report(f"SecretVersion {label(ver)} of {label(sec)} is not a JSON object. "
                           "Write the app settings as a JSON secret_string.", ver.urn)
                    continue
                missing = [k for k in keys if k not in data]
                if missing:
                    report(f"SecretVersion {label(ver)} of {label(sec)} lacks "
                           f"{', '.join(missing)}. Add them (docs/contracts.md section 3).",
                           ver.urn)
                if "APP_KEY" in data and not _valid_app_key(data["APP_KEY"]):
                    report(f"SecretVersion {label(ver)} of {label(sec)} has an APP_KEY that is not "
                           "'base64:' followed by 32 base64-encoded bytes (value not shown). "
                           "Generate it from random.RandomBytes(length=32).base64.", ver.urn)


POLICIES = rules.policies
