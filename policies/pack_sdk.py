"""Patches of pulumi-policy internals the pack relies on (each switches itself off, leaving the
same verdicts, if the SDK changes): secret marking, and the advisory level of waived findings.
pack_fast.py replaces Analyze and AnalyzeStack with one conversion per resource."""

from __future__ import annotations

from typing import Any

# ---------------------------------------------------------------------------------------------
# Secret marking. The Python SDK unwraps Pulumi secrets before a policy sees them, so a policy
# cannot tell a secret from a plain value. We mark values that arrived inside a secret wrapper
# with transparent subclasses (a SecretStr behaves exactly like str). If the SDK internals change,
# the patch is skipped and every value is treated as plain (stricter, never looser).
# ---------------------------------------------------------------------------------------------


class SecretStr(str):
    is_secret = True


class SecretInt(int):
    is_secret = True


class SecretFloat(float):
    is_secret = True


def _mark_secret(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, int):
        return SecretInt(value)
    if isinstance(value, float):
        return SecretFloat(value)
    if isinstance(value, list):
        return [_mark_secret(v) for v in value]
    if isinstance(value, dict):
        return {k: _mark_secret(v) for k, v in value.items()}
    return value


def _install_secret_marking() -> bool:
    try:
        from pulumi_policy import deserialize as _d
        original = _d._deserialize_property
        sig_key, secret_sig = _d.SPECIAL_SIG_KEY, _d.SPECIAL_SECRET_SIG
    except (ImportError, AttributeError):  # pragma: no cover - SDK changed
        return False
    if getattr(original, "_printflow_marks_secrets", False):
        return True

    def _deserialize_property(prop: Any, proxy_secrets: bool = False) -> Any:
        if (not proxy_secrets and isinstance(prop, dict) and prop.get(sig_key) == secret_sig
                and "value" in prop):
            return _mark_secret(original(prop["value"], proxy_secrets))
        return original(prop, proxy_secrets)

    _deserialize_property._printflow_marks_secrets = True  # type: ignore[attr-defined]
    _d._deserialize_property = _deserialize_property
    return True


SECRET_MARKING = _install_secret_marking()


def _install_advisory_reports() -> bool:
    """report_violation(message, urn, waived=True) files the diagnostic as ADVISORY: a waived
    finding stays visible (`pulumi preview` lists it) without failing the run. The SDK sets the
    level from the policy's enforcement level alone; this wraps the function it hands to each
    policy. If the SDK changes, waived findings stay at the policy's level (stricter, never laxer)."""
    try:
        from pulumi_policy import policy as _p
        servicer = _p._PolicyAnalyzerServicer  # noqa: SLF001
        create = servicer._create_report_violation  # noqa: SLF001
    except AttributeError:  # pragma: no cover - SDK changed
        return False
    if getattr(create, "_printflow_waivers", False):
        return True

    def _create_report_violation(self, response, *args, **kwargs):
        report = create(self, response, *args, **kwargs)

        def report_violation(message, urn=None, waived=False):
            before = len(response.diagnostics)
            report(message, urn)
            if waived:
                for diagnostic in response.diagnostics[before:]:
                    diagnostic.enforcementLevel = _p.proto.ADVISORY
        return report_violation

    _create_report_violation._printflow_waivers = True  # type: ignore[attr-defined]
    servicer._create_report_violation = _create_report_violation  # noqa: SLF001
    return True


ADVISORY_REPORTS = _install_advisory_reports()


def is_secret(value: Any) -> bool:
    return bool(getattr(value, "is_secret", False))
