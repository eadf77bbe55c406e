"""One component built alone under the mocks (stelvio tests/aws/conftest.py style): the test
gives a factory, gets back what the component registered as a Graph."""

from __future__ import annotations

from typing import Callable

import pytest

from tests.program.graph import Graph
from tools.render import run_under_mocks

KEY = "arn:aws:kms:us-east-1:123456789012:key/mrk-unit"
DR_KEY = "arn:aws:kms:us-west-2:123456789012:key/mrk-unit"
TAGS = {"app": "printflow", "env": "staging", "owner": "unit", "data-tier": "unit", "stack-role": "primary"}


def build_alone(factory: Callable[[], object]) -> Graph:
    monitor = run_under_mocks("unit", factory, {"aws:region": "us-east-1"})
    resources = sorted((r.to_json() for r in monitor.registrations.values()), key=lambda r: r["urn"])
    return Graph({"resources": resources, "outputs": monitor.stack_outputs})


@pytest.fixture
def build():
    return build_alone
