"""Generated stack configs through the real program under the mock engine: every variant is either
accepted (the whole program runs) or refused with a message naming a key and nothing registered
but the root stack. Never anything else: no traceback, no half-created stack.

Each variant runs in a process forked after the SDK and the program's modules are imported, so a
run costs the program, not the imports, and the mock runtime's process-global state is fresh.
"""

from __future__ import annotations

import json
import os
import random
import re
import traceback
from typing import Any, Iterator

import pytest

import components.platform  # noqa: F401  (imported before forking)
import pulumi
from components.config import ConfigError, load_settings
from tests.program.graph import config_with
from tools.mocks import PlatformMocks, RecordingMonitor
from tools.render import ORGANIZATION, render_stack, run_program
from tools.wire import reveal

VARIANTS = 3000
FULL_RUNS = 20  # distinct accepted settings run through the whole program
SEED = 20261122
POOL: list[Any] = [
    None, "", " ", "x" * 5000, "ünïcødé", "0", "-1", 0, -1, 1, 2, 3, 7, 35, 36, 3600, 86400,
    10**400, 1e308, "inf", "nan", True, False, [], {}, [1, 2], {"a": 1}, "10.256.0.0/16",
    "10.040.0.0/16", "10.41.0.0/16", "db.foo.bar", "db.t4g.medium", "03:00-03:10", "25:00-26:00",
    "sun:05:00-sun:05:10", "default", "https://", "https://a b", "https://u:p@x.example",
    "a@b", "ops@printflow.example", 1763820300, "2026-11-22T14:05:00", "9999-12-31T00:00:00Z",
    "0001-01-01T00:00:00+01:00", "redis", "valkey", "7.1", "7.2", "7.3", "GOVERNANCE",
    "COMPLIANCE", "prod", "staging", "dr", "drill", "failover", "primary", "us-east-1",
    "us-west-2", "eu-west-1", "nat-single", "none", "db.r7g.large", "cache.t4g.small",
]


def _leaves(value: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    yield path


def _set(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    if isinstance(doc, dict):
        doc = dict(doc)
        if value is None and not rest:
            doc.pop(head, None)
        else:
            doc[head] = _set(doc.get(head), tuple(rest), value)
        return doc
    if isinstance(doc, list) and isinstance(head, int) and head < len(doc):
        doc = list(doc)
        doc[head] = _set(doc[head], tuple(rest), value)
        return doc
    return doc


def _variant(rng: random.Random) -> tuple[str, dict[str, str]]:
    stack = rng.choice(["prod", "dr", "staging", "staging-dr"])
    config = config_with(stack, {})
    for _ in range(rng.randint(1, 3)):
        key = rng.choice(sorted(config) + ["printflow:cache", "printflow:dr", "printflow:bogus"])
        raw = config.get(key)
        doc = json.loads(raw) if raw and raw[:1] in "{[" else raw
        paths = list(_leaves(doc)) + [("extra_key",)] if isinstance(doc, dict) else [()]
        path = rng.choice(paths)
        value = rng.choice(POOL)
        doc = _set(doc, path, value)
        if doc is None:
            config.pop(key, None)
        else:
            config[key] = json.dumps(doc) if isinstance(doc, (dict, list)) else (
                ("true" if doc else "false") if isinstance(doc, bool) else str(doc))
    return stack, config


def _run(stack: str, config: dict[str, str], references: dict) -> dict:
    monitor = RecordingMonitor(PlatformMocks("us-east-1"))
    try:
        run_program(stack, config, references, monitor=monitor)
        return {"kind": "accepted", "registered": len(monitor.registrations)}
    except pulumi.RunError as error:
        return {"kind": "refused", "message": str(error),
                "registered": [r.type for r in monitor.registrations.values()]}
    except BaseException:  # noqa: BLE001 - this is what the test looks for
        return {"kind": "crash", "trace": traceback.format_exc()[-2000:],
                "registered": len(monitor.registrations)}


def _in_children(jobs: list[tuple[str, dict]], references: dict, workers: int = 2) -> list[dict]:
    """Run the program for every job, split over `workers` processes forked after the imports."""
    chunks = [jobs[i::workers] for i in range(workers)]
    children = []
    for chunk in chunks:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_fd)
                results = [_run(stack, config, references) for stack, config in chunk]
                with os.fdopen(write_fd, "w") as sink:
                    json.dump(results, sink)
            finally:
                os._exit(0)
        os.close(write_fd)
        children.append((pid, read_fd))
    results: list[dict] = []
    for (pid, read_fd), chunk in zip(children, chunks):
        with os.fdopen(read_fd) as source:
            text = source.read()
        os.waitpid(pid, 0)
        results += json.loads(text) if text else [{"kind": "crash", "trace": "child died"}] * len(chunk)
    return results


@pytest.fixture(scope="module")
def references() -> dict:
    outputs = {name: reveal(render_stack(name)["outputs"]) for name in ("prod", "staging")}
    return {f"{ORGANIZATION}/printflow/{name}": value for name, value in outputs.items()}


def test_generated_configs_are_accepted_or_refused_before_anything_is_registered(references):
    rng = random.Random(SEED)
    variants = [_variant(rng) for _ in range(VARIANTS)]
    refused_jobs, accepted_jobs, seen = [], [], set()
    problems = []
    for stack, config in variants:
        try:
            settings = load_settings(config, stack)
        except ConfigError:
            refused_jobs.append((stack, config))
            continue
        except Exception:  # noqa: BLE001
            problems.append(f"{stack}: load_settings crashed: {traceback.format_exc()[-800:]}")
            continue
        if settings.model_dump_json() not in seen and len(accepted_jobs) < FULL_RUNS:
            seen.add(settings.model_dump_json())
            accepted_jobs.append((stack, config))
    # Every refused variant through the real program: a RunError naming a key, only the root stack.
    for (stack, _), result in zip(refused_jobs, _in_children(refused_jobs, references)):
        message = result.get("message", "")
        if (result["kind"] != "refused" or result["registered"] != ["pulumi:pulumi:Stack"]
                or not re.search(r"(printflow:\S+|aws:region) ", message) or "\n" in message):
            problems.append(f"{stack}: {str(result)[:600]}")
    # Distinct accepted settings run through the whole program.
    for (stack, _), result in zip(accepted_jobs, _in_children(accepted_jobs, references)):
        if result["kind"] != "accepted":
            problems.append(f"{stack} accepted by the config but the program did not run: {str(result)[:600]}")
    assert not problems, "\n".join(problems[:10])
    assert len(refused_jobs) > VARIANTS // 2 and len(accepted_jobs) >= FULL_RUNS // 2, (
        len(refused_jobs), len(accepted_jobs))
