"""Network policies: the data tier has no way out of the VPC."""

from __future__ import annotations

from pack_common import UNKNOWN, About, Rules, get, items, label, tags_of

ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
SUBNET = "aws:ec2/subnet:Subnet"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
DATA_TIER = "data"


rules = Rules()


def _tier(res) -> str:
    return tags_of(res.props).get("tier", "")


@rules.stack("printflow-data-subnets-no-route-out",
             About("high", "security", "https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html"))
def _data_route_tables_closed(stack, ctx, report):
    """The data subnets' route table has no route out of the VPC, and data subnets use no other route
    table.
    """
    tables = stack.of(ROUTE_TABLE)
    data_tables = [t for t in tables if _tier(t) == DATA_TIER]
    for table in data_tables:
        routes = get(table.props, "routes")
        if routes is not UNKNOWN and items(routes):
            report(f"Route table {label(table)} of the data subnets has inline routes. The data "
                   "tier (PostgreSQL, MemoryDB) must have no route out of the VPC: remove them.",
                   table.urn)
        for route in stack.referencing(table, "routeTableId", ROUTE):
            report(f"Route {label(route)} leaves the VPC from the data subnets' route table "
                   f"{label(table)}. Put app egress (NAT) on the app subnets' route tables only.",
                   route.urn)
    data_subnets = [s for s in stack.of(SUBNET) if _tier(s) == DATA_TIER]
    for association in stack.of(ASSOCIATION):
        subnet = next((s for s in data_subnets if stack.refers_to(association, "subnetId", s)), None)
        if subnet is None:
            continue
        table = next((t for t in tables if stack.refers_to(association, "routeTableId", t)), None)
        if table is not None and _tier(table) != DATA_TIER:
            report(f"Data subnet {label(subnet)} is associated with route table {label(table)}, "
                   "which is not the data tier's (tier=data) table and may route out of the VPC. "
                   "Associate data subnets only with the data route table.", association.urn)


POLICIES = rules.policies
