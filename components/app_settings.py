"""Non-secret runtime settings, published where the apps and the policy pack can read them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .base import child_options


@dataclass(frozen=True)
class AppSettingsArgs:
    environment: str
    """The business environment, in each parameter's path."""
    region: str
    """The AWS region the resources are created in."""
    settings: dict[str, dict[str, pulumi.Input[str]]]
    """app -> KEY -> value; values validated by the stack config (no secrets)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every resource (app, env, owner, data-tier, stack-role)."""


def parameter_path(environment: str, app: str, key: str) -> str:
    return f"/printflow/{environment}/{app}/{key}"


class AppSettingsParameters(pulumi.ComponentResource):
    """One SSM String parameter per setting under /printflow/<env>/<app>/<KEY>."""

    def __init__(self, name: str, args: AppSettingsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("printflow:apps:AppSettingsParameters", name, None, opts)
        self.parameters: dict[str, aws.ssm.Parameter] = {}
        for app, settings in sorted(args.settings.items()):
            for key, value in sorted(settings.items()):
                path = parameter_path(args.environment, app, key)
                self.parameters[path] = aws.ssm.Parameter(
                    f"{name}-{app}-{key.lower().replace('_', '-')}", name=path, type="String",
                    # insecure_value: these are deliberately public settings, visible in plans.
                    insecure_value=value, region=args.region, tier="Standard",
                    tags={**args.tags, "app-name": app}, opts=child_options(self))
        self.register_outputs({"paths": sorted(self.parameters)})
