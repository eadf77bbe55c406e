"""What every config model shares: the project name, the regions, the error type, strictness."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

PROJECT = "printflow"

AWS_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-south-1", "sa-east-1",
)
Region = Literal[AWS_REGIONS]  # type: ignore[valid-type]


class ConfigError(Exception):
    """Invalid stack configuration; its message is the one paragraph a user sees."""


def shown(value: Any, limit: int = 40) -> str:
    """A user's value echoed in a message: truncated, so a message stays one readable paragraph."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              use_attribute_docstrings=True)
