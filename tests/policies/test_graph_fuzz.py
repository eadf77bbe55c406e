"""Generated graph documents fed to the policy check: each is refused up front with a message
naming the resource and field (exit 2), or evaluated without crashing. Never a traceback."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.policy_analyzer import CheckInputError, validate_graph

ROOT = Path(__file__).resolve().parents[2]
SEED = 1122
JUNK: list[Any] = [None, "", "x", 0, -1, 1.5, 10**400, 10**30, True, [], {}, [1, "a"], {"a": None},
                   "5m", ["x"], {"create": "soon"}, "04da6b54-80e4-46f7-96ec-b56ff0331ba9"]
FIELDS = ["urn", "type", "name", "custom", "parent", "provider", "inputs", "outputs", "options",
          "dependencies", "propertyDependencies", "options.customTimeouts", "options.ignoreChanges",
          "options.protect", "options.dependsOn", "options.additionalSecretOutputs", "inputs.*",
          "outputs.*"]


def _mutate(graph: dict, rng: random.Random) -> dict:
    g = copy.deepcopy(graph)
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.1:
            g[rng.choice(["format", "resources", "config", "outputs", "stack"])] = rng.choice(JUNK)
            continue
        if not isinstance(g.get("resources"), list) or not g["resources"]:
            continue
        resource = rng.choice(g["resources"])
        if not isinstance(resource, dict):
            continue
        field = rng.choice(FIELDS)
        head, _, tail = field.partition(".")
        if not tail:
            resource[head] = rng.choice(JUNK)
        elif isinstance(resource.get(head), dict):
            key = rng.choice(list(resource[head]) or ["x"]) if tail == "*" else tail
            resource[head][key] = rng.choice(JUNK)
    return g


@pytest.fixture(scope="module")
def prod_graph(baselines) -> dict:
    return baselines["prod"]


def test_generated_graphs_are_refused_clearly_or_evaluated(prod_graph, analyzer):
    rng = random.Random(SEED)
    refused, evaluated, problems = 0, 0, []
    for index in range(1500):
        doc = _mutate(prod_graph, rng)
        try:
            graph = validate_graph(doc, f"graph #{index}")
        except CheckInputError as err:
            refused += 1
            message = str(err)
            if "\n" in message or not message.startswith(f"graph #{index}: "):
                problems.append(message[:300])
            continue
        except Exception as exc:  # noqa: BLE001 - what the test looks for
            problems.append(f"graph #{index}: validate_graph crashed: {exc!r}")
            continue
        if evaluated < 30:
            evaluated += 1
            try:
                analyzer.evaluate(graph)
            except CheckInputError:
                pass
            except Exception as exc:  # noqa: BLE001
                problems.append(f"graph #{index}: evaluation crashed: {exc!r}")
    assert not problems, "\n".join(problems[:10])
    assert refused > 500 and evaluated == 30


@pytest.mark.parametrize("text", [
    '{"format": "printflow-resource-graph/1", "resources": ' + "[" * 100000 + "]" * 100000 + "}",
    '{"format": "printflow-resource-graph/1", "resources": [{"urn": "u", "type": "t", "inputs": {"n": 1' + "0" * 5000 + "}}]}",
    "\xff\xfe not json",
], ids=["deep", "huge-number", "not-json"])
def test_unreadable_graph_files_exit_2_with_one_line(tmp_path, text):
    path = tmp_path / "graph.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text)
    result = subprocess.run([sys.executable, "-m", "tools.policy_check", "--graph", str(path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
