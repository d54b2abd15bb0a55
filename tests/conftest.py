"""Shared fixtures: paths of the repository and a way to run the real ``dds-pod`` command; the ``--store`` option,
which moves the end-to-end suites' nodes onto Oxigraph servers (tests/e2e/conftest.py), and the tests it skips."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DATA = REPO / "data"


STORES = ("embedded", "sparql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--store", choices=STORES, default="embedded",
                     help="where the end-to-end tests' nodes keep their data: embedded (each node's own store) or "
                          "sparql (two Oxigraph servers per node, started and stopped by the tests, through the "
                          "sparql store backend)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "embedded_only(reason): a behaviour of the embedded store alone, skipped "
                                       "under --store=sparql with that reason")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("store") != "sparql":
        return
    for item in items:
        marker = item.get_closest_marker("embedded_only")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"embedded store only: {marker.args[0]}"))


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run ``dds-pod`` in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "dds_pod.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def validator():
    from dds_pod.validation import default_validator

    return default_validator()
