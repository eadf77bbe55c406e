"""One source per contract: the stack outputs the program exports are what the ops tools read."""

from __future__ import annotations

import json

import pytest

from ops.outputs import load_outputs
from tools.render import ALL_STACKS, render_stacks
from tools.wire import reveal


@pytest.fixture(scope="module")
def outputs() -> dict:
    return {name: reveal(graph["outputs"]) for name, graph in render_stacks(ALL_STACKS).items()}


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_the_ops_tools_accept_the_rendered_outputs(outputs, stack, tmp_path):
    """docs/contracts.md §2 is kept by hand in several places; this holds the program's exports
    and the ops tools' model (ops/outputs.py) to each other."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs[stack]))
    primary = not stack.endswith("dr")
    out = load_outputs(path, require=("dr",) if primary else (),
                       require_primary=("dr", "backup_bucket"))
    assert out.is_primary == primary
    assert (out.restore is None) == primary
    assert out.database.expected_settings["PerformanceInsightsEnabled"] is True
    assert out.app_secrets.laravel_arn.startswith("arn:aws:secretsmanager:")
