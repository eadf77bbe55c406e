"""`ops audit`: a compliant baseline passes; each broken invariant fails with a clear line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import botocore.session
import pytest
from botocore.stub import Stubber

from tests.ops.fakeaws import aws, DR, LOCK_DAYS, PRIMARY, SECRET_VALUES, Env, put_alarm, stub_memorydb
from ops import audit, audit_alarms
from ops.aws import Clients
from ops.checks import Status


def _audit_json(run, env: Env, tmp_path: Path, *extra: str) -> tuple[int, dict, str, str]:
    path = env.write(tmp_path / "prod-outputs.json")
    code, out, err = run("audit", "--outputs", str(path), "--json", "--now", env.now.isoformat(), *extra)
    return code, json.loads(out), out, err


def _failed(doc: dict) -> dict[str, list[dict]]:
    failed: dict[str, list[dict]] = {}
    for c in doc["checks"]:
        if c["status"] == "fail":
            failed.setdefault(c["check"], []).append(c)
    return failed


def test_compliant_environment_passes(env: Env, run, tmp_path: Path) -> None:
    code, doc, _, _ = _audit_json(run, env, tmp_path)
    assert code == 0, _failed(doc)
    assert doc["passed"] is True
    statuses = {c["status"] for c in doc["checks"]}
    assert statuses == {"pass"}
    names = [c["check"] for c in doc["checks"]]
    # Every promised area is actually evaluated, per resource.
    assert names.count("s3-versioning") == 3 and names.count("s3-object-lock") == 3
    assert names.count("kms-rotation") == 5 and names.count("heartbeat") == 2
    for expected in ("s3-replication", "s3-replication-status", "rds-backup-retention", "rds-multi-az",
                     "rds-storage-encrypted", "rds-deletion-protection", "rds-rpo-lag", "rds-dr-backups",
                     "rds-dr-restore-point", "memorydb-noeviction", "memorydb-replicas", "memorydb-tls",
                     "secret-app-key-match", "secret-internal-api-match", "secret-pdf-internal-match",
                     "secret-replica-in-sync", "alarm-actions", "composite-alarm"):
        assert expected in names, expected
    rpo = next(c for c in doc["checks"] if c["check"] == "rds-rpo-lag")
    assert rpo["data"]["lag_seconds"] <= 300


def test_table_output_is_aligned_with_summary(env: Env, run, tmp_path: Path) -> None:
    path = env.write(tmp_path / "o.json")
    code, out, _ = run("audit", "--outputs", str(path), "--now", env.now.isoformat())
    assert code == 0
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("CHECK"))
    status_col = header.index("STATUS")
    rows = [line for line in lines if line.startswith(("s3-", "rds-", "kms-", "alarm"))]
    assert rows and all(row[status_col:status_col + 4] == "PASS" for row in rows)
    assert lines[-1].startswith("PASSED: ") and "0 failed" in lines[-1]


# ---------------------------------------------------------------- one mutation per failure
@dataclass
class Case:
    id: str
    mutate: Callable[[Env, Clients], None]
    check: str
    detail: str
    args: tuple[str, ...] = ()
    also_fail: frozenset[str] = field(default_factory=frozenset)


def _s3(region: str = PRIMARY) -> Any:
    return aws("s3", region)


def _suspend_versioning(env: Env, _: Clients) -> None:
    # A bucket without Object Lock can suspend versioning; replace the (empty) backup bucket.
    _recreate_backup_bucket(env, lock=True, versioning="Suspended")


def _recreate_backup_bucket(env: Env, lock: bool, versioning: str = "Enabled") -> None:
    s3, name = _s3(), env.outputs["backup_bucket"]["name"]
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
    if lock:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": LOCK_DAYS}}})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                "KMSMasterKeyID": env.outputs["kms_keys"]["storage"]}}]})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")})


def _short_retention(env: Env, _: Clients) -> None:
    # moto (like S3 for some changes) wants an empty bucket here; the backup bucket is empty.
    _s3().put_object_lock_configuration(Bucket=env.outputs["backup_bucket"]["name"], ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 7}}})


def _wrong_mode(env: Env, _: Clients) -> None:
    _s3().put_object_lock_configuration(Bucket=env.outputs["backup_bucket"]["name"], ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 90}}})


def _sse_s3(env: Env, _: Clients) -> None:
    _s3(DR).put_bucket_encryption(Bucket=env.outputs["print_replica_bucket"]["name"],
                                  ServerSideEncryptionConfiguration={"Rules": [
                                      {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})


def _pab_partial(env: Env, _: Clients) -> None:
    _s3().put_public_access_block(Bucket=env.outputs["print_bucket"]["name"], PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})


def _replication_without_rtc(env: Env, _: Clients) -> None:
    s3, name = _s3(), env.outputs["print_bucket"]["name"]
    conf = s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"]
    rule = conf["Rules"][0]
    rule["Destination"].pop("ReplicationTime", None)
    rule["Destination"].pop("Metrics", None)
    s3.put_bucket_replication(Bucket=name, ReplicationConfiguration=conf)


def _alarm_actions_disabled(env: Env, _: Clients) -> None:
    aws("cloudwatch").disable_alarm_actions(AlarmNames=["printflow-prod-rds-cpu"])


def _heartbeat_not_breaching(env: Env, _: Clients) -> None:
    """A dead-man's switch that can never fire: missing data counts as fine."""
    cw = aws("cloudwatch")
    alarm = cw.describe_alarms(AlarmNames=["printflow-prod-nightly-dump-heartbeat"])["MetricAlarms"][0]
    cw.put_metric_alarm(**{k: alarm[k] for k in ("AlarmName", "Namespace", "MetricName", "Dimensions",
                                                  "Statistic", "Period", "EvaluationPeriods", "Threshold",
                                                  "ComparisonOperator", "AlarmActions", "OKActions")},
                        TreatMissingData="notBreaching")
    cw.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue="OK", StateReason="test")


