"""`--graph` reads what a user has from the real CLI: `pulumi preview --json` and
`pulumi stack export`. The documents here are built field by field from the Go structs the CLI
serialises (pulumi/pulumi sdk/go/common/apitype/core.go: UntypedDeployment, DeploymentV3,
ResourceV3, SecretV1; pkg/display/json.go: PreviewDigest, PreviewStep), with secrets as the CLI
writes them: encrypted `{sig, ciphertext}` in state, the string "[secret]" in a preview
(pkg/backend/display/json.go massagePropertyValue)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tools import policy_check
from tools.graph_import import graphs_in
from tools.policy_types import CheckInputError
from tools.wire import SECRET_SIG, SIG_KEY, is_wire_secret

PROVIDER_URN = "urn:pulumi:{stack}::printflow::pulumi:providers:aws::default_7_0_0"
PROVIDER_ID = "0b8c7f6e-5f36-4c1e-9a2b-6a1f0d3c2e11"


def _secrets(value: Any, how: str) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return "[secret]" if how == "blinded" else {SIG_KEY: SECRET_SIG, "ciphertext": "v1:6Qv2q0l0aW5n:c2VjcmV0"}
        return {k: _secrets(v, how) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets(v, how) for v in value]
    return value


def resource_v3(r: dict, stack: str, how: str, with_outputs: bool = True) -> dict:
    """apitype.ResourceV3 of a rendered resource, `omitempty` fields left out as the CLI does."""
    outputs = {k: v for k, v in (r.get("outputs") or {}).items() if k != "id"}
    state = {
        "urn": r["urn"], "custom": r["custom"], "type": r["type"],
        "id": (r.get("outputs") or {}).get("id") if r["custom"] else None,
        "inputs": _secrets(r["inputs"], how), "outputs": _secrets(outputs, how) if with_outputs else None,
        "parent": r.get("parent"), "protect": r["options"].get("protect"),
        "dependencies": r.get("dependencies"),
        "provider": f"{PROVIDER_URN.format(stack=stack)}::{PROVIDER_ID}" if r["type"].startswith("aws:") else None,
        "propertyDependencies": r.get("propertyDependencies"),
        "additionalSecretOutputs": r["options"].get("additionalSecretOutputs"),
        "sourcePosition": r.get("sourcePosition"),
    }
    return {k: v for k, v in state.items() if v not in (None, False, [], {})}


def _provider(stack: str) -> dict:
    return {"urn": PROVIDER_URN.format(stack=stack), "custom": True, "id": PROVIDER_ID,
            "type": "pulumi:providers:aws", "inputs": {"region": "us-east-1", "version": "7.0.0"},
            "outputs": {"region": "us-east-1", "version": "7.0.0"}}


def stack_export(graph: dict) -> dict:
    """apitype.UntypedDeployment{version 3, deployment: DeploymentV3}, as `pulumi stack export`."""
    stack = graph["stack"]
    return {"version": 3, "deployment": {
        "manifest": {"time": "2026-11-22T10:00:00Z", "magic": "0" * 64, "version": "v3.200.0"},
        "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:abc"}},
        "resources": [_provider(stack)] + [resource_v3(r, stack, "ciphertext") for r in graph["resources"]]}}


def preview_json(graph: dict) -> dict:
    """display.PreviewDigest of a first `pulumi preview --json`: every step a create, the new
    state without provider outputs yet (the stack's outputs are not known either)."""
    stack = graph["stack"]
    steps = [{"op": "create", "urn": _provider(stack)["urn"], "newState": _provider(stack)}]
    for r in graph["resources"]:
        steps.append({"op": "create", "urn": r["urn"],
                      "newState": resource_v3(r, stack, "blinded", with_outputs=False)})
    config = {k: ("[secret]" if "https_endpoints" in v else v) for k, v in graph["config"].items()}
    return {"config": config, "steps": steps, "changeSummary": {"create": len(steps)},
            "duration": 1200000000}


def _mutate(graph: dict) -> dict:
    """Versioning suspended and a 1-day backup retention, in the inputs and the final outputs."""
    g = copy.deepcopy(graph)
    for r in g["resources"]:
        for part in ("inputs", "outputs"):
            props = r.get(part) or {}
            if r["type"] == "aws:s3/bucketVersioning:BucketVersioning" and "versioningConfiguration" in props:
                props["versioningConfiguration"]["status"] = "Suspended"
            if r["type"] == "aws:rds/instance:Instance" and "backupRetentionPeriod" in props:
                props["backupRetentionPeriod"] = 1
    return g


def _check(tmp_path, document: dict) -> tuple[int, list]:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document))
    out = tmp_path / "v.json"
    code = policy_check.main(["--graph", str(path), "--json", "--sarif", str(out.with_suffix(".sarif"))])
    return code, json.loads(out.with_suffix(".sarif").read_text())["runs"][0]["results"]


