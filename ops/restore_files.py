"""`ops restore-files`: a prefix of the print bucket back to a moment (runbook §3.3, §3.4, §5.2,
§5.3: one tenant's files, or lost print files).

For each key under the prefix, its state at T is the newest version with LastModified <= T;
absent if that is a delete marker or there is none (S3 ListObjectVersions). Restoring copies the
version at T onto the same key, so it becomes current again: a deleted file comes back, an
overwritten one gets its old bytes. No version is ever deleted; a key created after T stays unless
--remove-newer, which adds a delete marker (never a permanent delete). Dry run by default.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Optional
from urllib.parse import urlencode

from ops.aws import describe_error, error_code

RESTORE, REMOVE, KEEP_NEWER, UNCHANGED = "restore", "remove-newer", "keep-newer", "unchanged"
KEPT_HEADERS = ("ContentType", "ContentDisposition", "ContentEncoding", "ContentLanguage", "CacheControl",
                "Metadata")
"""What a restored file keeps of its old version besides the bytes (and its storage class and tags)."""


@dataclass
class Step:
    key: str
    action: str
    version_id: Optional[str] = None
    """The version that comes back (restore) or the current one (remove-newer, keep-newer)."""
    last_modified: Optional[str] = None
    size: int = 0
    result: str = "planned"
    detail: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _newest_first(entry: dict) -> tuple:
    """S3 lists a key's versions newest first, but boto3 returns versions and delete markers as
    two lists, and LastModified has whole seconds: within one second the current entry
    (IsLatest) is the newest, and a version counts as newer than a delete marker, so a file
    deleted and uploaded again in the same second is never taken for absent (and removed)."""
    return entry["LastModified"], bool(entry.get("IsLatest")), not entry["DeleteMarker"]


def _entries(s3: Any, bucket: str, prefix: str) -> dict[str, list[dict]]:
    """Every version and delete marker under `prefix`, per key, newest first (_newest_first)."""
    by_key: dict[str, list[dict]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for marker in page.get("DeleteMarkers", []):
            by_key.setdefault(marker["Key"], []).append({**marker, "DeleteMarker": True})
        for version in page.get("Versions", []):
            by_key.setdefault(version["Key"], []).append({**version, "DeleteMarker": False})
    for entries in by_key.values():
        entries.sort(key=_newest_first, reverse=True)
    return by_key


def plan(s3: Any, bucket: str, prefix: str, to: datetime, remove_newer: bool) -> list[Step]:
    steps = []
    for key, entries in sorted(_entries(s3, bucket, prefix).items()):
        if not key.startswith(prefix):
            continue  # never touch a key outside the prefix, whatever the listing returns
        current = next((e for e in entries if e.get("IsLatest")), entries[0])
        at_t = next((e for e in entries if e["LastModified"] <= to), None)
        if at_t is not None and not at_t["DeleteMarker"]:
            if not current["DeleteMarker"] and current["VersionId"] == at_t["VersionId"]:
                steps.append(Step(key, UNCHANGED, at_t["VersionId"], at_t["LastModified"].isoformat()))
            else:
                steps.append(Step(key, RESTORE, at_t["VersionId"], at_t["LastModified"].isoformat(),
                                  int(at_t.get("Size", 0))))
        elif not current["DeleteMarker"]:  # absent at T, present now: created after T
            steps.append(Step(key, REMOVE if remove_newer else KEEP_NEWER, current["VersionId"],
                              current["LastModified"].isoformat()))
    return steps


def apply(s3: Any, bucket: str, steps: Iterable[Step]) -> None:
    for step in steps:
        if step.action not in (RESTORE, REMOVE):
            continue
        try:
            if step.action == RESTORE:
                _put_version_back(s3, bucket, step)
                step.result, step.detail = "done", f"version {step.version_id} is current again"
            else:
                s3.delete_object(Bucket=bucket, Key=step.key)  # no VersionId: a delete marker only
                step.result, step.detail = "done", "delete marker added (the version is kept)"
        except Exception as exc:  # noqa: BLE001 - every key is attempted; failures are reported
            step.result, step.detail = "failed", describe_error(exc)


def _put_version_back(s3: Any, bucket: str, step: Step) -> None:
    """The version's bytes and headers written as a new current version. A bucket with Object
    Lock default retention takes a write only with a checksum (S3 guide, "Object Lock": Content-MD5
    or an x-amz-checksum); boto3's PutObject and multipart upload send one, a bodiless CopyObject
    is refused there (moto does the same), so the bytes go through this process."""
    source = s3.get_object(Bucket=bucket, Key=step.key, VersionId=step.version_id)
    extra = {k: source[k] for k in KEPT_HEADERS if source.get(k)}
    if source.get("StorageClass") not in (None, "STANDARD"):
        extra["StorageClass"] = source["StorageClass"]
    tags = s3.get_object_tagging(Bucket=bucket, Key=step.key, VersionId=step.version_id).get("TagSet", [])
    if tags:  # tags are not headers: PutObject takes them as a query string
        extra["Tagging"] = urlencode([(t["Key"], t["Value"]) for t in tags])
    s3.upload_fileobj(source["Body"], bucket, step.key, ExtraArgs=extra)  # multipart when large


def noncurrent_days(s3: Any, bucket: str) -> Optional[int]:
    """The shortest NoncurrentVersionExpiration of the bucket's enabled lifecycle rules."""
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) == "NoSuchLifecycleConfiguration":
            return None
        raise
    days = [r["NoncurrentVersionExpiration"]["NoncurrentDays"] for r in rules
            if r.get("Status") == "Enabled" and r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")]
    return min(days) if days else None


def retention_warning(s3: Any, bucket: str, to: datetime, now: datetime) -> Optional[str]:
    days = noncurrent_days(s3, bucket)
    if days is not None and now - to > timedelta(days=days):
        return (f"warning: {to.isoformat()} is more than {days} days ago, the bucket's noncurrent-version "
                "retention: versions from then may already be gone, so some keys may not come back.")
    return None
