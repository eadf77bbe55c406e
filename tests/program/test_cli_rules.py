"""What the Pulumi CLI would refuse before the program runs, emulated from its source.

Each test names the rule's source. The mocks accept anything; these rules are why a stack that
renders here also gets past `pulumi preview`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.config import ConfigError, load_settings
from tests.program.graph import render_cli, config_with, render
from tools.cli_config import (
    SECRET_PLACEHOLDER, CliConfigError, apply_project_config, load_project,
)
from tools.render import ALL_STACKS, ORGANIZATION, RenderError, render_stacks, stack_config_with_secrets
from tools.wire import contains_secret

ROOT = Path(__file__).resolve().parents[2]
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))


def _stack_values(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["config"]


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_every_stack_file_passes_the_cli_config_check(path: Path):
    """pulumi/pulumi sdk/go/common/workspace/config.go (ValidateStackConfigAndApplyProjectConfig,
    called by pkg/workspace mergeConfig on preview and up): every project key declared without a
    default is required in every stack, declared types are checked, `secret: true` keys must be
    `secure:`. Before this fix prod lacked printflow:dr and dr lacked printflow:cache."""
    project, declared = load_project(ROOT / "Pulumi.yaml")
    stack = path.name[len("Pulumi."):-len(".yaml")]
    apply_project_config(stack, project, declared, _stack_values(path))


def test_a_required_key_missing_from_a_stack_is_refused_with_the_cli_message():
    """Same source: the message the CLI prints."""
    project, declared = load_project(ROOT / "Pulumi.yaml")
    values = _stack_values(ROOT / "Pulumi.prod.yaml")
    values.pop("printflow:alarms")
    with pytest.raises(CliConfigError, match="Stack 'prod' is missing configuration value 'printflow:alarms'"):
        apply_project_config("prod", project, declared, values)


def test_several_missing_keys_are_listed_as_the_cli_lists_them():
    """config.go: sorted, "values 'a', 'b' and 'c'"."""
    project, declared = load_project(ROOT / "Pulumi.yaml")
    values = {k: v for k, v in _stack_values(ROOT / "Pulumi.prod.yaml").items()
              if k not in ("printflow:owner", "printflow:alarms", "printflow:environment")}
    with pytest.raises(CliConfigError, match=re.escape(
            "Stack 'prod' is missing configuration values 'printflow:alarms', "
            "'printflow:environment' and 'printflow:owner'")):
        apply_project_config("prod", project, declared, values)


def test_scalars_are_judged_as_the_cli_stores_them():
    """project.go ValidateConfigValue: the CLI stores YAML scalars as strings, so a `string` key
    takes a number, a `boolean` key the strings true/false; a mapping is never a string."""
    project, declared = load_project(ROOT / "Pulumi.yaml")
    values = {**_stack_values(ROOT / "Pulumi.prod.yaml"), "printflow:owner": 42,
              "printflow:protect_stateful": "true"}
    apply_project_config("prod", project, declared, values)


def test_the_project_file_itself_is_validated():
    """project.go Project.Validate: a typed default must have the declared type."""
    project, declared = load_project(ROOT / "Pulumi.yaml")
    declared = {**declared, "printflow:protect_stateful": {"type": "boolean", "default": "maybe"}}
    with pytest.raises(CliConfigError, match="default value specified for configuration key "
                                             "'printflow:protect_stateful' is not of the expected type 'boolean'"):
        apply_project_config("prod", project, declared, _stack_values(ROOT / "Pulumi.prod.yaml"))


@pytest.mark.parametrize("key, value", [("printflow:protect_stateful", "yes"),
                                        ("printflow:environment", {"name": "prod"})])
def test_a_value_of_the_wrong_declared_type_is_refused(key, value):
    """Same source: a key with a declared `type` must hold a value of that type."""
    project, declared = load_project(ROOT / "Pulumi.yaml")
    values = {**_stack_values(ROOT / "Pulumi.prod.yaml"), key: value}
    with pytest.raises(CliConfigError, match=re.escape(f"'{key}' must be of type")):
        apply_project_config("prod", project, declared, values)


def test_a_secret_declared_key_in_plain_text_is_refused():
    """Same source: a key declared `secret: true` must be stored encrypted."""
    project, declared = load_project(ROOT / "Pulumi.yaml")
    declared = {**declared, "printflow:owner": {**declared["printflow:owner"], "secret": True}}
    with pytest.raises(CliConfigError, match="must be encrypted"):
        apply_project_config("prod", project, declared, _stack_values(ROOT / "Pulumi.prod.yaml"))


def test_project_defaults_reach_the_program_as_the_cli_applies_them():
    """Same source: a declared default is written into the stack's config; `dr: {}` means 'not a
    DR stack' and the other blocks take every default."""
    config, _ = stack_config_with_secrets("staging")
    assert config["printflow:dr"] == "{}" and config["printflow:cache"] == "{}"
    settings = load_settings(config, "staging")
    assert settings.dr is None and settings.cache.enabled is False