CAUGHT = {"aws-s3-bucket-versioning-enabled", "aws-rds-instance-backup-retention"}


@pytest.mark.parametrize("build", [stack_export, preview_json], ids=["stack-export", "preview-json"])
def test_a_clean_document_passes(tmp_path, baselines, build):
    code, results = _check(tmp_path, build(baselines["prod"]))
    assert (code, results) == (0, [])


@pytest.mark.parametrize("build", [stack_export, preview_json], ids=["stack-export", "preview-json"])
def test_a_mutated_document_is_caught(tmp_path, baselines, build):
    code, results = _check(tmp_path, build(_mutate(baselines["prod"])))
    assert code == 1 and CAUGHT <= {r["ruleId"] for r in results}


def test_the_dr_stack_export_is_judged_as_its_mode_says(baselines):
    """stackRole comes from the stack's `mode` output, as for a rendered graph."""
    from tools.analyzer_wire import stack_role_of

    (graph,) = graphs_in(stack_export(baselines["dr"]), "state.json")
    mode = next(r for r in baselines["dr"]["resources"] if r["type"] == "pulumi:pulumi:Stack")["outputs"]["mode"]
    assert stack_role_of(graph) == {"drill": "dr-drill", "failover": "dr-failover"}[mode]


def test_encrypted_and_blinded_secrets_stay_secret(baselines):
    (state,) = graphs_in(stack_export(baselines["prod"]), "state.json")
    (plan,) = graphs_in(preview_json(baselines["prod"]), "plan.json")
    for graph in (state, plan):
        versions = [r for r in graph["resources"] if r["type"] == "aws:secretsmanager/secretVersion:SecretVersion"]
        assert versions and all(is_wire_secret(r["inputs"]["secretString"]) for r in versions)
        assert "ciphertext" not in json.dumps(graph) and "[secret]" not in json.dumps(graph)


def test_the_multi_stack_file_make_graph_writes(baselines):
    graphs = graphs_in({"prod": baselines["prod"], "dr": baselines["dr"]}, "out/graph.json")
    assert [g["stack"] for g in graphs] == ["prod", "dr"]


def test_a_preview_of_an_existing_stack_without_sames_is_refused(baselines):
    """pkg/backend/display shouldShow: without --show-sames an unchanged resource has no step, so
    the digest of an update is a fragment of the stack."""
    digest = preview_json(baselines["prod"])
    stack_step, db_step = digest["steps"][1], next(s for s in digest["steps"] if "rds/instance:" in s["urn"])
    fragment = {**digest, "steps": [{**stack_step, "op": "same"}, {**db_step, "op": "update"}],
                "changeSummary": {"same": len(digest["steps"]) - 1, "update": 1}}
    fragment["steps"] = [fragment["steps"][1]]  # the root stack step too is left out when unchanged
    with pytest.raises(CheckInputError, match="--show-sames"):
        graphs_in(fragment, "plan.json")
    whole = {**digest, "steps": [{**s, "op": "same"} for s in digest["steps"]],
             "changeSummary": {"same": len(digest["steps"])}}
    (graph,) = graphs_in(whole, "plan.json")
    assert len(graph["resources"]) == len(baselines["prod"]["resources"]) + 1  # and the default provider


def test_a_replacement_is_read_once(baselines):
    """With --show-replacement-steps a replaced resource has create-replacement and replace steps
    carrying the same new state (deploy.ReplaceStep.New), then a delete-replaced with none."""
    digest = preview_json(baselines["prod"])
    db_step = next(s for s in digest["steps"] if "rds/instance:" in s["urn"])
    digest["steps"] += [{**db_step, "op": "create-replacement"}, {**db_step, "op": "replace"},
                        {"op": "delete-replaced", "urn": db_step["urn"]}]
    (graph,) = graphs_in(digest, "plan.json")
    urns = [r["urn"] for r in graph["resources"]]
    assert len(urns) == len(set(urns)) == len(baselines["prod"]["resources"]) + 1  # and the provider


@pytest.mark.parametrize("document", [[], {"steps": "x", "a": 1}, {"something": "else"},
                                      {"steps": [{"op": "create", "newState": {"urn": 3}}]}])
def test_other_documents_get_one_clear_error(document):
    with pytest.raises(CheckInputError) as err:
        graphs_in(document, "doc.json")
    assert "doc.json" in str(err.value)
