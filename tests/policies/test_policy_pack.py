"""Pack-level behaviour: --list, unknowns, the `all` override, SARIF, DR roles, bad input."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.policies.graphs import (
    ALARM, RDS, SECRET_VERSION, SSM, STACK, make_unknown, one, param, secret, set_param_value,
    secret_value, setp,
)
from tools import policy_check
from tools.policy_analyzer import evaluate, role_config
from tools.wire import UNKNOWN_SENTINEL

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEYS = {"APP_KEY", "INTERNAL_API_SECRET", "PDF_SERVICE_INTERNAL_SECRET", "REDIS_PASSWORD",
               "password"}
BUG_MARKERS = ("could not evaluate", "can't run policy")
STATEFUL = {"aws:rds/instance:Instance", "aws:s3/bucket:Bucket", "aws:kms/key:Key",
            "aws:kms/replicaKey:ReplicaKey", "aws:secretsmanager/secret:Secret",
            "aws:memorydb/cluster:Cluster",
            # deleting it stops backups reaching the DR region (RPO grows unseen)
            "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"}


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.policy_check", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _write(tmp_path: Path, name: str, doc) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def _violating(prod):
    g = copy.deepcopy(prod)
    db = one(g, RDS)
    setp(db, "multiAz", False)
    setp(db, "copyTagsToSnapshot", False)
    return g


# -- --list ------------------------------------------------------------------------------------

def test_list_shows_every_policy(analyzer):
    proc = _run_cli("--list")
    assert proc.returncode == 0, proc.stderr
    names = [p.name for p in analyzer.policies]
    assert len(names) >= 45
    lines = proc.stdout.splitlines()
    for name in names:
        row = [ln for ln in lines if ln.split() and ln.split()[0] == name]
        assert row, f"{name} missing from --list"
        assert row[0].split()[1] == "mandatory"
    assert f"{len(names)} policies." in proc.stdout


def test_policies_are_well_formed(analyzer):
    for p in analyzer.policies:
        assert p.level == "mandatory", p.name
        assert p.name.startswith(("aws-", "printflow-")) and p.name == p.name.lower()
        assert p.description.endswith("."), p.name
        for prop in ("stackRole", "drRegion", "primaryRegion"):
            assert prop in p.config_schema, (p.name, prop)
        for key, schema in p.config_schema.items():
            assert "description" in schema, (p.name, key)


# -- unknowns and missing values ---------------------------------------------------------------

def _assert_no_crash(violations):
    bad = [v for v in violations if any(m in v.message for m in BUG_MARKERS)]
    assert not bad, "\n".join(f"{v.policy}: {v.message}" for v in bad)


@pytest.mark.parametrize("variant", ["all-top-level", "all-nested", "part-0", "part-1"])
def test_unknowns_never_crash_a_policy(analyzer, baselines, variant):
    for stack in (("prod", "dr") if variant.startswith("all") else ("prod",)):
        g = baselines[stack]
        if variant == "all-top-level":
            mutated = make_unknown(g)
        elif variant == "all-nested":
            mutated = make_unknown(g, nested=True)
        else:
            keys = sorted({k for r in g["resources"] for bag in ("inputs", "outputs")
                           for k in (r.get(bag) or {})})
            part = int(variant.split("-")[1])
            mutated = make_unknown(g, keys[part::2])
        _assert_no_crash(analyzer.evaluate(mutated))


def test_unknown_values_are_skipped_not_reported(analyzer, prod):
    """An unknown value is 'not yet known', never a violation by itself."""
    g = copy.deepcopy(prod)
    db = one(g, RDS)
    for key in ("multiAz", "backupRetentionPeriod", "storageEncrypted", "kmsKeyId",
                "deletionProtection", "skipFinalSnapshot"):
        setp(db, key, UNKNOWN_SENTINEL)
    assert [v for v in analyzer.evaluate(g) if v.resource_name == db["name"]] == []


def test_missing_values_never_crash(analyzer, baselines):
    g = copy.deepcopy(baselines["prod"])
    for r in g["resources"]:
        r["inputs"], r["outputs"], r["propertyDependencies"] = {}, {}, {}
    _assert_no_crash(analyzer.evaluate(g))


# -- enforcement overrides ---------------------------------------------------------------------

def test_all_override_downgrades_every_policy(analyzer, prod):
    g = _violating(prod)
    assert {v.level for v in analyzer.evaluate(g)} == {"mandatory"}
    advisory = analyzer.evaluate(g, {"all": "advisory"})
    assert advisory and {v.level for v in advisory} == {"advisory"}
    assert analyzer.evaluate(g, {"all": {"enforcementLevel": "disabled"}}) == []


def test_specific_policy_beats_all(analyzer, prod):
    g = _violating(prod)
    violations = analyzer.evaluate(g, {"all": "advisory",
                                       "aws-rds-instance-multi-az": "mandatory"})
    levels = {v.policy: v.level for v in violations}
    assert levels["aws-rds-instance-multi-az"] == "mandatory"
    assert levels["aws-rds-instance-copy-tags-to-snapshot"] == "advisory"


def test_config_is_reset_between_evaluations(analyzer, prod):
    g = _violating(prod)
    assert analyzer.evaluate(g, {"all": "disabled"}) == []
    assert analyzer.evaluate(g)


def test_cli_exit_codes_follow_enforcement(tmp_path, prod):
    graph = _write(tmp_path, "g.json", _violating(prod))
    assert _run_cli("--graph", graph).returncode == 1
    cfg = _write(tmp_path, "c.json", {"all": "advisory"})
    proc = _run_cli("--graph", graph, "--config", cfg, "--json")
    assert proc.returncode == 0, proc.stderr
    assert {v["level"] for v in json.loads(proc.stdout)} == {"advisory"}


# -- SARIF -------------------------------------------------------------------------------------

def test_sarif_report(tmp_path, prod):
    graph = _write(tmp_path, "g.json", _violating(prod))
    out = tmp_path / "report.sarif"
    assert policy_check.main(["--graph", graph, "--sarif", str(out)]) == 1
    doc = json.loads(out.read_text())
    assert doc["version"] == "2.1.0" and doc["$schema"].startswith("https://")
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "printflow-guardrails"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) >= 45 and len(set(rule_ids)) == len(rule_ids)
    assert run["results"]
    for res in run["results"]:
        assert res["ruleId"] in rule_ids and rule_ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note", "none")
        assert res["message"]["text"]
        loc = res["locations"][0]["logicalLocations"][0]
        assert loc["fullyQualifiedName"].startswith("urn:pulumi:prod::")
        assert loc["name"]
    for rule in driver["rules"]:
        props = rule["properties"]
        assert rule["helpUri"].startswith("https://") and rule["helpUri"] in rule["help"]["markdown"]
        assert props["severity"] in ("low", "medium", "high", "critical")
        # GitHub ranks security alerts by security-severity; only security rules carry one
        assert ("security-severity" in props) == ("security" in props["tags"])


def test_every_policy_declares_severity_category_and_link(analyzer):
    """pulumi/compliance-policies keeps severity, description and a link per policy; here the
    pack sends them in GetAnalyzerInfo (PolicyInfo.severity, tags, url), where the real CLI
    reads them too."""
    for policy in analyzer.policies:
        assert policy.severity in ("low", "medium", "high", "critical"), policy.name
        assert len(policy.tags) == 1 and policy.tags[0] in ("security", "reliability", "operations"), policy.name
        assert policy.url.startswith("https://"), policy.name


@pytest.mark.parametrize("severity, category, url, error", [
    ("urgent", "security", "https://x.example", "severity must be one of"),
    ("high", "style", "https://x.example", "category must be one of"),
    ("high", "security", "http://x.example", "https://"),
])
def test_about_refuses_metadata_a_policy_cannot_ship(severity, category, url, error):
    """In a subprocess, as the engine runs the pack (the pack directory first on sys.path)."""
    code = f"from pack_common import About\nAbout({severity!r}, {category!r}, {url!r})"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "policies", capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0 and error in proc.stderr


# -- stack roles -------------------------------------------------------------------------------

def _unprotect(g):
    g = copy.deepcopy(g)
    for r in g["resources"]:
        r.setdefault("options", {})["protect"] = False
    return g


def test_dr_drill_allows_unprotected_resources(analyzer, baselines):
    dr = _unprotect(baselines["dr"])
    policy = "printflow-stateful-resources-protected"
    drill = analyzer.evaluate(dr, stack_role="dr-drill")
    assert [v for v in drill if v.policy == policy] == []
    failover = analyzer.evaluate(dr, stack_role="dr-failover")
    assert [v for v in failover if v.policy == policy]


def test_prod_requires_protection_unless_configured_as_drill(analyzer, baselines):
    prod = _unprotect(baselines["prod"])
    policy = "printflow-stateful-resources-protected"
    hits = [v for v in analyzer.evaluate(prod) if v.policy == policy]
    assert {v.resource_type for v in hits} == {r["type"] for r in prod["resources"]
                                               if r["type"] in STATEFUL}
    drill_cfg = json.loads((ROOT / "policies" / "config" / "dr-drill.json").read_text())
    assert [v for v in analyzer.evaluate(prod, drill_cfg) if v.policy == policy] == []


def test_dr_stack_resources_must_be_in_dr_region(analyzer, baselines):
    dr = copy.deepcopy(baselines["dr"])
    setp(one(dr, RDS), "region", "us-east-1")
    hits = [v for v in analyzer.evaluate(dr) if v.policy == "printflow-dr-resources-in-dr-region"]
    assert hits and "us-west-2" in hits[0].message


def test_role_config_files_are_current(analyzer):
    for role in ("dr-drill", "dr-failover"):
        path = ROOT / "policies" / "config" / f"{role}.json"
        assert json.loads(path.read_text()) == role_config(analyzer.policies, role), (
            f"regenerate {path.name} with tools.policy_analyzer.role_config")


# -- secrets -----------------------------------------------------------------------------------

def test_secret_outputs_are_allowed(analyzer, prod):
    g = copy.deepcopy(prod)
    one(g, STACK)["outputs"]["laravel_app_key"] = secret(
        "base64:" + base64.b64encode(b"k" * 32).decode())
    assert analyzer.evaluate(g) == []


def test_secret_values_never_appear_in_messages(analyzer, prod):
    g = copy.deepcopy(prod)
    values = set()
    for r in g["resources"]:
        if r["type"] == SECRET_VERSION and "secretString" in r["inputs"]:
            data = json.loads(secret_value(r["inputs"]["secretString"]))
            values.update(v for k, v in data.items() if k in SECRET_KEYS and v)
            data["APP_KEY"] = "base64:" + base64.b64encode(r["name"].encode()[:32].ljust(32, b"-")
                                                           ).decode()
            data["INTERNAL_API_SECRET"] = "mismatch-" + r["name"]
            values.update((data["APP_KEY"], data["INTERNAL_API_SECRET"]))
            r["inputs"]["secretString"] = secret(json.dumps(data))
            r["outputs"].pop("secretString", None)
    violations = analyzer.evaluate(g)
    assert any(v.policy == "printflow-app-secrets-consistent" for v in violations)
    text = json.dumps([v.to_dict() for v in violations])
    assert not [s for s in values if s in text]


def test_plain_string_parameter_with_reference_value_is_fine(analyzer, prod):
    g = copy.deepcopy(prod)
    p = param(g, "APP_ENV")
    setp(p, "name", "/printflow/prod/laravel/DB_SECRET_ARN")
    set_param_value(p, "arn:aws:secretsmanager:us-east-1:123456789012:secret:x")
    assert analyzer.evaluate(g) == []


# -- bad input and the Python API --------------------------------------------------------------

@pytest.mark.parametrize("kind", ["missing-file", "not-json", "wrong-format", "bad-level",
                                  "bad-threshold", "unknown-policy"])
def test_bad_input_exits_2_without_traceback(tmp_path, prod, kind, capsys):
    graph = _write(tmp_path, "g.json", prod)
    args = {
        "missing-file": ["--graph", str(tmp_path / "nope.json")],
        "not-json": ["--graph", str(tmp_path / "bad.json")],
        "wrong-format": ["--graph", _write(tmp_path, "w.json", {"format": "x", "resources": []})],
        "bad-level": ["--graph", graph, "--config", _write(tmp_path, "c.json", {"all": "loud"})],
        "bad-threshold": ["--graph", graph, "--config", _write(tmp_path, "c.json", {
            "aws-rds-instance-backup-retention": {"minimumDays": "lots"}})],
        "unknown-policy": ["--graph", graph, "--config", _write(tmp_path, "c.json", {
            "aws-made-up-policy": "advisory"})],
    }[kind]
    (tmp_path / "bad.json").write_text("{not json")
    assert policy_check.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_input_exit_code_from_the_command_line(tmp_path):
    proc = _run_cli("--graph", str(tmp_path / "missing.json"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_evaluate_api_checks_several_stacks_in_one_process(baselines):
    graphs = copy.deepcopy(baselines)
    setp(one(graphs["dr"], ALARM), "okActions", [])
    violations = evaluate(graphs)
    assert {v.stack for v in violations} == {"dr"}
    assert all(v.policy == "aws-cloudwatch-alarm-actions" for v in violations)


def test_ssm_values_in_the_secret_form_are_judged_too(analyzer, prod):
    """The render publishes settings as insecureValue; a parameter written with `value` (a Pulumi
    secret) is judged the same, and its value never printed."""
    g = copy.deepcopy(prod)
    debug = param(g, "APP_DEBUG")
    for bag in (debug["inputs"], debug.get("outputs") or {}):
        bag.pop("insecureValue", None)
        bag["value"] = secret("true")
    hits = [v for v in analyzer.evaluate(g) if v.policy == "printflow-app-settings-debug-disabled"]
    assert hits


@pytest.mark.parametrize("fail_after_start", [False, True])
def test_a_failed_render_leaves_no_pack_process(monkeypatch, capsys, fail_after_start):
    """The pack starts before rendering; however rendering fails, the pack process is stopped."""
    started = []

    class RecordingAnalyzer(policy_check.Analyzer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    def failing_render(stacks, on_graph=None, on_start=None):
        if fail_after_start:
            on_start()
            started[0].connect()  # the pack is up and serving, not just launched
        raise policy_check.CheckInputError("the stack config is invalid")

    monkeypatch.setattr(policy_check, "Analyzer", RecordingAnalyzer)
    monkeypatch.setattr(policy_check, "render_graphs", failing_render)
    assert policy_check.main(["--stack", "prod"]) == 2
    assert "the stack config is invalid" in capsys.readouterr().err
    (analyzer,) = started
    assert analyzer.proc is not None and analyzer.proc.poll() is not None


def test_analyze_requests_in_flight_are_bounded(analyzer, baselines, monkeypatch):
    """Thousands of Analyze requests in flight at once ended in CANCELLED (a 15,000-resource
    graph): the check keeps at most MAX_IN_FLIGHT waiting, and finds the same violations."""
    import tools.policy_analyzer as pa

    graph = copy.deepcopy(baselines["prod"])
    setp(one(graph, RDS), "backupRetentionPeriod", 1)
    expected = [(v.policy, v.urn) for v in analyzer.evaluate(graph)]
    stub, real_future = analyzer.stub, analyzer.stub.Analyze.future
    state = {"open": 0, "max": 0}

    class Counted:
        def __init__(self, inner):
            self.inner = inner
            state["open"] += 1
            state["max"] = max(state["max"], state["open"])

        def result(self):
            try:
                return self.inner.result()
            finally:
                state["open"] -= 1

    class Analyze:
        @staticmethod
        def future(req):
            return Counted(real_future(req))

    monkeypatch.setattr(pa, "MAX_IN_FLIGHT", 8)
    monkeypatch.setattr(analyzer, "_cache", None, raising=False)
    monkeypatch.setattr(stub, "Analyze", Analyze, raising=False)
    got = [(v.policy, v.urn) for v in analyzer.evaluate(graph)]
    assert got == expected and expected
    assert 1 <= state["max"] <= 8, state


def _keys(graph, nested_only=False):
    return sorted({k for r in graph["resources"] for bag in ("inputs", "outputs")
                   for k, v in (r.get(bag) or {}).items()
                   if k != "id" and (not nested_only or isinstance(v, (dict, list)))})


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_every_field_unknown_is_skipped_never_a_violation(analyzer, baselines, stack):
    """pulumi-policy: unknown means 'cannot judge yet'. Every property every policy could read is
    made unknown (a few keys per evaluation, across all resources), whole and leaf by leaf (an
    unknown rule or parameter inside a list): the compliant stack stays compliant."""
    graph = baselines[stack]
    found = []
    top = _keys(graph)
    for group in (top[i:i + 8] for i in range(0, len(top), 8)):
        found += [(group, v.policy, v.message[:160]) for v in analyzer.evaluate(make_unknown(graph, group))]
    for key in _keys(graph, nested_only=True):
        mutated = copy.deepcopy(graph)
        for r in mutated["resources"]:
            for bag in ("inputs", "outputs"):
                if key in (r.get(bag) or {}):
                    r[bag][key] = make_unknown({"resources": [{"type": "x", "inputs": {key: r[bag][key]}}]},
                                               nested=True)["resources"][0]["inputs"][key]
        found += [(key, v.policy, v.message[:160]) for v in analyzer.evaluate(mutated)]
    assert not found, "\n".join(map(str, found[:10]))


def test_an_unknown_mode_output_falls_back_to_the_stack_config(analyzer, baselines):
    """A DR graph whose `mode` output is unknown is still judged as a drill, not as prod."""
    graph = copy.deepcopy(baselines["dr"])
    for bag in (graph["outputs"], one(graph, STACK)["outputs"]):
        bag["mode"] = UNKNOWN_SENTINEL
    assert analyzer.evaluate(graph) == []


def test_policy_table_is_current(analyzer):
    """policies/README.md's table is generated from the pack (`make docs`)."""
    from tools.policy_docs import README, current_readme

    assert README.read_text() == current_readme(analyzer.policies), "run `make docs`"
