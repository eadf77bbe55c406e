"""What AWS would refuse or silently break, emulated from its documentation and from the
provider's validation. The mocks echo inputs back; these tests hold the program to the real rules.
Each test names its source."""

from __future__ import annotations

import json
import re

import pytest

from components.network import INTERFACE_ENDPOINT_SERVICES
from components.queue_store import CLIENT_CONTRACT, QUEUE_ACCESS_STRING
from tests.program.graph import Graph
from tests.program.redis_rules import CLIENT_COMMANDS, acl_allows, key_slot
from tools.render import ALL_STACKS, render_stacks

DR_REGION = "us-west-2"


@pytest.fixture(scope="module")
def every_stack() -> dict[str, Graph]:
    return {name: Graph(raw) for name, raw in render_stacks(ALL_STACKS).items()}


# -- 5. names after autonaming -------------------------------------------------------------------
# (type, property) -> maximum length: terraform-provider-aws internal/service/<svc> validation
# (memorydb validate.go: cluster, ACL and user names 40; rds validIdentifier 63; s3 bucket 63;
# iam role 64, policy 128; elasticache replication group id 40; ...). Pulumi's autonaming adds
# "-" + 7 characters to the logical name (pulumi-terraform-bridge AutoName), emulated by the mocks.
NAME_LIMITS = {
    ("aws:memorydb/cluster:Cluster", "name"): 40,
    ("aws:memorydb/acl:Acl", "name"): 40,
    ("aws:memorydb/user:User", "userName"): 40,
    ("aws:memorydb/parameterGroup:ParameterGroup", "name"): 255,
    ("aws:memorydb/subnetGroup:SubnetGroup", "name"): 255,
    ("aws:memorydb/cluster:Cluster", "finalSnapshotName"): 255,
    ("aws:rds/instance:Instance", "identifier"): 63,
    ("aws:rds/instance:Instance", "finalSnapshotIdentifier"): 255,
    ("aws:rds/parameterGroup:ParameterGroup", "name"): 255,
    ("aws:rds/subnetGroup:SubnetGroup", "name"): 255,
    ("aws:elasticache/replicationGroup:ReplicationGroup", "replicationGroupId"): 40,
    ("aws:elasticache/parameterGroup:ParameterGroup", "name"): 255,
    ("aws:elasticache/subnetGroup:SubnetGroup", "name"): 255,
    ("aws:s3/bucket:Bucket", "bucket"): 63,
    ("aws:iam/role:Role", "name"): 64,
    ("aws:iam/policy:Policy", "name"): 128,
    ("aws:iam/rolePolicy:RolePolicy", "name"): 128,
    ("aws:sns/topic:Topic", "name"): 256,
    ("aws:kms/alias:Alias", "name"): 256,
    ("aws:cloudwatch/logGroup:LogGroup", "name"): 512,
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "name"): 255,
    ("aws:cloudwatch/compositeAlarm:CompositeAlarm", "alarmName"): 255,
    ("aws:secretsmanager/secret:Secret", "name"): 512,
    ("aws:ec2/securityGroup:SecurityGroup", "name"): 255,
    ("aws:ssm/parameter:Parameter", "name"): 2048,
}
# RDS identifiers: letters, digits, hyphens; a letter first; no two hyphens in a row; no hyphen at
# the end (terraform-provider-aws internal/service/rds/validate.go, validIdentifier and
# validFinalSnapshotIdentifier); S3: lower case, digits, dots, hyphens (S3 bucket naming rules).
NAME_PATTERNS = {
    "aws:rds/instance:Instance": re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", re.I),
    "aws:memorydb/cluster:Cluster": re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"),
    "aws:s3/bucket:Bucket": re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"),
}


def test_every_physical_name_fits_aws_limits_after_autonaming(every_stack):
    """Before the fix the staging DR MemoryDB cluster was printflow-staging-dr-queue-cluster-xxxxxxx:
    42 characters, over MemoryDB's 40."""
    checked, too_long = 0, []
    for stack, graph in every_stack.items():
        for resource in graph.custom():
            for (type_, prop), limit in NAME_LIMITS.items():
                if resource.type != type_:
                    continue
                name = resource.outputs.get(prop) or resource.inputs.get(prop)
                if name is None:
                    continue
                checked += 1
                if len(name) > limit:
                    too_long.append(f"{stack}: {type_} {prop} {name!r} ({len(name)} > {limit})")
                pattern = NAME_PATTERNS.get(type_)
                if pattern and prop in ("name", "identifier", "bucket", "finalSnapshotIdentifier") \
                        and not pattern.match(name):
                    too_long.append(f"{stack}: {type_} {prop} {name!r} breaks the naming rule")
    assert not too_long, "\n".join(too_long)
    assert checked > 300  # every stack, every named resource


