"""The configuration reference is generated from the models, so it cannot drift from them."""

from __future__ import annotations

from tools.config_docs import PROJECT_FILE, README, current_project_file, current_readme


def test_readme_configuration_table_is_current():
    assert README.read_text() == current_readme(), "run `make docs` and commit README.md"


def test_pulumi_yaml_declarations_are_current():
    assert PROJECT_FILE.read_text() == current_project_file(), "run `make docs` and commit Pulumi.yaml"


def test_every_config_field_is_described():
    from components.config import StackSettings
    from tools.config_docs import _leaves

    missing = [key for key, field in _leaves(StackSettings, "") if not field.description]
    assert not missing
