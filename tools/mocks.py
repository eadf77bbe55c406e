"""Pulumi mock runtime for the offline preview: records what the program registers.

The engine is replaced by `RecordingMonitor`, which keeps every registration as the engine would
see it (wire-format inputs, parent, options, dependencies) and the stack's exports. The provider
is replaced by `PlatformMocks`, which answers with the computed values AWS would return (ARNs,
endpoints, ids), derived deterministically from names so two renders are identical.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Callable, Optional

from google.protobuf import json_format
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from tools.wire import UNKNOWN_SENTINEL, is_wire_secret, secret

ACCOUNT_ID = "123456789012"

# The property pulumi-aws fills in with an autoname when the program sets none: the logical name,
# a separator and 7 random hex characters (pulumi-terraform-bridge `AutoName`, Randlen 7; pulumi-aws
# provider/autonaming.go and resource_overrides.go). type -> (property, separator, lowercased).
# The mocks do the same, so physical names can be checked against AWS's limits
# (tests/program/test_aws_rules.py).
AUTONAMED: dict[str, tuple[str, str, bool]] = {
    "aws:s3/bucket:Bucket": ("bucket", "-", True),
    "aws:rds/instance:Instance": ("identifier", "", False),  # no separator (resource_overrides.go)
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationGroupId", "-", True),
}
DEFAULT_AUTONAME = ("name", "-", False)
# Outputs the providers' schemas mark secret (pulumi-random: RandomPassword.result and
# .bcryptHash, RandomBytes.base64 and .hex): the engine stores and sends them as secrets.
SCHEMA_SECRET_OUTPUTS: dict[str, tuple[str, ...]] = {
    "random:index/randomPassword:RandomPassword": ("result", "bcryptHash"),
    "random:index/randomBytes:RandomBytes": ("base64", "hex"),
}
"""Every other type with a physical name calls it `name` (provider/autonaming.go)."""
AUTONAME_RANDOM_HEX = 7


PROJECT_ROOT = Path(__file__).resolve().parents[1]


def source_position(request) -> str:
    """Where the program registered the resource, as the engine stores it in state
    (apitype.ResourceV3.SourcePosition): `project:///<path>#<line>` inside the project. The
    Python SDK sends it with every RegisterResource (pulumi/runtime/resource.py
    _get_source_position): the line that constructs the resource."""
    position = request.sourcePosition
    if not position.uri:
        return ""
    try:
        # the SDK writes Path.as_uri(): percent-encoded (a checkout path with a space)
        path = Path(url2pathname(urlparse(position.uri).path)).resolve().relative_to(PROJECT_ROOT)
    except ValueError:
        return ""
    if path.parts[0].startswith(".") or "site-packages" in path.parts:
        return ""  # the SDK's own frames (the root Stack): no line of the project declares it
    return f"project:///{path.as_posix()}#{position.line}"


def _digest(*parts: Any, size: int = 8) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:size]


@dataclass
class Registration:
    """One resource as the engine saw it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: Optional[str]
    provider: str
    inputs: dict
    outputs: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    dependencies: list = field(default_factory=list)
    property_dependencies: dict = field(default_factory=dict)
    source_position: str = ""

    def to_json(self) -> dict:
        return {"urn": self.urn, "type": self.type, "name": self.name, "custom": self.custom,
                "parent": self.parent, "provider": self.provider, "inputs": self.inputs,
                "outputs": self.outputs, "options": self.options,
                "dependencies": self.dependencies, "propertyDependencies": self.property_dependencies,
                **({"sourcePosition": self.source_position} if self.source_position else {})}


def _wire(struct) -> dict:
    return json_format.MessageToDict(struct, preserving_proto_field_name=True)


