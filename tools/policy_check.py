"""Offline policy check: run the printflow-guardrails pack over resource graphs exactly the way
`pulumi preview --policy-pack policies` runs it (see tools/policy_analyzer.py for the protocol).

    python -m tools.policy_check                       # render prod and dr, check both
    python -m tools.policy_check --stack prod --json
    python -m tools.policy_check --graph out/prod.json --config policies/config/dr-drill.json
    python -m tools.policy_check --list

Exit codes: 0 no mandatory violation, 1 at least one mandatory violation, 2 bad input.
Python API: `evaluate(graphs, config=None) -> list[Violation]` (re-exported from
tools.policy_analyzer)."""

from __future__ import annotations

if __name__ == "__main__":
    import os as _os
    import signal as _signal
    import sys as _sys

    # A signal while importing: stop without a traceback (the pack started below dies with this
    # process: tools.lifetime).
    _signal.signal(_signal.SIGINT, lambda *_: _os._exit(130))
    _signal.signal(_signal.SIGTERM, lambda *_: _os._exit(143))
    from tools.pack_process import start_default_pack

    _EARLY_PACK = start_default_pack(_sys.argv[1:])  # its start-up overlaps the imports below

import argparse
import json
import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from tools.graph_import import graphs_in
from tools.lifetime import exit_on_signals
from tools.waiver_check import load_waivers, unused_waivers, waiver_of
from tools.pack_process import PACK_DIR, PackProcess
from tools.policy_analyzer import (
    STACK_ROLES, Analyzer, AnalyzerError, CheckInputError, PolicyInfo, Violation, parse_policy_config,
    validate_graph,
)

STACKS = ("prod", "dr", "staging")
STACK_CHOICES = (*STACKS, "staging-dr")


def load_json(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise CheckInputError(f"The {what} file {path} does not exist.") from None
    except RecursionError:
        raise CheckInputError(f"The {what} file {path} is nested too deeply to read.") from None
    except (OSError, ValueError) as err:
        raise CheckInputError(f"The {what} file {path} could not be read as JSON ({str(err)[:160]}).") from None


def render_graphs(stacks: Sequence[str],
                  on_graph: Optional[Callable[[str, Dict[str, Any]], None]] = None,
                  on_start: Optional[Callable[[], None]] = None) -> Dict[str, Dict[str, Any]]:
    """{stack: graph} rendered by tools.render (dr in parallel with prod); `on_graph` is called
    as each graph is ready."""
    notify = on_graph or (lambda _stack, _graph: None)
    from tools.render import RenderError, render_stacks

    try:
        return render_stacks(tuple(stacks), parallel=True, on_graph=notify, on_start=on_start)
    except RenderError as err:
        raise CheckInputError(str(err)) from None


# ------------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------------

def _table(rows: List[List[str]], headers: List[str], wrap_last: int = 0) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    if wrap_last:
        widths[-1] = min(widths[-1], wrap_last)
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for r in rows:
        last = r[-1]
        chunks = [last[i:i + widths[-1]] for i in range(0, len(last), widths[-1])] if (
            wrap_last and len(last) > widths[-1]) else [last]
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:-1] + [chunks[0]], widths)).rstrip())
        pad = "  ".join(" " * w for w in widths[:-1])
        lines.extend(f"{pad}  {c}" for c in chunks[1:])
    return "\n".join(lines)


def violations_table(violations: Sequence[Violation]) -> str:
    if not violations:
        return "No policy violations."
    rows = [[v.stack, v.level, v.policy, v.resource_name or "(stack)", v.message.replace(
        "\n", " ")] for v in violations]
    return _table(rows, ["STACK", "LEVEL", "POLICY", "RESOURCE", "MESSAGE"], wrap_last=100)


def policies_table(policies: Sequence[PolicyInfo]) -> str:
    rows = [[p.name, p.level, p.kind, p.severity, p.description] for p in policies]
    return _table(rows, ["POLICY", "ENFORCEMENT", "KIND", "SEVERITY", "DESCRIPTION"]) + \
        f"\n\n{len(policies)} policies."


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------

