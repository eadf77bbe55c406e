"""The offline preview itself: tree, resource-graph JSON, Mermaid diagram kept in the README."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.program.graph import render_cli
from tools.render import ROOT, format_mermaid, format_tree
from tools.wire import GRAPH_FORMAT

README = ROOT / "README.md"


def test_tree_lists_every_resource_with_key_settings(prod):
    tree = format_tree(prod.raw)
    for resource in prod.custom():
        assert f" {resource.name}" in tree, resource.name
    for setting in ("backupRetentionPeriod=35", "deletionProtection=True", "multiAz=True",
                    "parameters[0].name=maxmemory-policy parameters[0].value=noeviction", "numReplicasPerShard=1",
                    "versioningConfiguration.status=Enabled", "rule.defaultRetention.mode=GOVERNANCE",
                    "rule.defaultRetention.mode=COMPLIANCE",
                    "applyServerSideEncryptionByDefault.sseAlgorithm=aws:kms",
                    "rule.objectOwnership=BucketOwnerEnforced", "destination.replicationTime.time.minutes=15",
                    "deleteMarkerReplication.status=Enabled", "enableKeyRotation=True",
                    "rds.force_ssl", "[protected, us-east-1]", "[protected, us-west-2]", "insecureValue=false"):
        assert setting in tree, setting


def test_tree_never_prints_secret_values(prod):
    tree = format_tree(prod.raw)
    for version in prod.of_type("aws:secretsmanager/secretVersion:SecretVersion"):
        for value in json.loads(version.inputs["secretString"]).values():
            if isinstance(value, str) and len(value) >= 20 and not value.startswith(("clustercfg", "printflow")):
                assert value not in tree


def test_graph_json_carries_type_name_parent_inputs_and_options(tmp_path):
    target = tmp_path / "prod.json"
    result = subprocess.run([sys.executable, "-m", "tools.render", "--stack", "prod", "--quiet", "--graph", str(target)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    graph = json.loads(target.read_text())
    assert graph["format"] == GRAPH_FORMAT and graph["stack"] == "prod"
    db = next(r for r in graph["resources"] if r["type"] == "aws:rds/instance:Instance")
    assert set(db) >= {"urn", "type", "name", "parent", "inputs", "options", "dependencies", "propertyDependencies"}
    assert db["options"]["protect"] is True
    assert db["parent"].endswith("PostgresDatabase::printflow-prod-db")
    assert db["inputs"]["backupRetentionPeriod"] == 35


def _readme_diagram() -> str:
    match = re.search(r"<!-- diagram:start -->\n```mermaid\n(.*?)```\n<!-- diagram:end -->", README.read_text(), re.S)
    assert match, "README.md has no generated diagram block"
    return match.group(1)


def test_readme_diagram_is_current(stacks):
    from tools.readme_diagram import DIAGRAM_STACKS

    expected = format_mermaid({name: stacks[name].raw for name in DIAGRAM_STACKS})
    assert _readme_diagram() == expected, "README diagram is stale: run `make diagram` and commit README.md"


def test_diagram_shows_the_data_flows(stacks):
    diagram = format_mermaid({name: graph.raw for name, graph in stacks.items()})
    assert "==>|replicates, RTC 15 min|" in diagram
    assert "==>|PITR copy|" in diagram
    assert "prod to dr: restoreToPointInTime" in diagram


def test_parallel_render_matches_the_sequential_one(stacks, tmp_path):
    """The CLI renders dr in a forked process; the result must equal rendering in order."""
    target = tmp_path / "both.json"
    result = subprocess.run([sys.executable, "-m", "tools.render", "--quiet", "--graph", str(target)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    parallel = json.loads(target.read_text())
    assert set(parallel) == {"prod", "dr", "staging"}
    for name, graph in stacks.items():
        assert json.dumps(parallel[name], sort_keys=True) == json.dumps(graph.raw, sort_keys=True), name


def test_parallel_render_reports_a_config_error_cleanly(tmp_path):
    (tmp_path / "Pulumi.prod.yaml").write_text((ROOT / "Pulumi.prod.yaml").read_text())
    (tmp_path / "Pulumi.dr.yaml").write_text(
        (ROOT / "Pulumi.dr.yaml").read_text().replace("mode: drill", "mode: rehearsal"))
    result = render_cli(tmp_path)
    assert result.returncode == 2
    assert "printflow:dr.mode must be one of 'drill' or 'failover'" in result.stderr
    assert "Traceback" not in result.stderr


def test_dr_alone_renders_prod_first_and_returns_only_dr(stacks, tmp_path):
    target = tmp_path / "dr.json"
    result = subprocess.run([sys.executable, "-m", "tools.render", "--stack", "dr", "--quiet", "--graph", str(target)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    alone = json.loads(target.read_text())
    assert alone["stack"] == "dr"
    assert json.dumps(alone, sort_keys=True) == json.dumps(stacks["dr"].raw, sort_keys=True)


def test_reference_to_a_stack_that_cannot_be_rendered_here_is_a_clear_error(tmp_path):
    (tmp_path / "Pulumi.prod.yaml").write_text((ROOT / "Pulumi.prod.yaml").read_text())
    (tmp_path / "Pulumi.dr.yaml").write_text((ROOT / "Pulumi.dr.yaml").read_text().replace(
        "    mode: drill\n", "    mode: drill\n    primary_stack: acme/otherproject/prod\n"))
    result = render_cli(tmp_path, '--stack', 'dr')
    assert result.returncode == 2
    assert "printflow:dr.primary_stack 'acme/otherproject/prod'" in result.stderr
    assert "Traceback" not in result.stderr


def test_graph_wraps_every_value_the_engine_treats_as_secret(stacks):
    """docs/contracts.md: generated values are secrets in the graph, as in Pulumi state
    (additionalSecretOutputs, and the outputs pulumi-random's schema marks secret)."""
    from tools.mocks import SCHEMA_SECRET_OUTPUTS
    from tools.wire import is_wire_secret

    checked = 0
    for graph in stacks.values():
        for resource in graph.raw["resources"]:
            keys = set(resource["options"].get("additionalSecretOutputs", []))
            keys |= set(SCHEMA_SECRET_OUTPUTS.get(resource["type"], ()))
            for key in keys & set(resource["outputs"]):
                assert is_wire_secret(resource["outputs"][key]), (resource["urn"], key)
                checked += 1
    assert checked >= 8
