"""End to end: moto's server in a thread, the CLI as a subprocess with AWS_ENDPOINT_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
from moto.server import ThreadedMotoServer

from tests.ops.fakeaws import PRIMARY, SECRET_VALUES, Env, ReplicatedBackups, aws, build_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)   # the fixture builder talks to the server too
    try:
        yield url
    finally:
        # The server shares this process's moto state: reset it through moto's public API.
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10)
        server.stop()


@pytest.fixture
def server_env(moto_server: str, backups: ReplicatedBackups) -> Env:
    return build_env(backups)


def _cli(url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION=PRIMARY, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "ops", *argv], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=60)


def test_cli_against_moto_server(moto_server: str, server_env: Env, tmp_path: Path) -> None:
    outputs = server_env.write(tmp_path / "prod-outputs.json")
    base = ("audit", "--outputs", str(outputs), "--now", server_env.now.isoformat(), "--skip", "memorydb")

    # moto has no MemoryDB parameter groups, so that area is skipped here (covered by Stubber tests).
    ok = _cli(moto_server, *base, "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["passed"] and len([c for c in doc["checks"] if c["status"] == "pass"]) > 30

    aws("cloudwatch").set_alarm_state(AlarmName="printflow-prod-scheduler-heartbeat", StateValue="ALARM",
                                      StateReason="no heartbeat")
    bad = _cli(moto_server, *base)
    assert bad.returncode == 1
    line = next(l for l in bad.stdout.splitlines() if l.startswith("heartbeat") and "scheduler" in l)
    assert "FAIL" in line and "dead job: heartbeat alarm in ALARM" in line
    assert bad.stdout.splitlines()[-1].startswith("FAILED: ")
    for value in SECRET_VALUES:
        assert value not in bad.stdout + bad.stderr

    pre = _cli(moto_server, "drill", "preflight", "--outputs", str(outputs), "--now",
               server_env.now.isoformat(), "--dir", str(tmp_path / "drills"))
    assert pre.returncode == 0, pre.stdout + pre.stderr

    dr_outputs = server_env.write(tmp_path / "dr-outputs.json", which="dr")
    started = server_env.now - timedelta(hours=1)
    ver = _cli(moto_server, "drill", "verify", "--outputs", str(dr_outputs), "--dir", str(tmp_path / "drills"),
               "--target-time", (server_env.now - timedelta(minutes=2)).isoformat(),
               "--started-at", started.isoformat(), "--wait-seconds", "5", "--poll-seconds", "1")
    assert ver.returncode == 0, ver.stdout + ver.stderr
    rep = _cli(moto_server, "drill", "report", "--dir", str(tmp_path / "drills"), "--operator", "ci")
    assert rep.returncode == 0 and "PASSED" in rep.stdout
    [record] = list((tmp_path / "drills").glob("drill-*.json"))
    rec = json.loads(record.read_text())
    assert rec["result"] == "PASSED" and rec["rpo"]["achieved_seconds"] == 0
    assert 3600 <= rec["rto"]["achieved_seconds"] < 3660


def test_cli_bad_outputs_exit_2_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"environment": "prod"}))
    result = _cli("http://127.0.0.1:9", "audit", "--outputs", str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert "missing key `database`" in result.stderr and "Traceback" not in result.stderr


def test_cli_report_without_verify_fails(tmp_path: Path) -> None:
    result = _cli("http://127.0.0.1:9", "drill", "report", "--dir", str(tmp_path / "d"), "--operator", "ci")
    assert result.returncode == 1 and "FAILED" in result.stdout
    assert list((tmp_path / "d").glob("drill-*.md")) and list((tmp_path / "d").glob("drill-*.json"))
