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

import json
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc

from tools.analyzer_wire import _Engine, GraphIndex, _struct, stack_role_of, validate_graph
from tools.pack_process import PACK_DIR, PackProcess
from tools.policy_config import parse_policy_config, reconcile_config, role_config
from tools.policy_types import (
    LEVEL_VALUES, LEVELS, SEVERITIES, STACK_ROLES, AnalyzerError, CheckInputError, PolicyInfo, Violation,
)
from tools.wire import scrub, secret_texts

__all__ = ["Analyzer", "AnalyzerError", "CheckInputError", "PolicyInfo", "STACK_ROLES", "Violation",
           "evaluate", "list_policies", "parse_policy_config", "reconcile_config", "role_config",
           "stack_role_of", "validate_graph"]

_MAX_MSG = 1024 * 1024 * 400
MAX_IN_FLIGHT = 64
"""Analyze requests awaiting an answer at once (thousands in flight ended in CANCELLED)."""


# ------------------------------------------------------------------------------------------------
# The analyzer session
# ------------------------------------------------------------------------------------------------

class Analyzer:
    """One running policy-pack process. Use as a context manager; evaluate() may be called
    repeatedly (Configure is sent before every graph, so config never leaks between calls)."""

    def __init__(self, pack_dir: Path = PACK_DIR, python: str = sys.executable,
                 start_timeout: float = 30.0, cache_analyze: bool = False,
                 process: Optional[PackProcess] = None):
        """`cache_analyze`: memoize Analyze responses by (config, exact request bytes). Analyze
        is a pure function of the resource and the policy config, so this only skips repeated
        identical calls (used by the test-suite, which checks many near-identical graphs).
        `process`: the pack's process, already started for `pack_dir` (tools.pack_process)."""
        self.pack_dir = Path(pack_dir)
        self._cache: Optional[Dict[Any, Any]] = {} if cache_analyze else None
        self._config_key = ""
        self.python = python
        self.start_timeout = start_timeout
        self.process: Optional[PackProcess] = process
        self.proc: Optional[subprocess.Popen] = process.proc if process is not None else None
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
            raise CheckInputError(f"No policy pack at {self.pack_dir} (missing __main__.py).")
        self.process = PackProcess(self.pack_dir, self.python)
        self.proc = self.process.proc
        return self

    def connect(self) -> "Analyzer":
        """Serve the engine, wait for the pack's port, handshake and read the pack's policies."""
        self.launch()
        self.engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self.engine_server)
        wanted = self.process.engine_port
        engine_port = self.engine_server.add_insecure_port(f"127.0.0.1:{wanted}")
        if engine_port == 0:
            self.close()
            raise AnalyzerError(f"Could not serve the engine on 127.0.0.1:{wanted}.")
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
        if self.process is not None:
            self.process.stop()
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
                                            kind, schema, SEVERITIES.get(p.severity, ""),
                                            tuple(p.tags), p.url))

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
                 stack_role: Optional[str] = None, validated: bool = False) -> List[Violation]:
        """Configure, Analyze every resource, AnalyzeStack; return the violations. `validated`:
        the caller has already checked `graph` against the graph format (validate_graph)."""
        if not validated:
            graph = validate_graph(graph, f"graph '{graph.get('stack', '?')}'"
                                   if isinstance(graph, Mapping) else "graph")
        index = GraphIndex(graph)
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

        secrets: List[Any] = []  # read on the first finding: a clean graph is never walked for them

        def collect(resp, default_urn: str):
            for d in resp.diagnostics:
                urn = d.urn or default_urn or stack_urn
                res = index.by_urn.get(urn, {})
                if not secrets:
                    secrets.append(secret_texts(graph))
                msg = scrub(d.message, secrets[0])  # no message prints a secret, whatever a policy quotes
                desc = d.description or descriptions.get(d.policyName, "")
                if desc and msg.startswith(desc):
                    msg = msg[len(desc):].lstrip("\n") or desc
                violations.append(Violation(
                    stack=index.stack, policy=d.policyName, level=LEVELS.get(
                        d.enforcementLevel, "advisory"), message=msg, urn=urn,
                    resource_type=res.get("type", ""), resource_name=res.get("name", ""),
                    description=desc, source_position=res.get("sourcePosition", "")))

        stack_resources = []
        pending = []
        done = 0
        for r in graph["resources"]:
            if len(pending) - done >= MAX_IN_FLIGHT:  # bounded: a huge graph never floods the pack
                collect(pending[done][1](), pending[done][0])
                done += 1
            pending.append((r["urn"], self._analyze_later(index.analyze_request(r))))
            stack_resources.append(index.stack_resource(r))
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


def list_policies(pack_dir: Path = PACK_DIR) -> List[PolicyInfo]:
    with Analyzer(pack_dir) as analyzer:
        return list(analyzer.policies)