def test_prod_dr_staging_and_staging_dr_all_render():
    """'pulumi up per environment': the three environments and a DR stack of staging."""
    graphs = render_stacks(ALL_STACKS)
    assert set(graphs) == set(ALL_STACKS)
    environments = {name: graph["outputs"]["environment"] for name, graph in graphs.items()}
    assert environments == {"prod": "prod", "dr": "dr", "staging": "staging", "staging-dr": "dr"}
    cidrs = {name: yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text())["config"]["printflow:network"]["cidr"]
             for name in ALL_STACKS}
    assert len(set(cidrs.values())) == 4, cidrs


# -- StackReference names per backend ------------------------------------------------------------

@pytest.mark.parametrize("configured, expected", [
    (None, f"{ORGANIZATION}/printflow/prod"),        # default: the current organisation
    ("organization/printflow/prod", "organization/printflow/prod"),  # DIY backend
    ("acme/printflow/prod", "acme/printflow/prod"),  # Pulumi Cloud organisation
    ("prod", "prod"),                                 # legacy (non-project) DIY backend
])
def test_stack_reference_name_follows_the_backend(prod, configured, expected):
    """Automation API docs (fullyQualifiedStackName) and pulumi/pulumi pkg/backend: Pulumi Cloud
    takes org/project/stack, DIY backends organization/project/stack, legacy DIY a bare name.
    The old fixed `printflow/printflow/prod` worked only for an organisation named printflow."""
    overrides = {"printflow:dr": {"primary_stack": configured}} if configured else {}
    config = config_with("dr", overrides)
    settings = load_settings(config, "dr")
    assert settings.dr.primary_stack_reference(ORGANIZATION, settings.environment) == expected
    # the mock engine knows the referenced stack only under `expected` (any other name raises)
    graph = render("dr", overrides, references={expected: prod.outputs})
    assert graph.outputs["restore"]["source_db_arn"] == prod.outputs["dr"]["source_db_arn"]


# -- paging endpoints are secrets ------------------------------------------------------------

def test_committed_stack_files_hold_no_live_looking_pager_url():
    """A PagerDuty CloudWatch integration URL carries its integration key (PagerDuty's
    integration guide): it must never be committed in plain text."""
    for path in STACK_FILES:
        text = path.read_text()
        assert not re.search(r"https://[^\s]*(pagerduty|opsgenie|integration|hooks)", text), path.name
        for line in text.splitlines():
            assert "https://" not in line.split("#", 1)[0], (path.name, line)


def test_a_plain_text_pager_url_is_refused():
    """The program refuses an https endpoint that did not arrive as secret config."""
    config = config_with("prod", {"printflow:alarms": {"https_endpoints": ["https://events.example/x"]}})
    with pytest.raises(ConfigError, match=r"pulumi config set --secret --path 'printflow:alarms.https_endpoints\[0\]'"):
        load_settings(config, "prod")
    assert load_settings(config, "prod", secret_keys=["printflow:alarms"]).alarms.https_endpoints


def test_a_secure_value_renders_offline_as_a_secret_placeholder(tmp_path):
    """The CLI decrypts `secure:` values and marks their key secret (PULUMI_CONFIG_SECRET_KEYS);
    offline a placeholder stands in, and it never appears in plain text in the graph."""
    text = (ROOT / "Pulumi.prod.yaml").read_text().replace(
        "      - oncall@printflow.example\n",
        "      - oncall@printflow.example\n    https_endpoints:\n      - secure: v1:AAAAbm90IHJlYWwgY2lwaGVydGV4dA==\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(text)
    config, secret_keys = stack_config_with_secrets("prod", tmp_path)
    assert secret_keys == ("printflow:alarms",) and SECRET_PLACEHOLDER in config["printflow:alarms"]
    graph = render("prod", {"printflow:alarms": {"https_endpoints": [SECRET_PLACEHOLDER]}},
                   secret_keys=secret_keys)
    https = [s for s in graph.of_type("aws:sns/topicSubscription:TopicSubscription")
             if s.inputs["protocol"] == "https"]
    assert https and all(contains_secret(s.wire_inputs["endpoint"]) for s in https)
    assert SECRET_PLACEHOLDER not in str([r.wire_inputs for r in graph.resources if r not in https])


def test_a_bad_pager_url_is_refused_without_echoing_it():
    bad = "https://user:integration-key-123@events.example/x"
    config = config_with("prod", {"printflow:alarms": {"https_endpoints": [bad]}})
    with pytest.raises(ConfigError) as caught:
        load_settings(config, "prod", secret_keys=["printflow:alarms"])
    assert "printflow:alarms.https_endpoints" in str(caught.value)
    assert "integration-key-123" not in str(caught.value)


def test_render_refuses_a_stack_the_cli_would_refuse(tmp_path):
    (tmp_path / "Pulumi.prod.yaml").write_text(
        (ROOT / "Pulumi.prod.yaml").read_text().replace("  printflow:owner: platform-team\n", ""))
    result = render_cli(tmp_path, '--stack', 'prod')
    assert result.returncode == 2
    assert "Stack 'prod' is missing configuration value 'printflow:owner'" in result.stderr
    assert "Traceback" not in result.stderr
