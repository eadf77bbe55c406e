"""Regenerate the Mermaid diagram embedded in README.md from the rendered stacks."""

from __future__ import annotations

import re
import sys

from tools.render import ROOT, format_mermaid, render_stacks

DIAGRAM_STACKS = ("prod", "dr")
"""The architecture the README shows: the live platform and its DR stack (staging is alike)."""
BLOCK = re.compile(r"(<!-- diagram:start -->\n```mermaid\n)(.*?)(```\n<!-- diagram:end -->)", re.S)


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    if not BLOCK.search(text):
        print("README.md has no <!-- diagram:start --> block", file=sys.stderr)
        return 2
    diagram = format_mermaid(render_stacks(DIAGRAM_STACKS))
    readme.write_text(BLOCK.sub(lambda m: m.group(1) + diagram + m.group(3), text))
    print("README.md diagram updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
