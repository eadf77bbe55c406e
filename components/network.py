"""The private data network: no internet route reaches the data tier."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from .base import assume_role_policy, child_options, policy_document

POSTGRES_PORT = 5432
REDIS_PORT = 6379


@dataclass(frozen=True)
class DataNetworkArgs:
    region: str
    cidr: str = "10.40.0.0/16"
    az_count: int = 3
    flow_log_retention_days: int = 365
    flow_log_key_arn: Optional[pulumi.Input[str]] = None
    existing_vpc_id: Optional[str] = None
    existing_subnet_ids: tuple[str, ...] = ()
    with_cache_subnets: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.flow_log_key_arn is None:
            raise ValueError("flow logs must be encrypted: flow_log_key_arn is required")
        if bool(self.existing_vpc_id) != bool(self.existing_subnet_ids):
            raise ValueError("existing_vpc_id and existing_subnet_ids go together")


class DataNetwork(pulumi.ComponentResource):
    """VPC (or an existing one), private subnets, subnet groups, and the app/data security groups.

    Data stores admit their port only from `app_security_group`, which the stack exports so the
    app tier can join it.
    """

    def __init__(self, name: str, args: DataNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:network:DataNetwork", name, None, opts)
        region = args.region
        if args.existing_vpc_id:
            self.vpc_id: pulumi.Output[str] = pulumi.Output.from_input(args.existing_vpc_id)
            self.subnet_ids: list[pulumi.Output[str]] = [pulumi.Output.from_input(s) for s in args.existing_subnet_ids]
        else:
            self._create_vpc(name, args)

        self.app_security_group = aws.ec2.SecurityGroup(
            f"{name}-app", vpc_id=self.vpc_id, region=region,
            description="Printflow app tier: members may reach PostgreSQL and Redis",
            egress=[aws.ec2.SecurityGroupEgressArgs(
                protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"],
                description="apps call AWS APIs and payment providers")],
            tags={**args.tags, "Name": f"{name}-app"}, opts=child_options(self))
        self.database_security_group = self._data_security_group(name, "postgres", POSTGRES_PORT, args)
        self.redis_security_group = self._data_security_group(name, "redis", REDIS_PORT, args)

        self.db_subnet_group = aws.rds.SubnetGroup(
            f"{name}-db", subnet_ids=self.subnet_ids, region=region,
            description="Printflow PostgreSQL (private subnets only)",
            tags=args.tags, opts=child_options(self))
        self.memorydb_subnet_group = aws.memorydb.SubnetGroup(
            f"{name}-queue", subnet_ids=self.subnet_ids, region=region,
            description="Printflow queue store (private subnets only)",
            tags=args.tags, opts=child_options(self))
        self.cache_subnet_group: Optional[aws.elasticache.SubnetGroup] = None
        if args.with_cache_subnets:
            self.cache_subnet_group = aws.elasticache.SubnetGroup(
                f"{name}-cache", subnet_ids=self.subnet_ids, region=region,
                description="Printflow cache (private subnets only)", tags=args.tags,
                opts=child_options(self))
        self._flow_logs(name, args)
        self.register_outputs({"vpc_id": self.vpc_id,
                               "app_security_group_id": self.app_security_group.id})

    def _create_vpc(self, name: str, args: DataNetworkArgs) -> None:
        region = args.region
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.cidr, region=region,
                          enable_dns_hostnames=True, enable_dns_support=True,
                          tags={**args.tags, "Name": f"{name}-vpc"}, opts=child_options(self))
        zones = aws.get_availability_zones_output(state="available", region=region)
        # No internet gateway and no NAT: the route table holds only the local route.
        route_table = aws.ec2.RouteTable(f"{name}-private", vpc_id=vpc.id, region=region,
                                         tags={**args.tags, "Name": f"{name}-private"},
                                         opts=child_options(self))
        subnets = list(ipaddress.ip_network(args.cidr).subnets(new_prefix=20))
        self.subnet_ids = []
        for index in range(args.az_count):
            subnet = aws.ec2.Subnet(
                f"{name}-private-{index}", vpc_id=vpc.id, region=region,
                cidr_block=str(subnets[index]),
                availability_zone=zones.names[index],
                map_public_ip_on_launch=False,
                tags={**args.tags, "Name": f"{name}-private-{index}", "tier": "data"},
                opts=child_options(self))
            aws.ec2.RouteTableAssociation(f"{name}-private-{index}", subnet_id=subnet.id,
                                          route_table_id=route_table.id, region=region,
                                          opts=child_options(self))
            self.subnet_ids.append(subnet.id)
        # Adopting the default security group with no rules denies all traffic through it.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-deny", vpc_id=vpc.id, region=region,
                                     ingress=[], egress=[],
                                     tags={**args.tags, "Name": f"{name}-default-deny-all"},
                                     opts=child_options(self))
        self.vpc_id = vpc.id

    def _data_security_group(self, name: str, kind: str, port: int,
                             args: DataNetworkArgs) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            f"{name}-{kind}", vpc_id=self.vpc_id, region=args.region,
            description=f"Printflow {kind}: port {port} from the app security group only",
            tags={**args.tags, "Name": f"{name}-{kind}"}, opts=child_options(self))
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-{kind}-from-app", security_group_id=group.id, region=args.region,
            referenced_security_group_id=self.app_security_group.id,
            ip_protocol="tcp", from_port=port, to_port=port,
            description=f"{kind} from the app tier", opts=child_options(self))
        return group

    def _flow_logs(self, name: str, args: DataNetworkArgs) -> None:
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", region=args.region,
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=args.flow_log_key_arn, tags=args.tags, opts=child_options(self))
        role = aws.iam.Role(f"{name}-flow-logs", assume_role_policy=assume_role_policy(
            "vpc-flow-logs.amazonaws.com"), tags=args.tags, opts=child_options(self))
        aws.iam.RolePolicy(f"{name}-flow-logs", role=role.id, policy=policy_document({
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": pulumi.Output.concat(log_group.arn, ":*"),
        }), opts=child_options(self))
        aws.ec2.FlowLog(f"{name}-flow-logs", vpc_id=self.vpc_id, region=args.region,
                        traffic_type="ALL", log_destination_type="cloud-watch-logs",
                        log_destination=log_group.arn, iam_role_arn=role.arn,
                        tags=args.tags, opts=child_options(self))
