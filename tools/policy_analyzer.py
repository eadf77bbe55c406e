"""Drive the printflow-guardrails pack through the analyzer gRPC protocol, as the Pulumi CLI does.

How the CLI runs a Python policy pack (pulumi/pulumi sdk/go/common/resource/plugin/
analyzer_plugin.go, NewPolicyAnalyzer): it starts the `pulumi-analyzer-policy-python` plugin with
the pack directory as working directory and the arguments `<engine address> .` (plus
`-virtualenv=<dir>` from PulumiPolicy.yaml runtime options); that launcher script
(sdk/python/dist/pulumi-analyzer-policy-python) runs `python -u -m pulumi.policy <engine> .`,
which runpy-executes the pack's __main__.py. PolicyPack() starts a gRPC Analyzer server on
127.0.0.1:0 and prints the port on stdout. The CLI then calls Handshake (the Python SDK answers
UNIMPLEMENTED, which the CLI tolerates), ConfigureStack, GetAnalyzerInfo, Configure with the
reconciled policy config (pkg/.../policy config ReconcilePolicyPackConfig: schema defaults, then
`all`, then per-policy config), Analyze per resource (inputs) and AnalyzeStack once with every
resource's outputs, parent, dependencies and propertyDependencies.

This module does the same with the venv's interpreter. An in-process Engine gRPC server stands
in for the CLI's host address (the pack only needs it for logging)."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import threading
from concurrent import futures
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc

from tools.lifetime import DIE_WITH_PARENT_PRELUDE, track, untrack
from tools.wire import GRAPH_FORMAT, UNKNOWN, scrub, secret_texts

REPO_ROOT = Path(__file__).resolve().parents[1]
PACK_DIR = REPO_ROOT / "policies"
LEVELS = {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory",
          analyzer_pb2.DISABLED: "disabled", analyzer_pb2.REMEDIATE: "remediate"}
LEVEL_VALUES = {v: k for k, v in LEVELS.items()}
STACK_ROLES = ("prod", "dr-drill", "dr-failover")
_MAX_MSG = 1024 * 1024 * 400


class InputError(Exception):
    """Bad user input (graph, config): reported as one paragraph, exit code 2."""


class AnalyzerError(Exception):
    """The policy pack could not be started or failed while analyzing."""


@dataclass
class Violation:
    stack: str
    policy: str
    level: str
    message: str
    urn: str
    resource_type: str = ""
    resource_name: str = ""
    description: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


MAX_IN_FLIGHT = 64
"""Analyze requests awaiting an answer at once (thousands in flight ended in CANCELLED)."""


@dataclass
class PolicyInfo:
    name: str
    description: str
    level: str
    kind: str  # resource | stack
    config_schema: Dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------
# Policy config: parse (CLI --policy-pack-config format) and reconcile like the CLI
# ------------------------------------------------------------------------------------------------

def parse_policy_config(raw: Any, source: str = "policy config") -> Dict[str, Dict[str, Any]]:
    """{policy|all: level-string | {enforcementLevel?, prop: value}} -> {name: {level, props}}."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InputError(f"The {source} must be a JSON object mapping policy names (or 'all') to "
                         "an enforcement level string or an object of properties.")
    out: Dict[str, Dict[str, Any]] = {}
    for name, value in raw.items():
        level, props = None, {}
        if isinstance(value, str):
            level = value
        elif isinstance(value, Mapping):
            props = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = value.get("enforcementLevel")
            if level is not None and not isinstance(level, str):
                raise InputError(f"In the {source}, '{name}'.enforcementLevel must be a string.")
        else:
            raise InputError(f"In the {source}, '{name}' must be a string or an object, not "
                             f"{type(value).__name__}.")
        if level is not None and level not in LEVEL_VALUES:
            raise InputError(f"In the {source}, '{name}' has enforcement level '{level}'; use one "
                             "of advisory, mandatory, remediate, disabled.")
        if level is None and not props:
            continue
        out[str(name)] = {"level": level, "props": dict(props)}
    return out


