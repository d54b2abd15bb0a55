"""``dds-pod serve`` refuses what it cannot run with a message, and its supervisor does not restart a node that
cannot start."""

from __future__ import annotations

import os
import subprocess
import sys

from dds_pod.testing import free_port, write_config

from ..conftest import REPO


def _serve(config, *options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dds_pod.cli", "serve", "--config", str(config), *options],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=env or {**os.environ, "DDS_TEST_TOKEN_PARIS": "paris-token"})


def test_a_misspelt_setting_is_refused_by_name(tmp_path):
    config = write_config(tmp_path, free_port())
    config.write_text(config.read_text(encoding="utf-8") + "[server]\nheader_timeout = 5\n", encoding="utf-8")
    result = _serve(config, "--port", "9")
    assert result.returncode == 2
    assert "unknown setting 'server.header_timeout'" in result.stderr


def test_a_node_that_cannot_start_is_not_started_again(tmp_path):
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if key != "DDS_PSEUDONYM_KEY"}
    result = _serve(write_config(tmp_path, port), "--port", str(port), "--seed", f"bordeaux=decidim-csv:{tmp_path}",
                    env={**environment, "DDS_TEST_TOKEN_PARIS": "paris-token"})
    assert result.returncode == 2
    assert "pseudonymisation key" in result.stderr
    assert "starting it again" not in result.stderr
