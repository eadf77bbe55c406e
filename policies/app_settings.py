"""App settings (SSM parameters `/printflow/<env>/<app>/<KEY>`) and stack outputs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pack_common import (
    REFERENCE_NAME, SECRETISH_NAME, UNKNOWN, About, Rules, get, is_reference_value, is_secret,
    looks_like_secret_value,
)

PARAMETER = "aws:ssm/parameter:Parameter"
STACK = "pulumi:pulumi:Stack"
NAME_RE = re.compile(r"^/printflow/[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*/[A-Z][A-Z0-9_]*$")


GUIDE = "https://laravel.com/docs/11.x/"
rules = Rules()


def setting(args):
    """(KEY, value) of an app-setting parameter, or None if it is not one / not known yet."""
    name = get(args.props, "name")
    if not isinstance(name, str) or name is UNKNOWN or not name.startswith("/printflow/"):
        return None
    return name.rsplit("/", 1)[-1], parameter_value(args.props)


def setting_value(args, key: str):
    """The value of app setting `key` when `args` is that setting's parameter and the value is
    known; None otherwise (the rule does not apply)."""
    s = setting(args)
    return None if not s or s[0] != key or s[1] is UNKNOWN else str(s[1]).strip()


def parameter_value(props):
    """`value` (a Pulumi secret in pulumi-aws) or v7's plain `insecureValue`."""
    value = get(props, "value")
    return get(props, "insecureValue") if value is None else value


@rules.resource("printflow-app-settings-debug-disabled", [PARAMETER],
                About("high", "security", GUIDE + "configuration#debug-mode"))
def _debug(args, ctx, report):
    """APP_DEBUG app settings are 'false'."""
    value = setting_value(args, "APP_DEBUG")
    if value is not None and value.lower() != "false":
        report(f"SSM parameter '{get(args.props, 'name')}' sets APP_DEBUG to a value other than "
               "false; Laravel would show stack traces and environment values to users. Set it "
               "to 'false'.")


@rules.resource("printflow-app-settings-production-env", [PARAMETER],
                About("medium", "operations", GUIDE + "configuration#environment-configuration"),
                config={"expected": {"type": "string", "default": "production",
                                     "description": "Required APP_ENV (default production)."}})
def _app_env(args, ctx, report):
    """APP_ENV app settings are 'production'."""
    value = setting_value(args, "APP_ENV")
    if value is not None and value != ctx["expected"]:
        report(f"SSM parameter '{get(args.props, 'name')}' sets APP_ENV to '{value}'. Set it to "
               f"'{ctx['expected']}'.")


@rules.resource("printflow-app-settings-queue-not-sync", [PARAMETER],
                About("high", "reliability", GUIDE + "queues#driver-prerequisites"))
def _queue(args, ctx, report):
    """QUEUE_CONNECTION app settings use a real queue (not sync/null)."""
    value = setting_value(args, "QUEUE_CONNECTION")
    if value is not None and value.lower() in ("sync", "null"):
        report(f"SSM parameter '{get(args.props, 'name')}' sets QUEUE_CONNECTION to '{value}', "
               "which runs jobs inline (or drops them) instead of queueing them. Set it to "
               "'redis'.")


@rules.resource("printflow-app-settings-parameter-naming", [PARAMETER],
                About("low", "operations", "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-hierarchies.html"))
def _naming(args, ctx, report):
    """App-setting parameters are named /printflow/<env>/<app>/<KEY>."""
    name = get(args.props, "name")
    if not isinstance(name, str) or name is UNKNOWN or not name.startswith("/printflow"):
        return
    if not NAME_RE.match(name):
        report(f"SSM parameter '{name}' does not follow /printflow/<env>/<app>/<KEY> (lower-case "
               "env and app, upper-case KEY). Rename it so the apps find it.")


def _secret_setting(key: str, value) -> bool:
    if looks_like_secret_value(value):
        return True
    if REFERENCE_NAME.search(key) or is_reference_value(value):
        return False
    return bool(SECRETISH_NAME.search(key))


@rules.resource("aws-ssm-parameter-no-plain-secrets", [PARAMETER],
                About("critical", "security", "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-securestring.html"))
def _no_plain_secrets(args, ctx, report):
    """Plain String SSM parameters hold no secrets."""
    ptype = get(args.props, "type")
    if ptype is UNKNOWN or ptype == "SecureString":
        return
    name, value = get(args.props, "name"), parameter_value(args.props)
    if name is UNKNOWN or value is UNKNOWN:
        return
    key = name.rsplit("/", 1)[-1] if isinstance(name, str) else args.name
    if _secret_setting(key, value):
        report(f"SSM parameter '{name}' is a plain {ptype or 'String'} parameter but holds a "
               "secret-looking value (by its name or a 'base64:' key). Move it to the app's "
               "Secrets Manager entry (or make it a SecureString with a customer KMS key).")


def _walk(value, path):
    if isinstance(value, Mapping):
        for k in list(value.keys()):
            try:
                v = value[k]
            except Exception:  # noqa: BLE001 - unknown values are skipped
                continue
            yield from _walk(v, path + [str(k)])
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for i in range(len(value)):
            try:
                v = value[i]
            except Exception:  # noqa: BLE001
                continue
            yield from _walk(v, path + [str(i)])
    else:
        yield path, value


@rules.stack("printflow-stack-outputs-no-secrets",
             About("critical", "security", "https://www.pulumi.com/docs/iac/concepts/secrets/"))
def _outputs(stack, ctx, report):
    """Stack outputs expose no secret-looking values unless they are Pulumi secrets."""
    for res in stack.of(STACK):
        for path, value in _walk(res.props, []):
            if value is None or isinstance(value, (bool, int, float)) or is_secret(value):
                continue
            named = [p for p in path if not p.isdigit()]
            key = named[-1] if named else ""
            if _secret_setting(key, value):
                report(f"Stack output '{'.'.join(path)}' exposes a secret-looking value in plain "
                       "text (by its name or a 'base64:' key); anyone with stack read access sees "
                       "it. Export an ARN instead, or wrap it with pulumi.Output.secret().",
                       res.urn)


POLICIES = rules.policies
