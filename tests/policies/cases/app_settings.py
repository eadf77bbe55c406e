"""Policy cases: app settings."""

from __future__ import annotations

import base64

from tests.policies.cases.registry import case
from tests.policies.graphs import (
    STACK, add_copy, one, param, set_param_value, setp,
)


@case("printflow-app-settings-debug-disabled")
def _(g):
    set_param_value(param(g, "APP_DEBUG"), "true")


@case("printflow-app-settings-production-env")
def _(g):
    set_param_value(param(g, "APP_ENV", "pdf-service"), "local")


@case("printflow-app-settings-queue-not-sync")
def _(g):
    set_param_value(param(g, "QUEUE_CONNECTION"), "sync")


@case("printflow-app-settings-parameter-naming")
def _(g):
    setp(param(g, "APP_ENV"), "name", "/printflow/Prod/laravel/APP_ENV")


@case("aws-ssm-parameter-no-plain-secrets:secret-name")
def _(g):
    add_copy(g, param(g, "APP_ENV"), "stripe-secret",
             {"name": "/printflow/prod/laravel/STRIPE_SECRET", "type": "String"})


@case("aws-ssm-parameter-no-plain-secrets:base64-key-value")
def _(g):
    key = "base64:" + base64.b64encode(b"k" * 32).decode()
    set_param_value(param(g, "APP_ENV"), key)


@case("printflow-stack-outputs-no-secrets")
def _(g):
    stack = one(g, STACK)
    stack["outputs"]["laravel_app_key"] = "base64:" + base64.b64encode(b"k" * 32).decode()
