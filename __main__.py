"""printflow: the Print-Flow-360 platform on AWS, one stack per environment (prod, staging) and a DR stack of each."""

import pulumi

from components.config import ConfigError, load_settings, read_pulumi_config
from components.platform import build_platform

try:
    config, secret_keys = read_pulumi_config()
    settings = load_settings(config, pulumi.get_stack(), secret_keys)
except ConfigError as error:
    # A clean stop before any resource is registered: nothing is created or destroyed.
    raise pulumi.RunError(str(error)) from None

for name, value in build_platform(settings).items():
    pulumi.export(name, value)
