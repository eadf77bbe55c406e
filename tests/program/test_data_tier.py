"""The data tier's safety properties, asserted on what the program registers (prod)."""

from __future__ import annotations

import json

import pytest

from tests.program.graph import Graph

PRIMARY, DR = "us-east-1", "us-west-2"


# ------------------------------------------------------------------------------- KMS
def test_keys_per_purpose_rotate_and_wait_30_days(prod: Graph):
    keys = prod.of_type("aws:kms/key:Key")
    purposes = {k.inputs["tags"]["purpose"] for k in keys}
    assert {"database", "storage", "secrets"} <= purposes
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 30
        assert key.protected


def test_replicated_purposes_are_multi_region_with_dr_replicas(prod: Graph):
    replicas = {r.inputs["tags"]["purpose"]: r for r in prod.of_type("aws:kms/replicaKey:ReplicaKey")}
    assert set(replicas) == {"database", "storage", "secrets"}
    primaries = {k.inputs["tags"]["purpose"]: k for k in prod.of_type("aws:kms/key:Key")}
    for purpose, replica in replicas.items():
        assert replica.region == DR
        assert primaries[purpose].inputs["multiRegion"] is True
        assert replica.inputs["primaryKeyArn"] == primaries[purpose].outputs["arn"]
        assert replica.protected


def test_key_policies_keep_root_as_administrator_and_no_open_principal(prod: Graph):
    for key in prod.of_type("aws:kms/key:Key") + prod.of_type("aws:kms/replicaKey:ReplicaKey"):
        statements = json.loads(key.inputs["policy"])["Statement"]
        root = [s for s in statements if s["Principal"].get("AWS", "").endswith(":root")]
        assert root and root[0]["Action"] == "kms:*"
        for statement in statements:
            assert statement["Principal"] not in ("*", {"AWS": "*"})


def test_every_key_has_an_alias(prod: Graph):
    aliases = prod.of_type("aws:kms/alias:Alias")
    keys = prod.of_type("aws:kms/key:Key") + prod.of_type("aws:kms/replicaKey:ReplicaKey")
    targets = {a.inputs["targetKeyId"] for a in aliases}
    assert {k.outputs["keyId"] for k in keys} <= targets


