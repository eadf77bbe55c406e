"""A resource graph as the analyzer protocol carries it: the graph checked once, its stack role,
the resources as protobuf Structs and resource options, providers; and the engine the pack logs to."""

from __future__ import annotations

import json
import threading
from typing import Any, Dict, List, Mapping, Optional

from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, engine_pb2_grpc

from tools.policy_types import CheckInputError
from tools.wire import UNKNOWN_SENTINEL

# ------------------------------------------------------------------------------------------------
# Graph handling
# ------------------------------------------------------------------------------------------------

def validate_graph(graph: Any, source: str) -> Dict[str, Any]:
    """The whole document against the graph format (tools.graph_schema), once, up front."""
    from tools.graph_schema import GraphError, check_graph

    try:
        return check_graph(graph, source)
    except GraphError as exc:
        raise CheckInputError(str(exc)) from None


def stack_role_of(graph: Mapping[str, Any]) -> str:
    """prod, dr-drill or dr-failover, as the program itself reported it: its `mode` stack output.
    An unknown `mode` (a crafted plan) falls back to the stack's own config (printflow:role and
    printflow:dr.mode); a graph with neither is treated as prod, the strictest role."""
    stack = next((r for r in graph.get("resources", []) if r.get("type") == "pulumi:pulumi:Stack"), {})
    mode = (stack.get("outputs") or graph.get("outputs") or {}).get("mode")
    if mode == UNKNOWN_SENTINEL or mode is None:
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


class GraphIndex:
    def __init__(self, graph: Mapping[str, Any]):
        self.graph = graph
        self.by_urn = {r["urn"]: r for r in graph["resources"]}
        self.stack = str(graph.get("stack") or "stack")
        self.project = str(graph.get("project") or "project")
        self.region = (graph.get("config") or {}).get("aws:region")
        self._providers: Dict[tuple, Optional[analyzer_pb2.AnalyzerProviderResource]] = {}

    def provider(self, res: Mapping[str, Any]) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
        key = (res.get("provider") or "", str(res.get("type", "")).startswith("aws:"))
        if key not in self._providers:
            self._providers[key] = self._provider(res)
        return self._providers[key]

    def _provider(self, res: Mapping[str, Any]) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
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


    def analyze_request(self, r: Mapping[str, Any]) -> analyzer_pb2.AnalyzeRequest:
        """Analyze sees a resource's inputs, as the engine sends them before the step runs."""
        req = analyzer_pb2.AnalyzeRequest(
            type=r["type"], properties=_struct(r.get("inputs")), urn=r["urn"],
            name=r.get("name") or r["urn"].split("::")[-1], options=_options(r))
        provider = self.provider(r)
        if provider is not None:
            req.provider.CopyFrom(provider)
        return req

    def stack_resource(self, r: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResource:
        """AnalyzeStack sees final state: a provider's outputs include its inputs."""
        props = {**(r.get("inputs") or {}), **(r.get("outputs") or {})}
        sr = analyzer_pb2.AnalyzerResource(
            type=r["type"], properties=_struct(props), urn=r["urn"],
            name=r.get("name") or r["urn"].split("::")[-1], options=_options(r),
            parent=r.get("parent") or "", dependencies=list(r.get("dependencies") or []))
        provider = self.provider(r)
        if provider is not None:
            sr.provider.CopyFrom(provider)
        for k, urns in (r.get("propertyDependencies") or {}).items():
            if urns:
                sr.propertyDependencies[k].urns.extend(list(urns))
        return sr


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
