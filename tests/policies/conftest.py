"""Policy-test fixtures: the compliant baselines and one analyzer process per test session."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.policy_analyzer import Analyzer

ROOT = Path(__file__).resolve().parents[2]

RENDER_SNIPPET = ("import json, sys\n"
                  "from tools.render import render_stacks\n"
                  "json.dump(render_stacks(('prod', 'dr')), sys.stdout)\n")


def _render() -> dict:
    """Render prod and dr with tools.render in a subprocess (Pulumi mock state is process-global,
    so rendering stays out of the test process)."""
    proc = subprocess.run([sys.executable, "-c", RENDER_SNIPPET], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail("tools.render could not render prod/dr for the policy baseline:\n"
                    + proc.stderr[-3000:])
    return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def rendered() -> dict:
    return _render()


@pytest.fixture(scope="session")
def baselines(rendered) -> dict:
    """{'prod': graph, 'dr': graph}: the rendered stacks, the compliant baselines."""
    return rendered


@pytest.fixture
def prod(baselines) -> dict:
    return copy.deepcopy(baselines["prod"])


@pytest.fixture(scope="session")
def analyzer():
    with Analyzer(cache_analyze=True) as a:
        yield a


@pytest.fixture(scope="session")
def second_analyzer():
    """A second pack process, so the mutation table runs on two cores."""
    with Analyzer(cache_analyze=True) as a:
        yield a