def _check_value(schema: Mapping[str, Any], value: Any, where: str) -> List[str]:
    errors = []
    t = schema.get("type")
    checks = {"string": lambda v: isinstance(v, str),
              "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "boolean": lambda v: isinstance(v, bool),
              "array": lambda v: isinstance(v, list),
              "object": lambda v: isinstance(v, dict)}
    if t in checks and not checks[t](value):
        return [f"{where}: expected {t}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: must be one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: must be <= {schema['maximum']}")
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            errors.extend(_check_value(schema["items"], item, f"{where}[{i}]"))
    return errors


def reconcile_config(policies: Sequence[PolicyInfo], given: Mapping[str, Dict[str, Any]],
                     stack_role: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
    """Mirror of the CLI's ReconcilePolicyPackConfig (+ applyConfig, validatePolicyPackConfig).

    `stack_role`, when given, is written as the `stackRole` property of every policy whose config
    does not set one explicitly (what a per-stack --policy-pack-config file would do)."""
    result: Dict[str, Dict[str, Any]] = {}
    for p in policies:
        props = {k: copy.deepcopy(v["default"]) for k, v in p.config_schema.items()
                 if isinstance(v, Mapping) and "default" in v}
        result[p.name] = {"level": p.level, "props": props}
    all_cfg = given.get("all")
    if all_cfg and all_cfg.get("level"):
        for name in result:
            result[name]["level"] = all_cfg["level"]
    for name, cfg in given.items():
        entry = result.setdefault(name, {"level": None, "props": {}})
        if cfg.get("level"):
            entry["level"] = cfg["level"]
        entry["props"].update(copy.deepcopy(cfg.get("props") or {}))
    if stack_role:
        for p in policies:
            if "stackRole" in p.config_schema and "stackRole" not in (
                    given.get(p.name, {}).get("props") or {}):
                result[p.name]["props"]["stackRole"] = stack_role
    errors = []
    known = {p.name: p for p in policies}
    for name, entry in result.items():
        p = known.get(name)
        if p is None:
            if name != "all":
                errors.append(f"{name}: no such policy in the pack")
            continue
        for k, v in entry["props"].items():
            if k in p.config_schema:
                errors.extend(_check_value(p.config_schema[k], v, f"{name}.{k}"))
    if errors:
        raise InputError("The policy config does not match the pack's config schema: "
                         + "; ".join(errors) + ".")
    return result


# ------------------------------------------------------------------------------------------------
# Graph handling
# ------------------------------------------------------------------------------------------------

def validate_graph(graph: Any, source: str) -> Dict[str, Any]:
    """The whole document against the graph format (tools.graph_schema), once, up front."""
    from tools.graph_schema import GraphError, check_graph

    try:
        return check_graph(graph, source)
    except GraphError as exc:
        raise InputError(str(exc)) from None


def stack_role_of(graph: Mapping[str, Any]) -> str:
    """prod, dr-drill or dr-failover, as the program itself reported it: its `mode` stack output.
    An unknown `mode` (a crafted plan) falls back to the stack's own config (printflow:role and
    printflow:dr.mode); a graph with neither is treated as prod, the strictest role."""
    stack = next((r for r in graph.get("resources", []) if r.get("type") == "pulumi:pulumi:Stack"), {})
    mode = (stack.get("outputs") or graph.get("outputs") or {}).get("mode")
    if mode == UNKNOWN or mode is None:
        config = graph.get("config") or {}
        dr_block = config.get("printflow:dr")
        try:
            dr_block = json.loads(dr_block) if isinstance(dr_block, str) else dr_block
        except ValueError:
            dr_block = None
        if config.get("printflow:role") == "dr" and isinstance(dr_block, dict):
            mode = dr_block.get("mode")
    return {"drill": "dr-drill", "failover": "dr-failover"}.get(mode, "prod")


def _struct(value: Optional[Mapping[str, Any]]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    if value:
        s.update(dict(value))
    return s


def _options(res: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
    o = res.get("options") or {}
    dbr = o.get("deleteBeforeReplace")
    timeouts = o.get("customTimeouts") or {}
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(o.get("protect", False)),
        ignoreChanges=[str(x) for x in o.get("ignoreChanges") or []],
        deleteBeforeReplace=bool(dbr),
        deleteBeforeReplaceDefined=dbr is not None,
        additionalSecretOutputs=[str(x) for x in o.get("additionalSecretOutputs") or []],
        aliases=[str(x) for x in o.get("aliases") or []],
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=float(timeouts.get("create") or 0), update=float(timeouts.get("update") or 0),
            delete=float(timeouts.get("delete") or 0)),
        parent=res.get("parent") or "",
    )


class _GraphIndex:
    def __init__(self, graph: Mapping[str, Any]):
        self.graph = graph
        self.by_urn = {r["urn"]: r for r in graph["resources"]}
        self.stack = str(graph.get("stack") or "stack")
        self.project = str(graph.get("project") or "project")
        self.region = (graph.get("config") or {}).get("aws:region")

    def provider(self, res: Mapping[str, Any]) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
        ref = res.get("provider") or ""
        t = res.get("type", "")
        if ref:
            p = self.by_urn.get(ref) or self.by_urn.get(ref.rsplit("::", 1)[0])
            if p is not None:
                return analyzer_pb2.AnalyzerProviderResource(
                    type=p["type"], urn=p["urn"], name=p.get("name", ""),
                    properties=_struct(p.get("inputs")))
        if not t.startswith("aws:"):
            return None
        # the default aws provider, configured from the stack's aws:region
        props = {"region": self.region} if self.region else {}
        return analyzer_pb2.AnalyzerProviderResource(
            type="pulumi:providers:aws",
            urn=f"urn:pulumi:{self.stack}::{self.project}::pulumi:providers:aws::default",
            name="default", properties=_struct(props))


# ------------------------------------------------------------------------------------------------
# Engine stand-in
# ------------------------------------------------------------------------------------------------

class _Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self):
        self.logs: List[str] = []
        self._lock = threading.Lock()

    def Log(self, request, context):  # noqa: N802 - gRPC name
        with self._lock:
            self.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):  # noqa: N802
        from pulumi.runtime.proto import engine_pb2
        return engine_pb2.GetRootResourceResponse(urn="")

    def SetRootResource(self, request, context):  # noqa: N802
        from pulumi.runtime.proto import engine_pb2
        return engine_pb2.SetRootResourceResponse()


