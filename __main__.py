"""printflow: the Print-Flow-360 platform on AWS, one stack per environment (prod, dr)."""

import pulumi

from components.config import ConfigError, load_settings, read_pulumi_config
from components.platform import build_platform

try:
    settings = load_settings(read_pulumi_config(), pulumi.get_stack())
except ConfigError as error:
    # A clean stop before any resource is registered: nothing is created or destroyed.
    raise pulumi.RunError(str(error)) from None

for name, value in build_platform(settings).items():
    pulumi.export(name, value)
