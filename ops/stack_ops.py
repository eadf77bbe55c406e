"""What `ops drill run` does to the DR stack, behind a small interface: read its config, set the
restore time, up, read its outputs, count the changes a preview would make, destroy.

`AutomationStack` is the real one: Pulumi's Automation API (`pulumi.automation`) with the
project's own program in a LocalWorkspace, so it needs the Pulumi CLI and cloud credentials. It is
not exercised here (no CLI, no AWS account); the tests drive the drill through an implementation
that restores into moto.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Protocol

from ops.timeutil import iso

PROJECT_DIR = Path(__file__).resolve().parents[1]
Log = Callable[[str], None]


NOT_CHANGES = frozenset({"same", "read"})
"""Preview operations that change nothing (pulumi.automation.OpType): resources in sync, and
reads such as the StackReference to prod."""


def count_changes(summary: dict) -> int:
    """Resources a preview's change summary would create, update, replace or delete. The keys
    are OpType members (a str Enum) or plain strings."""
    return sum(count for op, count in summary.items() if getattr(op, "value", op) not in NOT_CHANGES)


class StackOps(Protocol):
    name: str

    def config(self) -> dict[str, str]:
        """The stack's config, `project:key` -> value (objects as JSON text)."""

    def set_restore_time(self, when: datetime) -> None:
        """printflow:dr.restore_time, the moment the database is restored to."""

    def up(self, log: Log) -> None: ...

    def outputs(self) -> dict: ...

    def changes(self, log: Log) -> int:
        """Resources a preview would create, update, replace or delete (0: in sync)."""

    def destroy(self, log: Log) -> None: ...


class AutomationStack:
    """The DR stack through the Automation API, the program in this repository as its source."""

    def __init__(self, name: str, work_dir: Path = PROJECT_DIR):
        from pulumi import automation as auto

        self.name = name
        self._auto = auto
        self._stack = auto.select_stack(stack_name=name, work_dir=str(work_dir))

    def config(self) -> dict[str, str]:
        return {key: item.value for key, item in self._stack.get_all_config().items()}

    def set_restore_time(self, when: datetime) -> None:
        self._stack.set_config("printflow:dr.restore_time", self._auto.ConfigValue(iso(when)), path=True)

    def up(self, log: Log) -> None:
        self._stack.up(on_output=log)

    def outputs(self) -> dict:
        return {key: item.value for key, item in self._stack.outputs().items()}

    def changes(self, log: Log) -> int:
        summary = self._stack.preview(on_output=log).change_summary or {}
        return count_changes(summary)

    def destroy(self, log: Log) -> None:
        self._stack.destroy(on_output=log)
