"""One place that builds boto3 clients, so region handling and test overrides live together.

Never pass ``endpoint_url``: boto3 already honours ``AWS_ENDPOINT_URL`` (and the per-service
``AWS_ENDPOINT_URL_<SERVICE>``), which is how the tools run against moto's server.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"})

# Error codes meaning "this endpoint does not implement the call" (moto, older partitions).
NOT_IMPLEMENTED_CODES = frozenset(
    {"NotImplemented", "NotImplementedError", "InvalidAction", "UnknownOperation", "501"}
)


class Clients:
    """Caches one client per (service, region); tests may pre-register stubbed clients."""

    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session or boto3.session.Session()
        self._cache: dict[tuple[str, str], Any] = {}

    def get(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._cache:
            self._cache[key] = self._session.client(service, region_name=region, config=_RETRIES)
        return self._cache[key]

    def override(self, service: str, region: str, client: Any) -> None:
        """Use ``client`` for (service, region) — e.g. a botocore Stubber-wrapped client."""
        self._cache[(service, region)] = client


def region_of_arn(arn: str) -> str:
    """The region field of an ARN (``arn:aws:svc:REGION:acct:...``)."""
    parts = arn.split(":")
    if len(parts) < 6 or not parts[3]:
        raise ValueError(f"not a regional ARN: {arn!r}")
    return parts[3]


def arn_in_region(arn: str, region: str) -> str:
    """The same ARN in another region (how replicas of secrets and multi-Region keys are named)."""
    parts = arn.split(":")
    parts[3] = region
    return ":".join(parts)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


def describe_error(exc: BaseException) -> str:
    """A short, secret-free description of an AWS error for a result line."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        op = getattr(exc, "operation_name", "call")
        return f"{op} failed: {err.get('Code', '?')}: {err.get('Message', '')}".strip()
    if isinstance(exc, BotoCoreError):
        return f"AWS client error: {exc}"
    return f"{type(exc).__name__}: {exc}"


def is_not_implemented(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and (
        error_code(exc) in NOT_IMPLEMENTED_CODES
        or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 501
    )
