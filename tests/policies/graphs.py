"""Graph mutation helpers for the policy tests (wire format: camelCase, secrets wrapped).

A mutation edits a resource's `inputs` (what Analyze sees) and, where the key is present, its
`outputs` too (AnalyzeStack sees outputs merged over inputs, like the engine's final state)."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable, Dict, Iterable, List, Optional

from tools.wire import SIG_KEY, UNKNOWN_SENTINEL, is_wire_secret, secret


BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
RDS = "aws:rds/instance:Instance"
RDS_PG = "aws:rds/parameterGroup:ParameterGroup"
RDS_BACKUPS = ("aws:rds/instanceAutomatedBackupsReplication:"
               "InstanceAutomatedBackupsReplication")
MEMDB = "aws:memorydb/cluster:Cluster"
MEMDB_PG = "aws:memorydb/parameterGroup:ParameterGroup"
ELASTICACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SSM = "aws:ssm/parameter:Parameter"
STACK = "pulumi:pulumi:Stack"

Graph = Dict[str, Any]
Res = Dict[str, Any]


def secret_value(value: Any) -> Any:
    """One level: a secret's plain value (the mutations edit the wrapped value in place)."""
    return value["value"] if is_wire_secret(value) else value


def find(g: Graph, type_: str, pred: Optional[Callable[[Res], bool]] = None) -> List[Res]:
    return [r for r in g["resources"] if r["type"] == type_ and (pred is None or pred(r))]


def one(g: Graph, type_: str, pred: Optional[Callable[[Res], bool]] = None) -> Res:
    found = find(g, type_, pred)
    assert found, f"no {type_} matching in graph {g.get('stack')}"
    return found[0]


def tags(r: Res) -> Dict[str, str]:
    return (r.get("inputs") or {}).get("tags") or {}


def tier(name: str) -> Callable[[Res], bool]:
    return lambda r: tags(r).get("data-tier") == name


def named(fragment: str) -> Callable[[Res], bool]:
    return lambda r: fragment in r["name"]


def bucket(g: Graph, tier_name: str) -> Res:
    return one(g, BUCKET, tier(tier_name))


def sub(g: Graph, sub_type: str, b: Res) -> Res:
    """The sub-resource (versioning, lock, ...) of bucket `b`."""
    ids = {v for v in (b["inputs"].get("bucket"), b["outputs"].get("bucket"),
                       b["outputs"].get("id")) if isinstance(v, str)}
    for r in find(g, sub_type):
        if b["urn"] in (r.get("propertyDependencies") or {}).get("bucket", []) or \
                r["inputs"].get("bucket") in ids:
            return r
    raise AssertionError(f"no {sub_type} for bucket {b['name']}")


def _set_path(d: Dict[str, Any], path: List[str], value: Any) -> None:
    for k in path[:-1]:
        d = d.setdefault(k, {})
    d[path[-1]] = value


def _del_path(d: Dict[str, Any], path: List[str]) -> None:
    for k in path[:-1]:
        d = d.get(k) or {}
    d.pop(path[-1], None)


def setp(r: Res, path: str, value: Any) -> None:
    keys = path.split(".")
    _set_path(r.setdefault("inputs", {}), keys, value)
    if keys[0] in (r.get("outputs") or {}):
        _set_path(r["outputs"], keys, copy.deepcopy(value))


def delp(r: Res, path: str) -> None:
    keys = path.split(".")
    _del_path(r.get("inputs") or {}, keys)
    _del_path(r.get("outputs") or {}, keys)
    if len(keys) == 1:
        (r.get("propertyDependencies") or {}).pop(keys[0], None)


def getp(r: Res, path: str) -> Any:
    cur: Any = r.get("inputs") or {}
    for k in path.split("."):
        cur = cur[k]
    return cur


def drop(g: Graph, *victims: Res) -> None:
    urns = {v["urn"] for v in victims}
    g["resources"] = [r for r in g["resources"] if r["urn"] not in urns]


def add_copy(g: Graph, template: Res, name: str, inputs: Dict[str, Any]) -> Res:
    """A new resource of template's type, parent and provider, with a fresh URN."""
    r = copy.deepcopy(template)
    r["urn"] = template["urn"].rsplit("::", 1)[0] + "::" + name
    r["name"] = name
    r["inputs"].update(inputs)
    r["outputs"] = {**copy.deepcopy(r["inputs"]), "id": name, "arn": f"arn:aws:x:::{name}"}
    r["propertyDependencies"], r["dependencies"] = {}, []
    g["resources"].append(r)
    return r


def add_resource(g: Graph, type_: str, name: str, inputs: Dict[str, Any], protect: bool = True,
                 parent: Optional[str] = None) -> Res:
    stack_urn = one(g, STACK)["urn"]
    r = {"urn": f"urn:pulumi:{g['stack']}::{g.get('project', 'printflow')}::{type_}::{name}",
         "type": type_, "name": name, "custom": True, "parent": parent or stack_urn,
         "provider": "", "inputs": inputs, "outputs": {**copy.deepcopy(inputs), "id": name},
         "options": {"protect": protect}, "dependencies": [], "propertyDependencies": {}}
    g["resources"].append(r)
    return r


# -- app settings ------------------------------------------------------------------------------

def param(g: Graph, key: str, app: str = "laravel") -> Res:
    return one(g, SSM, lambda r: str(r["inputs"].get("name", "")).endswith(f"/{app}/{key}"))


def set_param_value(r: Res, value: Any) -> None:
    field = "insecureValue" if "insecureValue" in r["inputs"] else "value"
    setp(r, field, value)


# -- secrets -----------------------------------------------------------------------------------

def app_secret_version(g: Graph, app: str, connection: bool = False) -> Res:
    """The SecretVersion of an app's shared key entry, or of its connection entry."""
    return one(g, SECRET_VERSION, lambda r: app in r["name"] and ("connection" in r["name"]) == connection)


def edit_secret_json(r: Res, edit: Callable[[Dict[str, Any]], None]) -> None:
    for bag in (r.get("inputs") or {}, r.get("outputs") or {}):
        if "secretString" not in bag:
            continue
        wrapped = isinstance(bag["secretString"], dict) and SIG_KEY in bag["secretString"]
        data = json.loads(secret_value(bag["secretString"]))
        edit(data)
        text = json.dumps(data)
        bag["secretString"] = secret(text) if wrapped else text


# -- unknowns ----------------------------------------------------------------------------------

def make_unknown(g: Graph, keys: Optional[Iterable[str]] = None, nested: bool = False) -> Graph:
    """Replace top-level input/output values (all, or only `keys`) with the unknown sentinel;
    with nested=True replace every leaf value below the top level instead."""
    g = copy.deepcopy(g)
    wanted = set(keys) if keys is not None else None

    def leaves(v: Any) -> Any:
        if is_wire_secret(v):
            return secret(leaves(v["value"]))
        if isinstance(v, dict):
            return {k: leaves(x) for k, x in v.items()}
        if isinstance(v, list):
            return [leaves(x) for x in v]
        return UNKNOWN_SENTINEL

    for r in g["resources"]:
        if r["type"] == STACK and not nested:
            continue
        for bag in ("inputs", "outputs"):
            props = r.get(bag) or {}
            for k in list(props):
                if k in ("id", "urn"):
                    continue
                if wanted is not None and k not in wanted:
                    continue
                props[k] = leaves(props[k]) if nested else UNKNOWN_SENTINEL
    return g


def database(g: Graph) -> Res:
    """The stack's RDS instance."""
    return one(g, RDS)
