"""KMS key policies."""

from __future__ import annotations

from pack_common import UNKNOWN, About, Rules, as_list, fmt_num, get, number, parse_json_doc

KEY = "aws:kms/key:Key"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"


GUIDE = "https://docs.aws.amazon.com/kms/latest/developerguide/"
rules = Rules()


rules.declared("kms")  # its one-property policies: property_rules.yaml


@rules.resource("aws-kms-key-deletion-window", [KEY, REPLICA_KEY],
                About("medium", "reliability", GUIDE + "deleting-keys.html"),
                config={"minimumDays": {"type": "number", "minimum": 7, "maximum": 30, "default": 30,
                                        "description": "Minimum deletion window in prod and dr-failover "
                                                       "(default 30)."},
                        "drillMinimumDays": {"type": "number", "minimum": 7, "maximum": 30, "default": 7,
                                             "description": "Minimum deletion window in a dr-drill stack "
                                                            "(default 7)."}})
def _deletion_window(args, ctx, report):
    """KMS keys have a deletion window at or above the threshold."""
    minimum = ctx.num("minimumDays") if ctx.serves_production else ctx.num("drillMinimumDays")
    v = get(args.props, "deletionWindowInDays")
    if v is UNKNOWN:
        return
    n = number(v)
    n = 30.0 if n is None else n  # AWS default
    if n < minimum:
        report(f"KMS key '{args.name}' has a {fmt_num(n)}-day deletion window, below "
               f"{fmt_num(minimum)} days; a scheduled deletion would make every backup it "
               f"encrypts unreadable sooner. Set deletion_window_in_days >= {fmt_num(minimum)}.")


def _is_wildcard_principal(principal) -> bool:
    if principal == "*":
        return True
    aws = get(principal, "AWS")
    return any(p == "*" for p in as_list(aws))


@rules.resource("aws-kms-key-policy-no-wildcard-principal", [KEY, REPLICA_KEY],
                About("critical", "security", GUIDE + "key-policies.html"))
def _no_wildcard(args, ctx, report):
    """KMS key policies do not allow '*' principals without a Condition."""
    doc = parse_json_doc(get(args.props, "policy"))
    if doc is UNKNOWN or doc is None:
        return
    for i, st in enumerate(as_list(get(doc, "Statement"))):
        if get(st, "Effect") != "Allow":
            continue
        if _is_wildcard_principal(get(st, "Principal")) and not get(st, "Condition"):
            sid = get(st, "Sid") or f"#{i}"
            report(f"KMS key '{args.name}' has policy statement '{sid}' that allows any principal "
                   "(\"*\") without a Condition. Name the account or role principals, or add a "
                   "Condition (e.g. kms:CallerAccount / aws:PrincipalOrgID).")


POLICIES = rules.policies
