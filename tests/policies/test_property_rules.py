"""Policies declared as data (policies/property_rules.yaml): what `must`, `when_unset` and
`must_not_be` mean when the pack evaluates them, and that a malformed file stops the pack with one
paragraph naming the entry and the key, as a malformed waivers.yaml does."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.pack_modules import pack_module
from tests.policies.graphs import MEMDB, RDS, delp, one, setp
from tools import policy_check

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "policies" / "property_rules.yaml"


def _violations(analyzer, baselines, mutate) -> set[str]:
    g = copy.deepcopy(baselines["prod"])
    mutate(g)
    return {v.policy for v in analyzer.evaluate(g)}


@pytest.mark.parametrize("mutate, policy, expected", [
    # every property under `must` holds: the key alone does not make the storage encrypted ...
    (lambda g: delp(one(g, RDS), "kmsKeyId"), "aws-rds-instance-storage-encrypted", True),
    # ... and `false` passes when unset, `set` does not
    (lambda g: delp(one(g, RDS), "skipFinalSnapshot"), "aws-rds-instance-final-snapshot", False),
    (lambda g: delp(one(g, RDS), "finalSnapshotIdentifier"), "aws-rds-instance-final-snapshot", True),
    # when_unset: AWS's default decides (TLS and minor upgrades are on unless switched off)
    (lambda g: delp(one(g, MEMDB), "tlsEnabled"), "aws-memorydb-cluster-tls", False),
    (lambda g: delp(one(g, RDS), "autoMinorVersionUpgrade"), "aws-rds-instance-auto-minor-version-upgrade", False),
    (lambda g: delp(one(g, RDS), "multiAz"), "aws-rds-instance-multi-az", True),
    # must_not_be: set, but to a refused value
    (lambda g: setp(one(g, MEMDB), "aclName", "open-access"), "aws-memorydb-cluster-acl", True),
    (lambda g: delp(one(g, MEMDB), "aclName"), "aws-memorydb-cluster-acl", True),
    (lambda g: setp(one(g, MEMDB), "aclName", "printflow-prod-queue-acl"), "aws-memorydb-cluster-acl", False),
])
def test_declared_rules_mean_what_the_file_says(analyzer, baselines, mutate, policy, expected):
    assert (policy in _violations(analyzer, baselines, mutate)) is expected


def test_every_declared_rule_is_a_policy_of_the_pack():
    registry = pack_module("registry")
    declared = {e["name"] for entries in yaml.safe_load(RULES.read_text()).values() for e in entries}
    assert declared and declared <= {p.name for p in registry.ALL_POLICIES}


def _pack(tmp_path: Path, edit) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "policies", pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    data = yaml.safe_load(RULES.read_text())
    edit(data)
    (pack / "property_rules.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return pack


def _first_rds_rule(edit):
    def apply(data):
        edit(data["rds"][0])
    return apply


@pytest.mark.parametrize("edit, problem", [
    (_first_rds_rule(lambda r: r["must"].update(storageEncrypted="maybe")),
     "rds entry #1: `must.storageEncrypted` is 'maybe'; allowed: true, false, set"),
    (_first_rds_rule(lambda r: r.pop("message")), "rds entry #1 lacks message"),
    (_first_rds_rule(lambda r: r.update(colour="red")), "rds entry #1 has unknown key(s) colour"),
    (_first_rds_rule(lambda r: r.update(when_unset={"multiAz": True})),
     "rds entry #1: multiAz is not a property under `must`"),
    (_first_rds_rule(lambda r: r.update(message="RDS instance '{instance}' is open.")),
     "rds entry #1: `message` may use only {name}"),
    (_first_rds_rule(lambda r: r.update(types="aws:rds/instance:Instance")),
     "rds entry #1: `types` must be a list"),
    (_first_rds_rule(lambda r: r.update(production_only="yes")),
     "rds entry #1: `production_only` must be true or false"),
    (_first_rds_rule(lambda r: r.update(severity="urgent")), "rds rule aws-rds-instance-storage-encrypted: severity must be one of"),
    (lambda data: data.update(rds={"a": 1}), "must map each policy module (rds, s3, ...) to a list of rules"),
    (lambda data: data.update(network_acls=[]), "declares rules for network_acls, which no policy module registers"),
])
def test_a_malformed_rules_file_stops_the_pack_with_one_clear_error(tmp_path, baselines, capsys, edit, problem):
    """As the CLI starts the pack (pulumi-policy imports it in a fresh process): the offline check
    reports the pack's own one-paragraph error and exits 2, with no traceback."""
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps(baselines["prod"]))
    code = policy_check.main(["--pack", str(_pack(tmp_path, edit)), "--graph", str(graph)])
    err = capsys.readouterr().err
    assert code == 2 and problem in err and "policies/property_rules.yaml" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
