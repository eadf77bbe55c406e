"""Time parsing and an injectable clock, so RPO/RTO maths is deterministic in tests."""

from __future__ import annotations

from datetime import datetime, timezone


class TimeInputError(ValueError):
    pass


def parse_time(text: str, what: str = "time") -> datetime:
    """Parse ISO 8601 (``Z`` or offset); naive values are taken as UTC."""
    shown = text if len(text) <= 40 else text[:39] + "…"
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        # Normalised to UTC here, so a value at the edge of the calendar fails now, not later.
        return value.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise TimeInputError(f"{what} {shown!r} is not an ISO 8601 timestamp between years 1 and "
                             "9999 (e.g. 2026-11-22T14:05:00Z)") from None


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def iso(value: datetime) -> str:
    return utc(value).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def real_now() -> datetime:
    return datetime.now(timezone.utc)


def human_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{sign}{h}h{m:02d}m{s:02d}s"
    if m:
        return f"{sign}{m}m{s:02d}s"
    return f"{sign}{s}s"