class RecordingMonitor(MockMonitor):
    """A MockMonitor that also records parent, options, dependencies and stack outputs."""

    def __init__(self, mocks: Mocks):
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        self.stack_outputs: dict = {}

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        urn = response.urn
        options = {
            "protect": bool(request.protect),
            "retainOnDelete": bool(getattr(request, "retainOnDelete", False)),
            "deleteBeforeReplace": bool(request.deleteBeforeReplace),
            "ignoreChanges": list(request.ignoreChanges),
            "additionalSecretOutputs": list(request.additionalSecretOutputs),
            "dependsOn": sorted(set(request.dependencies)),
        }
        self.registrations[urn] = Registration(
            urn=urn, type=request.type, name=request.name, custom=bool(request.custom),
            parent=request.parent or None, provider=request.provider,
            inputs=_wire(request.object), options=options,
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={k: sorted(v.urns) for k, v in request.propertyDependencies.items()},
            source_position=source_position(request),
            outputs=(_secret_outputs(request, {**_wire(response.object), "id": response.id or UNKNOWN_SENTINEL})
                     if request.custom and request.type != "pulumi:pulumi:Stack" else {}))
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn in self.registrations and self.registrations[request.urn].type == "pulumi:pulumi:Stack":
            outputs = _wire(request.outputs)
            if outputs:
                self.registrations[request.urn].outputs = outputs
                self.stack_outputs = outputs
        return super().RegisterResourceOutputs(request)


def _secret_outputs(request, outputs: dict) -> dict:
    """Wrap what the engine treats as secret (additionalSecretOutputs, the schema's secret
    outputs) in the secret signature, as it appears in state and in `--graph` files."""
    secret_keys = set(request.additionalSecretOutputs) | set(SCHEMA_SECRET_OUTPUTS.get(request.type, ()))
    return {k: (secret(v) if k in secret_keys and not is_wire_secret(v) and v != UNKNOWN_SENTINEL else v)
            for k, v in outputs.items()}


def cheap_source_positions() -> None:
    """The SDK finds where a resource was declared by formatting the whole Python stack for every
    registration (traceback.extract_stack reads every source line: a third of the render time
    here). This finds the same frame from the live frames: like _get_stack_trace, the caller of
    the third `__init__` up the stack (Resource, Custom/ComponentResource, the concrete class),
    so a resource's position is the line that constructs it. Only that frame is sent."""
    from pulumi.runtime import resource as runtime_resource
    from pulumi.runtime.proto import source_pb2

    def stack_trace() -> source_pb2.StackTrace:
        frame, inits = sys._getframe(1), 0  # noqa: SLF001
        while frame is not None:
            if frame.f_code.co_name == "__init__":
                inits += 1
                if inits == 3:
                    caller = frame.f_back
                    if caller is None:
                        break
                    position = source_pb2.SourcePosition(uri=Path(caller.f_code.co_filename).as_uri(),
                                                         line=caller.f_lineno)
                    return source_pb2.StackTrace(frames=[source_pb2.StackFrame(pc=position)])
            frame = frame.f_back
        return source_pb2.StackTrace()

    runtime_resource._get_stack_trace = stack_trace  # noqa: SLF001


def _service(type_token: str) -> str:
    return type_token.split(":")[1].split("/")[0]


