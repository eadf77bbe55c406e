from __future__ import annotations

import pytest

from tests.program.graph import Graph, render
from tools.render import ORGANIZATION, render_stacks


@pytest.fixture(scope="session")
def stacks() -> dict[str, Graph]:
    return {name: Graph(raw) for name, raw in render_stacks().items()}


@pytest.fixture(scope="session")
def prod(stacks) -> Graph:
    return stacks["prod"]


@pytest.fixture(scope="session")
def dr(stacks) -> Graph:
    return stacks["dr"]


@pytest.fixture(scope="session")
def prod_references(prod) -> dict[str, dict]:
    """What a StackReference to prod returns, for rendering DR variants."""
    return {f"{ORGANIZATION}/printflow/prod": prod.outputs}


@pytest.fixture(scope="session")
def render_variant():
    return render
