"""Offline preview: run the real program with the real stack files under Pulumi's mock runtime.

    python -m tools.render                      # prod, dr and staging: components and settings
    python -m tools.render --preview-mode       # as a first `pulumi preview`: computed outputs unknown
    python -m tools.render --stack prod --graph out/prod.json   # the full resource graph
    python -m tools.render --mermaid            # components and their data flows

No Pulumi CLI, provider plugin or AWS account is needed: the engine and provider are replaced by
tools.mocks, so this shows what the program registers, not what AWS would do with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import runpy
import signal
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional

from tools import aws_on_use, stack_files
from tools.lifetime import die_with_parent, track, untrack
from tools.mermaid import format_mermaid
from tools.stack_files import RenderError
from tools.tree_view import format_tree
from tools.wire import GRAPH_FORMAT, reveal

__all__ = ["RenderError", "format_mermaid", "format_tree", "render_stack", "render_stacks",
           "run_program", "stack_config", "stack_config_with_secrets"]

if TYPE_CHECKING:
    from tools.mocks import RecordingMonitor

aws_on_use.install()  # before the program first imports pulumi_aws: see tools/aws_on_use.py

ROOT = Path(__file__).resolve().parent.parent
STACK_DIR = ROOT  # where Pulumi.<stack>.yaml files are read from
PROJECT = "printflow"
STACKS = ("prod", "dr", "staging")
ALL_STACKS = ("prod", "dr", "staging", "staging-dr")
ORGANIZATION = "organization"
"""What `pulumi.get_organization()` returns offline: the name a DIY backend reports."""


def stack_config(stack: str, root: Optional[Path] = None) -> dict[str, str]:
    """The stack's config as the CLI would hand it to the program (see stack_config_with_secrets)."""
    return stack_config_with_secrets(stack, root)[0]


def stack_config_with_secrets(stack: str, root: Optional[Path] = None) -> tuple[dict[str, str], tuple[str, ...]]:
    """Config strings and secret keys of Pulumi.<stack>.yaml in `root` (default: STACK_DIR)."""
    return stack_files.stack_config_with_secrets(stack, root or STACK_DIR)


# ----------------------------------------------------------------------------- rendering
def run_program(stack: str, config: dict[str, str], references: Mapping[str, dict],
                monitor: Optional["RecordingMonitor"] = None, secret_keys: tuple[str, ...] = (),
                preview: bool = False) -> "RecordingMonitor":
    """Run __main__.py under the mocks; the monitor holds what it registered. `preview` runs it as
    a first `pulumi preview` sees it: the outputs AWS computes are unknown."""
    program = str(ROOT / "__main__.py")
    return run_under_mocks(stack, lambda: runpy.run_path(program, run_name="__main__"), config,
                           references, monitor, secret_keys, preview)


def run_under_mocks(stack: str, body: Callable[[], object], config: Optional[dict[str, str]] = None,
                    references: Optional[Mapping[str, dict]] = None,
                    monitor: Optional["RecordingMonitor"] = None, secret_keys: tuple[str, ...] = (),
                    preview: bool = False) -> "RecordingMonitor":
    """Run `body` (the program, or one component built alone) inside a root stack under the mocks."""
    import pulumi
    from pulumi.runtime import settings as runtime_settings
    from pulumi.runtime.stack import run_in_stack

    from tools.mocks import PlatformMocks, RecordingMonitor, cheap_source_positions

    config = config or {}
    cheap_source_positions()
    mocks = PlatformMocks(default_region=config.get("aws:region", "us-east-1"),
                          stack_references=references or {}, preview=preview)
    monitor = monitor or RecordingMonitor(mocks)
    monitor.mocks = mocks
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor,
                                 organization=ORGANIZATION)
        pulumi.runtime.set_all_config(config, list(secret_keys))
        runtime_settings.ROOT.set(None)  # run_in_stack creates the root Stack that holds exports
        loop.run_until_complete(run_in_stack(body))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return monitor


def _validated(stack: str, config: dict[str, str], secret_keys: tuple[str, ...] = ()):
    from components.config import ConfigError, load_settings

    try:
        return load_settings(config, stack, secret_keys)
    except ConfigError as exc:
        raise RenderError(str(exc)) from None