class PlatformMocks(Mocks):
    """Computed values for the resource types and invokes the program uses."""

    def __init__(self, default_region: str, stack_references: Optional[Mapping[str, dict]] = None,
                 preview: bool = False, seed: str = ""):
        self.default_region = default_region
        self.stack_references = stack_references or {}
        self.preview = preview
        self.seed = seed
        """Stands in for randomness: renders with different seeds are different deployments."""
        self._kms_ids: dict[str, str] = {}
        self._states: dict[str, Callable[[MockResourceArgs, str, str], dict]] = {
            "aws:s3/bucket:Bucket": self._bucket,
            "aws:rds/instance:Instance": self._rds_instance,
            "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": self._backup_replication,
            "aws:kms/key:Key": self._kms_key,
            "aws:kms/replicaKey:ReplicaKey": self._kms_replica,
            "aws:secretsmanager/secret:Secret": self._secret,
            "aws:memorydb/cluster:Cluster": self._memorydb,
            "aws:elasticache/replicationGroup:ReplicationGroup": self._elasticache,
            "random:index/randomBytes:RandomBytes": self._random_bytes,
            "random:index/randomPassword:RandomPassword": self._random_password,
            "random:index/randomId:RandomId": self._random_id,
            "pulumi:pulumi:StackReference": self._stack_reference,
        }

    # ---------------------------------------------------------------- engine hooks
    def new_resource(self, args: MockResourceArgs) -> tuple[Optional[str], dict]:
        if not args.custom and args.resource_id is None:  # components; reads carry an id
            return None, {}
        region = args.inputs.get("region") or self.default_region
        suffix = _digest(args.typ, args.name)
        state = {**args.inputs, **self._autoname(args)}
        special = self._states.get(args.typ)
        if special is not None:
            state.update(special(args, region, suffix))
        else:
            state.update(self._generic(args, region, suffix))
        resource_id = state.pop("__id", None) or state.get("id") or f"{args.name}-{suffix}"
        if self.preview and args.custom and not args.resource_id:
            # A first preview plans a create: the provider answers with the checked inputs
            # (autonames included) and marks everything AWS computes, the id too, unknown.
            known = {**args.inputs, **self._autoname(args)}
            return "", {k: known.get(k, UNKNOWN_SENTINEL) for k in state}
        return resource_id, state

    def call(self, args: MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline",
                    "userId": "AIDAOFFLINE", "id": ACCOUNT_ID}, []
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            region = args.args.get("region") or self.default_region
            names = [f"{region}{z}" for z in "abc"]
            return {"names": names, "zoneIds": [f"{region[:3]}{region[-1]}-az{i}" for i in (1, 2, 3)],
                    "id": region, "region": region}, []
        raise NotImplementedError(f"offline preview has no mock for invoke {args.token}")

    def _autoname(self, args: MockResourceArgs) -> dict:
        """The physical name the provider would generate for a resource the program left unnamed."""
        if not args.typ.startswith("aws:"):
            return {}
        prop, separator, lowercase = AUTONAMED.get(args.typ, DEFAULT_AUTONAME)
        if args.inputs.get(prop):
            return {}
        random_hex = _digest(args.typ, args.name, self.seed, size=AUTONAME_RANDOM_HEX)
        name = f"{args.name.lower() if lowercase else args.name}{separator}{random_hex}"
        return {prop: name}

    # ---------------------------------------------------------------- computed state
    def _generic(self, args: MockResourceArgs, region: str, suffix: str) -> dict:
        service = _service(args.typ)
        kind = args.typ.rsplit(":", 1)[-1]
        name = args.inputs.get("name") or self._autoname(args).get("name") or f"{args.name}-{suffix}"
        prefixes = {"Vpc": "vpc", "Subnet": "subnet", "SecurityGroup": "sg", "RouteTable": "rtb",
                    "DefaultSecurityGroup": "sg", "FlowLog": "fl"}
        state: dict[str, Any] = {"name": name}
        if kind in prefixes:
            state["__id"] = f"{prefixes[kind]}-{hashlib.sha256(args.name.encode()).hexdigest()[:17]}"
        if service == "iam":
            state["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:{kind.lower()}/{name}"
        elif service == "sns":
            state["arn"] = f"arn:aws:sns:{region}:{ACCOUNT_ID}:{name}"
            state["__id"] = state["arn"]
        elif service == "cloudwatch" and kind == "LogGroup":
            state["arn"] = f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{name}"
        else:
            state["arn"] = f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{kind.lower()}/{name}"
        if kind == "Alias":
            state["__id"] = name
        return state

    def _bucket(self, args: MockResourceArgs, region: str, suffix: str) -> dict:
        bucket = args.inputs.get("bucket") or self._autoname(args)["bucket"]
        return {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "__id": bucket,
                "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com", "region": region}

    def _rds_instance(self, args: MockResourceArgs, region: str, suffix: str) -> dict:
        identifier = args.inputs.get("identifier") or self._autoname(args)["identifier"]
        address = f"{identifier}.c{suffix}.{region}.rds.amazonaws.com"
        return {"identifier": identifier, "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:db:{identifier}",
                "address": address, "endpoint": f"{address}:5432", "port": 5432,
                "resourceId": f"db-{suffix.upper()}", "__id": identifier,
                "masterUserSecrets": [{"secretArn": f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:rds!db-{suffix}",
                                       "kmsKeyId": args.inputs.get("masterUserSecretKmsKeyId", ""),
                                       "secretStatus": "active"}]}

    @staticmethod
    def _backup_replication(args: MockResourceArgs, region: str, suffix: str) -> dict:
        return {"__id": f"arn:aws:rds:{region}:{ACCOUNT_ID}:auto-backup:ab-{suffix}"}

    def _kms_key(self, args: MockResourceArgs, region: str, suffix: str) -> dict:
        key_id = ("mrk-" if args.inputs.get("multiRegion") else "") + hashlib.sha256(args.name.encode()).hexdigest()[:32]
        arn = f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}"
        self._kms_ids[arn] = key_id
        return {"keyId": key_id, "arn": arn, "__id": key_id}

    def _kms_replica(self, args: MockResourceArgs, region: str, suffix: str) -> dict:
        primary = args.inputs.get("primaryKeyArn", "")
        key_id = self._kms_ids.get(primary, f"mrk-{suffix}")
        return {"keyId": key_id, "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}", "__id": key_id}

    def _secret(self, args: MockResourceArgs, region: str, suffix: str) -> dict:
        name = args.inputs.get("name") or self._autoname(args)["name"]
        arn = f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{name}-{suffix[:6]}"
        return {"name": name, "arn": arn, "__id": arn}

    def _memorydb(self, args: MockResourceArgs, region: str, suffix: str) -> dict:
        name = args.inputs.get("name") or self._autoname(args)["name"]
        address = f"clustercfg.{name}.{suffix}.memorydb.{region}.amazonaws.com"
        return {"name": name, "arn": f"arn:aws:memorydb:{region}:{ACCOUNT_ID}:cluster/{name}",
                "clusterEndpoints": [{"address": address, "port": 6379}], "__id": name}

    def _elasticache(self, args: MockResourceArgs, region: str, suffix: str) -> dict:
        return {"primaryEndpointAddress": f"master.{args.name}.{suffix}.cache.amazonaws.com",
                "arn": f"arn:aws:elasticache:{region}:{ACCOUNT_ID}:replicationgroup:{args.name}"}

    @staticmethod
    def _random_bytes(args: MockResourceArgs, region: str, suffix: str) -> dict:
        seed = hashlib.sha256(json.dumps([args.name, args.inputs.get("keepers")], sort_keys=True).encode())
        raw = seed.digest()[: int(args.inputs.get("length", 32))]
        return {"base64": base64.b64encode(raw).decode(), "hex": raw.hex()}

    def _random_id(self, args: MockResourceArgs, region: str, suffix: str) -> dict:
        raw = hashlib.sha256(json.dumps([args.name, args.inputs.get("keepers"), self.seed]).encode()).digest()
        raw = raw[: int(args.inputs.get("byteLength", 8))]
        return {"hex": raw.hex(), "b64Std": base64.b64encode(raw).decode(),
                "b64Url": base64.urlsafe_b64encode(raw).decode().rstrip("="), "dec": str(int(raw.hex(), 16))}

    @staticmethod
    def _random_password(args: MockResourceArgs, region: str, suffix: str) -> dict:
        seed = hashlib.sha512(json.dumps([args.name, args.inputs.get("keepers")], sort_keys=True).encode())
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
        length = int(args.inputs.get("length", 32))
        digest = (seed.digest() * ((length // 64) + 1))[:length]
        return {"result": "".join(alphabet[b % len(alphabet)] for b in digest), "bcryptHash": "offline"}

    def _stack_reference(self, args: MockResourceArgs, region: str, suffix: str) -> dict:
        name = args.inputs.get("name") or args.name
        if name not in self.stack_references:
            raise KeyError(f"offline preview knows no stack '{name}' to reference")
        return {"name": name, "outputs": self.stack_references[name], "secretOutputNames": []}
