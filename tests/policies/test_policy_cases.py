"""Every policy: the compliant baseline passes, and each mutation of it fails the expected
policy. Everything runs through the analyzer gRPC protocol (tools.policy_analyzer)."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.policies.cases import CASES

BUG = "could not evaluate"


def _summary(violations):
    return "\n".join(f"  {v.level} {v.policy} [{v.resource_name}]: {v.message}"
                     for v in violations)


@pytest.mark.parametrize("stack", ["prod", "dr"])
def test_baseline_is_compliant(analyzer, baselines, stack):
    violations = analyzer.evaluate(baselines[stack])
    assert violations == [], f"baseline {stack} is not compliant:\n{_summary(violations)}"


def _on_two_analyzers(analyzers, run_case):
    """{case id: run_case(analyzer, case) | exception}, the cases split over two pack processes."""

    def run(worker):
        az, cases = worker
        out = {}
        for case in cases:
            try:
                out[case.id] = run_case(az, case)
            except Exception as exc:  # noqa: BLE001 - re-raised in the case's own test
                out[case.id] = exc
        return out

    results = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for part in pool.map(run, [(analyzers[0], CASES[0::2]), (analyzers[1], CASES[1::2])]):
            results.update(part)
    return results


@pytest.fixture(scope="module")
def case_results(analyzer, second_analyzer, baselines):
    """{case id: violations | exception}, computed on two analyzer processes in parallel."""

    def run_case(az, case):
        graph = copy.deepcopy(baselines["prod"])
        case.mutate(graph)
        return az.evaluate(graph, case.config)

    return _on_two_analyzers((analyzer, second_analyzer), run_case)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_mutation_violates_policy(case_results, case):
    violations = case_results[case.id]
    if isinstance(violations, Exception):
        raise violations
    hits = [v for v in violations if v.policy == case.expect]
    assert hits, f"{case.id}: expected a {case.expect} violation, got:\n{_summary(violations)}"
    assert all(v.level == "mandatory" for v in hits)
    assert not [v for v in violations if BUG in v.message], _summary(violations)
    for v in hits:
        assert v.urn.startswith("urn:pulumi:"), v
        assert v.message.endswith(".") and len(v.message.split()) > 6, v.message


def test_every_policy_has_a_case(analyzer):
    covered = {c.expect for c in CASES}
    missing = sorted(p.name for p in analyzer.policies if p.name not in covered)
    assert not missing, f"policies without a failing mutation: {missing}"


SECRECY_POLICIES = {"aws-rds-instance-managed-master-password", "aws-ssm-parameter-no-plain-secrets",
                    "printflow-stack-outputs-no-secrets"}


def _wrap_leaves(value, found):
    """Every string and number leaf as a Pulumi secret; the plain strings are collected."""
    from tools.wire import is_wire_secret, secret

    if is_wire_secret(value):
        return value
    if isinstance(value, dict):
        return {k: _wrap_leaves(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrap_leaves(v, found) for v in value]
    if isinstance(value, str) and len(value) >= 4 and value != "04da6b54-80e4-46f7-96ec-b56ff0331ba9":
        found.add(value)
        return secret(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return secret(value)
    return value


@pytest.fixture(scope="module")
def secret_case_results(analyzer, second_analyzer, baselines):
    """Each mutation again, with every value of the resources it changed made secret."""
    before = {r["urn"]: r for r in baselines["prod"]["resources"]}

    def run_case(az, case):
        graph = copy.deepcopy(baselines["prod"])
        case.mutate(graph)
        found: set = set()
        for resource in graph["resources"]:
            if before.get(resource["urn"]) != resource and resource["type"] != "pulumi:pulumi:Stack":
                for key in ("inputs", "outputs"):
                    resource[key] = {k: (v if k in ("id", "urn") else _wrap_leaves(v, found))
                                     for k, v in (resource.get(key) or {}).items()}
        return az.evaluate(graph, case.config), found

    return _on_two_analyzers((analyzer, second_analyzer), run_case)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_no_policy_message_prints_a_secret_value(secret_case_results, case):
    """The same violations are found when the offending values are Pulumi secrets, and no
    message (hence no table, JSON or SARIF line) contains a secret value."""
    result = secret_case_results[case.id]
    if isinstance(result, Exception):
        raise result
    violations, secrets = result
    if case.expect not in SECRECY_POLICIES:  # those judge plain-vs-secret itself
        assert [v for v in violations if v.policy == case.expect], _summary(violations)
    for v in violations:
        leaked = [s for s in secrets if s in v.message]
        assert not leaked, f"{v.policy} prints secret value(s) {leaked}: {v.message}"
