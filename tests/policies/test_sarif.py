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
    result = next(r for r in report["runs"][0]["results"] if r["ruleId"] == "aws-rds-instance-backup-retention")
    code, config = (loc["physicalLocation"] for loc in result["locations"])
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


@pytest.mark.parametrize("key, expected", [
    ("database.backup_retention_days", "backup_retention_days"),
    ("storage.force_destroy", "printflow:storage"),   # not set: the enclosing block
])
def test_config_key_lines(key, expected):
    line = config_key_line(ROOT / "Pulumi.prod.yaml", key)
    assert line and expected in (ROOT / "Pulumi.prod.yaml").read_text().splitlines()[line - 1]


def test_a_key_the_stack_file_does_not_set_has_no_line():
    assert config_key_line(ROOT / "Pulumi.prod.yaml", "dr.mode") is None
