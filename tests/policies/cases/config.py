"""Policy cases: config: thresholds and the `all` override."""

from __future__ import annotations

from tests.policies.cases.registry import case
from tests.policies.graphs import (
    database, setp,
)


@case("aws-rds-instance-backup-retention:raised-threshold",
      config={"aws-rds-instance-backup-retention": {"minimumDays": 35}})
def _(g):
    setp(database(g), "backupRetentionPeriod", 30)