# ------------------------------------------------------------------------------- network
def test_private_subnets_in_three_zones_without_internet_route(prod: Graph):
    subnets = [s for s in prod.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == "data"]
    assert len({s.inputs["availabilityZone"] for s in subnets}) == 3
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in prod.of_type("aws:ec2/subnet:Subnet"))
    data_tables = [t for t in prod.of_type("aws:ec2/routeTable:RouteTable") if t.inputs["tags"]["tier"] == "data"]
    assert len(data_tables) == 1 and not data_tables[0].inputs.get("routes")
    data_table_id = data_tables[0].outputs["id"]
    # no route, gateway or endpoint route is attached to the data subnets' table
    assert all(r.inputs["routeTableId"] != data_table_id for r in prod.of_type("aws:ec2/route:Route"))
    for endpoint in prod.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
        assert data_table_id not in endpoint.inputs.get("routeTableIds", [])
    associations = {a.inputs["subnetId"]: a.inputs["routeTableId"]
                    for a in prod.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")}
    assert {associations[s.outputs["id"]] for s in subnets} == {data_table_id}


def test_default_security_group_denies_everything(prod: Graph):
    default = prod.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs["ingress"] == [] and default.inputs["egress"] == []


@pytest.mark.parametrize("kind, port", [("postgres", 5432), ("redis", 6379)])
def test_data_ports_only_from_the_app_security_group(prod: Graph, kind, port):
    app = prod.one("aws:ec2/securityGroup:SecurityGroup", "-net-app")
    group = prod.one("aws:ec2/securityGroup:SecurityGroup", f"-net-{kind}")
    rules = [r for r in prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.inputs["securityGroupId"] == group.outputs["id"]]
    assert len(rules) == 1
    rule = rules[0].inputs
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (port, port, "tcp")
    assert "cidrIpv4" not in rule
    assert rule["referencedSecurityGroupId"] == app.outputs["id"]
    assert not group.inputs.get("ingress")
    assert prod.outputs["network"]["app_security_group_id"] == app.outputs["id"]


def test_flow_logs_go_to_an_encrypted_log_group_with_retention(prod: Graph):
    flow = prod.one("aws:ec2/flowLog:FlowLog")
    group = prod.one("aws:cloudwatch/logGroup:LogGroup", "flow-logs")
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestination"] == group.outputs["arn"]
    assert group.inputs["retentionInDays"] == 365
    logs_key = [k for k in prod.of_type("aws:kms/key:Key") if k.inputs["tags"]["purpose"] == "logs"][0]
    assert group.inputs["kmsKeyId"] == logs_key.outputs["arn"]


def test_existing_vpc_is_used_instead_of_creating_one(render_variant):
    graph = render_variant("prod", {"printflow:network": {
        "existing_vpc_id": "vpc-0123456789abcdef0",
        "existing_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]}})
    assert not graph.of_type("aws:ec2/vpc:Vpc") and not graph.of_type("aws:ec2/subnet:Subnet")
    group = graph.one("aws:rds/subnetGroup:SubnetGroup")
    assert group.inputs["subnetIds"] == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    assert graph.one("aws:ec2/flowLog:FlowLog").inputs["vpcId"] == "vpc-0123456789abcdef0"


# ------------------------------------------------------------------------------- PostgreSQL
def test_postgres_is_hardened_for_production(prod: Graph):
    db = prod.one("aws:rds/instance:Instance")
    i = db.inputs
    database_key = [k for k in prod.of_type("aws:kms/key:Key") if k.inputs["tags"]["purpose"] == "database"][0]
    expected = {
        "engine": "postgres", "engineVersion": "16", "dbName": "live_db", "multiAz": True,
        "storageEncrypted": True, "kmsKeyId": database_key.outputs["arn"],
        "backupRetentionPeriod": 35, "deletionProtection": True, "skipFinalSnapshot": False,
        "copyTagsToSnapshot": True, "manageMasterUserPassword": True,
        "masterUserSecretKmsKeyId": database_key.outputs["arn"],
        "performanceInsightsEnabled": True, "performanceInsightsKmsKeyId": database_key.outputs["arn"],
        "iamDatabaseAuthenticationEnabled": True, "autoMinorVersionUpgrade": True,
        "publiclyAccessible": False, "region": PRIMARY,
    }
    assert {k: i.get(k) for k in expected} == expected
    assert i["finalSnapshotIdentifier"]
    assert "password" not in i
    assert set(i["enabledCloudwatchLogsExports"]) == {"postgresql", "upgrade"}
    assert i["monitoringInterval"] > 0 and i["monitoringRoleArn"]
    assert i["allocatedStorage"] < i["maxAllocatedStorage"]
    assert db.protected


def test_postgres_parameter_group_forces_tls_and_logs(prod: Graph):
    group = prod.one("aws:rds/parameterGroup:ParameterGroup")
    params = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert group.inputs["family"] == "postgres16"
    assert params["rds.force_ssl"] == "1"
    assert params["log_min_duration_statement"] and params["log_connections"] == "1"
    db = prod.one("aws:rds/instance:Instance")
    assert db.inputs["parameterGroupName"] == group.outputs["name"]


def test_automated_backups_replicate_to_dr_with_the_replica_key(prod: Graph):
    replication = prod.one("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    db = prod.one("aws:rds/instance:Instance")
    replica_key = [k for k in prod.of_type("aws:kms/replicaKey:ReplicaKey")
                   if k.inputs["tags"]["purpose"] == "database"][0]
    assert replication.region == DR
    assert replication.inputs["sourceDbInstanceArn"] == db.outputs["arn"]
    assert replication.inputs["kmsKeyId"] == replica_key.outputs["arn"]
    assert replication.inputs["retentionPeriod"] == 35
    assert prod.outputs["dr"]["replicated_backups_arn"] == replication.outputs["id"]
    assert prod.outputs["dr"]["replicated_backups_arn"].startswith("arn:aws:rds:us-west-2:")


# ------------------------------------------------------------------------------- S3
def _buckets(prod: Graph) -> dict[str, object]:
    return {b.inputs["tags"]["data-tier"]: b for b in prod.of_type("aws:s3/bucket:Bucket")}


def test_three_buckets_in_the_right_regions(prod: Graph):
    buckets = _buckets(prod)
    assert set(buckets) == {"print-files", "print-files-replica", "backup"}
    assert buckets["print-files"].region == PRIMARY
    assert buckets["print-files-replica"].region == DR
    assert buckets["backup"].region == DR


@pytest.mark.parametrize("tier, mode, days", [
    ("print-files", "GOVERNANCE", 35), ("print-files-replica", "GOVERNANCE", 35), ("backup", "COMPLIANCE", 7)])
def test_every_bucket_is_hardened(prod: Graph, tier, mode, days):
    bucket = _buckets(prod)[tier]
    assert bucket.inputs["objectLockEnabled"] is True
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.protected
    part = lambda t: prod.bucket_part(t, bucket)  # noqa: E731
    (versioning,) = part("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    (lock,) = part("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": mode, "days": days}
    (sse,) = part("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    rule = sse.inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith(f"arn:aws:kms:{bucket.region}:")
    assert rule["bucketKeyEnabled"] is True
    (pab,) = part("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(pab.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (ownership,) = part("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    (policy,) = part("aws:s3/bucketPolicy:BucketPolicy")
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    for sub in (versioning, lock, sse, pab, ownership, policy):
        assert sub.region == bucket.region


def test_print_bucket_keeps_noncurrent_versions_longer_than_db_backups(prod: Graph):
    bucket = _buckets(prod)["print-files"]
    (lifecycle,) = prod.bucket_part("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket)
    rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
    retention = prod.one("aws:rds/instance:Instance").inputs["backupRetentionPeriod"]
    assert rules["soft-delete-noncurrent"]["noncurrentVersionExpiration"]["noncurrentDays"] > retention
    assert rules["abort-stale-multipart"]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7


def test_backup_bucket_lifecycle_tiers_by_prefix(prod: Graph):
    bucket = _buckets(prod)["backup"]
    (lifecycle,) = prod.bucket_part("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket)
    tiers = {r["filter"]["prefix"]: r["expiration"]["days"] for r in lifecycle.inputs["rules"] if r.get("expiration")}
    assert tiers == {"daily/": 7, "weekly/": 28, "monthly/": 365}


def test_print_bucket_replicates_to_dr_with_rtc_and_delete_markers(prod: Graph):
    buckets = _buckets(prod)
    replication = prod.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert replication.inputs["bucket"] == buckets["print-files"].outputs["bucket"]
    (rule,) = replication.inputs["rules"]
    destination = rule["destination"]
    replica_storage_key = [k for k in prod.of_type("aws:kms/replicaKey:ReplicaKey")
                           if k.inputs["tags"]["purpose"] == "storage"][0]
    assert rule["status"] == "Enabled"
    assert rule["deleteMarkerReplication"]["status"] == "Enabled"
    assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
    assert destination["bucket"] == buckets["print-files-replica"].outputs["arn"]
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"]["status"] == "Enabled"
    assert destination["encryptionConfiguration"]["replicaKmsKeyId"] == replica_storage_key.outputs["arn"]


def test_replication_role_is_least_privilege(prod: Graph):
    role = prod.one("aws:iam/rolePolicy:RolePolicy", "print-files-replication")
    statements = json.loads(role.inputs["policy"])["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    assert not any(a.endswith("*") for a in actions)
    assert {"s3:ReplicateObject", "s3:ReplicateDelete", "kms:Decrypt", "kms:Encrypt"} <= actions
    assert all(s["Resource"] != "*" for s in statements)


def test_backup_writer_can_write_but_never_destroy(prod: Graph):
    policy = prod.one("aws:iam/policy:Policy", "backups-writer")
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert "s3:PutObject" in statements["WriteAndReadDumps"]["Action"]
    denied = set(statements["NeverDestroyBackups"]["Action"])
    assert statements["NeverDestroyBackups"]["Effect"] == "Deny"
    assert {"s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:BypassGovernanceRetention"} <= denied
    allowed = {a for s in statements.values() if s["Effect"] == "Allow" for a in s["Action"]}
    assert not allowed & denied
