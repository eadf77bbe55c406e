"""Shared plumbing for the components: child options, policy documents, account facts."""

from __future__ import annotations

import json
from typing import Any, Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

InputStr = pulumi.Input[str]
"""A string the component takes as given or as another resource's output (an ARN, a name, an id)."""
InputStrs = list[pulumi.Input[str]]


def child_options(parent: pulumi.Resource, *, protect: bool = False,
                  depends_on: Optional[list[pulumi.Resource]] = None,
                  **extra: Any) -> pulumi.ResourceOptions:
    """Children are parented to their component so URNs read as a tree."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, depends_on=depends_on, **extra)


def account_id() -> pulumi.Output[str]:
    return aws.get_caller_identity_output().account_id


def policy_document(*statements: dict) -> pulumi.Output[str]:
    """An IAM policy JSON string; statements may hold Outputs."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def unique_final_name(parent: pulumi.Resource, name: str) -> pulumi.Output[str]:
    """`<name>-final-<8 hex>`: the suffix is created with the stack's resources, so each lifetime
    of the stack leaves a differently named final snapshot (a fixed name makes the second destroy
    fail with 'already exists')."""
    suffix = random.RandomId(f"{name}-final-snapshot-suffix", byte_length=4, opts=child_options(parent))
    return pulumi.Output.concat(name, "-final-", suffix.hex)
