"""What AWS accepts, in one place with its source: instance and node classes, engine versions,
time windows, service limits. The config models (components/config.py) validate against these, so
a value AWS would refuse stops the program before anything is registered."""

from __future__ import annotations

import re

_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")


def _classes(prefix: str, families: dict[str, tuple[str, ...]]) -> frozenset[str]:
    return frozenset(f"{prefix}.{family}.{size}" for family, sizes in families.items() for size in sizes)


# RDS User Guide, "Supported DB engines for DB instance classes" (PostgreSQL 16 column).
RDS_POSTGRES_16_CLASSES = _classes("db", {
    "t3": ("micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "t4g": ("micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "m5": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"),
    "m6g": _SIZES, "m6gd": _SIZES, "m6i": _SIZES + ("24xlarge", "32xlarge"),
    "m7g": _SIZES, "m7i": _SIZES + ("24xlarge", "48xlarge"),
    "r5": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"),
    "r6g": _SIZES, "r6gd": _SIZES, "r6i": _SIZES + ("24xlarge", "32xlarge"),
    "r7g": _SIZES, "r7i": _SIZES + ("24xlarge", "48xlarge"),
})

# MemoryDB Developer Guide, "Supported node types".
MEMORYDB_NODE_TYPES = _classes("db", {
    "t4g": ("small", "medium"),
    "r6g": _SIZES, "r7g": _SIZES,
    "r6gd": ("xlarge", "2xlarge", "4xlarge", "8xlarge"),
})

# MemoryDB Developer Guide, "Engine versions": Redis OSS 7.0 and 7.1, Valkey 7.2 (7.2.6) and
# MemoryDB 7.3; engine -> versions (all of parameter group family memorydb_<engine>7).
MEMORYDB_ENGINE_VERSIONS: dict[str, tuple[str, ...]] = {
    "redis": ("7.0", "7.1"),
    "valkey": ("7.2", "7.3"),
}

# ElastiCache User Guide, "Supported node types" (current generation).
ELASTICACHE_NODE_TYPES = _classes("cache", {
    "t4g": ("micro", "small", "medium"),
    "m6g": _SIZES, "m7g": _SIZES, "r6g": _SIZES, "r7g": _SIZES,
})

# MemoryDB reserves `default` (every cluster's open-access user): IAM/ACL guide, "Authenticating
# users with Access Control Lists".
MEMORYDB_RESERVED_USERS = frozenset({"default"})
MEMORYDB_NAME_MAX = 40  # terraform-provider-aws internal/service/memorydb (cluster, ACL, user)

SSM_STANDARD_VALUE_MAX = 4096  # Systems Manager, "Parameter tiers": Standard values up to 4 KB

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_WEEKLY = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-"
                     r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$")
WEEK_MINUTES = 7 * 24 * 60


def daily_window(value: str, minimum_minutes: int) -> tuple[int, int]:
    """`hh24:mi-hh24:mi` (UTC) as (start, end) minutes of the day, end may wrap past midnight.
    RDS backup windows (RDS User Guide, "Backup window") and MemoryDB snapshot windows (MemoryDB
    guide, "Scheduling automatic snapshots": "The minimum length for the snapshot window is 60
    minutes") are at least 30 and 60 minutes."""
    match = _DAILY.match(value)
    if not match:
        raise ValueError("must be hh24:mi-hh24:mi in UTC, e.g. 03:00-04:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    length = (end - start) % (24 * 60)
    if length < minimum_minutes:
        raise ValueError(f"must last at least {minimum_minutes} minutes")
    return start, start + length


def weekly_window(value: str, minimum_minutes: int = 30) -> tuple[int, int]:
    """`ddd:hh24:mi-ddd:hh24:mi` (UTC) as (start, end) minutes of the week (RDS User Guide,
    "Maintenance window": at least 30 minutes)."""
    match = _WEEKLY.match(value)
    if not match:
        raise ValueError("must be ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:05:00-sun:06:00")
    d1, h1, m1, d2, h2, m2 = match.groups()
    start = _DAYS.index(d1) * 1440 + int(h1) * 60 + int(m1)
    end = _DAYS.index(d2) * 1440 + int(h2) * 60 + int(m2)
    length = (end - start) % WEEK_MINUTES
    if length < minimum_minutes:
        raise ValueError(f"must last at least {minimum_minutes} minutes")
    return start, start + length


def daily_overlaps_weekly(daily: tuple[int, int], weekly: tuple[int, int]) -> bool:
    """Does a daily window, on any day, overlap a weekly one? (RDS: "The backup window can't
    overlap with the weekly maintenance window".)"""
    for day in range(8):
        start, end = day * 1440 + daily[0], day * 1440 + daily[1]
        for shift in (0, WEEK_MINUTES):
            if start < weekly[1] + shift and weekly[0] + shift < end:
                return True
    return False
