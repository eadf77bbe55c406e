"""Bad input to the ops tools: one line, exit 2 (or a FAILED drill, exit 1), never a traceback."""

from __future__ import annotations

import copy
import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ops import drill
from ops.outputs import InputError, load_outputs
from tests.ops.fakeaws import Env

JUNK: list[Any] = [None, "", "x", 0, -1, 10**30, 1e308, True, [], {}, [1], {"a": 1}, "arn:aws",
                   "not-an-arn", "arn:aws:rds:us-east-1:123:db:x", "0001-01-01T00:00:00+01:00",
                   "9999-12-31T23:59:59-01:00", "us-east-1", "latest", "primary", "drill"]


def _paths(value: Any, path: tuple = ()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))
    if path:
        yield path


def _mutate(doc: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        paths = list(_paths(doc))
        if not paths:
            break
        *parent_path, last = rng.choice(paths)
        parent = doc
        for key in parent_path:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.2:
            parent.pop(last, None)
        else:
            parent[last] = copy.deepcopy(rng.choice(JUNK))
    return doc


def test_generated_outputs_files_load_or_are_refused_in_one_paragraph(env: Env, tmp_path: Path):
    rng = random.Random(7)
    refused = accepted = 0
    for index in range(1500):
        source = env.outputs if index % 2 else env.dr_outputs
        path = tmp_path / f"outputs-{index}.json"
        path.write_text(json.dumps(_mutate(source, rng)))
        try:
            load_outputs(path)
            accepted += 1
        except InputError as exc:
            refused += 1
            assert "\n" not in str(exc) and str(path) in str(exc)
    assert refused > 300 and accepted > 100


@pytest.mark.parametrize("text", [
    "[" * 100000 + "]" * 100000,
    '{"environment": 1' + "0" * 5000 + "}",
    "\xff\xfe",
], ids=["deep", "5000-digits", "not-utf8"])
def test_unreadable_outputs_files_exit_2(bare_run, tmp_path: Path, text: str):
    path = tmp_path / "outputs.json"
    path.write_bytes(text.encode("latin-1"))
    code, out, err = bare_run("audit", "--outputs", str(path))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "yesterday"])
def test_timestamps_out_of_range_exit_2(bare_run, tmp_path: Path, value: str):
    path = tmp_path / "outputs.json"
    path.write_text("{}")
    with pytest.raises(SystemExit) as caught:
        bare_run("drill", "verify", "--outputs", str(path), "--target-time", value,
                 "--started-at", "2026-11-22T10:00:00Z")
    assert caught.value.code == 2


def test_a_malformed_arn_is_refused_before_any_call(env: Env, run, tmp_path: Path):
    env.dr_outputs["app_secrets"]["laravel_arn"] = "printflow-laravel"
    path = env.write(tmp_path / "dr.json", which="dr")
    code, _, err = run("drill", "verify", "--outputs", str(path), "--target-time", env.now.isoformat(),
                       "--started-at", (env.now - timedelta(hours=1)).isoformat())
    assert code == 2 and "`laravel_arn` is not an ARN" in err


def test_missing_credentials_are_one_line_not_ten_failures(env: Env, bare_run, tmp_path: Path, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    path = env.write(tmp_path / "prod.json")
    code, out, err = bare_run("audit", "--outputs", str(path))
    assert code == 2 and out == ""
    assert "cannot reach AWS" in err and len(err.strip().splitlines()) == 1


def test_a_dir_that_is_a_file_exits_2(bare_run, tmp_path: Path):
    target = tmp_path / "drills"
    target.write_text("not a directory")
    code, _, err = bare_run("drill", "report", "--dir", str(target))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


GOOD_STATE = {"phase": "verify", "passed": True,
              "facts": {"rpo_seconds": 0, "rto_seconds": 60, "backup_set": "arn:aws:rds:x"},
              "checks": [{"check": "dr-rpo", "resource": "db", "status": "pass", "detail": "ok"}]}
BAD_STATES = [
    [], {}, "null", {"phase": "verify"}, {**GOOD_STATE, "checks": "none"},
    {**GOOD_STATE, "checks": [1]}, {**GOOD_STATE, "checks": [{"check": "x", "status": "maybe"}]},
    {**GOOD_STATE, "facts": []}, {**GOOD_STATE, "facts": {"rpo_seconds": "soon"}},
    {**GOOD_STATE, "passed": "yes"}, {**GOOD_STATE, "phase": "audit"},
    {**GOOD_STATE, "facts": {"rto_seconds": 1e400}},
]


@pytest.mark.parametrize("state", BAD_STATES, ids=[f"shape-{i}" for i in range(len(BAD_STATES))])
@pytest.mark.parametrize("name", [drill.PREFLIGHT_STATE, drill.VERIFY_STATE])
def test_a_state_file_the_tools_did_not_write_fails_the_drill(bare_run, tmp_path: Path, state, name):
    """A corrupt `.last-preflight.json` (`[]`) once read as 'no checks' and the drill PASSED."""
    directory = tmp_path / "drills"
    directory.mkdir()
    (directory / drill.VERIFY_STATE).write_text(json.dumps(GOOD_STATE))
    (directory / name).write_text(state if isinstance(state, str) else json.dumps(state))
    code, out, err = bare_run("drill", "report", "--dir", str(directory), "--json")
    assert code == 1 and "Traceback" not in err
    record = json.loads(out)
    assert record["result"] == "FAILED"
    assert any(name in reason for reason in record["reasons"]), record["reasons"]


def test_generated_state_files_never_crash_the_report(bare_run, tmp_path: Path):
    rng = random.Random(11)
    for index in range(300):
        directory = tmp_path / f"d{index}"
        directory.mkdir()
        (directory / drill.VERIFY_STATE).write_text(json.dumps(_mutate(GOOD_STATE, rng)))
        code, out, err = bare_run("drill", "report", "--dir", str(directory), "--json")
        assert code in (0, 1) and "Traceback" not in err
        record = json.loads(out)
        assert record["result"] in ("PASSED", "FAILED")