def render_stack(stack: str, references: Optional[Mapping[str, dict]] = None,
                 config: Optional[dict[str, str]] = None, secret_keys: Optional[tuple[str, ...]] = None,
                 preview: bool = False) -> dict:
    """Render one stack into a resource graph (see docs/contracts.md). A stack that reads another
    through a StackReference needs its outputs in `references` (render_stacks provides them)."""
    if config is None:
        config, file_secret_keys = stack_config_with_secrets(stack)
        secret_keys = file_secret_keys if secret_keys is None else secret_keys
    secret_keys = tuple(secret_keys or ())
    _validated(stack, config, secret_keys)
    monitor = run_program(stack, config, references or {}, secret_keys=secret_keys, preview=preview)
    resources = sorted((r.to_json() for r in monitor.registrations.values()), key=lambda r: r["urn"])
    return {"format": GRAPH_FORMAT, "project": PROJECT, "stack": stack, "config": config,
            "outputs": monitor.stack_outputs, "resources": resources}


def _referenced(stack: str) -> Optional[tuple[str, str]]:
    """(StackReference name, local stack) that `stack` reads, if any: a DR stack reads prod."""
    settings = _validated(stack, *stack_config_with_secrets(stack))
    if settings.dr is None or settings.dr.primary is not None:
        return None
    name = settings.dr.primary_stack_reference(ORGANIZATION, settings.environment)
    parts = name.split("/")
    project, local = (PROJECT, parts[0]) if len(parts) == 1 else (parts[1], parts[2])
    if project == PROJECT and local == stack:
        raise RenderError(f"Stack '{stack}' reads printflow:dr.primary_stack '{name}', which is the "
                          "stack itself: a DR stack restores from its primary stack.")
    if project != PROJECT or not (STACK_DIR / f"Pulumi.{local}.yaml").exists():
        raise RenderError(f"Stack '{stack}' reads printflow:dr.primary_stack '{name}', which is not a "
                          f"stack of this project with a Pulumi.<stack>.yaml here, so it cannot be "
                          "rendered offline. Name a stack of project printflow, or copy its dr "
                          "outputs into printflow:dr.primary.")
    primary = _validated(local, *stack_config_with_secrets(local))
    if primary.network.cidr == settings.network.cidr and not settings.network.uses_existing_vpc:
        raise RenderError(f"Stack '{stack}' uses network.cidr {settings.network.cidr}, the same as its "
                          f"primary stack '{local}': give the DR network its own range so the two "
                          "can ever be peered (e.g. 10.41.0.0/16 beside 10.40.0.0/16).")
    return name, local


def render_stacks(stacks: tuple[str, ...] = STACKS, parallel: bool = False,
                  on_graph: Optional[Callable[[str, dict], None]] = None,
                  on_start: Optional[Callable[[], None]] = None, preview: bool = False) -> dict[str, dict]:
    """Render the given stacks, each after any stack it references (a DR stack reads prod's
    outputs, so prod is rendered first even if not asked for); returns the ones asked for.

    `parallel` renders the last stack in a forked process on the other core while this one renders
    the rest; the fork's StackReference waits only for the outputs it reads. `on_graph` is called
    as each asked-for graph is ready; `on_start` once rendering has begun (after the fork, so
    threads it starts are never forked)."""
    asked = set(stacks)
    notify = on_graph or (lambda _stack, _graph: None)

    def ready(stack: str, graph: dict) -> None:
        if stack in asked:
            notify(stack, graph)

    started = on_start or (lambda: None)
    order: list[str] = []
    reads: dict[str, tuple[str, str]] = {}
    for stack in stacks:  # every config first: a bad one stops everything before any render
        reference = _referenced(stack)
        if reference is not None:
            reads[stack] = reference
            if _referenced(reference[1]) is not None:
                raise RenderError(f"Stack '{stack}' reads printflow:dr.primary_stack '{reference[0]}', "
                                  "which is itself a DR stack; name the primary stack it restores from.")
            if reference[1] not in order:
                order.append(reference[1])
        if stack not in order:
            order.append(stack)

    def references_for(stack: str, graphs: dict[str, dict]) -> dict[str, dict]:
        if stack not in reads:
            return {}
        name, local = reads[stack]
        return {name: reveal(graphs[local]["outputs"])}

    if parallel and len(order) >= 2 and hasattr(os, "fork"):
        graphs = _render_with_fork(tuple(order), references_for, ready, started, preview)
    else:
        started()
        graphs = {}
        for stack in order:
            graphs[stack] = render_stack(stack, references=references_for(stack, graphs), preview=preview)
            ready(stack, graphs[stack])
    return {stack: graphs[stack] for stack in stacks}


