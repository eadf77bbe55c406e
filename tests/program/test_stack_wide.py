"""Properties of the whole prod stack: protection, parentage, tags, outputs."""

from __future__ import annotations

import json

import pytest

from tests.program.graph import STATEFUL_TYPES, Graph
from tools.wire import contains_secret



def test_every_stateful_resource_is_protected_in_prod(prod: Graph):
    stateful = [r for r in prod.custom() if r.type in STATEFUL_TYPES]
    assert len(stateful) >= 15
    unprotected = [r.name for r in stateful if not r.protected]
    assert unprotected == []


def test_every_resource_is_parented_to_a_component_and_named_from_it(stacks):
    for graph in stacks.values():
        for resource in graph.custom():
            component = graph.component_of(resource)
            assert component is not None and not component.raw["custom"], resource.urn
            assert component.type.startswith("printflow:"), resource.urn
            assert resource.name.startswith(component.name), (resource.name, component.name)
            # the URN carries the component's type chain, so it reads as a tree
            assert component.type in resource.urn.split("::")[2]


def test_components_use_the_printflow_type_tokens(stacks):
    for graph in stacks.values():
        for component in (r for r in graph.resources if not r.raw["custom"]):
            if component.type != "pulumi:pulumi:Stack":
                area_and_class = component.type.removeprefix("printflow:").split(":")
                assert component.type.startswith("printflow:") and len(area_and_class) == 2, component.type


def test_everything_tagged_carries_the_standard_tags(prod: Graph):
    tagged = [r for r in prod.custom() if "tags" in r.inputs]
    assert len(tagged) > 60
    for resource in tagged:
        tags = resource.inputs["tags"]
        assert {"app", "env", "owner", "data-tier"} <= set(tags), resource.name
        assert (tags["app"], tags["env"], tags["owner"]) == ("printflow", "prod", "platform-team")


def test_stateful_and_network_resources_are_tagged(prod: Graph):
    must_tag = STATEFUL_TYPES + ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup",
                                 "aws:sns/topic:Topic", "aws:cloudwatch/metricAlarm:MetricAlarm",
                                 "aws:ssm/parameter:Parameter", "aws:iam/role:Role")
    untagged = [r.name for r in prod.custom() if r.type in must_tag and "tags" not in r.inputs
                and r.type != "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"]
    assert untagged == []


def test_outputs_follow_the_contract_and_hold_no_secret(prod: Graph):
    outputs = prod.outputs
    for key in ("environment", "mode", "primary_region", "dr_region", "database", "print_bucket",
                "print_replica_bucket", "backup_bucket", "queue_store", "app_secrets", "kms_keys",
                "alarms", "network", "dr"):
        assert key in outputs, key
    assert not contains_secret(prod.wire_outputs)
    dr = outputs["dr"]
    assert set(dr) >= {"region", "replicated_backups_arn", "source_db_arn", "replica_bucket_name",
                       "replica_bucket_arn", "replica_key_arns", "laravel_secret_arn", "pdf_service_secret_arn"}
    assert dr["laravel_secret_arn"].startswith("arn:aws:secretsmanager:us-west-2:")
    assert all(arn.startswith("arn:aws:kms:us-west-2:") for arn in dr["replica_key_arns"].values())
    secret_values = [json.loads(v.inputs["secretString"]) for v in prod.of_type("aws:secretsmanager/secretVersion:SecretVersion")]
    flat = json.dumps(outputs)
    for entry in secret_values:
        for field in ("APP_KEY", "INTERNAL_API_SECRET", "password", "REDIS_PASSWORD"):
            if field in entry:
                assert entry[field] not in flat


def test_no_secret_in_stack_files():
    from tools.render import ROOT
    for path in ROOT.glob("Pulumi*.yaml"):
        text = path.read_text()
        assert "secure:" not in text and "base64:" not in text, path.name


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_every_regional_resource_names_its_region(stacks, stack):
    graph = stacks[stack]
    for resource in graph.custom():
        if resource.type.startswith(("aws:iam/", "random:")):
            assert "region" not in resource.inputs
        else:
            assert resource.region in ("us-east-1", "us-west-2"), resource.name
