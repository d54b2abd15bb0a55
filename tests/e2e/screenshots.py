"""``make screenshots``: pictures of the public interface for the README, taken from the demo node in headless
Chromium (``python -m tests.e2e.screenshots DIR``)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .browser_demo import demo_node, missing_tools, run_script


def main(directory: str) -> int:
    problem = missing_tools()
    if problem:
        print(f"screenshots: {problem}", file=sys.stderr)
        return 1
    target = Path(directory).resolve()
    with tempfile.TemporaryDirectory() as scratch, demo_node(Path(scratch)) as node:
        report = run_script("screenshots", node.url, str(target))
    for shot in report["shots"]:
        print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs"))
