"""What `ops drill run` does to the DR stack, behind a small interface: read its config, set the
restore time, up, read its outputs, count the changes a preview would make, destroy.

`AutomationStack` is the real one: Pulumi's Automation API (`pulumi.automation`) with the
project's own program in a LocalWorkspace, so it needs the Pulumi CLI and cloud credentials. It is
not exercised here (no CLI, no AWS account); the tests drive the drill through an implementation
that restores into moto.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Protocol

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
        """The stack's plain (not secret) config, `project:key` -> value (objects as JSON text)."""

    def set_restore_time(self, value: Optional[str]) -> None:
        """printflow:dr.restore_time, the ISO 8601 moment the database is restored to; None
        removes it (the stack then restores the latest restorable time)."""

    def up(self, log: Log) -> None: ...

    def outputs(self) -> dict: ...

    def changes(self, log: Log) -> int:
        """Resources a preview would create, update, replace or delete (0: in sync)."""

    def destroy(self, log: Log) -> None: ...


class StackCommandFailed(RuntimeError):
    """A Pulumi CLI command failed; the message is its error lines, not its whole output."""


def command_failure(what: str, error: Exception) -> StackCommandFailed:
    """pulumi.automation's CommandError reads "code: N, stdout: <the whole update>, stderr: ...":
    a record keeps the `error:` lines of stderr (else its last lines), which say what went wrong."""
    text = str(error)
    stderr = text.split("\n stderr: ", 1)[1] if "\n stderr: " in text else text
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")] or lines[-3:]
    return StackCommandFailed(f"pulumi {what} failed: " + " ".join(errors)[-400:])


class AutomationStack:
    """The DR stack through the Automation API, the program in this repository as its source."""

    def __init__(self, name: str, work_dir: Path = PROJECT_DIR):
        from pulumi import automation as auto

        self.name = name
        self._auto = auto
        self._stack = auto.select_stack(stack_name=name, work_dir=str(work_dir))

    def _run(self, what: str, command: Callable[[], object]) -> object:
        try:
            return command()
        except self._auto.CommandError as error:
            raise command_failure(what, error) from None

    def config(self) -> dict[str, str]:
        items = self._run("config", self._stack.get_all_config)
        return {key: item.value for key, item in items.items() if not item.secret}

    def set_restore_time(self, value: Optional[str]) -> None:
        key = "printflow:dr.restore_time"
        if value is None:
            self._run("config rm", lambda: self._stack.remove_config(key, path=True))
        else:
            self._run("config set", lambda: self._stack.set_config(key, self._auto.ConfigValue(value), path=True))

    def up(self, log: Log) -> None:
        self._run("up", lambda: self._stack.up(on_output=log, show_secrets=False))

    def outputs(self) -> dict:
        return {key: item.value for key, item in self._run("stack output", self._stack.outputs).items()}

    def changes(self, log: Log) -> int:
        summary = self._run("preview", lambda: self._stack.preview(on_output=log).change_summary) or {}
        return count_changes(summary)

    def destroy(self, log: Log) -> None:
        self._run("destroy", lambda: self._stack.destroy(on_output=log, show_secrets=False))
