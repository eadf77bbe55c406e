"""What `--graph FILE` accepts, recognised by its shape, turned into resource graphs:

- a graph (`format: printflow-resource-graph/1`, `python -m tools.render --graph`);
- the multi-stack file `make graph` writes (`{stack: graph}`);
- `pulumi preview --json --show-sames` (display.PreviewDigest: `steps[].newState`, each an
  apitype.ResourceV3). Without --show-sames a preview of an existing stack lists only what
  changes (pkg/backend/display `shouldShow`), and a policy about the whole stack would judge a
  fragment: such a digest is refused. With --show-replacement-steps a replaced resource has two
  steps with one new state: it is read once;
- `pulumi stack export` (apitype.UntypedDeployment: `{"version": 3, "deployment": DeploymentV3}`,
  resources in `deployment.resources`), or a bare DeploymentV3.

Field names follow the Go structs (pulumi/pulumi sdk/go/common/apitype/core.go, pkg/display/
json.go). AnalyzeStack sees each resource's final outputs as the engine sends them, so a state
resource keeps its `outputs`; a planned create has none yet. Encrypted or blinded secrets
(`{"4dabf...": "1b47...", "ciphertext": ...}`) stay secret and unknown: a policy never reads a
ciphertext as a value. `--show-secrets` exports (`"plaintext": "<json>"`) become secret values.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional

from tools.policy_types import CheckInputError
from tools.wire import GRAPH_FORMAT, SIG_KEY, SECRET_SIG, UNKNOWN_SENTINEL, secret

SHAPES = ("a resource graph (python -m tools.render --graph), the {stack: graph} file `make graph` "
          "writes, `pulumi preview --json` output or `pulumi stack export` output")
BLINDED = "[secret]"


def graphs_in(document: Any, source: str) -> List[Dict[str, Any]]:
    """The resource graphs in a --graph document, whatever its shape; CheckInputError otherwise."""
    if isinstance(document, Mapping):
        if "format" in document:
            return [dict(document)]
        if isinstance(document.get("steps"), list):
            return [_from_resources(_planned_states(document, source), source,
                                    config=document.get("config"), blinded=True)]
        deployment = document.get("deployment") if "deployment" in document else (
            document if "manifest" in document and "resources" in document else None)
        if isinstance(deployment, Mapping):
            return [_from_resources(deployment.get("resources") or [], source)]
        if document and all(isinstance(g, Mapping) and g.get("format") == GRAPH_FORMAT
                            for g in document.values()):
            return [dict(g) for g in document.values()]
        if "resources" in document:
            return [dict(document)]  # a graph without its format line: the format check says so
    raise CheckInputError(f"{source} is not a document the policy check reads: expected {SHAPES}.")


def _planned_states(digest: Mapping[str, Any], source: str) -> List[Any]:
    """Each resource's new state once (a delete step has none), or CheckInputError when the
    digest leaves the unchanged resources out."""
    steps = [s for s in digest["steps"] if isinstance(s, Mapping)]
    summary = digest.get("changeSummary") if isinstance(digest.get("changeSummary"), Mapping) else {}
    unchanged = summary.get("same")
    if isinstance(unchanged, int) and unchanged > 0 and not any(s.get("op") == "same" for s in steps):
        raise CheckInputError(
            f"{source} lists only what changes ({unchanged} unchanged resource(s) left out), so "
            "stack-wide policies would judge a fragment of the stack. Write it with "
            "`pulumi preview --json --show-sames`.")
    states, seen = [], set()
    for step in steps:
        state = step.get("newState")
        urn = state.get("urn") if isinstance(state, Mapping) else None
        if isinstance(urn, str) and urn in seen:
            continue  # create-replacement and replace carry the same new state
        seen.add(urn)
        states.append(state)
    return states


def _from_resources(states: List[Any], source: str, config: Optional[Mapping[str, Any]] = None,
                    blinded: bool = False) -> Dict[str, Any]:
    resources = []
    for index, state in enumerate(states):
        if state is None:
            continue
        if not isinstance(state, Mapping) or not isinstance(state.get("urn"), str) or \
                not isinstance(state.get("type"), str):
            raise CheckInputError(f"{source}: resource #{index} is not a Pulumi resource state "
                                  "(apitype.ResourceV3 needs 'urn' and 'type').")
        if state.get("delete"):
            continue  # pending deletion: no longer part of the stack
        resources.append(_resource(state, blinded))
    stack = next((r for r in resources if r["type"] == "pulumi:pulumi:Stack"), None)
    if stack is None:
        raise CheckInputError(f"{source} has no pulumi:pulumi:Stack resource, so its stack is unknown.")
    stack_name, project = _stack_and_project(stack["urn"])
    graph = {"format": GRAPH_FORMAT, "project": project, "stack": stack_name,
             "config": {k: v for k, v in (config or {}).items() if isinstance(v, str)},
             "resources": resources}
    return graph


def _stack_and_project(urn: str) -> tuple:
    """urn:pulumi:<stack>::<project>::<type>::<name> (resource.URN)."""
    head = urn.split("::")
    return head[0].removeprefix("urn:pulumi:"), head[1] if len(head) > 1 else ""


def _resource(state: Mapping[str, Any], blinded: bool) -> Dict[str, Any]:
    options = {
        "protect": bool(state.get("protect", False)),
        "retainOnDelete": bool(state.get("retainOnDelete", False)),
        "ignoreChanges": list(state.get("ignoreChanges") or []),
        "additionalSecretOutputs": list(state.get("additionalSecretOutputs") or []),
        "aliases": list(state.get("aliases") or []),
    }
    if state.get("customTimeouts"):
        options["customTimeouts"] = dict(state["customTimeouts"])
    outputs = _values(state.get("outputs") or {}, blinded)
    if state.get("id") and state.get("custom"):
        outputs.setdefault("id", state["id"])
    resource = {
        "urn": state["urn"], "type": state["type"], "name": state["urn"].split("::")[-1],
        "custom": bool(state.get("custom", False)), "parent": state.get("parent") or None,
        "provider": state.get("provider") or "", "inputs": _values(state.get("inputs") or {}, blinded),
        "outputs": outputs, "options": options,
        "dependencies": list(state.get("dependencies") or []),
        "propertyDependencies": {k: list(v or []) for k, v in (state.get("propertyDependencies") or {}).items()},
    }
    if isinstance(state.get("sourcePosition"), str) and state["sourcePosition"]:
        resource["sourcePosition"] = state["sourcePosition"]
    return resource


def _values(value: Any, blinded: bool) -> Any:
    """State values in the wire format the analyzer takes: secrets as {sig, value}. In a preview
    digest the CLI has already replaced every secret by the string "[secret]"
    (pkg/backend/display/json.go, massagePropertyValue): that string is a secret too."""
    if isinstance(value, Mapping):
        if value.get(SIG_KEY) == SECRET_SIG:
            if "value" in value:
                return secret(_values(value["value"], blinded))
            if isinstance(value.get("plaintext"), str):
                try:
                    return secret(_values(json.loads(value["plaintext"]), blinded))
                except ValueError:
                    return secret(value["plaintext"])
            return secret(UNKNOWN_SENTINEL)  # ciphertext: secret, never a value
        return {k: _values(v, blinded) for k, v in value.items()}
    if isinstance(value, list):
        return [_values(v, blinded) for v in value]
    if blinded and value == BLINDED:
        return secret(UNKNOWN_SENTINEL)
    return value