# ------------------------------------------------------------------------------------------------
# The analyzer session
# ------------------------------------------------------------------------------------------------

class Analyzer:
    """One running policy-pack process. Use as a context manager; evaluate() may be called
    repeatedly (Configure is sent before every graph, so config never leaks between calls)."""

    def __init__(self, pack_dir: Path = PACK_DIR, python: str = sys.executable,
                 start_timeout: float = 30.0, cache_analyze: bool = False):
        """`cache_analyze`: memoize Analyze responses by (config, exact request bytes). Analyze
        is a pure function of the resource and the policy config, so this only skips repeated
        identical calls (used by the test-suite, which checks many near-identical graphs)."""
        self.pack_dir = Path(pack_dir)
        self._cache: Optional[Dict[Any, Any]] = {} if cache_analyze else None
        self._config_key = ""
        self.python = python
        self.start_timeout = start_timeout
        self.proc: Optional[subprocess.Popen] = None
        self.channel = None
        self.stub = None
        self.engine_server = None
        self.engine = _Engine()
        self.policies: List[PolicyInfo] = []
        self.pack_name = ""
        self.pack_version = ""
        self._stderr: List[str] = []

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "Analyzer":
        return self.launch().connect()

    def launch(self) -> "Analyzer":
        """Start the pack process only: no thread, no gRPC yet, so this process may still fork.
        The pack does not call its engine while starting, so the engine server comes in connect()."""
        if self.proc is not None:
            return self
        if not (self.pack_dir / "__main__.py").is_file():
            raise InputError(f"No policy pack at {self.pack_dir} (missing __main__.py).")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self._engine_port = probe.getsockname()[1]
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("PULUMI_CONFIG", None)
        # pulumi-analyzer-policy-python: `python -u -m pulumi.policy <engine> .` in the pack dir
        # `python -u -m pulumi.policy <engine> .`, preceded by a prelude that makes the kernel
        # kill the pack if this process dies (tools.lifetime): no orphaned pack, ever.
        run_pack = (DIE_WITH_PARENT_PRELUDE + "import runpy\n"
                    "sys.argv[0] = 'pulumi.policy'\n"
                    "runpy.run_module('pulumi.policy', run_name='__main__', alter_sys=True)\n")
        self.proc = subprocess.Popen(
            [self.python, "-u", "-c", run_pack, f"127.0.0.1:{self._engine_port}", "."],
            cwd=str(self.pack_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        track(self.proc.pid)
        return self

    def connect(self) -> "Analyzer":
        """Serve the engine, wait for the pack's port, handshake and read the pack's policies."""
        self.launch()
        self.engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self.engine_server)
        engine_port = self.engine_server.add_insecure_port(f"127.0.0.1:{self._engine_port}")
        if engine_port == 0:
            self.close()
            raise AnalyzerError(f"Could not serve the engine on 127.0.0.1:{self._engine_port}.")
        self.engine_server.start()
        port = self._read_port()
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", _MAX_MSG),
                                          ("grpc.max_send_message_length", _MAX_MSG)])
        grpc.channel_ready_future(self.channel).result(timeout=self.start_timeout)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        try:
            self.stub.Handshake(analyzer_pb2.AnalyzerHandshakeRequest(
                engine_address=f"127.0.0.1:{engine_port}", root_directory=str(self.pack_dir),
                program_directory=str(self.pack_dir)))
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise AnalyzerError(f"Handshake failed: {err.details()}") from None
        self._load_info()
        return self

    def _read_port(self) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        result: Dict[str, Any] = {}

        def reader():
            result["line"] = self.proc.stdout.readline()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(self.start_timeout)
        line = (result.get("line") or b"").decode().strip()
        if not line.isdigit():
            self.close()
            err = (self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else "")
            logs = " ".join(self.engine.logs)
            raise AnalyzerError("The policy pack did not start (no port printed). "
                                + (err.strip() or logs or "No error output.")[-2000:])
        # drain stderr in the background so the child never blocks on a full pipe
        threading.Thread(target=self._drain, daemon=True).start()
        return int(line)

    def _drain(self):
        assert self.proc is not None and self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            self._stderr.append(raw.decode(errors="replace"))

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            untrack(self.proc.pid)
        if self.engine_server is not None:
            self.engine_server.stop(0)
            self.engine_server = None

    def __enter__(self) -> "Analyzer":
        return self if self.stub is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- protocol -------------------------------------------------------------------------------
    def _call(self, method: str, request):
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as err:
            tail = "".join(self._stderr[-20:]).strip()
            raise AnalyzerError(f"The policy pack failed in {method}: {err.details()}"
                                + (f"\n{tail}" if tail else "")) from None

    def _load_info(self) -> None:
        self.plugin_version = self._call("GetPluginInfo", empty_pb2.Empty()).version
        info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        self.pack_name, self.pack_version = info.name, info.version
        self.policies = []
        for p in info.policies:
            schema = json_format.MessageToDict(p.configSchema.properties) if p.HasField(
                "configSchema") else {}
            kind = "stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource"
            self.policies.append(PolicyInfo(p.name, p.description, LEVELS[p.enforcementLevel],
                                            kind, schema))

    def _analyze_later(self, req):
        """Send Analyze now and return a function that waits for its response. The engine also
        analyzes resources concurrently; here it keeps the pack busy while requests are built."""
        key = (self._config_key, req.SerializeToString(deterministic=True)) if self._cache is not None else None
        if key is not None and key in self._cache:
            cached = self._cache[key]
            return lambda: cached
        future = self.stub.Analyze.future(req)

        def response():
            try:
                resp = future.result()
            except grpc.RpcError as err:
                tail = "".join(self._stderr[-20:]).strip()
                raise AnalyzerError(f"The policy pack failed in Analyze: {err.details()}"
                                    + (f"\n{tail}" if tail else "")) from None
            if key is not None:
                self._cache[key] = resp
            return resp
        return response

    def configure(self, config: Mapping[str, Dict[str, Any]]) -> None:
        req = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in config.items():
            level = entry.get("level") or "advisory"
            req.policyConfig[name].CopyFrom(analyzer_pb2.PolicyConfig(
                enforcementLevel=LEVEL_VALUES[level], properties=_struct(entry.get("props"))))
        self._call("Configure", req)

    def evaluate(self, graph: Mapping[str, Any], config: Optional[Mapping[str, Any]] = None,
                 stack_role: Optional[str] = None) -> List[Violation]:
        """Configure, Analyze every resource, AnalyzeStack; return the violations."""
        graph = validate_graph(graph, f"graph '{graph.get('stack', '?')}'"
                               if isinstance(graph, Mapping) else "graph")
        index = _GraphIndex(graph)
        given = parse_policy_config(config)
        role = stack_role or stack_role_of(graph)
        self._call("ConfigureStack", analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=index.stack, project=index.project, organization="organization",
            dry_run=True))
        reconciled = reconcile_config(self.policies, given, role)
        self.configure(reconciled)
        self._config_key = json.dumps([index.stack, index.project, reconciled], sort_keys=True,
                                       default=str)
        violations: List[Violation] = []
        descriptions = {p.name: p.description for p in self.policies}
        stack_urn = next((r["urn"] for r in graph["resources"]
                          if r["type"] == "pulumi:pulumi:Stack"), "")

        secrets = secret_texts(graph)  # no message prints a secret, whatever a policy quotes

        def collect(resp, default_urn: str):
            for d in resp.diagnostics:
                urn = d.urn or default_urn or stack_urn
                res = index.by_urn.get(urn, {})
                msg = scrub(d.message, secrets)
                desc = d.description or descriptions.get(d.policyName, "")
                if desc and msg.startswith(desc):
                    msg = msg[len(desc):].lstrip("\n") or desc
                violations.append(Violation(
                    stack=index.stack, policy=d.policyName, level=LEVELS.get(
                        d.enforcementLevel, "advisory"), message=msg, urn=urn,
                    resource_type=res.get("type", ""), resource_name=res.get("name", ""),
                    description=desc))

        stack_resources = []
        pending = []
        done = 0
        for r in graph["resources"]:
            if len(pending) - done >= MAX_IN_FLIGHT:  # bounded: a huge graph never floods the pack
                collect(pending[done][1](), pending[done][0])
                done += 1
            provider = index.provider(r)
            req = analyzer_pb2.AnalyzeRequest(
                type=r["type"], properties=_struct(r.get("inputs")), urn=r["urn"],
                name=r.get("name") or r["urn"].split("::")[-1], options=_options(r))
            if provider is not None:
                req.provider.CopyFrom(provider)
            pending.append((r["urn"], self._analyze_later(req)))
            # AnalyzeStack sees final state: a provider's outputs include its inputs.
            props = {**(r.get("inputs") or {}), **(r.get("outputs") or {})}
            sr = analyzer_pb2.AnalyzerResource(
                type=r["type"], properties=_struct(props), urn=r["urn"],
                name=r.get("name") or r["urn"].split("::")[-1], options=_options(r),
                parent=r.get("parent") or "", dependencies=list(r.get("dependencies") or []))
            if provider is not None:
                sr.provider.CopyFrom(provider)
            for k, urns in (r.get("propertyDependencies") or {}).items():
                if urns:
                    sr.propertyDependencies[k].urns.extend(list(urns))
            stack_resources.append(sr)
        for urn, response in pending[done:]:
            collect(response(), urn)
        collect(self._call("AnalyzeStack", analyzer_pb2.AnalyzeStackRequest(
            resources=stack_resources)), "")
        return violations


def evaluate(graphs: Any, config: Optional[Mapping[str, Any]] = None,
             stack_role: Optional[str] = None, pack_dir: Path = PACK_DIR) -> List[Violation]:
    """Evaluate one graph, a list of graphs or {stack: graph} with one analyzer process."""
    if isinstance(graphs, Mapping) and "resources" in graphs:
        items: Iterable[Any] = [graphs]
    elif isinstance(graphs, Mapping):
        items = list(graphs.values())
    else:
        items = list(graphs)
    out: List[Violation] = []
    with Analyzer(pack_dir) as analyzer:
        for g in items:
            out.extend(analyzer.evaluate(g, config, stack_role))
    return out


def role_config(policies: Sequence[PolicyInfo], role: str) -> Dict[str, Any]:
    """The --policy-pack-config document that selects `role` for every policy (the files in
    policies/config/ are generated from this)."""
    return {p.name: {"stackRole": role} for p in sorted(policies, key=lambda p: p.name)
            if "stackRole" in p.config_schema}


def list_policies(pack_dir: Path = PACK_DIR) -> List[PolicyInfo]:
    with Analyzer(pack_dir) as analyzer:
        return list(analyzer.policies)