def test_memorydb_user_names_are_unique_per_account_and_region(every_stack):
    """MemoryDB guide, "Authenticating users with ACLs": user names are unique per account and
    region. prod and staging share us-east-1, their DR stacks us-west-2."""
    seen: dict[tuple[str, str], str] = {}
    for stack, graph in every_stack.items():
        for user in graph.of_type("aws:memorydb/user:User"):
            key = (user.inputs["region"], user.inputs["userName"])
            assert key not in seen, f"{stack} and {seen[key]} both create user {key}"
            prefix = graph.one("aws:memorydb/cluster:Cluster").inputs["name"].removesuffix("-queue")
            assert user.inputs["userName"] == f"{prefix}-app", stack  # the stack's prefix in front
            seen[key] = stack
    assert len(seen) == 4


def test_final_snapshot_names_change_with_each_lifetime_of_the_stack(every_stack):
    """RDS DeleteDBInstance / MemoryDB DeleteCluster refuse a FinalDBSnapshotIdentifier that
    already exists (DBSnapshotAlreadyExists): a fixed name fails the second destroy of a failover
    stack. The suffix comes from a RandomId created with the stack, so each lifetime differs."""
    prod = every_stack["prod"]
    random_ids = {r.urn: r.outputs["hex"] for r in prod.of_type("random:index/randomId:RandomId")}
    instance = prod.one("aws:rds/instance:Instance")
    cluster = prod.one("aws:memorydb/cluster:Cluster")
    for name in (instance.inputs["finalSnapshotIdentifier"], cluster.inputs["finalSnapshotName"]):
        suffix = name.rsplit("-", 1)[-1]
        assert suffix in random_ids.values(), name
    for resource, prop in ((instance, "finalSnapshotIdentifier"), (cluster, "finalSnapshotName")):
        random_id = next(urn for urn, hex_ in random_ids.items() if resource.inputs[prop].endswith(hex_))
        assert random_id in resource.raw["propertyDependencies"][prop]


# -- 7. MemoryDB events ------------------------------------------------------------------------

def test_memorydb_events_go_to_an_unencrypted_topic_only_memorydb_can_publish_to(every_stack):
    """MemoryDB guide, "Event notifications and Amazon SNS": MemoryDB cannot publish to a topic
    encrypted with KMS. Its events get their own topic, fanned out to the same endpoints."""
    for stack, graph in every_stack.items():
        cluster = graph.one("aws:memorydb/cluster:Cluster")
        topics = {t.outputs["arn"]: t for t in graph.of_type("aws:sns/topic:Topic")}
        events = topics[cluster.inputs["snsTopicArn"]]
        assert not events.inputs.get("kmsMasterKeyId"), stack
        policy = graph.one("aws:sns/topicPolicy:TopicPolicy")
        assert policy.inputs["arn"] == events.outputs["arn"]
        statement, = json.loads(policy.inputs["policy"])["Statement"]
        assert statement["Principal"] == {"Service": "memorydb.amazonaws.com"}
        assert statement["Action"] == "sns:Publish"
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"]
        endpoints = {}
        for sub in graph.of_type("aws:sns/topicSubscription:TopicSubscription"):
            endpoints.setdefault(sub.inputs["topic"], set()).add((sub.inputs["protocol"], sub.inputs["endpoint"]))
        assert len(endpoints) == 2 and len({frozenset(v) for v in endpoints.values()}) == 1, stack
        alarms_key = [k for k in graph.of_type("aws:kms/key:Key") if k.inputs["tags"]["purpose"] == "alarms"][0]
        assert "memorydb.amazonaws.com" not in alarms_key.inputs["policy"]


# -- 8. the queue ACL and the clients -------------------------------------------------------

