"""`ops drill report`: turn the last preflight/verify state into a permanent drill record.

Runbook §4.4: "A drill that didn't report its result counts as failed" — so a report with no
verify state is written as FAILED (and the CLI exits 1). State files are consumed, so an old
verify can never be reported twice.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from ops.checks import CheckResult, Status
from ops.drill import PREFLIGHT_STATE, RPO_TARGET_SECONDS, RTO_TARGET_SECONDS, VERIFY_STATE

RUN_STATE = ".last-run.json"
from ops.timeutil import human_seconds, iso

LOG_FILE = "drill-log.jsonl"
INDEX_FILE = "README.md"


class _Check(BaseModel):
    model_config = ConfigDict(extra="allow")
    check: str
    resource: str = ""
    status: Literal["pass", "fail", "skip"]
    detail: str = ""
    area: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class _Facts(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    rpo_seconds: Optional[float] = None
    rto_seconds: Optional[float] = None
    backup_set: Optional[str] = None
    target_time: Optional[str] = None
    recovered_point: Optional[str] = None
    recovered_point_source: Optional[str] = None
    started_at: Optional[str] = None
    finished_at: Optional[str] = None
    replication_lag_seconds: Optional[float] = None


class _Phase(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)
    phase: str
    seconds: float
    ok: StrictBool
    detail: str = ""


class _State(BaseModel):
    """What `drill preflight` / `drill verify` / `drill run` write (drill.write_state)."""

    model_config = ConfigDict(extra="allow")
    phase: Literal["preflight", "verify", "run"]
    passed: StrictBool
    facts: _Facts
    checks: list[_Check] = Field(default_factory=list)
    phases: list[_Phase] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)


def _load(path: Path, phase: str) -> tuple[dict[str, Any] | None, str | None]:
    """The state `phase` wrote, or a reason the drill failed: a state file that is not what the
    tools wrote (truncated, edited, another file) must never read as 'no failed checks'."""
    if not path.exists():
        return None, None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        state = _State.model_validate(raw)
    except RecursionError:
        return None, f"{path.name} is not what `drill {phase}` writes (nested too deeply)"
    except (OSError, ValueError) as exc:
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        if isinstance(exc, ValidationError):
            detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'top level'}: {e['msg']}"
                               for e in exc.errors()[:3])
        return None, f"{path.name} is not what `drill {phase}` writes ({detail[:240]})"
    if state.phase != phase:
        return None, f"{path.name} holds a {state.phase} result, not a {phase} result"
    return state.model_dump(exclude_none=False), None


def build_record(directory: Path, operator: str, now: datetime) -> dict[str, Any]:
    """Assemble the record; decide PASSED/FAILED with reasons."""
    preflight, pre_err = _load(directory / PREFLIGHT_STATE, "preflight")
    verify, ver_err = _load(directory / VERIFY_STATE, "verify")
    run, run_err = _load(directory / RUN_STATE, "run")
    reasons: list[str] = [e for e in (pre_err, ver_err, run_err) if e]
    reasons += (run or {}).get("reasons", [])
    checks: list[dict[str, Any]] = []
    for phase, state in (("preflight", preflight), ("verify", verify)):
        for raw in (state or {}).get("checks", []):
            c = CheckResult.from_dict(raw)
            checks.append({"phase": phase, **c.to_dict()})
            if c.status is Status.FAIL:
                reasons.append(f"{phase} check failed: {c.check} {c.resource}: {c.detail}")
    if verify is None and not ver_err:
        reasons.append("no verify result: `ops drill verify` did not run or did not report "
                       "(a drill that did not report counts as failed)")
    if preflight is None and not pre_err:
        reasons.append("no preflight result recorded (warning only)")
    facts = (verify or {}).get("facts", {})
    rpo, rto = facts.get("rpo_seconds"), facts.get("rto_seconds")
    if verify is not None and rpo is None:
        reasons.append("achieved RPO unknown")
    failed = any(not r.startswith("no preflight") for r in reasons)
    return {
        "format": "printflow-drill-record/1",
        "id": now.strftime("%Y%m%dT%H%M%SZ"),
        "date": iso(now),
        "operator": operator,
        "result": "FAILED" if failed else "PASSED",
        "reasons": reasons,
        "backup_set": facts.get("backup_set") or (preflight or {}).get("facts", {}).get("backup_set"),
        "target_time": facts.get("target_time"),
        "recovered_point": facts.get("recovered_point"),
        "recovered_point_source": facts.get("recovered_point_source"),
        "started_at": facts.get("started_at"),
        "finished_at": facts.get("finished_at"),
        "rpo": {"achieved_seconds": rpo, "target_seconds": RPO_TARGET_SECONDS,
                "met": rpo is not None and rpo <= RPO_TARGET_SECONDS},
        "rto": {"achieved_seconds": rto, "target_seconds": RTO_TARGET_SECONDS,
                "met": rto is not None and 0 <= rto <= RTO_TARGET_SECONDS},
        "preflight_replication_lag_seconds": (preflight or {}).get("facts", {}).get("replication_lag_seconds"),
        "checks": checks,
        # `drill run`: each phase and how long it took (RTO, measured and broken down)
        "phases": (run or {}).get("phases", []),
        "second_apply": (run or {}).get("facts", {}).get("second_apply"),
    }


def _fmt(seconds: float | None) -> str:
    return "unknown" if seconds is None else f"{human_seconds(seconds)} ({seconds:.0f}s)"


def to_markdown(rec: dict[str, Any]) -> str:
    lines = [
        f"# Restore drill {rec['id']} — {rec['result']}", "",
        f"- Date: {rec['date']}",
        f"- Operator: {rec['operator']}",
        f"- Backup set used: {rec['backup_set'] or 'unknown'}",
        f"- Target time: {rec['target_time'] or 'unknown'}; recovered point: "
        f"{rec['recovered_point'] or 'unknown'} ({rec['recovered_point_source'] or '-'})",
        f"- RPO achieved: {_fmt(rec['rpo']['achieved_seconds'])} vs target "
        f"{human_seconds(rec['rpo']['target_seconds'])} — {'met' if rec['rpo']['met'] else 'NOT met'}",
        f"- RTO achieved: {_fmt(rec['rto']['achieved_seconds'])} vs target "
        f"{human_seconds(rec['rto']['target_seconds'])} — {'met' if rec['rto']['met'] else 'NOT met'}",
        "",
    ]
    if rec["reasons"]:
        lines += ["## Why", "", *[f"- {r}" for r in rec["reasons"]], ""]
    if rec.get("phases"):
        lines += ["## Phases", "", "| Phase | Took | Result |", "|---|---|---|"]
        lines += [f"| {p['phase']} | {human_seconds(p['seconds'])} | {'ok' if p['ok'] else 'FAILED: ' + p['detail']} |"
                  for p in rec["phases"]]
        if rec.get("second_apply"):
            lines.append("\nThe restored stack needed a second `up` before a preview showed no changes.")
        lines.append("")
    lines += ["## Checks", "", "| Phase | Check | Resource | Status | Detail |", "|---|---|---|---|---|"]
    for c in rec["checks"]:
        cells = [c["phase"], c["check"], c["resource"], c["status"].upper(), c["detail"]]
        lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
    if not rec["checks"]:
        lines.append("| - | - | - | - | no checks recorded |")
    return "\n".join(lines) + "\n"


def write_report(directory: Path, operator: str, now: datetime) -> tuple[dict[str, Any], list[Path]]:
    """Write <id>.json + <id>.md, append to the JSONL log and the Markdown index, consume state."""
    directory.mkdir(parents=True, exist_ok=True)
    rec = build_record(directory, operator, now)
    base = directory / f"drill-{rec['id']}"
    json_path, md_path = base.with_suffix(".json"), base.with_suffix(".md")
    n = 1
    while json_path.exists():  # two reports in the same second must not overwrite each other
        n += 1
        json_path, md_path = (directory / f"drill-{rec['id']}-{n}.json", directory / f"drill-{rec['id']}-{n}.md")
    json_path.write_text(json.dumps(rec, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(to_markdown(rec), encoding="utf-8")
    with (directory / LOG_FILE).open("a", encoding="utf-8") as log:
        log.write(json.dumps(rec, separators=(",", ":")) + "\n")
    index = directory / INDEX_FILE
    if not index.exists():
        index.write_text("# Restore drill log\n\n| Date | Operator | Result | RPO | RTO | Record |\n"
                         "|---|---|---|---|---|---|\n", encoding="utf-8")
    with index.open("a", encoding="utf-8") as fh:
        fh.write(f"| {rec['date']} | {rec['operator']} | {rec['result']} | "
                 f"{_fmt(rec['rpo']['achieved_seconds'])} | {_fmt(rec['rto']['achieved_seconds'])} | "
                 f"[{md_path.name}]({md_path.name}) |\n")
    for state in (PREFLIGHT_STATE, VERIFY_STATE, RUN_STATE):
        (directory / state).unlink(missing_ok=True)
    return rec, [json_path, md_path, directory / LOG_FILE, index]