class _PendingReferences(Mapping):
    """Stack outputs that arrive through a pipe the first time a StackReference reads them."""

    def __init__(self, read_fd: int):
        self._read_fd = read_fd
        self._loaded: Optional[dict] = None

    def _load(self) -> dict:
        if self._loaded is None:
            with os.fdopen(self._read_fd) as source:
                self._loaded = json.load(source)
        return self._loaded

    def __bool__(self) -> bool:  # present, even before it has arrived
        return True

    def __getitem__(self, key: str) -> dict:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def _render_with_fork(stacks: tuple[str, ...],
                      references_for: Callable[[str, dict[str, dict]], dict[str, dict]],
                      notify: Callable[[str, dict], None], started: Callable[[], None],
                      preview: bool = False) -> dict[str, dict]:
    *earlier, last = stacks
    # Import what the child runs before forking: a module another thread is importing at the
    # moment of the fork would stay locked in the child.
    import components.platform  # noqa: F401
    import pulumi.runtime.stack  # noqa: F401
    import tools.mocks  # noqa: F401

    outputs_read, outputs_write = os.pipe()
    graph_read, graph_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child renders the last stack and sends its graph back
        status = 0
        die_with_parent()
        try:
            os.close(outputs_write)
            os.close(graph_read)
            try:
                payload: dict = {"graph": render_stack(last, references=_PendingReferences(outputs_read),
                                                     preview=preview)}
            except RenderError as exc:
                payload = {"error": str(exc)}
            except BaseException:  # noqa: BLE001 - reported by the parent with its traceback
                payload = {"crash": traceback.format_exc()}
            with os.fdopen(graph_write, "w") as sink:
                json.dump(payload, sink)
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)
    track(pid)
    os.close(outputs_read)
    os.close(graph_write)
    graphs: dict[str, dict] = {}
    try:
        started()
        sink = os.fdopen(outputs_write, "w")
        for stack in earlier:
            graphs[stack] = render_stack(stack, references=references_for(stack, graphs), preview=preview)
        try:
            with sink:
                json.dump(references_for(last, graphs), sink)
        except BrokenPipeError:
            pass  # the child stopped without reading; its payload says why
        for stack in earlier:
            notify(stack, graphs[stack])
        with os.fdopen(graph_read) as source:
            text = source.read()
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    os.waitpid(pid, 0)
    untrack(pid)
    payload = json.loads(text) if text else {"crash": "the render process died without a result"}
    if "error" in payload:
        raise RenderError(payload["error"])
    if "crash" in payload:
        raise RuntimeError(f"rendering {last} failed:\n{payload['crash']}")
    graphs[last] = payload["graph"]
    notify(last, graphs[last])
    return graphs


# ----------------------------------------------------------------------------- CLI
def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.render", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", action="append", choices=ALL_STACKS,
                        help="stack to render (repeatable; default: prod, dr and staging)")
    parser.add_argument("--stack-dir", metavar="DIR", type=Path,
                        help="read Pulumi.<stack>.yaml from DIR instead of the project folder")
    parser.add_argument("--preview-mode", action="store_true",
                        help="render as a first `pulumi preview` sees it: computed outputs unknown")
    parser.add_argument("--graph", metavar="FILE",
                        help="write the resource graph JSON (one stack: the graph; several: {stack: graph})")
    parser.add_argument("--mermaid", action="store_true", help="print the Mermaid component diagram")
    parser.add_argument("--quiet", action="store_true", help="no tree output")
    args = parser.parse_args(argv)
    stacks = tuple(args.stack) if args.stack else STACKS
    if args.stack_dir is not None:
        global STACK_DIR
        STACK_DIR = args.stack_dir
    try:
        graphs = render_stacks(stacks, parallel=True, preview=args.preview_mode)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.graph:
        path = Path(args.graph)
        payload = graphs[stacks[0]] if len(stacks) == 1 else graphs
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(payload, indent=1, sort_keys=True))
        except OSError as exc:
            print(f"error: cannot write the graph to {args.graph}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    try:
        if args.mermaid:
            print(format_mermaid(graphs), end="")
        elif not args.quiet:
            for graph in graphs.values():
                print(format_tree(graph))
                print()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader closed the pipe (`| head`): stop quietly, as Unix tools do on SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    code = main()
    # Everything is written and the forked renderer reaped by now. Skip tearing down the large
    # module graph (pulumi_aws): a third of a second on every run.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
