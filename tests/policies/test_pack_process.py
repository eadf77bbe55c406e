"""`python -m tools.policy_check` starts the default pack before importing gRPC
(tools/pack_process.py): the early process serves a check of the default pack, and is stopped
whatever the command line turns out to be -- another pack, --list, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import policy_check
from tools.pack_process import PACK_DIR, PackProcess, start_default_pack


@pytest.mark.parametrize("argv, starts", [
    (["--graph", "out/prod.json", "--json"], True),
    (["--stack", "prod", "--sarif", "out/policy.sarif"], True),
    ([], True),
    (["--pack", "other"], False),
    (["--pa=other"], False),                     # argparse takes abbreviations
    (["--list"], False),
    (["--l"], False),
    (["-h"], False),
    (["--help"], False),
])
def test_the_default_pack_starts_ahead_only_for_a_check_that_uses_it(argv, starts):
    started = start_default_pack(argv)
    try:
        assert (started is not None) is starts
    finally:
        if started is not None:
            started.stop()


def _graph(tmp_path: Path, graph: dict) -> str:
    path = tmp_path / "g.json"
    path.write_text(json.dumps(graph))
    return str(path)


def test_a_check_uses_the_pack_started_ahead_and_stops_it(baselines, tmp_path, capsys, monkeypatch):
    from tools import policy_analyzer

    started = PackProcess(PACK_DIR)
    monkeypatch.setattr(policy_analyzer, "PackProcess", lambda *a: pytest.fail("a second pack was started"))
    assert policy_check.main(["--graph", _graph(tmp_path, baselines["prod"]), "--json"], started=started) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert started.proc.poll() is not None


@pytest.mark.parametrize("argv", [
    lambda tmp: ["--graph", str(tmp / "missing.json")],          # bad input: exit 2
    lambda tmp: ["--list"],                                       # another use: its own pack
    lambda tmp: ["--pack", str(PACK_DIR), "--list"],
], ids=["bad-input", "list", "pack-and-list"])
def test_the_pack_started_ahead_is_stopped_whatever_the_command(tmp_path, argv):
    started = PackProcess(PACK_DIR)
    assert policy_check.main(argv(tmp_path), started=started) in (0, 2)
    assert started.proc.poll() is not None


def test_an_unreadable_command_line_stops_the_pack_started_ahead():
    started = PackProcess(PACK_DIR)
    with pytest.raises(SystemExit):
        policy_check.main(["--stack", "no-such-stack"], started=started)
    assert started.proc.poll() is not None