class _Pipeline:
    """One worker, in order: connect to the pack, then evaluate each graph as soon as it exists,
    while the caller (and a forked process for dr) renders the stacks."""

    def __init__(self, analyzer: Analyzer, config: Optional[Dict[str, Any]], stack_role: Optional[str]):
        self.analyzer, self.config, self.stack_role = analyzer, config, stack_role
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.connected: Optional[Future] = None
        self.evaluations: List[Future] = []

    def connect(self) -> None:
        if self.connected is None:
            self.connected = self.pool.submit(self.analyzer.connect)

    def add(self, graph: Dict[str, Any], validated: bool = False) -> None:
        self.connect()
        self.evaluations.append(self.pool.submit(self.analyzer.evaluate, graph, self.config,
                                                 self.stack_role, validated))

    def violations(self) -> List[Violation]:
        self.connect()
        self.connected.result()
        return [v for e in self.evaluations for v in e.result()]

    def __enter__(self) -> "_Pipeline":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        for pending in self.evaluations:
            pending.cancel()
        # Normally never close the analyzer under a running call; when interrupted, do not wait
        # for one either (the caller closes the analyzer, which ends it).
        self.pool.shutdown(wait=exc_type is None, cancel_futures=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tools.policy_check",
        description="Run the printflow-guardrails CrossGuard pack over resource graphs through "
                    "the Pulumi analyzer protocol (no Pulumi CLI needed).")
    p.add_argument("--pack", type=Path, default=PACK_DIR, metavar="DIR",
                   help="the policy pack folder (default: policies/, with its waivers.yaml)")
    p.add_argument("--graph", action="append", default=[], metavar="FILE",
                   help="a resource graph, the file `make graph` writes, `pulumi preview --json --show-sames` "
                        "or `pulumi stack export` output (repeatable)")
    p.add_argument("--stack", action="append", default=[], choices=STACK_CHOICES,
                   help="render this stack with tools.render (repeatable; default: prod, dr and staging "
                        "when no --graph is given)")
    p.add_argument("--config", metavar="FILE",
                   help="policy config JSON in the CLI's --policy-pack-config format")
    p.add_argument("--stack-role", choices=STACK_ROLES,
                   help="force the stackRole of every policy (default: from each graph's "
                        "`mode` stack output: drill, failover, else prod)")
    p.add_argument("--json", action="store_true", help="print violations as JSON")
    p.add_argument("--sarif", metavar="FILE", help="also write a SARIF 2.1.0 report to FILE")
    p.add_argument("--list", action="store_true",
                   help="list every policy with its enforcement level and description")
    return p


def main(argv: Optional[Sequence[str]] = None, started: Optional[PackProcess] = None) -> int:
    """`started`: the default pack's process, started ahead (tools.pack_process): the check of
    the default pack uses it; whatever happens, it is stopped when main returns."""
    try:
        return _check(build_parser().parse_args(argv), started)
    finally:
        if started is not None:
            started.stop()  # a no-op once the analyzer has closed it


def _check(args: argparse.Namespace, started: Optional[PackProcess]) -> int:
    if args.list or args.pack != PACK_DIR:
        started = None
    exit_on_signals("stopped the policy check, its pack process and any renderer")
    try:
        if args.list:
            with Analyzer(args.pack) as analyzer:
                policies = analyzer.policies
            if args.json:
                print(json.dumps([p.__dict__ for p in policies], indent=2))
            else:
                print(policies_table(policies))
            return 0
        config = load_json(args.config, "policy config") if args.config else None
        parse_policy_config(config, f"policy config {args.config}")
        graphs: List[Dict[str, Any]] = []
        stacks = args.stack or ([] if args.graph else list(STACKS))
        # The pack process starts now, on the idle core, while this one reads, checks and renders
        # the graphs; the gRPC side comes up once rendering has forked, so no gRPC thread is ever
        # forked. Bad input stops it again (below): nothing is left running.
        analyzer = Analyzer(args.pack, process=started).launch()
        try:
            for path in args.graph:
                graphs.extend(validate_graph(g, path) for g in graphs_in(load_json(path, "graph"), path))
            with _Pipeline(analyzer, config, args.stack_role) as pipeline:
                given = list(graphs)

                def start() -> None:  # after the fork when rendering: gRPC starts only now
                    for graph in given:  # each validated as it was read, above
                        pipeline.add(graph, validated=True)

                def rendered(_stack: str, graph: Dict[str, Any]) -> None:
                    graphs.append(graph)
                    pipeline.add(graph)

                if stacks:
                    render_graphs(stacks, on_start=start, on_graph=rendered)
                else:
                    start()
                violations: List[Violation] = pipeline.violations()
        except BaseException:
            analyzer.close()
            raise
        with analyzer:
            policies = analyzer.policies
            pack_name = analyzer.pack_name
        unused = unused_waivers(load_waivers([p.name for p in policies], args.pack), violations,
                                {g.get("stack", "") for g in graphs}, args.pack)
    except CheckInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except AnalyzerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.sarif:
        from tools.sarif import pack_version, sarif  # here: it reads the stack files' models, which --graph needs not

        try:
            Path(args.sarif).parent.mkdir(parents=True, exist_ok=True)
            Path(args.sarif).write_text(json.dumps(sarif(violations, policies, pack_name, pack_version(args.pack)), indent=2)
                                        + "\n", encoding="utf-8")
        except OSError as err:
            print(f"error: cannot write the SARIF report {args.sarif}: {err}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps([v.to_dict() for v in violations], indent=2))
    else:
        print(violations_table(violations))
        mandatory = sum(v.level == "mandatory" for v in violations)
        waived = sum(waiver_of(v) is not None for v in violations)
        print(f"\n{len(graphs)} graph(s), {len(violations)} violation(s), {mandatory} mandatory"
              + (f", {waived} waived." if waived else "."))
    for w in unused:
        print(f"note: waiver #{w.index} ({w.policy} on {w.resource}"
              + (f" in {w.stack}" if w.stack else "") + ") matched no finding; remove it from "
              "policies/waivers.yaml", file=sys.stderr)
    return 1 if any(v.level in ("mandatory", "remediate") for v in violations) else 0


if __name__ == "__main__":
    code = main(started=_EARLY_PACK)
    # Everything is written and every child reaped by now. Skip tearing down the large module
    # graph (pulumi_aws, gRPC): a third of a second on every run.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
