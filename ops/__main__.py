"""Entry point: `python -m ops audit|drill ...` (see ops/RUNBOOK.md)."""

import sys

from ops.cli import main

sys.exit(main())
