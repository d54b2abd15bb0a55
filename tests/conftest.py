"""Shared fixtures: paths of the repository and a way to run the real ``dds-pod`` command; the ``--store`` option,
which moves the end-to-end suites' nodes onto Oxigraph servers (tests/e2e/conftest.py), and the tests it skips."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dds_pod.testing import PostgresServer, postgres_bindir

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


def tool_missing(message: str) -> None:
    """A tool a test drives is not installed: the test is skipped, or fails under CI."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory) -> Iterator[PostgresServer]:
    """One throw-away PostgreSQL server for the session's tests of the ``postgres`` search backend."""
    if postgres_bindir() is None:
        tool_missing("PostgreSQL is not installed: make postgresql (Debian's postgresql package)")
    if importlib.util.find_spec("psycopg_pool") is None:
        tool_missing("psycopg and psycopg-pool are missing: pip install 'dds-pod[postgres]'")
    server = PostgresServer(tmp_path_factory.mktemp("postgres") / "postgres.log").start()
    yield server
    server.remove()


def fresh_schema() -> str:
    """A schema of its own for one test's index, on the shared server."""
    return f"t_{uuid.uuid4().hex[:16]}"
