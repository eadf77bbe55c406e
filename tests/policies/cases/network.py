"""Policy cases: network."""

from __future__ import annotations

from tests.policies.cases.registry import case
from tests.policies.graphs import (
    add_copy, one, setp,
)


@case("printflow-data-subnets-no-route-out:route")
def _(g):
    """A NAT route added to the data subnets' route table."""
    table = one(g, "aws:ec2/routeTable:RouteTable", lambda r: r["inputs"]["tags"].get("tier") == "data")
    route = add_copy(g, one(g, "aws:ec2/route:Route"), "data-egress", {"routeTableId": table["outputs"]["id"]})
    route["propertyDependencies"] = {"routeTableId": [table["urn"]]}


@case("printflow-data-subnets-no-route-out:association")
def _(g):
    """A data subnet moved onto an app route table (which has the NAT route)."""
    subnet = one(g, "aws:ec2/subnet:Subnet", lambda r: r["inputs"]["tags"].get("tier") == "data")
    app_table = one(g, "aws:ec2/routeTable:RouteTable", lambda r: r["inputs"]["tags"].get("tier") == "app")
    association = one(g, "aws:ec2/routeTableAssociation:RouteTableAssociation",
                      lambda r: r["inputs"]["subnetId"] == subnet["outputs"]["id"])
    setp(association, "routeTableId", app_table["outputs"]["id"])
    association["propertyDependencies"]["routeTableId"] = [app_table["urn"]]
