"""`ops restore-files` against moto's S3 (versioned, Object Lock): a prefix back to a moment,
dry run by default, never a deleted version, never a key outside the prefix."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.ops.fakeaws import Env, aws

PREFIX = "tenants/42/"


def _put(bucket: str, key: str, body: bytes, **extra: str) -> None:
    aws("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/pdf",
                         Metadata={"order": key.rsplit("/", 1)[-1]}, **extra)


@pytest.fixture
def history(env: Env) -> dict:
    """Before T: a.pdf v1, b.pdf v1, other tenant's c.pdf. After T: a.pdf overwritten, b.pdf
    deleted, new.pdf created, and the other tenant's file overwritten too."""
    bucket = env.outputs["print_bucket"]["name"]
    _put(bucket, f"{PREFIX}a.pdf", b"a-v1", Tagging="tenant=42&stage=print ready", StorageClass="STANDARD_IA")
    _put(bucket, f"{PREFIX}b.pdf", b"b-v1")
    _put(bucket, "tenants/7/c.pdf", b"c-v1")
    time.sleep(1.1)  # S3 LastModified has one-second precision
    to = datetime.now(timezone.utc)
    time.sleep(1.1)
    _put(bucket, f"{PREFIX}a.pdf", b"a-v2-wrong")
    aws("s3").delete_object(Bucket=bucket, Key=f"{PREFIX}b.pdf")
    _put(bucket, f"{PREFIX}new.pdf", b"new")
    _put(bucket, "tenants/7/c.pdf", b"c-v2")
    return {"bucket": bucket, "to": to}


def _body(bucket: str, key: str) -> bytes:
    return aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def _versions(bucket: str) -> int:
    listing = aws("s3").list_object_versions(Bucket=bucket)
    return len(listing.get("Versions", [])) + len(listing.get("DeleteMarkers", []))


def _run(run, env: Env, tmp_path: Path, to: datetime, *extra: str) -> tuple[int, dict, str]:
    path = env.write(tmp_path / "prod.json")
    code, out, err = run("restore-files", "--outputs", str(path), "--prefix", PREFIX,
                         "--to", to.isoformat(), "--json", *extra)
    return code, json.loads(out) if out.strip().startswith("{") else {}, err


def test_dry_run_plans_and_changes_nothing(history, env: Env, run, tmp_path: Path) -> None:
    before = _versions(history["bucket"])
    code, doc, _ = _run(run, env, tmp_path, history["to"])
    actions = {s["key"]: s["action"] for s in doc["steps"]}
    assert code == 0 and doc["applied"] is False
    assert actions == {f"{PREFIX}a.pdf": "restore", f"{PREFIX}b.pdf": "restore", f"{PREFIX}new.pdf": "keep-newer"}
    assert _versions(history["bucket"]) == before and _body(history["bucket"], f"{PREFIX}a.pdf") == b"a-v2-wrong"


def test_apply_brings_back_deleted_and_overwritten_files_and_deletes_no_version(history, env, run, tmp_path):
    bucket = history["bucket"]
    before = _versions(bucket)
    code, doc, _ = _run(run, env, tmp_path, history["to"], "--apply")
    assert code == 0 and all(s["result"] == "done" for s in doc["steps"] if s["action"] == "restore"), doc["steps"]
    assert _body(bucket, f"{PREFIX}a.pdf") == b"a-v1" and _body(bucket, f"{PREFIX}b.pdf") == b"b-v1"
    head = aws("s3").head_object(Bucket=bucket, Key=f"{PREFIX}b.pdf")
    assert head["ContentType"] == "application/pdf" and head["Metadata"] == {"order": "b.pdf"}
    tags = aws("s3").get_object_tagging(Bucket=bucket, Key=f"{PREFIX}a.pdf")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"tenant": "42", "stage": "print ready"}
    assert aws("s3").head_object(Bucket=bucket, Key=f"{PREFIX}a.pdf").get("StorageClass") == "STANDARD_IA"
    assert _body(bucket, f"{PREFIX}new.pdf") == b"new"          # created after T: kept by default
    assert _body(bucket, "tenants/7/c.pdf") == b"c-v2"          # outside the prefix: untouched
    assert _versions(bucket) == before + 2                       # only added: two copies


def test_remove_newer_adds_a_delete_marker_never_a_permanent_delete(history, env, run, tmp_path):
    bucket = history["bucket"]
    code, doc, _ = _run(run, env, tmp_path, history["to"], "--apply", "--remove-newer")
    assert code == 0 and {s["key"]: s["action"] for s in doc["steps"]}[f"{PREFIX}new.pdf"] == "remove-newer"
    listing = aws("s3").list_object_versions(Bucket=bucket, Prefix=f"{PREFIX}new.pdf")
    assert len(listing["Versions"]) == 1 and len(listing["DeleteMarkers"]) == 1


def test_a_failed_copy_is_reported_and_exits_1(history, env, run, tmp_path, monkeypatch):
    from ops import restore_files

    def refuse(s3, bucket, steps):
        for step in steps:
            step.result, step.detail = "failed", "CopyObject failed: AccessDenied"
    monkeypatch.setattr(restore_files, "apply", refuse)
    code, doc, _ = _run(run, env, tmp_path, history["to"], "--apply")
    assert code == 1 and any(s["result"] == "failed" for s in doc["steps"])


