"""The pack's stack view (policies/pack_stack.py): `referencing` answers from an index of the
candidates' references, and must name exactly the resources a scan with `refers_to` names, in
stack order -- the reference rules themselves are what the policy cases exercise."""

from __future__ import annotations

from types import SimpleNamespace

from tests.pack_modules import pack_module

pack_stack = pack_module("pack_stack")

BUCKET, VERSIONING, ROUTE = "aws:s3/bucket:Bucket", "aws:s3/bucketVersioning:BucketVersioning", "aws:ec2/route:Route"


def _resource(urn: str, resource_type: str, props: dict, deps: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(urn=urn, name=urn.rsplit("::", 1)[-1], resource_type=resource_type,
                           props=props, property_dependencies=deps or {}, provider=None)


def _scan(stack, target, prop: str, *types: str) -> list:
    return [r for r in stack.of(*types) if stack.refers_to(r, prop, target)]


def test_referencing_names_what_a_scan_names_for_every_kind_of_reference():
    files = _resource("urn::files", BUCKET, {"bucket": "pf-files", "arn": "arn:aws:s3:::pf-files"})
    backups = _resource("urn::backups", BUCKET, {"bucket": "pf-backups", "id": "pf-backups"})
    by_name = _resource("urn::v-name", VERSIONING, {"bucket": "pf-files"})
    by_arn = _resource("urn::v-arn", VERSIONING, {"bucket": "arn:aws:s3:::pf-backups"})
    by_path = _resource("urn::v-path", VERSIONING, {"bucket": "buckets/pf-files"})
    by_dependency = _resource("urn::v-dep", VERSIONING, {"bucket": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
                              {"bucket": [backups]})
    look_alike = _resource("urn::v-alike", VERSIONING, {"bucket": "pf-files-old"})
    contains = _resource("urn::v-contains", VERSIONING, {"bucket": "xpf-files"})
    empty = _resource("urn::v-empty", VERSIONING, {"bucket": ""})
    other_type = _resource("urn::route", ROUTE, {"bucket": "pf-files"})
    stack = pack_stack.Stack([files, backups, by_name, by_arn, by_path, by_dependency, look_alike,
                              contains, empty, other_type], ctx=None)

    assert stack.referencing(files, "bucket", VERSIONING) == [by_name, by_path]
    assert stack.referencing(backups, "bucket", VERSIONING) == [by_arn, by_dependency]
    assert stack.referencing(files, "bucket", VERSIONING, ROUTE) == [by_name, by_path, other_type]
    assert stack.referencing(files, "bucketId", VERSIONING) == []
    for target in stack.resources:
        for types in ((VERSIONING,), (ROUTE, VERSIONING), (BUCKET,)):
            assert stack.referencing(target, "bucket", *types) == _scan(stack, target, "bucket", *types)


def test_referencing_matches_a_scan_over_the_rendered_stacks(baselines):
    """Every resource of the rendered prod and dr graphs as a target, every property the stack
    policies follow, every resource type as the candidates."""
    for graph in (baselines["prod"], baselines["dr"]):
        by_urn = {r["urn"]: _resource(r["urn"], r["type"], {**(r.get("inputs") or {}), **(r.get("outputs") or {})})
                  for r in graph["resources"]}
        for r in graph["resources"]:
            by_urn[r["urn"]].property_dependencies = {
                k: [by_urn[u] for u in urns if u in by_urn] for k, urns in (r.get("propertyDependencies") or {}).items()}
        stack = pack_stack.Stack(list(by_urn.values()), ctx=None)
        found = 0
        for prop in ("bucket", "routeTableId", "snsTopicArn", "secretId", "subnetId", "parameterGroupName"):
            for resource_type in stack.by_type:
                for target in stack.resources:
                    expected = _scan(stack, target, prop, resource_type)
                    assert stack.referencing(target, prop, resource_type) == expected
                    found += len(expected)
        assert found > 20  # the graphs do refer to their buckets, tables, topics and secrets
