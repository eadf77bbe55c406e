"""Every policy's failing mutations, one module per service to mirror policies/. Every policy of
the pack has at least one case (enforced by test_every_policy_has_a_case)."""

from tests.policies.cases import (  # noqa: F401  (importing registers the cases)
    app_settings, s3, rds, queue_store, kms, secrets_manager, alarms, stack_wide, config, network,
)
from tests.policies.cases.registry import CASES, Case, case  # noqa: F401
