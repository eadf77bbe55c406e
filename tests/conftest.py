"""Hermetic test setup: no real AWS credentials, config files or metadata endpoint are reachable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import aws_on_use  # noqa: E402 - needs ROOT on sys.path

aws_on_use.install()  # as the tools run the program: before any test module imports pulumi_aws

_HERMETIC_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
for _key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "PULUMI_CONFIG", "PULUMI_ACCESS_TOKEN"):
    os.environ.pop(_key, None)
os.environ.update(_HERMETIC_ENV)


@pytest.fixture(autouse=True)
def _hermetic_aws(monkeypatch):
    for key, value in _HERMETIC_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
