"""`ops audit`: verify a deployed environment keeps the promises its stack outputs make.

Each area returns named CheckResults; an AWS error inside an area becomes a failed line
(the audit must finish and show everything, not stop at the first exception).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Optional

from ops import secrets
from ops.audit_alarms import alarms_area
from ops.aws import Clients, error_code, region_of_arn
from ops.checks import CheckResult, check_if, fail, guarded, ok, skip
from ops.outputs import StackOutputs
from ops.timeutil import human_seconds, iso, utc

AREAS = ("s3", "rds", "memorydb", "kms", "secrets", "alarms")
DEFAULT_RPO_SECONDS = 300
DEFAULT_SAMPLE = 10
_RETENTION_DAYS_PER_YEAR = 365


# ---------------------------------------------------------------- S3
def recent_objects(s3: Any, bucket: str, sample: int, scan_limit: int = 1000) -> list[dict]:
    """The ``sample`` most recently modified current objects (scans at most ``scan_limit``)."""
    found: list[dict] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, PaginationConfig={"MaxItems": scan_limit}):
        found.extend(page.get("Contents", []))
    found.sort(key=lambda o: o["LastModified"], reverse=True)
    return found[:sample]


def _lock_days(retention: dict) -> int:
    if "Days" in retention:
        return int(retention["Days"])
    return int(retention.get("Years", 0)) * _RETENTION_DAYS_PER_YEAR


def bucket_checks(clients: Clients, name: str, region: str, lock_mode: str,
                  lock_days: int) -> Iterable[CheckResult]:
    """Versioning, Object Lock default retention, SSE-KMS and the public-access block."""
    s3 = clients.get("s3", region)
    versioning = s3.get_bucket_versioning(Bucket=name).get("Status", "never enabled")
    yield check_if(versioning == "Enabled", "s3-versioning", name, "Enabled",
                   f"versioning is {versioning}, expected Enabled", "s3")

    yield from guarded("s3", "s3-object-lock", name,
                       lambda: [_object_lock(s3, name, lock_mode, lock_days)])
    yield from guarded("s3", "s3-sse-kms", name, lambda: [_encryption(s3, name)])
    yield from guarded("s3", "s3-public-access-block", name, lambda: [_pab(s3, name)])


def _unless_missing(fetch: Any, missing_code: str) -> Any:
    """A bucket setting, or None where S3 answers that it was never configured."""
    try:
        return fetch()
    except Exception as exc:  # noqa: BLE001 - anything else is re-raised
        if error_code(exc).startswith(missing_code):
            return None
        raise


def _object_lock(s3: Any, name: str, mode: str, days: int) -> CheckResult:
    conf = _unless_missing(lambda: s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"],
                           "ObjectLockConfigurationNotFound")
    if conf is None or conf.get("ObjectLockEnabled") != "Enabled":
        return fail("s3-object-lock", name, "Object Lock is not enabled on this bucket", "s3")
    retention = conf.get("Rule", {}).get("DefaultRetention")
    if not retention:
        return fail("s3-object-lock", name, "Object Lock enabled but no default retention", "s3")
    got_mode, got_days = retention.get("Mode"), _lock_days(retention)
    if got_mode != mode:
        return fail("s3-object-lock", name,
                    f"default retention mode {got_mode}, outputs promise {mode}", "s3")
    if got_days < days:
        return fail("s3-object-lock", name,
                    f"default retention {got_days} days < promised {days} days", "s3",
                    days=got_days)
    return ok("s3-object-lock", name, f"{got_mode} {got_days} days (>= {days})", "s3", days=got_days)


def _encryption(s3: Any, name: str) -> CheckResult:
    rules = _unless_missing(
        lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"],
        "ServerSideEncryptionConfigurationNotFound")
    if rules is None:
        return fail("s3-sse-kms", name, "no default encryption configured", "s3")
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse"):
            key = default.get("KMSMasterKeyID", "AWS managed key")
            return ok("s3-sse-kms", name, f"{default['SSEAlgorithm']} with {key}", "s3")
    algos = ", ".join(r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm", "?")
                      for r in rules)
    return fail("s3-sse-kms", name, f"default encryption is {algos}, expected aws:kms", "s3")


_PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _pab(s3: Any, name: str) -> CheckResult:
    conf = _unless_missing(
        lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
        "NoSuchPublicAccessBlockConfiguration")
    if conf is None:
        return fail("s3-public-access-block", name, "no public access block configured", "s3")
    off = [flag for flag in _PAB_FLAGS if not conf.get(flag)]
    return check_if(not off, "s3-public-access-block", name, "all four blocks on",
                    f"not blocked: {', '.join(off)}", "s3")


def replication_checks(clients: Clients, out: StackOutputs, sample: int) -> Iterable[CheckResult]:
    """Print bucket replicates to the replica bucket with delete markers and RTC; no FAILED objects."""
    src, dst = out.print_bucket, out.print_replica_bucket
    s3 = clients.get("s3", src.region)
    conf = _unless_missing(lambda: s3.get_bucket_replication(Bucket=src.name)["ReplicationConfiguration"],
                           "ReplicationConfigurationNotFound")
    if conf is None:
        yield fail("s3-replication", src.name, "no replication configuration", "s3")
        return
    rules = conf.get("Rules", [])
    to_replica = [r for r in rules if r.get("Destination", {}).get("Bucket") == dst.arn]
    problems = []
    if not to_replica:
        problems.append(f"no rule replicates to {dst.arn}")
    if any(r.get("Status") != "Enabled" for r in rules):
        problems.append("a rule is Disabled")
    for r in to_replica:
        rid = r.get("ID", "rule")
        narrowed = _narrowed_by(r)
        if narrowed:
            problems.append(f"{rid}: replicates only {narrowed}, not every print file")
        if r.get("DeleteMarkerReplication", {}).get("Status") != "Enabled":
            problems.append(f"{rid}: delete-marker replication off")
        if r.get("Destination", {}).get("ReplicationTime", {}).get("Status") != "Enabled":
            problems.append(f"{rid}: Replication Time Control off")
    yield check_if(not problems, "s3-replication", f"{src.name} -> {dst.name}",
                   f"{len(to_replica)} enabled rule(s) with delete markers and RTC",
                   "; ".join(problems), "s3")

    objects = recent_objects(s3, src.name, sample)
    counts: dict[str, int] = {}
    failed_keys = []
    for obj in objects:
        status = s3.head_object(Bucket=src.name, Key=obj["Key"]).get("ReplicationStatus", "NONE")
        counts[status] = counts.get(status, 0) + 1
        if status == "FAILED":
            failed_keys.append(obj["Key"])
    spread = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "bucket empty"
    yield check_if(not failed_keys, "s3-replication-status", src.name,
                   f"{len(objects)} recent objects sampled: {spread}",
                   f"{len(failed_keys)} of {len(objects)} recent objects FAILED "
                   f"(e.g. {failed_keys[:3]})", "s3", sampled=len(objects), statuses=counts)


def _narrowed_by(rule: dict) -> str:
    """What limits a replication rule to part of the bucket ('' when it covers every object):
    S3 PutBucketReplication, Filter {Prefix | Tag | And} or the legacy rule-level Prefix."""
    flt = rule.get("Filter")
    if flt is None:
        return f"keys under '{rule['Prefix']}'" if rule.get("Prefix") else ""
    conditions = flt.get("And", flt)
    parts = []
    if conditions.get("Prefix"):
        parts.append(f"keys under '{conditions['Prefix']}'")
    tags = conditions.get("Tags") or ([conditions["Tag"]] if conditions.get("Tag") else [])
    parts += [f"objects tagged {t.get('Key')}={t.get('Value')}" for t in tags]
    return " and ".join(parts)


def s3_area(clients: Clients, out: StackOutputs, sample: int) -> list[CheckResult]:
    results: list[CheckResult] = []
    pb, rb, bb = out.print_bucket, out.print_replica_bucket, out.backup_bucket
    # The replica holds the same data, so it must keep the print bucket's lock promise.
    targets = [(pb.name, pb.region, pb.object_lock_mode, pb.object_lock_days),
               (rb.name, rb.region, pb.object_lock_mode, pb.object_lock_days)]
    if bb is not None:
        targets.append((bb.name, bb.region, bb.object_lock_mode, bb.object_lock_days))
    else:  # only a non-primary stack may omit it (enforced when loading)
        results.append(skip("s3-bucket", "backup_bucket", f"not exported by the {out.environment} stack", "s3"))
    if pb.name == rb.name:  # the dr stack's print bucket *is* the replica
        targets = targets[1:]
    for name, region, mode, days in targets:
        results += guarded("s3", "s3-bucket", name,
                           lambda n=name, r=region, m=mode, d=days: bucket_checks(clients, n, r, m, d))
    if pb.name != rb.name:
        results += guarded("s3", "s3-replication", pb.name,
                           lambda: replication_checks(clients, out, sample))
    else:
        results.append(skip("s3-replication", pb.name, "the DR stack's print bucket is prod's replica; "
                            "its replication is prod's (audit prod's outputs)", "s3"))
    return results


# ---------------------------------------------------------------- RDS
def find_dr_backups(clients: Clients, region: str, source_arn: str,
                    backups_arn: str | None) -> list[dict]:
    """Automated backups in ``region`` that belong to ``source_arn`` (replicated to DR)."""
    rds = clients.get("rds", region)
    found: list[dict] = []
    for page in rds.get_paginator("describe_db_instance_automated_backups").paginate():
        found.extend(page.get("DBInstanceAutomatedBackups", []))
    return [b for b in found
            if b.get("DBInstanceArn") == source_arn
            or (backups_arn and b.get("DBInstanceAutomatedBackupsArn") == backups_arn)]


def latest_restorable(backup: dict) -> datetime | None:
    latest = backup.get("RestoreWindow", {}).get("LatestTime")
    return utc(latest) if latest else None


@dataclass(frozen=True)
class DrBackups:
    """The replicated automated backups a DR restore would use, and how far behind they are."""

    resource: str
    arn: Optional[str] = None
    status: str = "?"
    latest: Optional[datetime] = None
    lag_seconds: Optional[float] = None


def dr_backups(clients: Clients, out: StackOutputs, now: datetime) -> Optional[DrBackups]:
    """None when the DR region holds no replicated backups of the source instance."""
    found = find_dr_backups(clients, out.dr_region, out.source_db_arn, out.replicated_backups_arn)
    resource = f"{out.database.identifier} @ {out.dr_region}"
    if not found:
        return None
    latest = latest_restorable(found[0])
    return DrBackups(resource, found[0].get("DBInstanceAutomatedBackupsArn"),
                     found[0].get("Status", "?"), latest,
                     None if latest is None else (now - latest).total_seconds())


def dr_backup_checks(clients: Clients, out: StackOutputs, now: datetime,
                     rpo_seconds: int, area: str = "rds") -> Iterable[CheckResult]:
    """Replicated automated backups exist in the DR region and their restore point is fresh."""
    backups = dr_backups(clients, out, now)
    if backups is None:
        yield fail("rds-dr-backups", f"{out.database.identifier} @ {out.dr_region}",
                   f"no replicated automated backups for {out.source_db_arn} in {out.dr_region}", area)
        return
    resource, status = backups.resource, backups.status
    yield check_if(status in ("replicating", "active"), "rds-dr-backups", resource,
                   f"{backups.arn or '?'} status {status}",
                   f"replicated backups status {status}", area, backups_arn=backups.arn)
    latest, lag = backups.latest, backups.lag_seconds
    if latest is None or lag is None:
        yield fail("rds-dr-restore-point", resource, "replicated backups have no restore window yet", area)
        return
    yield check_if(lag <= rpo_seconds, "rds-dr-restore-point", resource,
                   f"latest restorable {iso(latest)}, lag {human_seconds(lag)} <= {rpo_seconds}s",
                   f"latest restorable {iso(latest)}, lag {human_seconds(lag)} > RPO target "
                   f"{rpo_seconds}s", area, lag_seconds=round(lag, 3), latest_restorable=iso(latest))


def rds_area(clients: Clients, out: StackOutputs, now: datetime, rpo_seconds: int) -> list[CheckResult]:
    db = out.database
    inst = clients.get("rds", db.region).describe_db_instances(
        DBInstanceIdentifier=db.identifier)["DBInstances"][0]
    name = db.identifier
    res: list[CheckResult] = []
    retention = int(inst.get("BackupRetentionPeriod", 0))
    res.append(check_if(retention >= db.backup_retention_days, "rds-backup-retention", name,
                        f"{retention} days (>= {db.backup_retention_days})",
                        f"{retention} days < promised {db.backup_retention_days}", "rds"))
    res.append(check_if(bool(inst.get("MultiAZ")), "rds-multi-az", name, "Multi-AZ", "not Multi-AZ", "rds"))
    encrypted, key = bool(inst.get("StorageEncrypted")), inst.get("KmsKeyId")
    res.append(check_if(encrypted and bool(key), "rds-storage-encrypted", name, f"encrypted with {key}",
                        "storage not encrypted with a KMS key", "rds"))
    if out.mode == "drill":  # a drill stack is disposable by design (printflow:dr.mode drill)
        res.append(skip("rds-deletion-protection", name, "a DR drill is torn down after the drill", "rds"))
    else:
        res.append(check_if(bool(inst.get("DeletionProtection")), "rds-deletion-protection", name,
                            "on", "deletion protection is off", "rds"))
    lrt = inst.get("LatestRestorableTime")
    if lrt is None:
        res.append(fail("rds-rpo-lag", name, "no LatestRestorableTime (backups disabled?)", "rds"))
    else:
        # Today's RPO: how far behind "now" the newest point-in-time restore would be.
        lag = max(0.0, (now - utc(lrt)).total_seconds())
        res.append(check_if(lag <= rpo_seconds, "rds-rpo-lag", name,
                            f"RPO now {lag:.0f}s (LatestRestorableTime {iso(lrt)}) <= {rpo_seconds}s",
                            f"RPO now {lag:.0f}s (LatestRestorableTime {iso(lrt)}) > target {rpo_seconds}s",
                            "rds", lag_seconds=round(lag, 3)))
    res += guarded("rds", "rds-dr-backups", f"{name} @ {out.dr_region}",
                   lambda: dr_backup_checks(clients, out, now, rpo_seconds))
    return res


# ---------------------------------------------------------------- MemoryDB
def memorydb_area(clients: Clients, out: StackOutputs) -> list[CheckResult]:
    qs = out.queue_store
    mdb = clients.get("memorydb", qs.region)
    cluster = mdb.describe_clusters(ClusterName=qs.name, ShowShardDetails=True)["Clusters"][0]
    res: list[CheckResult] = []
    group = cluster.get("ParameterGroupName", "?")
    params: dict[str, str] = {}
    token = None
    while True:
        kwargs = {"ParameterGroupName": group, **({"NextToken": token} if token else {})}
        page = mdb.describe_parameters(**kwargs)
        params.update({p["Name"]: p.get("Value", "") for p in page.get("Parameters", [])})
        token = page.get("NextToken")
        if not token:
            break
    policy = params.get("maxmemory-policy", "unset")
    res.append(check_if(policy == "noeviction", "memorydb-noeviction", qs.name,
                        f"{group}: maxmemory-policy=noeviction",
                        f"{group}: maxmemory-policy={policy}, a queue needs noeviction", "memorydb"))
    shards = cluster.get("Shards", [])
    replicas = min((int(s.get("NumberOfNodes", 1)) - 1 for s in shards), default=0)
    res.append(check_if(replicas >= 1, "memorydb-replicas", qs.name,
                        f"{replicas} replica(s) per shard", f"{replicas} replicas per shard, need >= 1",
                        "memorydb", replicas_per_shard=replicas))
    res.append(check_if(bool(cluster.get("TLSEnabled")), "memorydb-tls", qs.name, "TLS enabled",
                        "TLS disabled", "memorydb"))
    return res


# ---------------------------------------------------------------- KMS
def kms_area(clients: Clients, out: StackOutputs) -> list[CheckResult]:
    res: list[CheckResult] = []
    for label, arn in sorted(out.kms_keys.items()):
        def one(arn: str = arn, label: str = label) -> list[CheckResult]:
            kms = clients.get("kms", region_of_arn(arn))
            enabled = bool(kms.get_key_rotation_status(KeyId=arn).get("KeyRotationEnabled"))
            return [check_if(enabled, "kms-rotation", f"{label} ({arn.rsplit('/', 1)[-1]})",
                             "rotation enabled", "automatic key rotation is off", "kms")]
        res += guarded("kms", "kms-rotation", label, one)
    return res


# ---------------------------------------------------------------- Secrets
def secrets_area(clients: Clients, out: StackOutputs) -> list[CheckResult]:
    s = out.app_secrets
    res = secrets.equality_checks(clients, s.laravel_arn, s.pdf_service_arn)
    for label, arn in (("laravel", s.laravel_arn), ("pdf-service", s.pdf_service_arn)):
        res += guarded("secrets", "secret-replica-in-sync", label,
                       lambda a=arn, l=label: secrets.replica_checks(clients, a, l, s.replica_regions))
    return res


# ---------------------------------------------------------------- entry point
def run_audit(clients: Clients, out: StackOutputs, now: datetime,
              rpo_seconds: int = DEFAULT_RPO_SECONDS, sample: int = DEFAULT_SAMPLE,
              skip_areas: Iterable[str] = ()) -> list[CheckResult]:
    """All areas in a stable order; areas in ``skip_areas`` appear as one SKIP line each."""
    runners: dict[str, tuple[str, str, Callable[[], list[CheckResult]]]] = {
        "s3": ("s3", out.print_bucket.name, lambda: s3_area(clients, out, sample)),
        "rds": ("rds-instance", out.database.identifier, lambda: rds_area(clients, out, now, rpo_seconds)),
        "memorydb": ("memorydb-cluster", out.queue_store.name, lambda: memorydb_area(clients, out)),
        "kms": ("kms", "kms_keys", lambda: kms_area(clients, out)),
        "secrets": ("secrets", "app_secrets", lambda: secrets_area(clients, out)),
        "alarms": ("alarms", out.alarms.topic_arn, lambda: alarms_area(clients, out)),
    }
    skipped = set(skip_areas)
    results: list[CheckResult] = []
    for area in AREAS:
        check, resource, fn = runners[area]
        if area in skipped:
            results.append(skip(area, "-", "skipped by --skip", area))
            continue
        results += [r if r.area else CheckResult(r.check, r.resource, r.status, r.detail, area, r.data)
                    for r in guarded(area, check, resource, fn)]
    return results
