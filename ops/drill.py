"""`ops drill preflight|verify`: the DR-region restore drill of runbook §4 (RPO 5 min, RTO 4 h).

Definitions (also in README.md, "How RPO and RTO are measured"):
- target time T: the point the drill restores to (``--target-time``; the ``restore_time`` given
  to the dr stack; for a "latest" drill, the moment the disaster was declared).
- recovered point R: ``--recovered-point`` when the operator measured it on the restored DB
  (e.g. ``SELECT max(created_at) FROM orders``); otherwise the newest point the replicated
  backups could restore to, capped at T: ``min(T, RestoreWindow.LatestTime)`` of the DR-region
  automated backups the restore used.
- achieved RPO = T - R (>= 0); achieved RTO = now - ``--started-at``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TextIO

from ops import secrets
from ops.audit import dr_backups, recent_objects
from ops.aws import Clients, error_code, arn_in_region, region_of_arn
from ops.checks import CheckResult, check_if, fail, guarded, ok
from ops.outputs import StackOutputs
from ops.timeutil import human_seconds, iso, parse_time, utc

RPO_TARGET_SECONDS = 300
RTO_TARGET_SECONDS = 4 * 3600
PREFLIGHT_STATE = ".last-preflight.json"
VERIFY_STATE = ".last-verify.json"


# ---------------------------------------------------------------- preflight
def preflight(clients: Clients, out: StackOutputs, now: datetime, sample: int = 10,
              rpo_seconds: int = RPO_TARGET_SECONDS) -> tuple[list[CheckResult], dict[str, Any]]:
    """Is the DR region ready to restore from? Returns results and facts for the drill record."""
    assert out.dr is not None, "load_outputs(require=('dr',)) guarantees this"
    facts: dict[str, Any] = {"checked_at": iso(now), "source_db_arn": out.source_db_arn}
    res: list[CheckResult] = []
    res += guarded("dr", "dr-backups", out.dr_region, lambda: _backups(clients, out, now, rpo_seconds, facts))
    res += guarded("dr", "dr-replica-caught-up", out.dr.replica_bucket_name,
                   lambda: _replica_caught_up(clients, out, sample))
    for label, arn in sorted(out.dr.replica_key_arns.model_dump().items()):
        res += guarded("dr", "dr-replica-key-enabled", label,
                       lambda a=arn, l=label: [_key_enabled(clients, a, l)])
    s = out.app_secrets
    for label, arn in (("laravel", s.laravel_arn), ("pdf-service", s.pdf_service_arn)):
        res += guarded("dr", "secret-replica-in-sync", label,
                       lambda a=arn, l=label: secrets.replica_checks(clients, a, l, [out.dr_region], "dr"))
    return res, facts


def _backups(clients: Clients, out: StackOutputs, now: datetime, rpo_seconds: int,
             facts: dict[str, Any]) -> list[CheckResult]:
    backups = dr_backups(clients, out, now)
    if backups is None:
        return [fail("dr-backups", f"{out.database.identifier} @ {out.dr_region}",
                     f"no replicated automated backups for {out.source_db_arn} in {out.dr_region}", "dr")]
    resource, latest, lag = backups.resource, backups.latest, backups.lag_seconds
    facts["backup_set"] = backups.arn
    facts["latest_restorable"] = iso(latest) if latest else None
    res = [ok("dr-backups", resource, f"{facts['backup_set']} ({backups.status})", "dr")]
    if latest is None or lag is None:
        return res + [fail("dr-backups-fresh", resource, "no restore window yet", "dr")]
    facts["replication_lag_seconds"] = round(lag, 3)
    res.append(check_if(lag <= rpo_seconds, "dr-backups-fresh", resource,
                        f"latest restorable {iso(latest)} ({human_seconds(lag)} behind, <= {rpo_seconds}s)",
                        f"latest restorable {iso(latest)} is {human_seconds(lag)} behind "
                        f"> RPO target {rpo_seconds}s", "dr", lag_seconds=round(lag, 3)))
    return res


def _replica_caught_up(clients: Clients, out: StackOutputs, sample: int) -> list[CheckResult]:
    assert out.dr is not None
    src = out.print_bucket
    s3_src = clients.get("s3", src.region)
    s3_dst = clients.get("s3", out.dr.region)
    missing: list[str] = []
    objects = recent_objects(s3_src, src.name, sample)
    for obj in objects:
        try:
            s3_dst.head_object(Bucket=out.dr.replica_bucket_name, Key=obj["Key"])
        except Exception as exc:  # noqa: BLE001
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                missing.append(obj["Key"])
            else:
                raise
    return [check_if(not missing, "dr-replica-caught-up", out.dr.replica_bucket_name,
                     f"{len(objects)} most recent source objects all present in replica",
                     f"{len(missing)} of {len(objects)} recent objects not in replica yet "
                     f"(e.g. {missing[:3]})", "dr", sampled=len(objects), missing=len(missing))]


def _key_enabled(clients: Clients, arn: str, label: str) -> CheckResult:
    meta = clients.get("kms", region_of_arn(arn)).describe_key(KeyId=arn)["KeyMetadata"]
    state = meta.get("KeyState", "?")
    return check_if(state == "Enabled", "dr-replica-key-enabled", f"{label} ({arn.rsplit('/', 1)[-1]})",
                    "Enabled", f"key state {state}", "dr")


# ---------------------------------------------------------------- verify
@dataclass
class VerifyOptions:
    target_time: datetime
    started_at: datetime
    wait_seconds: float = 0
    poll_seconds: float = 30
    sample: int = 5
    recovered_point: datetime | None = None
    recovered_point_source: str = "operator (--recovered-point)"
    restored_to: datetime | None = None
    """The restore_time the dr stack was given, when it is not the target: `drill run` declares
    the disaster at its start (the target) and restores to the latest restorable time then."""
    now: Callable[[], datetime] | None = None       # injectable clock for RTO
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    progress: TextIO = field(default_factory=lambda: sys.stderr)


def wait_available(rds: Any, identifier: str, opts: VerifyOptions) -> dict:
    """Poll until the restored instance is available or ``wait_seconds`` pass; progress on stderr."""
    deadline = opts.monotonic() + opts.wait_seconds
    while True:
        inst = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        status = inst.get("DBInstanceStatus", "?")
        if status == "available":
            return inst
        remaining = deadline - opts.monotonic()
        if remaining <= 0:
            return inst
        print(f"[drill verify] {identifier} is {status}; waiting (up to {remaining:.0f}s more)",
              file=opts.progress, flush=True)
        opts.sleep(min(opts.poll_seconds, remaining))


def verify(clients: Clients, out: StackOutputs, opts: VerifyOptions,
           clock: Callable[[], datetime]) -> tuple[list[CheckResult], dict[str, Any]]:
    """Check the restored DR environment and compute achieved RPO/RTO."""
    db = out.database
    facts: dict[str, Any] = {"instance": db.identifier, "region": db.region,
                             "target_time": iso(opts.target_time), "started_at": iso(opts.started_at)}
    res: list[CheckResult] = []

    def db_check() -> list[CheckResult]:
        inst = wait_available(clients.get("rds", db.region), db.identifier, opts)
        status = inst.get("DBInstanceStatus", "?")
        facts["instance_status"] = status
        res = [check_if(status == "available", "dr-db-available", db.identifier, "available",
                        f"status {status} after waiting {opts.wait_seconds:.0f}s", "drill")]
        created = inst.get("InstanceCreateTime")
        if created is not None:
            # An instance older than the drill is a leftover, not this drill's restore.
            facts["instance_created"] = iso(created)
            res.append(check_if(utc(created) >= opts.started_at, "dr-db-restored-this-drill", db.identifier,
                                f"created {iso(created)}, after --started-at",
                                f"created {iso(created)}, before --started-at {iso(opts.started_at)}: "
                                "a leftover instance, not this drill's restore", "drill"))
        res.append(_settings_drift(inst, db.expected_settings, db.identifier))
        return res
    res += guarded("drill", "dr-db-available", db.identifier, db_check)
    res += guarded("drill", "dr-rpo", db.identifier, lambda: _rpo(clients, out, opts, facts))

    finished = clock()
    rto = (finished - opts.started_at).total_seconds()
    facts.update(finished_at=iso(finished), rto_seconds=round(rto, 3))
    res.append(check_if(0 <= rto <= RTO_TARGET_SECONDS, "dr-rto", "drill",
                        f"RTO {human_seconds(rto)} <= target {human_seconds(RTO_TARGET_SECONDS)}",
                        f"RTO {human_seconds(rto)} exceeds target {human_seconds(RTO_TARGET_SECONDS)}"
                        if rto >= 0 else f"--started-at is after now ({human_seconds(rto)})",
                        "drill", rto_seconds=round(rto, 3)))
    res += guarded("drill", "dr-objects-readable", out.print_bucket.name,
                   lambda: _objects_readable(clients, out, opts.sample))
    # Read the copies in the DR region (what the restored apps read), even if the outputs
    # name the primary ARNs: the primary region may be the one that is down.
    region = out.dr_region
    res += secrets.equality_checks(clients, arn_in_region(out.app_secrets.laravel_arn, region),
                                   arn_in_region(out.app_secrets.pdf_service_arn, region), "drill")
    return res, facts


def _settings_drift(inst: dict, expected: dict[str, Any], identifier: str) -> CheckResult:
    """The restored instance against what the stack asked for. A point-in-time restore leaves
    some settings (Performance Insights, backup window, ...) to a later update."""
    drift = [f"{key} is {inst.get(key)!r}, the stack asks for {want!r}"
             for key, want in sorted(expected.items()) if inst.get(key) != want]
    return check_if(not drift, "dr-db-settings", identifier,
                    f"{len(expected)} settings as the stack asks" if expected else "no expected settings exported",
                    "; ".join(drift) + ". Run `pulumi up --stack <dr stack>` once more: a restore "
                    "applies these only on the next update", "drill")


def _rpo(clients: Clients, out: StackOutputs, opts: VerifyOptions, facts: dict[str, Any]) -> list[CheckResult]:
    target = opts.target_time
    source = opts.recovered_point_source
    recovered = opts.recovered_point
    configured = out.restore.restore_time if out.restore is not None else None
    if configured and configured != "latest":
        # The moment asked for must be the restore_time the dr stack actually used.
        asked = opts.restored_to or target
        facts["configured_restore_time"] = configured
        if parse_time(configured, "restore.restore_time") != asked:
            what = "the restore time" if opts.restored_to else "--target-time"
            return [fail("dr-rpo", out.database.identifier,
                         f"{what} {iso(asked)} differs from the dr stack's restore_time "
                         f"{configured}; pass the configured value", "drill")]
    backups = dr_backups(clients, out, opts.started_at)
    if backups is not None:
        facts["backup_set"] = backups.arn
        latest = backups.latest
        facts["latest_restorable"] = iso(latest) if latest else None
        if recovered is None and latest is not None:
            recovered, source = min(target, latest), "min(target, backups' LatestTime)"
    if recovered is None:
        return [fail("dr-rpo", out.database.identifier,
                     "cannot determine the recovered point: no replicated backups found and no "
                     "--recovered-point given", "drill")]
    rpo = max(0.0, (target - recovered).total_seconds())
    facts.update(recovered_point=iso(recovered), recovered_point_source=source, rpo_seconds=round(rpo, 3))
    return [check_if(rpo <= RPO_TARGET_SECONDS, "dr-rpo", out.database.identifier,
                     f"RPO {human_seconds(rpo)} (recovered {iso(recovered)} vs target {iso(target)}) "
                     f"<= {RPO_TARGET_SECONDS}s",
                     f"RPO {human_seconds(rpo)} (recovered {iso(recovered)} vs target {iso(target)}) "
                     f"> target {RPO_TARGET_SECONDS}s", "drill", rpo_seconds=round(rpo, 3))]


def _objects_readable(clients: Clients, out: StackOutputs, sample: int) -> list[CheckResult]:
    b = out.print_bucket  # in the dr stack this is the replica bucket the apps use
    s3 = clients.get("s3", b.region)
    objects = recent_objects(s3, b.name, sample)
    if not objects:
        return [fail("dr-objects-readable", b.name, "bucket has no objects to sample", "drill")]
    bad = []
    for obj in objects:
        try:
            body = s3.get_object(Bucket=b.name, Key=obj["Key"])["Body"].read()
            if not body:
                bad.append(f"{obj['Key']} (empty)")
        except Exception as exc:  # noqa: BLE001
            bad.append(f"{obj['Key']} ({type(exc).__name__})")
    return [check_if(not bad, "dr-objects-readable", b.name,
                     f"GetObject ok on {len(objects)} recent objects",
                     f"{len(bad)} of {len(objects)} unreadable: {bad[:3]}", "drill", sampled=len(objects))]


# ---------------------------------------------------------------- state files
def record_checks(directory: Path, name: str, phase: str, results: list[CheckResult],
                  facts: dict[str, Any]) -> Path:
    """A phase's checks and facts, as `drill report` reads them."""
    return write_state(directory, name, {"phase": phase, "passed": not any(r.failed for r in results),
                                         "facts": facts, "checks": [r.to_dict() for r in results]})


def write_state(directory: Path, name: str, payload: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
