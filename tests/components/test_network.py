"""DataNetwork built alone: data subnets closed, app subnets with endpoints and NAT as asked."""

from __future__ import annotations

import pytest

from components.network import INTERFACE_ENDPOINT_SERVICES, DataNetwork, DataNetworkArgs
from tests.components.conftest import KEY, TAGS


@pytest.mark.parametrize("egress, nat", [("none", 0), ("nat-single", 1), ("nat-per-az", 2)])
def test_egress_is_what_the_args_ask(build, egress, nat):
    graph = build(lambda: DataNetwork("unit-net", DataNetworkArgs(
        region="us-east-1", cidr="10.60.0.0/16", az_count=2, flow_log_key_arn=KEY, app_egress=egress,
        tags=TAGS)))
    assert len(graph.of_type("aws:ec2/natGateway:NatGateway")) == nat
    assert len(graph.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")) == len(INTERFACE_ENDPOINT_SERVICES) + 1
    tiers = [s.inputs["tags"]["tier"] for s in graph.of_type("aws:ec2/subnet:Subnet")]
    assert tiers.count("data") == 2 and tiers.count("app") == 2 and tiers.count("public") == nat


def test_flow_logs_must_be_encrypted():
    with pytest.raises(ValueError, match="flow_log_key_arn"):
        DataNetworkArgs(region="us-east-1")
