"""Hermetic AWS for the ops tests: fake credentials, no config files, moto in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from moto import mock_aws

from tests.ops.fakeaws import ReplicatedBackups, build_env, stub_memorydb, Env
from ops.aws import Clients
from ops.cli import main


@pytest.fixture(autouse=True)
def hermetic_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # RDS touches moto's EC2 backend, which would load ~2600 default AMIs per region.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture(scope="session", autouse=True)
def fast_moto_kms() -> Iterator[None]:
    """moto makes an RSA-2048 key for every KMS key (~80 ms); reuse one per key spec."""
    from functools import lru_cache

    from moto.kms import models as kms_models
    original = kms_models.generate_private_key
    kms_models.generate_private_key = lru_cache(maxsize=None)(original)
    yield
    kms_models.generate_private_key = original


@pytest.fixture
def backups() -> Iterator[ReplicatedBackups]:
    registry = ReplicatedBackups()
    registry.install()
    yield registry
    registry.uninstall()


@pytest.fixture
def env(backups: ReplicatedBackups) -> Iterator[Env]:
    """A compliant prod (and restored dr) environment inside moto."""
    with mock_aws():
        yield build_env(backups)


_SHARED = Clients()  # boto3 clients hold no moto state; reuse them to keep the suite fast


@pytest.fixture
def clients(env: Env) -> Clients:
    """The CLI's client factory; MemoryDB is a fresh Stubber (moto has no MemoryDB parameter groups)."""
    stub_memorydb(_SHARED, env.outputs["queue_store"]["name"])
    return _SHARED


class Runner:
    def __init__(self, capsys: pytest.CaptureFixture[str], clients: Clients) -> None:
        self.capsys, self.clients = capsys, clients

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(argv), clients=self.clients)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def bare_run(capsys: pytest.CaptureFixture[str]) -> Runner:
    """A runner with no AWS environment (input-validation tests)."""
    return Runner(capsys, Clients())


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], clients: Clients) -> Runner:
    return Runner(capsys, clients)
