"""The check result type shared by audit and drill, plus table/JSON rendering and exit codes."""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

from botocore.exceptions import (
    ConnectTimeoutError, CredentialRetrievalError, EndpointConnectionError, NoCredentialsError,
    NoRegionError, PartialCredentialsError,
)

from ops.aws import describe_error


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # not evaluated, with a reason (e.g. the API is missing on this endpoint)


@dataclass(frozen=True)
class CheckResult:
    """One named check on one resource. ``data`` carries numbers (e.g. lag seconds) for JSON."""

    check: str
    resource: str
    status: Status
    detail: str
    area: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "CheckResult":
        return cls(
            check=str(raw["check"]),
            resource=str(raw.get("resource", "")),
            status=Status(raw["status"]),
            detail=str(raw.get("detail", "")),
            area=str(raw.get("area", "")),
            data=dict(raw.get("data") or {}),
        )


def ok(check: str, resource: str, detail: str, area: str = "", **data: Any) -> CheckResult:
    return CheckResult(check, resource, Status.PASS, detail, area, data)


def fail(check: str, resource: str, detail: str, area: str = "", **data: Any) -> CheckResult:
    return CheckResult(check, resource, Status.FAIL, detail, area, data)


def skip(check: str, resource: str, detail: str, area: str = "", **data: Any) -> CheckResult:
    return CheckResult(check, resource, Status.SKIP, detail, area, data)


def check_if(cond: bool, check: str, resource: str, good: str, bad: str, area: str = "",
             **data: Any) -> CheckResult:
    return (ok if cond else fail)(check, resource, good if cond else bad, area, **data)


class EnvironmentProblem(Exception):
    """No credentials, no region, or no way to reach AWS: nothing about the environment can be
    judged, so the command stops with one line (exit 2) instead of failing every check."""


_ENVIRONMENT_ERRORS = (NoCredentialsError, PartialCredentialsError, NoRegionError,
                       EndpointConnectionError, ConnectTimeoutError, CredentialRetrievalError)


def guarded(area: str, check: str, resource: str,
            fn: Callable[[], Iterable[CheckResult]]) -> list[CheckResult]:
    """Run ``fn``; an AWS/lookup error becomes one failed check instead of a traceback."""
    try:
        return list(fn())
    except _ENVIRONMENT_ERRORS as exc:
        raise EnvironmentProblem(f"cannot reach AWS: {exc}. Check the credentials (AWS_PROFILE, "
                                 "AWS_ACCESS_KEY_ID...), the region and the network, then run again; "
                                 "nothing was checked.") from None
    except Exception as exc:  # noqa: BLE001 - every error must surface as a result line
        return [fail(check, resource, describe_error(exc), area)]


def any_failed(results: Iterable[CheckResult]) -> bool:
    return any(r.failed for r in results)


def summary_line(results: list[CheckResult]) -> str:
    n_pass = sum(r.status is Status.PASS for r in results)
    n_fail = sum(r.status is Status.FAIL for r in results)
    n_skip = sum(r.status is Status.SKIP for r in results)
    verdict = "FAILED" if n_fail else "PASSED"
    return f"{verdict}: {n_pass} passed, {n_fail} failed, {n_skip} skipped ({len(results)} checks)"


def render_table(results: list[CheckResult]) -> str:
    """An aligned plain-text table: check, resource, status, detail."""
    header = ("CHECK", "RESOURCE", "STATUS", "DETAIL")
    rows = [(r.check, r.resource, r.status.value.upper(), r.detail) for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    lines = []
    for row in [header, *rows]:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3]))
                     + "  " + row[3])
    return "\n".join(line.rstrip() for line in lines)


def to_json(results: list[CheckResult], **extra: Any) -> str:
    payload = {
        "passed": not any_failed(results),
        "summary": summary_line(results),
        **extra,
        "checks": [r.to_dict() for r in results],
    }
    return json.dumps(payload, indent=2, sort_keys=False, default=str)
