"""Argument parsing and dispatch for `python -m ops`. Exit codes: 0 pass, 1 failed check, 2 bad input."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from ops import audit, drill, drill_run, report, restore_files
from ops.aws import Clients
from ops.checks import CheckResult, EnvironmentProblem, any_failed, render_table, summary_line, to_json
from ops.outputs import InputError, load_outputs
from ops.stack_ops import AutomationStack, StackOps
from ops.timeutil import TimeInputError, iso, parse_time, real_now

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _time_arg(what: str) -> Callable[[str], datetime]:
    def convert(text: str) -> datetime:
        try:
            return parse_time(text, what)
        except TimeInputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return convert


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("audit", help="verify a deployed environment against its stack outputs")
    a.add_argument("--outputs", required=True, help="file from `pulumi stack output --json`")
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a.add_argument("--rpo-target-seconds", type=int, default=audit.DEFAULT_RPO_SECONDS)
    a.add_argument("--now", type=_time_arg("--now"), help="ISO 8601 clock override (tests, replays)")
    a.add_argument("--sample", type=int, default=audit.DEFAULT_SAMPLE, help="recent objects to sample")
    a.add_argument("--skip", action="append", default=[], choices=audit.AREAS, metavar="AREA",
                   help=f"skip an area ({', '.join(audit.AREAS)}); repeatable")

    rf = sub.add_parser("restore-files", help="a prefix of the print bucket back to a moment (dry run "
                        "unless --apply)")
    rf.add_argument("--outputs", required=True, help="stack outputs JSON (its print_bucket is restored)")
    rf.add_argument("--prefix", required=True, help="key prefix, e.g. tenants/42/ (never empty)")
    moment = rf.add_mutually_exclusive_group(required=True)
    moment.add_argument("--to", type=_time_arg("--to"), help="ISO 8601 moment, with a timezone")
    moment.add_argument("--to-drill", metavar="RECORD", help="a drill record (drills/drill-*.json): its "
                        "recovered point, so files and the restored database meet at one moment")
    rf.add_argument("--apply", action="store_true", help="make the changes (default: print the plan)")
    rf.add_argument("--remove-newer", action="store_true",
                    help="add a delete marker to keys created after --to (never a permanent delete)")
    rf.add_argument("--json", action="store_true")
    rf.add_argument("--now", type=_time_arg("--now"), help="clock override (tests, replays)")

    d = sub.add_parser("drill", help="DR-region restore drill (runbook §4)")
    dsub = d.add_subparsers(dest="drill_command", required=True)

    pf = dsub.add_parser("preflight", help="is the DR region ready to restore from?")
    pf.add_argument("--outputs", required=True, help="prod stack outputs JSON")
    pf.add_argument("--json", action="store_true")
    pf.add_argument("--now", type=_time_arg("--now"))
    pf.add_argument("--sample", type=int, default=10)
    pf.add_argument("--rpo-target-seconds", type=int, default=drill.RPO_TARGET_SECONDS)
    pf.add_argument("--dir", default="drills", help="drill state/record directory")

    v = dsub.add_parser("verify", help="check the restored dr stack; compute achieved RPO/RTO")
    v.add_argument("--outputs", required=True, help="dr stack outputs JSON")
    v.add_argument("--target-time", required=True, type=_time_arg("--target-time"))
    v.add_argument("--started-at", required=True, type=_time_arg("--started-at"))
    v.add_argument("--recovered-point", type=_time_arg("--recovered-point"),
                   help="measured on the restored DB, e.g. SELECT max(created_at) FROM orders")
    v.add_argument("--wait-seconds", type=float, default=0, help="max wait for the instance")
    v.add_argument("--poll-seconds", type=float, default=30)
    v.add_argument("--sample", type=int, default=5, help="replica objects to GetObject")
    v.add_argument("--now", type=_time_arg("--now"), help="clock override for the RTO end")
    v.add_argument("--json", action="store_true")
    v.add_argument("--dir", default="drills")

    rn = dsub.add_parser("run", help="the whole drill in one command: preflight, restore (up), "
                         "verify, preview, report, destroy")
    rn.add_argument("--prod-outputs", required=True, help="prod stack outputs JSON (what is restored)")
    rn.add_argument("--stack", default="dr", help="the DR stack (role dr, mode drill); default dr")
    rn.add_argument("--restore-time", type=_time_arg("--restore-time"),
                    help="ISO 8601 moment to restore to (default: the latest restorable time)")
    rn.add_argument("--keep", action="store_true", help="leave the restored stack up (default: destroy it)")
    rn.add_argument("--wait-seconds", type=float, default=3600, help="max wait for the restored instance")
    rn.add_argument("--operator", default=None, help="defaults to $USER")
    rn.add_argument("--dir", default="drills")

    r = dsub.add_parser("report", help="record the drill (JSON + Markdown) under --dir")
    r.add_argument("--dir", default="drills")
    r.add_argument("--operator", default=None, help="defaults to $USER")
    r.add_argument("--now", type=_time_arg("--now"))
    r.add_argument("--json", action="store_true")
    return p


def _emit(results: list[CheckResult], as_json: bool, title: str, **extra) -> int:
    if as_json:
        print(to_json(results, **extra))
    else:
        print(title)
        print(render_table(results))
        for key, value in extra.items():
            if value is not None and not isinstance(value, (dict, list)):
                print(f"{key}: {value}")
        print(summary_line(results))
    return EXIT_FAILED if any_failed(results) else EXIT_OK


def cmd_audit(args: argparse.Namespace, clients: Clients) -> int:
    out = load_outputs(args.outputs, require_primary=("dr", "backup_bucket"),
                       command="`audit` of a primary stack")
    now = args.now or real_now()
    results = audit.run_audit(clients, out, now, args.rpo_target_seconds, args.sample, args.skip)
    return _emit(results, args.json, f"Audit of {out.environment} ({out.primary_region}) at {iso(now)}",
                 environment=out.environment, now=iso(now))


def cmd_preflight(args: argparse.Namespace, clients: Clients) -> int:
    out = load_outputs(args.outputs, require=("dr",), command="`drill preflight` (give it the prod outputs)")
    now = args.now or real_now()
    results, facts = drill.preflight(clients, out, now, args.sample, args.rpo_target_seconds)
    drill.record_checks(Path(args.dir), drill.PREFLIGHT_STATE, "preflight", results, facts)
    return _emit(results, args.json, f"Drill preflight: {out.primary_region} -> {out.dr_region}",
                 backup_set=facts.get("backup_set"), latest_restorable=facts.get("latest_restorable"))


def cmd_verify(args: argparse.Namespace, clients: Clients) -> int:
    out = load_outputs(args.outputs, command="`drill verify`")
    if out.dr is None and out.restore is None:
        raise InputError(f"Outputs file {args.outputs} has neither `dr` nor `restore`, so `drill verify` "
                         "cannot tell which backups the restore used. Give it the dr stack outputs "
                         "(`pulumi stack output --stack dr --json`).")
    opts = drill.VerifyOptions(target_time=args.target_time, started_at=args.started_at,
                               wait_seconds=args.wait_seconds, poll_seconds=args.poll_seconds,
                               sample=args.sample, recovered_point=args.recovered_point)
    clock = (lambda: args.now) if args.now else real_now
    results, facts = drill.verify(clients, out, opts, clock)
    drill.record_checks(Path(args.dir), drill.VERIFY_STATE, "verify", results, facts)
    return _emit(results, args.json, f"Drill verify: {out.database.identifier} in {out.database.region}",
                 rpo_seconds=facts.get("rpo_seconds"), rto_seconds=facts.get("rto_seconds"))


def cmd_restore_files(args: argparse.Namespace, clients: Clients) -> int:
    if not args.prefix.strip("/"):
        raise InputError("--prefix must name part of the bucket (e.g. tenants/42/): an empty prefix "
                         "would restore the whole print bucket, which this command never does by accident.")
    if args.apply and not args.prefix.endswith("/"):
        raise InputError(f"--prefix {args.prefix} does not end with '/', so it also matches every key that "
                         f"merely starts with it ({args.prefix}2/..., {args.prefix}-old.pdf): --apply would "
                         f"change other tenants' files too. End it with '/' for one folder "
                         f"({args.prefix}/); a dry run (without --apply) lists what a prefix matches.")
    now = args.now or real_now()
    if args.to_drill:
        args.to = _recovered_point(args.to_drill)
    if args.to > now:
        raise InputError(f"--to {iso(args.to)} is in the future (now is {iso(now)}): a restore goes back "
                         "to a moment that has happened.")
    out = load_outputs(args.outputs, command="`restore-files`")
    bucket = out.print_bucket
    s3 = clients.get("s3", bucket.region)
    warning = restore_files.retention_warning(s3, bucket.name, args.to, now)
    if warning:
        print(warning, file=sys.stderr)
    steps = restore_files.plan(s3, bucket.name, args.prefix, args.to, args.remove_newer)
    if args.apply:
        restore_files.apply(s3, bucket.name, steps)
    failed = [s for s in steps if s.result == "failed"]
    if args.json:
        import json
        print(json.dumps({"bucket": bucket.name, "prefix": args.prefix, "to": iso(args.to),
                          "applied": args.apply, "steps": [s.to_dict() for s in steps]}, indent=2))
    else:
        mode = "applied" if args.apply else "dry run (nothing changed; --apply makes these changes)"
        print(f"Restore of s3://{bucket.name}/{args.prefix} to {iso(args.to)}: {mode}")
        for s in steps:
            print(f"  {s.action:13} {s.key}  version {s.version_id} ({s.last_modified})"
                  + (f"  -> {s.result}: {s.detail}" if args.apply and s.action in ("restore", "remove-newer") else ""))
        counts = {a: sum(s.action == a for s in steps) for a in ("restore", "remove-newer", "keep-newer", "unchanged")}
        print(", ".join(f"{n} {a}" for a, n in counts.items()) + (f"; {len(failed)} failed" if failed else ""))
    return EXIT_FAILED if failed else EXIT_OK


def cmd_run(args: argparse.Namespace, clients: Clients, stack_factory: Callable[[str], StackOps]) -> int:
    prod = load_outputs(args.prod_outputs, require=("dr",), command="`drill run` (give it the prod outputs)")
    try:
        stack = stack_factory(args.stack)
    except Exception as exc:  # noqa: BLE001 - no CLI, no login, no such stack
        raise EnvironmentProblem(f"cannot select the stack '{args.stack}' with the Pulumi Automation API "
                                 f"({type(exc).__name__}: {str(exc).strip()[:300]}). `drill run` needs the "
                                 "Pulumi CLI, a login to the state backend and the DR stack; nothing was "
                                 "changed.") from None
    try:
        drill_run.check_target(stack, prod)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - the stack's config could not be read: nothing was run
        raise EnvironmentProblem(f"cannot read the config of the stack '{args.stack}' ({type(exc).__name__}: "
                                 f"{str(exc).strip()[:300]}); nothing was changed.") from None
    operator = _operator(args)
    opts = drill_run.RunOptions(directory=Path(args.dir), operator=operator, restore_time=args.restore_time,
                                keep=args.keep, wait_seconds=args.wait_seconds)
    try:
        rec = drill_run.run_drill(stack, clients, prod, opts)
    except KeyboardInterrupt:
        print("error: drill interrupted; " + ("the DR stack was left up (--keep)" if args.keep else
              "the DR stack was torn down") + " and a FAILED record written", file=sys.stderr)
        return 130
    print(f"Drill {rec['id']}: {rec['result']}")
    for reason in rec["reasons"]:
        print(f"  - {reason}")
    return EXIT_OK if rec["result"] == "PASSED" else EXIT_FAILED


def _recovered_point(path: str) -> datetime:
    import json

    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        return parse_time(record["recovered_point"], f"recovered_point in {path}")
    except (OSError, ValueError, KeyError, TypeError, TimeInputError) as exc:
        raise InputError(f"--to-drill {path}: not a drill record with a recovered_point "
                         f"({type(exc).__name__}: {str(exc)[:160]}). Give a drills/drill-*.json that "
                         "`ops drill report` or `ops drill run` wrote.") from None


def _operator(args: argparse.Namespace) -> str:
    return args.operator or os.environ.get("USER") or getpass.getuser() or "unknown"


def cmd_report(args: argparse.Namespace) -> int:
    operator = _operator(args)
    rec, paths = report.write_report(Path(args.dir), operator, (args.now or real_now()).replace(microsecond=0))
    if args.json:
        import json
        print(json.dumps(rec, indent=2))
    else:
        print(f"Drill {rec['id']}: {rec['result']}")
        for reason in rec["reasons"]:
            print(f"  - {reason}")
        print("Wrote " + ", ".join(str(p) for p in paths))
    return EXIT_OK if rec["result"] == "PASSED" else EXIT_FAILED


def main(argv: Sequence[str] | None = None, clients: Clients | None = None,
         stack_factory: Callable[[str], StackOps] | None = None) -> int:
    """`stack_factory` makes the DR stack `drill run` drives (default: the Automation API)."""
    args = build_parser().parse_args(argv)
    clients = clients or Clients()
    try:
        if args.command == "audit":
            return cmd_audit(args, clients)
        if args.command == "restore-files":
            return cmd_restore_files(args, clients)
        if args.drill_command == "preflight":
            return cmd_preflight(args, clients)
        if args.drill_command == "verify":
            return cmd_verify(args, clients)
        if args.drill_command == "run":
            return cmd_run(args, clients, stack_factory or AutomationStack)
        return cmd_report(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except EnvironmentProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # e.g. --dir names a file, a full disk
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot write{where}: {exc.strerror or exc}. Check --dir and the disk; "
              "no drill record was written.", file=sys.stderr)
        return EXIT_BAD_INPUT