@pytest.mark.parametrize("client", sorted(CLIENT_COMMANDS))
def test_queue_acl_allows_every_command_the_clients_send(client, every_stack):
    """valkey src/commands/*.json (acl_categories): INFO is in @dangerous, so `+@all -@dangerous`
    refused BullMQ's and phpredis' INFO on connect and the workers would not start."""
    for graph in every_stack.values():
        assert graph.one("aws:memorydb/user:User").inputs["accessString"] == QUEUE_ACCESS_STRING
    refused = [c for c in CLIENT_COMMANDS[client] if not acl_allows(QUEUE_ACCESS_STRING, c)]
    assert not refused, f"{client} would be refused {refused}"
    assert not acl_allows(QUEUE_ACCESS_STRING, "flushall") and not acl_allows(QUEUE_ACCESS_STRING, "config|set")
    assert not acl_allows("on ~* &* +@all -@dangerous", "info")  # the old string


# -- 9. KMS for CloudWatch Logs, flow-log role ----------------------------------------------------

def test_logs_key_policy_uses_the_documented_encryption_context_condition(every_stack):
    """CloudWatch Logs guide, "Encrypt log data in CloudWatch Logs using AWS KMS": the key policy
    lets logs.<region>.amazonaws.com use the key with ArnLike kms:EncryptionContext:aws:logs:arn."""
    for stack, graph in every_stack.items():
        key = [k for k in graph.of_type("aws:kms/key:Key") if k.inputs["tags"]["purpose"] == "logs"][0]
        region = key.inputs["region"]
        statements = json.loads(key.inputs["policy"])["Statement"]
        logs = [s for s in statements if s.get("Principal") == {"Service": f"logs.{region}.amazonaws.com"}]
        assert len(logs) == 1, stack
        condition = logs[0]["Condition"]
        assert condition == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                         f"arn:aws:logs:{region}:123456789012:log-group:*"}}


