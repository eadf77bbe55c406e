"""The policy pack's process, started as the Pulumi CLI starts it, from a module free of gRPC and
protobuf: `python -m tools.policy_check` starts the pack before it imports those, so the pack's
own start-up (about 0.4 s of imports) overlaps the check's instead of following it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

from tools.lifetime import DIE_WITH_PARENT_PRELUDE, track, untrack

REPO_ROOT = Path(__file__).resolve().parents[1]
PACK_DIR = REPO_ROOT / "policies"


class PackProcess:
    """`python -u -m pulumi.policy <engine address> .` in the pack folder, as
    pulumi-analyzer-policy-python runs it, after a prelude that makes the kernel kill the pack
    if this process dies (tools.lifetime): no orphaned pack, ever. It starts no thread, so this
    process may still fork (the renderer does)."""

    def __init__(self, pack_dir: Path, python: str = sys.executable):
        self.pack_dir = Path(pack_dir)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self.engine_port = probe.getsockname()[1]  # where the pack will find the engine
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("PULUMI_CONFIG", None)
        run_pack = (DIE_WITH_PARENT_PRELUDE + "import runpy\n"
                    "sys.argv[0] = 'pulumi.policy'\n"
                    "runpy.run_module('pulumi.policy', run_name='__main__', alter_sys=True)\n")
        self.proc = subprocess.Popen(
            [python, "-u", "-c", run_pack, f"127.0.0.1:{self.engine_port}", "."],
            cwd=str(self.pack_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        track(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        untrack(self.proc.pid)


def start_default_pack(argv: Sequence[str]) -> Optional[PackProcess]:
    """The default pack (policies/), started ahead for a policy_check command line that will
    use it: not for --pack, --list or --help (any argument that argparse could read as one of
    them, abbreviations included); those start theirs as usual."""
    if any(arg.startswith(("-h", "--h", "--p", "--l")) for arg in argv):
        return None
    if not (PACK_DIR / "__main__.py").is_file():
        return None
    return PackProcess(PACK_DIR)
