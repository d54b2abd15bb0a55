"""Shared fixtures: paths of the repository and a way to run the real ``dds-pod`` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DATA = REPO / "data"


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run ``dds-pod`` in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "dds_pod.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def validator():
    from dds_pod.validation import default_validator

    return default_validator()