def test_flow_log_role_has_the_documented_permissions(every_stack):
    """VPC guide, "IAM role for publishing flow logs to CloudWatch Logs"."""
    graph = every_stack["prod"]
    policy = graph.one("aws:iam/rolePolicy:RolePolicy", "flow-logs")
    actions = set(json.loads(policy.inputs["policy"])["Statement"][0]["Action"])
    assert actions == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                       "logs:DescribeLogGroups", "logs:DescribeLogStreams"}
    trust = json.loads(graph.one("aws:iam/role:Role", "flow-logs").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


# -- 11. DR connection data ---------------------------------------------------------------------

def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_no_secret_replicated_to_the_dr_region_holds_an_endpoint(every_stack):
    """Secrets Manager replicas are read-only copies of the primary's value: a replicated secret
    that names prod's hosts hands them to the DR apps in a failover."""
    for stack in ("prod", "staging"):
        graph = every_stack[stack]
        versions = {v.inputs["secretId"]: v for v in graph.of_type("aws:secretsmanager/secretVersion:SecretVersion")}
        replicated = [s for s in graph.of_type("aws:secretsmanager/secret:Secret") if s.inputs.get("replicas")]
        assert len(replicated) == 2
        for secret in replicated:
            values = json.loads(versions[secret.outputs["id"]].inputs["secretString"])
            assert set(values) == {"APP_KEY", "APP_PREVIOUS_KEYS", "INTERNAL_API_SECRET",
                                   "PDF_SERVICE_INTERNAL_SECRET"}, secret.name
            assert not [v for v in values.values() if "amazonaws.com" in v]


@pytest.mark.parametrize("stack", ["dr", "staging-dr"])
def test_every_endpoint_the_dr_stack_hands_its_apps_is_in_the_dr_region(every_stack, stack):
    """What the apps read: the stack outputs (but `restore`, which records the source), the SSM
    settings and this stack's connection secrets. Every host and regional ARN is in us-west-2."""
    graph = every_stack[stack]
    outputs = {k: v for k, v in graph.outputs.items() if k != "restore"}
    values = list(_strings(outputs))
    values += [p.inputs["insecureValue"] for p in graph.of_type("aws:ssm/parameter:Parameter")]
    for version in graph.of_type("aws:secretsmanager/secretVersion:SecretVersion"):
        values += list(_strings(json.loads(version.inputs["secretString"])))
    hosts = [v for v in values if v.endswith(".amazonaws.com") or ".amazonaws.com:" in v]
    arns = [v for v in values if v.startswith("arn:aws:") and v.split(":")[3]]
    assert hosts and arns
    assert [v for v in hosts if f".{DR_REGION}." not in v] == []
    assert [v for v in arns if v.split(":")[3] != DR_REGION] == []
    connection = [v for v in graph.of_type("aws:secretsmanager/secretVersion:SecretVersion") if "connections-laravel" in v.name]
    db_host = json.loads(connection[0].inputs["secretString"])["DB_HOST"]
    assert db_host == graph.one("aws:rds/instance:Instance").outputs["address"]


# -- 12. cluster mode: the client contract ----------------------------------------------------

def test_queue_keys_hash_to_one_slot_with_the_published_hash_tags(every_stack):
    """Redis Cluster specification ("Keys hash tags", CROSSSLOT): a multi-key command or Lua
    script touching keys in different slots is refused. MemoryDB serves only cluster mode, so the
    queue names carry a hash tag; the settings are published to the apps."""
    params = {p.inputs["name"]: p.inputs["insecureValue"]
              for p in every_stack["prod"].of_type("aws:ssm/parameter:Parameter")}
    for app, contract in CLIENT_CONTRACT.items():
        for key, value in contract.items():
            assert params[f"/printflow/prod/{app}/{key}"] == value
    queue = params["/printflow/prod/laravel/REDIS_QUEUE"]
    laravel_keys = [f"queues:{queue}", f"queues:{queue}:reserved", f"queues:{queue}:delayed",
                    f"queues:{queue}:notify"]
    prefix = params["/printflow/prod/pdf-service/BULLMQ_PREFIX"]
    bullmq_keys = [f"{prefix}:print-files:{s}" for s in ("wait", "active", "delayed", "completed",
                                                          "failed", "meta", "events", "id", "1")]
    for keys in (laravel_keys, bullmq_keys):
        assert len({key_slot(k) for k in keys}) == 1, keys
    # without the hash tag the same keys scatter over slots: the check can fail
    assert len({key_slot(k.replace("{", "").replace("}", "")) for k in laravel_keys}) > 1
    assert params["/printflow/prod/laravel/REDIS_CLUSTER"] == "redis"


# -- 13. apps reach AWS from the private network ---------------------------------------------

@pytest.mark.parametrize("stack", ALL_STACKS)
def test_app_subnets_reach_aws_through_endpoints_and_the_internet_through_nat(every_stack, stack):
    """A VPC with no route out cannot reach Secrets Manager, SSM, KMS, CloudWatch or S3 (VPC guide,
    "Access AWS services through AWS PrivateLink"; gateway endpoints for S3): every heartbeat
    alarm would page. Interface endpoints sit in the app subnets with private DNS."""
    graph = every_stack[stack]
    region = graph.one("aws:ec2/vpc:Vpc").inputs["region"]
    subnets = graph.of_type("aws:ec2/subnet:Subnet")
    app_subnets = {s.outputs["id"] for s in subnets if s.inputs["tags"]["tier"] == "app"}
    endpoints = {e.inputs["serviceName"]: e for e in graph.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    for service in INTERFACE_ENDPOINT_SERVICES:
        endpoint = endpoints[f"com.amazonaws.{region}.{service}"]
        assert endpoint.inputs["vpcEndpointType"] == "Interface" and endpoint.inputs["privateDnsEnabled"]
        assert set(endpoint.inputs["subnetIds"]) == app_subnets
    tables = {t.outputs["id"]: t.inputs["tags"]["tier"] for t in graph.of_type("aws:ec2/routeTable:RouteTable")}
    s3 = endpoints[f"com.amazonaws.{region}.s3"]
    assert s3.inputs["vpcEndpointType"] == "Gateway"
    assert {tables[t] for t in s3.inputs["routeTableIds"]} == {"app"}
    nat_routes = [r for r in graph.of_type("aws:ec2/route:Route") if r.inputs.get("natGatewayId")]
    assert {tables[r.inputs["routeTableId"]] for r in nat_routes} == {"app"}
    assert len(nat_routes) == len(app_subnets)
    for route in graph.of_type("aws:ec2/route:Route"):
        assert tables[route.inputs["routeTableId"]] != "data"
    assert graph.outputs["network"]["app_subnet_ids"] == sorted(app_subnets, key=graph.outputs["network"]["app_subnet_ids"].index)
