"""The GitHub workflows pass zizmor (offline audits: unpinned actions, persisted credentials,
excessive permissions, secrets outside an environment, template injection, ...), so the
pull-request path cannot regress. zizmor is installed from PyPI (requirements-dev.txt)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ZIZMOR = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")


def _zizmor(*paths: Path, persona: str = "regular") -> subprocess.CompletedProcess:
    if ZIZMOR is None:
        pytest.fail("zizmor is not installed: `make setup` installs requirements-dev.txt")
    return subprocess.run([ZIZMOR, "--offline", "--persona", persona, "--no-progress",
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_zizmor_finds_nothing_in_the_workflows():
    proc = _zizmor(WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_zizmor_would_catch_an_unpinned_action(tmp_path):
    """The audit is live: the same workflow with a tag instead of a SHA fails."""
    workflow = (WORKFLOWS / "pull-request.yml").read_text()
    broken = re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v7", workflow, count=1)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    path = tmp_path / ".github" / "workflows" / "pull-request.yml"
    path.write_text(broken)
    proc = _zizmor(path)
    assert proc.returncode != 0 and "unpinned-uses" in proc.stdout + proc.stderr


def test_every_action_is_pinned_to_a_commit_with_its_version_noted():
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text().splitlines():
            match = re.search(r"uses:\s*(\S+)", line)
            if match and not match.group(1).startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", match.group(1)), line
                assert re.search(r"#\s*v\d+\.\d+\.\d+", line), f"{path.name}: no version comment: {line}"


def test_the_offline_job_runs_what_the_readme_promises():
    jobs = yaml.safe_load((WORKFLOWS / "pull-request.yml").read_text())["jobs"]
    runs = [step.get("run", "") for step in jobs["offline"]["steps"]]
    assert "make test" in runs and "make policy SARIF=out/policy.sarif" in runs