def _paging_topic_deleted(env: Env, _: Clients) -> None:
    aws("sns").delete_topic(TopicArn=env.outputs["alarms"]["topic_arn"])


def _db_modify(**kwargs: Any) -> Callable[[Env, Clients], None]:
    def mutate(env: Env, _: Clients) -> None:
        aws("rds").modify_db_instance(
            DBInstanceIdentifier=env.outputs["database"]["identifier"], ApplyImmediately=True, **kwargs)
    return mutate


def _no_dr_backups(env: Env, _: Clients) -> None:
    env.backups.records.clear()


def _memorydb(**kwargs: Any) -> Callable[[Env, Clients], None]:
    def mutate(env: Env, clients: Clients) -> None:
        stub_memorydb(clients, env.outputs["queue_store"]["name"], **kwargs)
    return mutate


def _rotation_off(env: Env, _: Clients) -> None:
    aws("kms").disable_key_rotation(KeyId=env.outputs["kms_keys"]["queue"])


def _drift_secret(key: str, secret: str = "pdf_service_arn") -> Callable[[Env, Clients], None]:
    def mutate(env: Env, _: Clients) -> None:
        sm = aws("secretsmanager")
        arn = env.outputs["app_secrets"][secret]
        doc = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
        doc[key] = "drifted-value-ZZ9-plural-z-alpha"
        sm.put_secret_value(SecretId=arn, SecretString=json.dumps(doc))
    return mutate


def _alarm_without_actions(env: Env, _: Clients) -> None:
    put_alarm(aws("cloudwatch"), "printflow-prod-rds-cpu",
              env.topic_arn, actions=False)


def _missing_alarm(env: Env, _: Clients) -> None:
    aws("cloudwatch").delete_alarms(AlarmNames=["printflow-prod-queue-oldest-job-age"])


def _heartbeat(state: str) -> Callable[[Env, Clients], None]:
    def mutate(env: Env, _: Clients) -> None:
        aws("cloudwatch").set_alarm_state(
            AlarmName="printflow-prod-nightly-dump-heartbeat", StateValue=state, StateReason="no datapoints")
    return mutate


def _noop(env: Env, _: Clients) -> None:
    return None