@pytest.mark.parametrize("extra, problem", [
    (("--prefix", ""), "empty prefix"),
    (("--prefix", "/"), "empty prefix"),
    (("--to", "2999-01-01T00:00:00Z"), "in the future"),
])
def test_bad_input_exits_2_and_changes_nothing(env: Env, run, tmp_path: Path, extra, problem) -> None:
    args = {"--prefix": PREFIX, "--to": "2026-01-01T00:00:00Z", **dict(zip(extra[::2], extra[1::2]))}
    path = env.write(tmp_path / "prod.json")
    code, out, err = run("restore-files", "--outputs", str(path), *[x for kv in args.items() for x in kv])
    assert code == 2 and problem in err and "Traceback" not in err


def test_applying_a_prefix_that_is_not_a_folder_exits_2_and_changes_nothing(history, env, run, tmp_path):
    """S3 prefixes match by characters: tenants/7 is also tenants/70/ and tenants/7-old/."""
    bucket = env.outputs["print_bucket"]["name"]
    before = _versions(bucket)
    code, _, err = run("restore-files", "--outputs", str(env.write(tmp_path / "o.json")), "--prefix",
                       PREFIX.rstrip("/"), "--to", history["to"].isoformat(), "--apply", "--remove-newer")
    assert code == 2 and "does not end with '/'" in err and "Traceback" not in err
    assert _versions(bucket) == before


def test_a_moment_that_is_not_a_timestamp_exits_2(env: Env, run, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        run("restore-files", "--outputs", str(env.write(tmp_path / "o.json")), "--prefix", PREFIX,
            "--to", "yesterday")
    assert exc.value.code == 2 and "not an ISO 8601 timestamp" in capsys.readouterr().err


def test_outputs_without_print_bucket_exit_2(env: Env, run, tmp_path: Path) -> None:
    del env.outputs["print_bucket"]
    path = env.write(tmp_path / "prod.json")
    code, _, err = run("restore-files", "--outputs", str(path), "--prefix", PREFIX, "--to", "2026-01-01T00:00:00Z")
    assert code == 2 and "print_bucket" in err


def test_warns_when_the_moment_is_older_than_the_noncurrent_retention(history, env, run, tmp_path):
    aws("s3").put_bucket_lifecycle_configuration(Bucket=history["bucket"], LifecycleConfiguration={"Rules": [{
        "ID": "soft-delete", "Status": "Enabled", "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}]})
    now = history["to"] + timedelta(days=120)
    code, _, err = _run(run, env, tmp_path, history["to"], "--now", now.isoformat())
    assert code == 0 and "90 days" in err and "may already be gone" in err


def test_the_moment_can_come_from_a_drill_record(history, env: Env, run, tmp_path: Path) -> None:
    """Runbook §3.5: files and the restored database meet at one moment, the drill's recovered point."""
    record = tmp_path / "drill-20261122T090000Z.json"
    record.write_text(json.dumps({"recovered_point": history["to"].isoformat()}))
    path = env.write(tmp_path / "prod.json")
    code, out, _ = run("restore-files", "--outputs", str(path), "--prefix", PREFIX, "--to-drill", str(record), "--json")
    assert code == 0 and json.loads(out)["to"].startswith(history["to"].strftime("%Y-%m-%dT%H:%M"))
    (tmp_path / "bad.json").write_text("{}")
    code, _, err = run("restore-files", "--outputs", str(path), "--prefix", PREFIX, "--to-drill", str(tmp_path / "bad.json"))
    assert code == 2 and "recovered_point" in err


class _Listing:
    """ListObjectVersions as boto3 returns it: versions and delete markers in two lists, and
    LastModified in whole seconds (S3 API reference, ListObjectVersions)."""

    def __init__(self, versions: list, markers: list):
        self.page = {"Versions": versions, "DeleteMarkers": markers}

    def get_paginator(self, _name: str):
        return self

    def paginate(self, **_kwargs):
        return [self.page]


def test_a_file_deleted_and_uploaded_again_in_the_same_second_is_not_taken_for_absent():
    """The delete marker and the new upload share LastModified: the current version (IsLatest)
    is the newer one, so the file is unchanged at T, never removed as created after T."""
    from ops.restore_files import REMOVE, UNCHANGED, plan

    second = datetime(2026, 11, 20, 10, 0, 5, tzinfo=timezone.utc)
    listing = _Listing(
        versions=[{"Key": "t/a.pdf", "VersionId": "v2", "LastModified": second, "IsLatest": True, "Size": 3},
                  {"Key": "t/a.pdf", "VersionId": "v1", "LastModified": second - timedelta(hours=1),
                   "IsLatest": False, "Size": 3}],
        markers=[{"Key": "t/a.pdf", "VersionId": "m1", "LastModified": second, "IsLatest": False}])
    steps = plan(listing, "b", "t/", second + timedelta(minutes=1), remove_newer=True)
    assert [(s.action, s.version_id) for s in steps] == [(UNCHANGED, "v2")]
    assert REMOVE not in {s.action for s in steps}


def test_within_one_second_a_version_counts_as_newer_than_a_delete_marker():
    """Neither is current (a later upload is): the state at T within that second is read as the
    version, so the file comes back rather than staying deleted."""
    from ops.restore_files import RESTORE, plan

    second = datetime(2026, 11, 20, 10, 0, 5, tzinfo=timezone.utc)
    listing = _Listing(
        versions=[{"Key": "t/a.pdf", "VersionId": "v3", "LastModified": second + timedelta(hours=1),
                   "IsLatest": True, "Size": 3},
                  {"Key": "t/a.pdf", "VersionId": "v2", "LastModified": second, "IsLatest": False, "Size": 3}],
        markers=[{"Key": "t/a.pdf", "VersionId": "m1", "LastModified": second, "IsLatest": False}])
    steps = plan(listing, "b", "t/", second, remove_newer=True)
    assert [(s.action, s.version_id) for s in steps] == [(RESTORE, "v2")]
