"""The private data network: no internet route reaches the data tier."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from .base import InputStr, account_id, child_options, policy_document

POSTGRES_PORT = 5432
REDIS_PORT = 6379
# /20 blocks of the /16: data subnets from 0, app subnets from 4, public (NAT) subnets from 8.
DATA_BLOCK, APP_BLOCK, PUBLIC_BLOCK = 0, 4, 8
# Interface endpoints for what the apps call: secrets, settings, keys, metrics (heartbeats), logs,
# role credentials. S3 is a gateway endpoint.
INTERFACE_ENDPOINT_SERVICES = ("secretsmanager", "ssm", "kms", "monitoring", "logs", "sts")
FLOW_LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                    "logs:DescribeLogGroups", "logs:DescribeLogStreams"]


def _flow_logs_trust(region: str) -> pulumi.Output[str]:
    """Only this account's flow logs may assume the role (confused-deputy conditions, VPC guide)."""
    account = account_id()
    return policy_document({
        "Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account},
                      "ArnLike": {"aws:SourceArn": pulumi.Output.concat(
                          "arn:aws:ec2:", region, ":", account, ":vpc-flow-log/*")}}})


@dataclass(frozen=True)
class DataNetworkArgs:
    region: str
    """The AWS region the resources are created in."""
    cidr: str = "10.40.0.0/16"
    """The VPC's /16."""
    az_count: int = 3
    """Availability zones with data and app subnets."""
    flow_log_retention_days: int = 365
    """Days the VPC flow logs are kept."""
    flow_log_key_arn: Optional[InputStr] = None
    """The KMS key of the flow-log group (required)."""
    existing_vpc_id: Optional[str] = None
    """Use this VPC instead of creating one."""
    existing_subnet_ids: tuple[str, ...] = ()
    """Its private subnets, one per AZ."""
    with_cache_subnets: bool = False
    """Also an ElastiCache subnet group (when the cache is enabled)."""
    app_egress: str = "nat-per-az"
    """none | nat-single | nat-per-az: the app subnets' way to the internet (payment, mail)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""

    def __post_init__(self) -> None:
        if self.flow_log_key_arn is None:
            raise ValueError("flow logs must be encrypted: flow_log_key_arn is required")
        if bool(self.existing_vpc_id) != bool(self.existing_subnet_ids):
            raise ValueError("existing_vpc_id and existing_subnet_ids go together")


class DataNetwork(pulumi.ComponentResource):
    """VPC (or an existing one), data and app subnets, subnet groups, security groups, endpoints.

    Data stores admit their port only from `app_security_group_id`, which the stack exports so the
    app tier can join it. Data subnets have no route out of the VPC. App subnets reach AWS APIs
    (Secrets Manager, SSM, KMS, CloudWatch, Logs, STS, S3) through VPC endpoints, and the internet
    (payment and mail providers) through NAT when `app_egress` asks for it.
    """

    def __init__(self, name: str, args: DataNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:network:DataNetwork", name, None, opts)
        region = args.region
        self.app_subnet_ids: list[pulumi.Output[str]] = []
        if args.existing_vpc_id:
            # An existing VPC brings its own app subnets, endpoints and egress.
            self.vpc_id: pulumi.Output[str] = pulumi.Output.from_input(args.existing_vpc_id)
            self.subnet_ids: list[pulumi.Output[str]] = [pulumi.Output.from_input(s) for s in args.existing_subnet_ids]
        else:
            self._create_vpc(name, args)

        app_security_group = aws.ec2.SecurityGroup(
            f"{name}-app", vpc_id=self.vpc_id, region=region,
            description="Printflow app tier: members may reach PostgreSQL and Redis",
            egress=[aws.ec2.SecurityGroupEgressArgs(
                protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"],
                description="apps call AWS APIs and payment providers")],
            tags={**args.tags, "Name": f"{name}-app"}, opts=child_options(self))
        self.app_security_group_id = app_security_group.id
        """Members reach PostgreSQL and Redis: the app tier joins it."""
        self.database_security_group_id = self._data_security_group(name, "postgres", POSTGRES_PORT, args).id
        self.redis_security_group_id = self._data_security_group(name, "redis", REDIS_PORT, args).id

        self.db_subnet_group_name = aws.rds.SubnetGroup(
            f"{name}-db", subnet_ids=self.subnet_ids, region=region,
            description="Printflow PostgreSQL (private subnets only)",
            tags=args.tags, opts=child_options(self)).name
        self.queue_subnet_group_name = aws.memorydb.SubnetGroup(
            f"{name}-queue", subnet_ids=self.subnet_ids, region=region,
            description="Printflow queue store (private subnets only)",
            tags=args.tags, opts=child_options(self)).name
        self.cache_subnet_group_name: Optional[pulumi.Output[str]] = None
        if args.with_cache_subnets:
            self.cache_subnet_group_name = aws.elasticache.SubnetGroup(
                f"{name}-cache", subnet_ids=self.subnet_ids, region=region,
                description="Printflow cache (private subnets only)", tags=args.tags,
                opts=child_options(self)).name
        if not args.existing_vpc_id:
            self._endpoints(name, args)
        self._flow_logs(name, args)
        self.register_outputs({"vpc_id": self.vpc_id, "app_security_group_id": self.app_security_group_id})

    def _create_vpc(self, name: str, args: DataNetworkArgs) -> None:
        region = args.region
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.cidr, region=region,
                          enable_dns_hostnames=True, enable_dns_support=True,
                          tags={**args.tags, "Name": f"{name}-vpc"}, opts=child_options(self))
        self.vpc_id = vpc.id
        zones = aws.get_availability_zones_output(state="available", region=region)
        blocks = list(ipaddress.ip_network(args.cidr).subnets(new_prefix=20))
        # Data subnets: the route table holds only the local route, nothing leaves the VPC.
        route_table = aws.ec2.RouteTable(f"{name}-private", vpc_id=vpc.id, region=region,
                                         tags={**args.tags, "Name": f"{name}-private", "tier": "data"},
                                         opts=child_options(self))
        self.subnet_ids = [self._subnet(f"{name}-private-{i}", "data", blocks[DATA_BLOCK + i],
                                        zones.names[i], route_table.id, args)
                           for i in range(args.az_count)]
        nat_ids = self._nat_gateways(name, vpc.id, blocks, zones, args)
        self.app_route_table_ids: list[pulumi.Output[str]] = []
        for i in range(args.az_count):
            table = aws.ec2.RouteTable(f"{name}-app-{i}", vpc_id=vpc.id, region=region,
                                       tags={**args.tags, "Name": f"{name}-app-{i}", "tier": "app"},
                                       opts=child_options(self))
            if nat_ids:
                aws.ec2.Route(f"{name}-app-{i}-egress", route_table_id=table.id, region=region,
                              destination_cidr_block="0.0.0.0/0",
                              nat_gateway_id=nat_ids[i % len(nat_ids)], opts=child_options(self))
            self.app_route_table_ids.append(table.id)
            self.app_subnet_ids.append(self._subnet(f"{name}-app-{i}", "app", blocks[APP_BLOCK + i],
                                                    zones.names[i], table.id, args))
        # Adopting the default security group with no rules denies all traffic through it.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-deny", vpc_id=vpc.id, region=region,
                                     ingress=[], egress=[],
                                     tags={**args.tags, "Name": f"{name}-default-deny-all"},
                                     opts=child_options(self))

    def _subnet(self, name: str, tier: str, block, zone: pulumi.Input[str],
                route_table_id: pulumi.Input[str], args: DataNetworkArgs) -> pulumi.Output[str]:
        subnet = aws.ec2.Subnet(
            name, vpc_id=self.vpc_id, region=args.region, cidr_block=str(block),
            availability_zone=zone, map_public_ip_on_launch=False,
            tags={**args.tags, "Name": name, "tier": tier}, opts=child_options(self))
        aws.ec2.RouteTableAssociation(name, subnet_id=subnet.id, route_table_id=route_table_id,
                                      region=args.region, opts=child_options(self))
        return subnet.id

    def _nat_gateways(self, name: str, vpc_id: pulumi.Output[str], blocks: list, zones,
                      args: DataNetworkArgs) -> list[pulumi.Output[str]]:
        """Public subnets with NAT gateways for the app tier's internet egress, if asked for."""
        count = {"none": 0, "nat-single": 1, "nat-per-az": args.az_count}[args.app_egress]
        if not count:
            return []
        region = args.region
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc_id, region=region,
                                          tags={**args.tags, "Name": f"{name}-igw"},
                                          opts=child_options(self))
        public = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc_id, region=region,
                                    tags={**args.tags, "Name": f"{name}-public", "tier": "public"},
                                    opts=child_options(self))
        aws.ec2.Route(f"{name}-public-internet", route_table_id=public.id, region=region,
                      destination_cidr_block="0.0.0.0/0", gateway_id=gateway.id,
                      opts=child_options(self))
        nat_ids = []
        for i in range(count):
            subnet = self._subnet(f"{name}-public-{i}", "public", blocks[PUBLIC_BLOCK + i],
                                  zones.names[i], public.id, args)
            address = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", region=region,
                                  tags={**args.tags, "Name": f"{name}-nat-{i}"}, opts=child_options(self))
            nat = aws.ec2.NatGateway(f"{name}-nat-{i}", subnet_id=subnet, allocation_id=address.id,
                                     region=region, tags={**args.tags, "Name": f"{name}-nat-{i}"},
                                     opts=child_options(self, depends_on=[gateway]))
            nat_ids.append(nat.id)
        return nat_ids

    def _endpoints(self, name: str, args: DataNetworkArgs) -> None:
        """AWS APIs the apps call, reachable without leaving the VPC (and without NAT)."""
        region = args.region
        aws.ec2.VpcEndpoint(f"{name}-s3", vpc_id=self.vpc_id, region=region,
                            service_name=f"com.amazonaws.{region}.s3", vpc_endpoint_type="Gateway",
                            route_table_ids=self.app_route_table_ids,
                            tags={**args.tags, "Name": f"{name}-s3"}, opts=child_options(self))
        group = aws.ec2.SecurityGroup(
            f"{name}-endpoints", vpc_id=self.vpc_id, region=region,
            description="Printflow VPC interface endpoints: HTTPS from the app tier",
            tags={**args.tags, "Name": f"{name}-endpoints"}, opts=child_options(self))
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-from-app", security_group_id=group.id, region=region,
            referenced_security_group_id=self.app_security_group_id, ip_protocol="tcp",
            from_port=443, to_port=443, description="AWS APIs from the app tier",
            opts=child_options(self))
        for service in INTERFACE_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{name}-{service}", vpc_id=self.vpc_id, region=region,
                service_name=f"com.amazonaws.{region}.{service}", vpc_endpoint_type="Interface",
                private_dns_enabled=True, subnet_ids=self.app_subnet_ids,
                security_group_ids=[group.id], tags={**args.tags, "Name": f"{name}-{service}"},
                opts=child_options(self))

    def _data_security_group(self, name: str, kind: str, port: int,
                             args: DataNetworkArgs) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            f"{name}-{kind}", vpc_id=self.vpc_id, region=args.region,
            description=f"Printflow {kind}: port {port} from the app security group only",
            tags={**args.tags, "Name": f"{name}-{kind}"}, opts=child_options(self))
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-{kind}-from-app", security_group_id=group.id, region=args.region,
            referenced_security_group_id=self.app_security_group_id,
            ip_protocol="tcp", from_port=port, to_port=port,
            description=f"{kind} from the app tier", opts=child_options(self))
        return group

    def _flow_logs(self, name: str, args: DataNetworkArgs) -> None:
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", region=args.region,
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=args.flow_log_key_arn, tags=args.tags, opts=child_options(self))
        role = aws.iam.Role(f"{name}-flow-logs", assume_role_policy=_flow_logs_trust(args.region),
                            tags=args.tags, opts=child_options(self))
        # The permissions the VPC guide documents for publishing flow logs to CloudWatch Logs
        # ("IAM role for publishing flow logs to CloudWatch Logs"), scoped to this log group.
        aws.iam.RolePolicy(f"{name}-flow-logs", role=role.id, policy=policy_document({
            "Effect": "Allow",
            "Action": FLOW_LOG_ACTIONS,
            "Resource": [log_group.arn, pulumi.Output.concat(log_group.arn, ":*")],
        }), opts=child_options(self))
        aws.ec2.FlowLog(f"{name}-flow-logs", vpc_id=self.vpc_id, region=args.region,
                        traffic_type="ALL", log_destination_type="cloud-watch-logs",
                        log_destination=log_group.arn, iam_role_arn=role.arn,
                        tags=args.tags, opts=child_options(self))
