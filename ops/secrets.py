"""Secret consistency checks that never print or log a secret value.

Values are reduced to SHA-256 digests as soon as they are read; only key names and verdicts
reach result lines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from ops.aws import Clients, describe_error, region_of_arn
from ops.checks import CheckResult, check_if, fail, ok

AREA = "secrets"

# (check name, (secret, key), (secret, key)); secret is "laravel" or "pdf-service".
EQUALITY_RULES: tuple[tuple[str, tuple[str, str], tuple[str, str]], ...] = (
    ("secret-app-key-match", ("laravel", "APP_KEY"), ("pdf-service", "APP_KEY")),
    ("secret-internal-api-match", ("laravel", "INTERNAL_API_SECRET"),
     ("pdf-service", "INTERNAL_API_SECRET")),
    ("secret-pdf-internal-match", ("laravel", "PDF_SERVICE_INTERNAL_SECRET"),
     ("laravel", "INTERNAL_API_SECRET")),
    ("secret-pdf-internal-match", ("pdf-service", "PDF_SERVICE_INTERNAL_SECRET"),
     ("pdf-service", "INTERNAL_API_SECRET")),
)


class SecretFormatError(Exception):
    """SecretString missing or not a JSON object (message never includes the value)."""


def secret_digests(clients: Clients, arn: str) -> dict[str, bytes]:
    """Fetch a JSON SecretString and return {key: sha256(value)}; the plaintext is dropped here."""
    resp = clients.get("secretsmanager", region_of_arn(arn)).get_secret_value(SecretId=arn)
    text = resp.get("SecretString")
    if text is None:
        raise SecretFormatError("SecretString is empty (binary secret?)")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        raise SecretFormatError("SecretString is not JSON") from None
    finally:
        del text, resp
    if not isinstance(doc, dict):
        raise SecretFormatError("SecretString is not a JSON object")
    return {str(k): hashlib.sha256(str(v).encode("utf-8")).digest() for k, v in doc.items()}


def equality_checks(clients: Clients, laravel_arn: str, pdf_arn: str,
                    area: str = AREA) -> list[CheckResult]:
    """APP_KEY / internal secrets equal across the two apps, compared by SHA-256 only."""
    digests: dict[str, dict[str, bytes]] = {}
    results: list[CheckResult] = []
    for label, arn in (("laravel", laravel_arn), ("pdf-service", pdf_arn)):
        try:
            digests[label] = secret_digests(clients, arn)
        except SecretFormatError as exc:
            results.append(fail("secret-readable", label, f"{arn}: {exc}", area))
        except Exception as exc:  # noqa: BLE001
            results.append(fail("secret-readable", label, describe_error(exc), area))
        else:
            results.append(ok("secret-readable", label, f"{len(digests[label])} keys", area))
    if len(digests) < 2:
        return results
    for check, (sa, ka), (sb, kb) in EQUALITY_RULES:
        resource = f"{sa}.{ka} vs {sb}.{kb}"
        missing = [f"{s}.{k}" for s, k in ((sa, ka), (sb, kb)) if k not in digests[s]]
        if missing:
            results.append(fail(check, resource, f"missing key {', '.join(missing)}", area))
            continue
        same = hmac.compare_digest(digests[sa][ka], digests[sb][kb])
        results.append(check_if(same, check, resource,
                                "equal (SHA-256 compared; values not shown)",
                                "DIFFERENT (SHA-256 compared; values not shown)", area))
    return results


def replica_checks(clients: Clients, arn: str, label: str, regions: list[str],
                   area: str = AREA) -> list[CheckResult]:
    """Each expected replica region reports ReplicationStatus InSync on the primary secret."""
    desc: dict[str, Any] = clients.get("secretsmanager", region_of_arn(arn)).describe_secret(SecretId=arn)
    statuses = {r.get("Region"): r for r in desc.get("ReplicationStatus", [])}
    results = []
    for region in regions:
        entry = statuses.get(region)
        resource = f"{label} -> {region}"
        if entry is None:
            results.append(fail("secret-replica-in-sync", resource, "no replica in this region", area))
            continue
        status = entry.get("Status", "?")
        msg = entry.get("StatusMessage", "")
        results.append(check_if(status == "InSync", "secret-replica-in-sync", resource,
                                "InSync", f"status {status}{': ' + msg if msg else ''}", area))
    return results