CASES = [
    Case("versioning-suspended", _suspend_versioning, "s3-versioning", "versioning is Suspended, expected Enabled"),
    Case("object-lock-missing", lambda e, c: _recreate_backup_bucket(e, lock=False), "s3-object-lock",
         "Object Lock is not enabled"),
    Case("retention-too-short", _short_retention, "s3-object-lock", "default retention 7 days < promised 35 days"),
    Case("retention-wrong-mode", _wrong_mode, "s3-object-lock", "mode GOVERNANCE, outputs promise COMPLIANCE"),
    Case("sse-not-kms", _sse_s3, "s3-sse-kms", "default encryption is AES256, expected aws:kms"),
    Case("public-access-partly-open", _pab_partial, "s3-public-access-block", "not blocked: BlockPublicPolicy"),
    Case("replication-without-rtc", _replication_without_rtc, "s3-replication", "Replication Time Control off"),
    Case("backup-retention-short", _db_modify(BackupRetentionPeriod=3), "rds-backup-retention",
         "3 days < promised 14"),
    Case("db-single-az", _db_modify(MultiAZ=False), "rds-multi-az", "not Multi-AZ"),
    Case("db-deletion-protection-off", _db_modify(DeletionProtection=False), "rds-deletion-protection",
         "deletion protection is off"),
    Case("rpo-lag-beyond-target", _noop, "rds-rpo-lag", "> target 300s",
         args=("--now-offset", "900"), also_fail=frozenset({"rds-dr-restore-point"})),
    Case("rpo-target-tightened", _noop, "rds-dr-restore-point", "lag 1m00s > RPO target 30s",
         args=("--rpo-target-seconds", "30")),
    Case("no-dr-backups", _no_dr_backups, "rds-dr-backups", "no replicated automated backups"),
    Case("memorydb-evicting", _memorydb(policy="allkeys-lru"), "memorydb-noeviction",
         "maxmemory-policy=allkeys-lru, a queue needs noeviction"),
    Case("memorydb-no-replica", _memorydb(nodes_per_shard=1), "memorydb-replicas", "0 replicas per shard"),
    Case("memorydb-no-tls", _memorydb(tls=False), "memorydb-tls", "TLS disabled"),
    Case("kms-rotation-off", _rotation_off, "kms-rotation", "automatic key rotation is off"),
    Case("secrets-app-key-drifted", _drift_secret("APP_KEY"), "secret-app-key-match", "DIFFERENT"),
    Case("secrets-internal-drifted", _drift_secret("INTERNAL_API_SECRET"), "secret-internal-api-match",
         "DIFFERENT", also_fail=frozenset({"secret-pdf-internal-match"})),
    Case("secrets-pdf-internal-drifted", _drift_secret("PDF_SERVICE_INTERNAL_SECRET", "laravel_arn"),
         "secret-pdf-internal-match", "DIFFERENT"),
    Case("alarm-without-actions", _alarm_without_actions, "alarm-actions", "no AlarmActions and no OKActions"),
    Case("alarm-missing", _missing_alarm, "alarm-actions", "alarm does not exist"),
    Case("alarm-actions-disabled", _alarm_actions_disabled, "alarm-actions", "actions disabled"),
    Case("heartbeat-never-fires", _heartbeat_not_breaching, "heartbeat", "TreatMissingData=notBreaching"),
    Case("paging-topic-deleted", _paging_topic_deleted, "sns-topic", "does not exist"),
    Case("heartbeat-in-alarm", _heartbeat("ALARM"), "heartbeat", "dead job: heartbeat alarm in ALARM"),
    Case("heartbeat-insufficient-data", _heartbeat("INSUFFICIENT_DATA"), "heartbeat",
         "dead job: heartbeat alarm in INSUFFICIENT_DATA"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_invariant_fails_with_clear_line(case: Case, env: Env, clients: Clients, run,
                                                tmp_path: Path) -> None:
    case.mutate(env, clients)
    args = list(case.args)
    if args[:1] == ["--now-offset"]:
        env.now = env.now + timedelta(seconds=int(args[1]))
        args = []
    code, doc, out, err = _audit_json(run, env, tmp_path, *args)
    failed = _failed(doc)
    assert code == 1
    assert doc["passed"] is False
    assert set(failed) == {case.check} | case.also_fail, failed
    assert any(case.detail in c["detail"] for c in failed[case.check]), failed[case.check]
    # Secret values never reach the output, whatever failed.
    for value in [*SECRET_VALUES, "drifted-value-ZZ9-plural-z-alpha"]:
        assert value not in out and value not in err


def test_drifted_secret_table_output_hides_values(env: Env, clients: Clients, run, tmp_path: Path) -> None:
    _drift_secret("APP_KEY")(env, clients)
    path = env.write(tmp_path / "o.json")
    code, out, err = run("audit", "--outputs", str(path), "--now", env.now.isoformat())
    assert code == 1
    line = next(line for line in out.splitlines() if line.startswith("secret-app-key-match"))
    assert "FAIL" in line and "DIFFERENT" in line
    for value in [*SECRET_VALUES, "drifted-value-ZZ9-plural-z-alpha"]:
        assert value not in out + err
    assert out.splitlines()[-1].startswith("FAILED: ")


def test_rpo_lag_is_reported_in_seconds(env: Env, run, tmp_path: Path) -> None:
    env.now = env.now + timedelta(hours=1)
    code, doc, _, _ = _audit_json(run, env, tmp_path)
    rpo = next(c for c in doc["checks"] if c["check"] == "rds-rpo-lag")
    assert code == 1 and rpo["status"] == "fail"
    # moto's LatestRestorableTime is "when asked", so the lag is the hour we moved the clock.
    assert 3500 <= rpo["data"]["lag_seconds"] <= 3600


def test_skip_area_is_listed_and_not_run(env: Env, run, tmp_path: Path) -> None:
    code, doc, _, _ = _audit_json(run, env, tmp_path, "--skip", "memorydb")
    assert code == 0
    assert [c for c in doc["checks"] if c["area"] == "memorydb"] == [
        {"check": "memorydb", "resource": "-", "status": "skip", "detail": "skipped by --skip",
         "area": "memorydb", "data": {}}]


def test_missing_resource_is_a_failed_line_not_a_traceback(env: Env, run, tmp_path: Path) -> None:
    env.outputs["database"]["identifier"] = "no-such-db"
    code, doc, _, err = _audit_json(run, env, tmp_path)
    assert code == 1 and "Traceback" not in err
    line = _failed(doc)["rds-instance"][0]
    assert "DBInstanceNotFound" in line["detail"]


# ---------------------------------------------------------------- bad input -> exit 2
@pytest.mark.parametrize("content, expected", [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ("DROP_DATABASE", "is not valid JSON"),
])
def test_malformed_outputs_file_exits_2(content: str, expected: str, bare_run, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, out, err = bare_run("audit", "--outputs", str(path))
    assert code == 2 and out == ""
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_key_is_named(env: Env, run, tmp_path: Path) -> None:
    del env.outputs["database"]["identifier"]
    del env.outputs["alarms"]
    code, out, err = run("audit", "--outputs", str(env.write(tmp_path / "o.json")))
    assert code == 2 and out == ""
    assert "missing key `database.identifier`" in err and "missing key `alarms`" in err
    assert "Traceback" not in err


def test_prod_outputs_without_dr_section_exit_2(env: Env, run, tmp_path: Path) -> None:
    del env.outputs["dr"]
    code, out, err = run("audit", "--outputs", str(env.write(tmp_path / "o.json")))
    assert code == 2 and out == "" and "has no `dr`" in err and "Traceback" not in err


def test_a_compliant_dr_stack_passes_with_no_area_left_out(env: Env, run, tmp_path: Path) -> None:
    """Every area of a DR drill stack checked, none left out by --skip: what it does not export (a backup bucket, its
    own replication) and what a drill does not keep (deletion protection) are SKIP lines, not
    errors; its queue store, keys and alarms are its own, in the DR region, and pass there."""
    from tests.ops.fakeaws import DR, DR_QUEUE, stub_memorydb

    stub_memorydb(run.clients, DR_QUEUE, region=DR)
    path = env.write(tmp_path / "dr.json", which="dr")
    code, out, _ = run("audit", "--outputs", str(path), "--json", "--now", env.now.isoformat())
    doc = json.loads(out)
    by_check = {(c["check"], c["resource"]): c for c in doc["checks"]}
    assert code == 0, [c for c in doc["checks"] if c["status"] == "fail"]
    assert {c["area"] for c in doc["checks"]} == {"s3", "rds", "memorydb", "kms", "secrets", "alarms"}
    assert not any(c["detail"] == "skipped by --skip" for c in doc["checks"])
    assert by_check[("s3-bucket", "backup_bucket")]["status"] == "skip"
    assert by_check[("s3-replication", "printflow-prod-print-files-replica")]["status"] == "skip"
    assert by_check[("rds-deletion-protection", "printflow-dr-db")]["status"] == "skip"
    alarms = [c for c in doc["checks"] if c["area"] == "alarms"]
    assert len(alarms) >= 7 and all(c["status"] == "pass" for c in alarms), alarms


def test_unreadable_outputs_file_exits_2(bare_run, tmp_path: Path) -> None:
    code, _, err = bare_run("audit", "--outputs", str(tmp_path / "absent.json"))
    assert code == 2 and "Cannot read outputs file" in err and "Traceback" not in err


def test_bad_now_is_bad_input(env: Env, run, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        run("audit", "--outputs", str(env.write(tmp_path / "o.json")), "--now", "yesterday")
    assert exc.value.code == 2


# ---------------------------------------------------------------- composite alarm via Stubber
def _fresh_client(service: str) -> Any:
    return botocore.session.get_session().create_client(service, region_name=PRIMARY)


def _cw_stub() -> tuple[Any, Stubber]:
    cw = _fresh_client("cloudwatch")
    return cw, Stubber(cw)


@pytest.mark.parametrize("rule, narrowed", [
    ({"Filter": {}}, ""),
    ({"Filter": {"Prefix": ""}}, ""),
    ({}, ""),
    ({"Prefix": ""}, ""),
    ({"Filter": {"Prefix": "archive/"}}, "keys under 'archive/'"),
    ({"Prefix": "tenant-1/"}, "keys under 'tenant-1/'"),
    ({"Filter": {"Tag": {"Key": "dr", "Value": "yes"}}}, "objects tagged dr=yes"),
    ({"Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}]}}},
     "keys under 'a/' and objects tagged k=v"),
])
def test_what_narrows_a_replication_rule(rule: dict, narrowed: str) -> None:
    """S3 PutBucketReplication: a rule applies to every object only with an empty filter (moto
    drops a rule's Filter prefix, so this is checked on the API's shapes directly)."""
    assert audit._narrowed_by(rule) == narrowed


def test_a_rule_of_one_prefix_fails_the_replication_check(env: Env) -> None:
    """The print files live under per-tenant prefixes: a rule for `archive/` leaves them in one region."""
    from ops.outputs import StackOutputs

    out = StackOutputs.model_validate(env.outputs)
    s3 = _fresh_client("s3")
    stub = Stubber(s3)
    stub.add_response("get_bucket_replication", {"ReplicationConfiguration": {"Role": "arn:aws:iam::123456789012:role/r", "Rules": [{
        "ID": "print-files-to-dr", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": "archive/"},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {"Bucket": out.print_replica_bucket.arn, "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}}}]}})
    clients = Clients()
    clients.override("s3", out.print_bucket.region, s3)
    with stub:
        result = next(iter(audit.replication_checks(clients, out, 0)))
    assert result.status is Status.FAIL and "replicates only keys under 'archive/'" in result.detail


def test_composite_alarm_without_actions_fails() -> None:
    cw, stub = _cw_stub()
    stub.add_response("describe_alarms", {"CompositeAlarms": [{"AlarmName": "c", "AlarmActions": []}]},
                      {"AlarmNames": ["c"], "AlarmTypes": ["CompositeAlarm"]})
    with stub:
        [result] = audit_alarms._composite(cw, "c")
    assert result.status is Status.FAIL and "no AlarmActions" in result.detail


def test_composite_alarm_api_missing_is_skipped_with_reason() -> None:
    cw, stub = _cw_stub()
    stub.add_client_error("describe_alarms", service_error_code="NotImplemented",
                          service_message="CompositeAlarm not supported", http_status_code=501)
    with stub:
        [result] = audit_alarms._composite(cw, "c")
    assert result.status is Status.SKIP and "NotImplemented" in result.detail


def test_replication_status_failed_objects_fail_the_check(env: Env) -> None:
    """moto never sets ReplicationStatus, so the S3 client is a Stubber here."""
    from ops.outputs import StackOutputs
    out = StackOutputs.model_validate(env.outputs)
    s3 = _fresh_client("s3")
    stub = Stubber(s3)
    rule = {"ID": "to-dr", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": out.print_replica_bucket.arn,
                            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}}}
    stub.add_response("get_bucket_replication", {"ReplicationConfiguration": {"Role": "r", "Rules": [rule]}})
    now = env.now
    stub.add_response("list_objects_v2", {"Contents": [
        {"Key": "a.pdf", "LastModified": now - timedelta(minutes=1)},
        {"Key": "b.pdf", "LastModified": now},
        {"Key": "old.pdf", "LastModified": now - timedelta(days=9)}], "IsTruncated": False})
    # Newest first, and only the sample of 2: b.pdf then a.pdf (old.pdf is never asked about).
    stub.add_response("head_object", {"ReplicationStatus": "COMPLETED"}, {"Bucket": out.print_bucket.name, "Key": "b.pdf"})
    stub.add_response("head_object", {"ReplicationStatus": "FAILED"}, {"Bucket": out.print_bucket.name, "Key": "a.pdf"})
    clients = Clients()
    clients.override("s3", PRIMARY, s3)
    with stub:
        config, status = audit.replication_checks(clients, out, sample=2)
    stub.assert_no_pending_responses()
    assert config.status is Status.PASS
    assert status.status is Status.FAIL
    assert status.detail == "1 of 2 recent objects FAILED (e.g. ['a.pdf'])"


def test_clients_do_not_override_aws_endpoint_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:59999")
    client = Clients().get("s3", DR)
    assert client.meta.endpoint_url == "http://127.0.0.1:59999"
    assert client.meta.region_name == DR
