"""SARIF that GitHub code scanning can place: valid SARIF 2.1.0, and every result at a file of the
repository and a line (GitHub docs, "SARIF support for code scanning": a result needs
`locations[].physicalLocation` with `artifactLocation.uri` relative to the repository root and
`region.startLine`; rules may carry `help`, `helpUri` and `properties.security-severity`)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.policies.graphs import RDS, one, setp
from tests.policies.sarif_schema import SARIF_2_1_0_SUBSET
from tools import policy_check
from tools.sarif import config_key_line

ROOT = Path(__file__).resolve().parents[2]


def _violating(prod):
    g = copy.deepcopy(prod)
    db = one(g, RDS)
    setp(db, "multiAz", False)
    setp(db, "backupRetentionPeriod", 1)
    return g


@pytest.fixture(scope="module")
def report(tmp_path_factory, baselines):
    tmp = tmp_path_factory.mktemp("sarif")
    graph = tmp / "g.json"
    graph.write_text(json.dumps(_violating(baselines["prod"])))
    out = tmp / "out" / "policy.sarif"  # the parent does not exist yet, as on a fresh checkout
    assert policy_check.main(["--graph", str(graph), "--sarif", str(out)]) == 1
    return json.loads(out.read_text())


def test_the_report_validates_against_sarif_2_1_0(report):
    jsonschema.Draft4Validator.check_schema(SARIF_2_1_0_SUBSET)
    errors = sorted(jsonschema.Draft4Validator(SARIF_2_1_0_SUBSET).iter_errors(report), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_the_subset_schema_refuses_what_sarif_refuses(report):
    """The schema is live: a result without a message, or a location member SARIF does not
    define, fails it."""
    validator = jsonschema.Draft4Validator(SARIF_2_1_0_SUBSET)
    broken = copy.deepcopy(report)
    del broken["runs"][0]["results"][0]["message"]
    assert not validator.is_valid(broken)
    broken = copy.deepcopy(report)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["line"] = 3
    assert not validator.is_valid(broken)


def test_every_result_has_a_file_in_the_repository_and_a_line(report):
    results = report["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"aws-rds-instance-multi-az", "aws-rds-instance-backup-retention"}
    for result in results:
        assert result["locations"], result["ruleId"]
        for location in result["locations"]:
            physical = location["physicalLocation"]
            uri, line = physical["artifactLocation"]["uri"], physical["region"]["startLine"]
            assert not re.match(r"^[a-z]+:|^/", uri), f"{uri} is not relative to the repository root"
            path = ROOT / uri
            assert path.is_file(), uri
            assert 1 <= line <= len(path.read_text().splitlines()), (uri, line)


def test_a_result_points_at_the_declaring_line_and_the_config_key(report):
    """GitHub shows only locations[0] ("Only the first value of this array is used"), and SARIF
    3.27.12 allows several locations only when each must change: the declaring line is the
    location, the config key a related location the message links to (SARIF 3.11.7)."""
    result = next(r for r in report["runs"][0]["results"] if r["ruleId"] == "aws-rds-instance-backup-retention")
    (code,) = (loc["physicalLocation"] for loc in result["locations"])
    (related,) = result["relatedLocations"]
    config = related["physicalLocation"]
    assert f"]({related['id']})" in result["message"]["text"]
    declaring = (ROOT / code["artifactLocation"]["uri"]).read_text().splitlines()[code["region"]["startLine"] - 1]
    assert "aws.rds.Instance(" in declaring
    assert config["artifactLocation"]["uri"] == "Pulumi.prod.yaml"
    key_line = (ROOT / "Pulumi.prod.yaml").read_text().splitlines()[config["region"]["startLine"] - 1]
    assert "backup_retention_days" in key_line


def test_rules_carry_help_severity_and_the_packs_version(report):
    driver = report["runs"][0]["tool"]["driver"]
    version = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())["version"]
    assert driver["version"] == version != "0.0.1"
    for rule in driver["rules"]:
        assert rule["help"]["text"] and rule["help"]["markdown"] and rule["helpUri"].startswith("https://")


def test_every_rendered_resource_knows_the_line_that_declares_it(baselines):
    """The SDK sends a source position with every RegisterResource; the offline render keeps it
    as the engine does (apitype.ResourceV3.SourcePosition, `project:///<path>#<line>`)."""
    for resource in baselines["prod"]["resources"]:
        if resource["type"] == "pulumi:pulumi:Stack":
            continue
        match = re.fullmatch(r"project:///(components/\w+\.py)#(\d+)", resource.get("sourcePosition", ""))
        assert match, (resource["urn"], resource.get("sourcePosition"))
        line = (ROOT / match.group(1)).read_text().splitlines()[int(match.group(2)) - 1]
        assert "(" in line, (resource["urn"], line)
        assert f"{resource['type'].rsplit(':', 1)[-1]}(" in line, (resource["urn"], line)


@pytest.mark.parametrize("key, expected", [
    ("database.backup_retention_days", "backup_retention_days"),
    ("storage.force_destroy", "printflow:storage"),   # not set: the enclosing block
])
def test_config_key_lines(key, expected):
    line = config_key_line(ROOT / "Pulumi.prod.yaml", key)
    assert line and expected in (ROOT / "Pulumi.prod.yaml").read_text().splitlines()[line - 1]


def test_a_key_the_stack_file_does_not_set_has_no_line():
    assert config_key_line(ROOT / "Pulumi.prod.yaml", "dr.mode") is None


def test_each_stack_s_finding_is_its_own_alert(tmp_path, baselines):
    """GitHub matches alerts across runs by partialFingerprints (upload-sarif derives
    primaryLocationLineHash from the line's text only when it is absent): the same policy on the
    same declaring line in two stacks must stay two alerts; every result has suppressions, as
    SARIF 3.27.23 requires of a run once one result has them."""
    graphs = {}
    for stack in ("prod", "dr"):
        g = _violating(baselines["prod"]) if stack == "prod" else copy.deepcopy(baselines["dr"])
        setp(one(g, RDS), "backupRetentionPeriod", 1)
        graphs[stack] = g
    path = tmp_path / "two.json"
    path.write_text(json.dumps(graphs))
    out = tmp_path / "two.sarif"
    policy_check.main(["--graph", str(path), "--sarif", str(out)])
    results = json.loads(out.read_text())["runs"][0]["results"]
    retention = [r for r in results if r["ruleId"] == "aws-rds-instance-backup-retention"]
    assert {r["properties"]["stack"] for r in retention} == {"prod", "dr"}
    lines = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in retention}
    assert len(lines) == 1  # the same declaring line ...
    fingerprints = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert len(set(fingerprints)) == len(results)  # ... and yet every finding is its own alert
    assert all("suppressions" in r for r in results)


def test_config_keys_name_a_policy_and_a_setting(analyzer):
    """Every entry of CONFIG_KEYS is a policy of the pack and a key of the config models."""
    from components.config import StackSettings
    from tools.config_docs import _leaves
    from tools.sarif import CONFIG_KEYS

    settings = {key for key, _ in _leaves(StackSettings, "")}
    blocks = {key.split(".")[0] for key in settings}
    policies = {p.name for p in analyzer.policies}
    for policy, key in CONFIG_KEYS.items():
        assert policy in policies, policy
        assert key in settings or key in blocks, key


def test_a_checkout_path_with_a_space_keeps_its_source_positions(tmp_path, monkeypatch):
    """The SDK sends Path.as_uri() (pulumi/runtime/resource.py): percent-encoded."""
    from types import SimpleNamespace

    from tools import mocks

    root = tmp_path / "my repo"
    (root / "components").mkdir(parents=True)
    module = root / "components" / "db.py"
    module.write_text("aws.rds.Instance(\n")
    monkeypatch.setattr(mocks, "PROJECT_ROOT", root.resolve())
    request = SimpleNamespace(sourcePosition=SimpleNamespace(uri=module.as_uri(), line=1))
    assert "%20" in module.as_uri() and mocks.source_position(request) == "project:///components/db.py#1"


@pytest.mark.parametrize("position", ["project:///../../../etc/passwd#3", "project:///components/../../x.py#1"])
def test_a_source_position_outside_the_repository_is_not_a_location(position):
    """A state export is user input: its positions never send GitHub outside the repository."""
    from tools.sarif import _code_location

    assert _code_location(position) is None
    assert _code_location("project:///components/database.py#1") == ("components/database.py", 1)
