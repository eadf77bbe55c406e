"""`ops drill run`: the whole restore drill of runbook §4 in one command.

preflight -> set restore_time on the DR stack -> up -> its outputs -> verify (waits for the
instance, measures RPO and RTO) -> a preview that must show no changes (a point-in-time restore
leaves some settings to a second update: apply once more if needed, and record it) -> destroy ->
restore_time put back as it was -> report. Each phase's duration goes into the drill record, so
RTO is measured and its parts are visible. A drill that fails anywhere, or is interrupted, still
writes its FAILED record, and the DR stack is always torn down unless --keep.

The disaster is declared when the drill starts: that moment is the target, and the stack restores
to the latest restorable time the preflight found then (the recovered point), so the recorded RPO
is how far the replicated backups were behind. --restore-time drills a chosen moment instead.

Safety first: the target stack's printflow:role must be `dr` and its printflow:dr.mode `drill`,
and it must not be the primary stack; otherwise nothing runs (exit 2).
"""

from __future__ import annotations

import json
import sys
import tempfile
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
from ops.timeutil import human_seconds, iso, parse_time, real_now


@dataclass
class RunOptions:
    directory: Path
    operator: str
    restore_time: Optional[datetime] = None
    """None: the drill's start is the target, restored to the latest restorable time then."""
    keep: bool = False
    wait_seconds: float = 3600
    sample: int = 5
    clock: Callable[[], datetime] = real_now
    monotonic: Callable[[], float] = time.monotonic
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))


def _dr_block(config: dict[str, str]) -> dict:
    try:
        dr_block = json.loads(config.get("printflow:dr") or "{}")
    except ValueError:
        return {}
    return dr_block if isinstance(dr_block, dict) else {}


def check_target(stack: StackOps, prod: StackOutputs) -> None:
    """Refuse any stack but a DR stack in drill mode (InputError: exit 2, nothing touched)."""
    config = stack.config()
    role = config.get("printflow:role", "primary")
    mode = _dr_block(config).get("mode")
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

    def always(self, name: str, action: Callable[[], Any]) -> None:
        """A clean-up phase: run whatever failed before, its own failure added to the others."""
        pending, self.reasons = self.reasons, []
        self.run(name, action)
        self.reasons = pending + self.reasons

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
    for state in (drill.PREFLIGHT_STATE, drill.VERIFY_STATE, RUN_STATE):
        (opts.directory / state).unlink(missing_ok=True)  # the record tells of this run only
    phases = _Phases(opts)
    started = opts.clock()
    facts: dict[str, Any] = {"stack": stack.name, "started_at": iso(started), "second_apply": False,
                             "kept": opts.keep}
    configured_before = _dr_block(stack.config()).get("restore_time")
    restore_time_set = False
    try:
        pre = phases.run("preflight", lambda: drill.preflight(clients, prod, started, opts.sample))
        if pre is not None:
            results, pre_facts = pre
            drill.record_checks(opts.directory, drill.PREFLIGHT_STATE, "preflight", results, pre_facts)
            if any_failed(results):
                phases.fail("preflight failed: the DR region is not ready to restore from")
            latest = None if opts.restore_time else _latest(pre_facts)
            restore_to = opts.restore_time or latest
            if restore_to is None and not phases.reasons:
                phases.fail("preflight found no restorable time and --restore-time was not given")
            target = opts.restore_time or started
            facts["target_time"] = iso(target)
            restore_time_set = phases.run("set restore_time", lambda: stack.set_restore_time(iso(restore_to))
                                          or True) is True
            phases.run("up", lambda: stack.up(opts.log))
            out = phases.run("outputs", lambda: _outputs(stack))
            phases.run("verify", lambda: _verify(clients, out, target, latest, started, opts))
            phases.run("preview", lambda: _converge(stack, phases, facts, opts))
    except KeyboardInterrupt:
        facts["interrupted"] = True
        raise
    finally:
        if not opts.keep:
            phases.always("destroy", lambda: stack.destroy(opts.log))  # a drill leaves nothing behind
            if restore_time_set:  # nor a restore_time a later failover would silently reuse
                phases.always("reset restore_time", lambda: stack.set_restore_time(configured_before))
        elif restore_time_set:
            opts.log("[drill run] --keep: printflow:dr.restore_time stays set in the stack's config while "
                     "the restored stack is up; after `pulumi destroy`, run `pulumi config rm --path "
                     "printflow:dr.restore_time` (or set it back) before any failover")
        _write_run_state(opts.directory, phases, facts)
        rec, _paths = report.write_report(opts.directory, opts.operator, opts.clock().replace(microsecond=0))
        opts.log(f"[drill run] drill {rec['id']}: {rec['result']}")
    return rec


def _latest(pre_facts: dict) -> Optional[datetime]:
    value = pre_facts.get("latest_restorable")
    return parse_time(value, "latest_restorable") if value else None


def _outputs(stack: StackOps) -> StackOutputs:
    """The dr stack's outputs, checked as every ops command checks them. They pass through a
    private temporary file, never drills/: the record and its pull request carry no outputs."""
    with tempfile.TemporaryDirectory(prefix="printflow-drill-") as tmp:
        path = Path(tmp) / "dr-outputs.json"
        path.write_text(json.dumps(stack.outputs(), indent=2) + "\n", encoding="utf-8")
        return load_outputs(path, command="`drill run` (the dr stack's outputs)")


def _verify(clients: Clients, out: StackOutputs, target: datetime, restored_to: Optional[datetime],
            started: datetime, opts: RunOptions) -> None:
    """`restored_to`: the latest restorable time at the drill's start, which the stack was
    restored to when no --restore-time was given; it is the recovered point."""
    vopts = drill.VerifyOptions(target_time=target, started_at=started, wait_seconds=opts.wait_seconds,
                                sample=opts.sample, recovered_point=restored_to, restored_to=restored_to,
                                recovered_point_source="the latest restorable time at the drill's start")
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


def _write_run_state(directory: Path, phases: _Phases, facts: dict) -> None:
    drill.write_state(directory, RUN_STATE, {"phase": "run", "passed": not phases.reasons,
                                             "phases": phases.records, "reasons": phases.reasons,
                                             "facts": facts})
