"""The pack's patches of pulumi-policy (policies/pack_sdk.py, policies/pack_fast.py) held to the
SDK itself: with the locked pulumi-policy every patch is active, the fast Analyze/AnalyzeStack
answer exactly what the SDK's own methods answer, and secrets are found inside the SDK's own
proxies (a Mapping and a Sequence, not dict and list)."""

from __future__ import annotations

import copy

import pytest

from tests.pack_modules import pack_module
from tests.policies.graphs import MEMDB, RDS, delp, one, setp
from tools.analyzer_wire import GraphIndex

pack_common = pack_module("pack_common")
pack_fast = pack_module("pack_fast")
registry = pack_module("registry")


def test_every_sdk_patch_is_active_with_the_locked_pulumi_policy():
    assert pack_common.SECRET_MARKING and pack_common.ADVISORY_REPORTS
    assert pack_common.ONE_CONVERSION_PER_REQUEST and set(pack_fast.SDK_METHODS) == {"Analyze", "AnalyzeStack"}


def _servicer():
    from pulumi_policy.policy import EnforcementLevel, _PolicyAnalyzerServicer

    return _PolicyAnalyzerServicer(registry.PACK_NAME, "0.1.0", list(registry.ALL_POLICIES),
                                   EnforcementLevel.MANDATORY)


def _violating(baselines) -> dict:
    g = copy.deepcopy(baselines["prod"])
    setp(one(g, RDS), "backupRetentionPeriod", 1)
    delp(one(g, RDS), "kmsKeyId")
    setp(one(g, MEMDB), "aclName", "open-access")
    g["resources"] = [r for r in g["resources"] if r["type"] != "aws:cloudwatch/metricAlarm:MetricAlarm"]
    for r in g["resources"]:
        r.setdefault("options", {})["protect"] = False
    return g


@pytest.mark.parametrize("graph_of, findings", [
    (lambda b: copy.deepcopy(b["prod"]), False),
    (_violating, True),
    (lambda b: copy.deepcopy(b["dr"]), True),  # judged as prod (no stackRole): a drill fails prod's rules
], ids=["prod", "prod-violating", "dr-as-prod"])
def test_the_fast_methods_answer_exactly_as_the_sdk_does(baselines, graph_of, findings):
    """Same diagnostics (policy, message, urn, level, severity), in the same order, and the same
    not-applicable reports, for every resource and for the stack."""
    graph = graph_of(baselines)
    index, servicer = GraphIndex(graph), _servicer()
    sdk_analyze, sdk_stack = pack_fast.SDK_METHODS["Analyze"], pack_fast.SDK_METHODS["AnalyzeStack"]
    reported = 0
    for r in graph["resources"]:
        request = index.analyze_request(r)
        fast = servicer.Analyze(request, None)
        assert fast == sdk_analyze(servicer, request, None), r["urn"]
        reported += len(fast.diagnostics)

    from pulumi.runtime.proto import analyzer_pb2

    request = analyzer_pb2.AnalyzeStackRequest(resources=[index.stack_resource(r) for r in graph["resources"]])
    fast = servicer.AnalyzeStack(request, None)
    assert fast == sdk_stack(servicer, request, None)
    reported += len(fast.diagnostics)
    assert (reported > 0) is findings  # the violating graphs are compared on real findings


def test_secrets_are_found_inside_the_sdks_own_proxies():
    """As a policy receives them: the SDK deserializes the wire form (secret signatures) and wraps
    it in its unknown-checking proxy; a value not known yet is passed over."""
    from pulumi_policy.deserialize import deserialize_properties
    from pulumi_policy.proxy import unknown_checking_proxy

    secret = lambda v: {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": v}  # noqa: E731
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    props = unknown_checking_proxy(deserialize_properties({
        "password": secret("hunter2"),
        "users": [secret("in-a-list"), {"token": secret("nested-token")}, unknown],
        "port": secret(6379),
        "later": unknown,
        "plain": "not-a-secret",
    }))
    assert pack_common.secret_texts([props]) == {"hunter2", "in-a-list", "nested-token", "6379"}


def test_a_new_policy_config_reaches_the_fast_analyze_at_once(baselines):
    """The fast Analyze works out the enabled policies once per Configure: the SDK's Configure
    replaces the enforcement levels, and the next request already follows them (pulumi-policy
    policy.py Configure, _get_enforcement_level), as the SDK's own Analyze does."""
    from pulumi.runtime.proto import analyzer_pb2

    request = GraphIndex(_violating(baselines)).analyze_request(one(_violating(baselines), RDS))
    servicer, sdk_analyze = _servicer(), pack_fast.SDK_METHODS["Analyze"]
    first = servicer.Analyze(request, None)
    policy = first.diagnostics[0].policyName

    def configure(level: int) -> analyzer_pb2.AnalyzeResponse:
        config = analyzer_pb2.ConfigureAnalyzerRequest()
        config.policyConfig[policy].enforcementLevel = level
        servicer.Configure(config, None)
        fast = servicer.Analyze(request, None)
        assert fast == sdk_analyze(servicer, request, None)
        return fast

    assert policy not in [d.policyName for d in configure(analyzer_pb2.DISABLED).diagnostics]
    advisory = [d for d in configure(analyzer_pb2.ADVISORY).diagnostics if d.policyName == policy]
    assert [d.enforcementLevel for d in advisory] == [analyzer_pb2.ADVISORY]
