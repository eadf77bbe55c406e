"""`ops drill run`: the whole restore drill of runbook §4 in one command.

preflight -> set restore_time on the DR stack -> up -> its outputs -> verify (waits for the
instance, measures RPO and RTO) -> a preview that must show no changes (a point-in-time restore
leaves some settings to a second update: apply once more if needed, and record it) -> report ->
destroy. Each phase's duration goes into the drill record, so RTO is measured and its parts are
visible. A drill that fails anywhere, or is interrupted, still writes its FAILED record, and the
DR stack is always torn down unless --keep.

Safety first: the target stack's printflow:role must be `dr` and its printflow:dr.mode `drill`,
and it must not be the primary stack; otherwise nothing runs (exit 2).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Optional

from ops import drill, report
from ops.report import RUN_STATE
from ops.aws import Clients
from ops.checks import any_failed
from ops.outputs import InputError, StackOutputs, load_outputs
from ops.stack_ops import StackOps
from ops.timeutil import human_seconds, iso, parse_time



@dataclass
class RunOptions:
    directory: Path
    operator: str
    restore_time: Optional[datetime] = None
    """None: the latest restorable time the preflight found."""
    keep: bool = False
    wait_seconds: float = 3600
    sample: int = 5
    clock: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    monotonic: Callable[[], float] = time.monotonic
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))


def check_target(stack: StackOps, prod: StackOutputs) -> None:
    """Refuse any stack but a DR stack in drill mode (InputError: exit 2, nothing touched)."""
    config = stack.config()
    role = config.get("printflow:role", "primary")
    try:
        dr_block = json.loads(config.get("printflow:dr") or "{}")
    except ValueError:
        dr_block = {}
    mode = dr_block.get("mode") if isinstance(dr_block, dict) else None
    if role != "dr":
        raise InputError(f"Stack '{stack.name}' has printflow:role '{role}': a drill runs only against "
                         "a DR stack (role dr, dr.mode drill). Nothing was changed.")
    if mode != "drill":
        raise InputError(f"Stack '{stack.name}' has printflow:dr.mode '{mode}': a drill runs only in "
                         "mode drill (a failover stack serves production). Nothing was changed.")
    if stack.name == prod.environment or stack.name.split("/")[-1] == prod.environment:
        raise InputError(f"Stack '{stack.name}' is the primary stack. Nothing was changed.")


class _Phases:
    """Runs the phases in order, timing each; the first failure stops the rest."""

    def __init__(self, opts: RunOptions):
        self.opts, self.records, self.reasons = opts, [], []

    def run(self, name: str, action: Callable[[], Any]) -> Any:
        if self.reasons:
            return None
        self.opts.log(f"[drill run] {name} ...")
        start = self.opts.monotonic()
        try:
            result = action()
        except KeyboardInterrupt:
            self._done(name, start, False, "interrupted (Ctrl-C)")
            self.reasons.append(f"{name}: interrupted")
            raise
        except Exception as exc:  # noqa: BLE001 - the drill records every failure
            self._done(name, start, False, f"{type(exc).__name__}: {str(exc)[:300]}")
            self.reasons.append(f"{name} failed: {str(exc)[:300]}")
            return None
        self._done(name, start, True, "")
        return result

    def fail(self, reason: str) -> None:
        self.reasons.append(reason)

    def _done(self, name: str, start: float, ok: bool, detail: str) -> None:
        seconds = round(self.opts.monotonic() - start, 3)
        self.records.append({"phase": name, "seconds": seconds, "ok": ok, "detail": detail})
        self.opts.log(f"[drill run] {name}: {'done' if ok else 'FAILED'} in {human_seconds(seconds)}"
                      + (f" ({detail})" if detail else ""))


def run_drill(stack: StackOps, clients: Clients, prod: StackOutputs, opts: RunOptions) -> dict:
    """The drill, start to record. `check_target` must have passed."""
    opts.directory.mkdir(parents=True, exist_ok=True)
    phases = _Phases(opts)
    started = opts.clock()
    facts: dict[str, Any] = {"stack": stack.name, "started_at": iso(started), "second_apply": False,
                             "kept": opts.keep}
    try:
        pre = phases.run("preflight", lambda: drill.preflight(clients, prod, started, opts.sample))
        if pre is not None:
            results, pre_facts = pre
            drill.record_checks(opts.directory, drill.PREFLIGHT_STATE, "preflight", results, pre_facts)
            if any_failed(results):
                phases.fail("preflight failed: the DR region is not ready to restore from")
            target = opts.restore_time or _latest(pre_facts)
            if target is None and not phases.reasons:
                phases.fail("preflight found no restorable time and --restore-time was not given")
            facts["target_time"] = iso(target) if target else None
            phases.run("set restore_time", lambda: stack.set_restore_time(target))
            phases.run("up", lambda: stack.up(opts.log))
            out = phases.run("outputs", lambda: _outputs(stack, opts.directory))
            phases.run("verify", lambda: _verify(clients, out, target, started, opts))
            phases.run("preview", lambda: _converge(stack, phases, facts, opts))
    except KeyboardInterrupt:
        facts["interrupted"] = True
        raise
    finally:
        if not opts.keep:
            _destroy(stack, phases, opts)
        _write_run_state(opts.directory, phases, facts)
        rec, _paths = report.write_report(opts.directory, opts.operator, opts.clock().replace(microsecond=0))
        opts.log(f"[drill run] drill {rec['id']}: {rec['result']}")
    return rec


def _latest(pre_facts: dict) -> Optional[datetime]:
    value = pre_facts.get("latest_restorable")
    return parse_time(value, "latest_restorable") if value else None


def _outputs(stack: StackOps, directory: Path) -> StackOutputs:
    path = directory / "dr-outputs.json"
    path.write_text(json.dumps(stack.outputs(), indent=2) + "\n", encoding="utf-8")
    return load_outputs(path, command="`drill run` (the dr stack's outputs)")


def _verify(clients: Clients, out: StackOutputs, target: datetime, started: datetime, opts: RunOptions) -> None:
    vopts = drill.VerifyOptions(target_time=target, started_at=started, wait_seconds=opts.wait_seconds,
                                sample=opts.sample)
    results, facts = drill.verify(clients, out, vopts, opts.clock)
    drill.record_checks(opts.directory, drill.VERIFY_STATE, "verify", results, facts)


def _converge(stack: StackOps, phases: _Phases, facts: dict, opts: RunOptions) -> None:
    """A restored stack must match its program: apply once more if a preview shows changes."""
    if stack.changes(opts.log) == 0:
        return
    facts["second_apply"] = True
    opts.log("[drill run] the preview shows changes after the restore: applying once more")
    stack.up(opts.log)
    remaining = stack.changes(opts.log)
    if remaining:
        phases.fail(f"the DR stack still differs from its program after a second apply ({remaining} changes)")


def _destroy(stack: StackOps, phases: _Phases, opts: RunOptions) -> None:
    """Always attempted, whatever failed before (a drill leaves nothing behind)."""
    pending, phases.reasons = phases.reasons, []
    phases.run("destroy", lambda: stack.destroy(opts.log))
    phases.reasons = pending + phases.reasons


def _write_run_state(directory: Path, phases: _Phases, facts: dict) -> None:
    drill.write_state(directory, RUN_STATE, {"phase": "run", "passed": not phases.reasons,
                                             "phases": phases.records, "reasons": phases.reasons,
                                             "facts": facts})
