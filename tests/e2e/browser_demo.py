"""The demo node of ``make run`` and the Playwright script that visits it, shared by the browser tests of the
public interface and by ``make screenshots``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from dds_pod.testing import ServerProcess, demo_config, free_port

ROOT = Path(__file__).resolve().parents[2]
JS = Path(__file__).parent / "js"
SCRIPT = JS / "interface.mjs"
CHROMIUM = "/usr/bin/chromium"


def missing_tools() -> str | None:
    """Why the browser cannot be driven here, or None when node, Playwright and Chromium are all installed."""
    if shutil.which("node") is None:
        return "node is missing: install Node.js 20 or later with npm, then run `npm ci --prefix tests/e2e/js`"
    if not (JS / "node_modules" / "playwright-core").is_dir() or not (JS / "node_modules" / "axe-core").is_dir():
        return "Playwright and axe-core are not installed: run `npm ci --prefix tests/e2e/js` (`make test` does)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: `apt-get install chromium` (`make test` does it as root)"
    return None


@contextmanager
def demo_node(directory: Path) -> Iterator[ServerProcess]:
    """The demo node, seeded with every example and connector source, on a free port until the block ends."""
    port = free_port()
    config, seeds = demo_config(ROOT, directory, port)
    server = ServerProcess(config, port, directory / "demo.log", seeds).start(timeout=120)
    try:
        _wait_for_harvest(server.url)
        yield server
    finally:
        server.stop()


def _wait_for_harvest(base: str, platforms: int = 4, timeout: float = 240) -> None:
    """Until every platform is in the search index and its count has stopped growing (the first harvest done)."""
    deadline, previous = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        found = requests.get(f"{base}explore", headers={"Accept": "application/json"}, timeout=30).json()
        if len(found["facets"].get("platform", [])) >= platforms and found["total"] == previous:
            return
        previous = found["total"]
        time.sleep(2)
    raise RuntimeError(f"the demo's first harvest did not end within {timeout} s")


def run_script(mode: str, base: str, *arguments: str, timeout: float = 240) -> dict:
    """Run ``interface.mjs`` in one of its modes and return the JSON report it prints."""
    finished = subprocess.run(["node", str(SCRIPT), mode, base, *arguments], capture_output=True, text=True,
                              timeout=timeout, cwd=JS, env={**os.environ, "CHROMIUM": CHROMIUM})
    if finished.returncode != 0:
        raise RuntimeError(f"interface.mjs {mode} failed ({finished.returncode}): {finished.stderr[-4000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])
