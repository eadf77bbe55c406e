"""Entry point: `python -m ops audit|drill ...` (usage: README.md, "Ops tools")."""

import sys

from ops.cli import main

sys.exit(main())
