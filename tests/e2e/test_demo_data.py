"""The demo's real exports are served pseudonymised only: without a key, `dds-pod serve --seed` will not start."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from dds_pod.testing import free_port

from ..conftest import DATA, EXAMPLES

BARCELONA = DATA / "real" / "decidim_barcelona_open_data"


def _serve(config: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DDS_PSEUDONYM_KEY"}
    return subprocess.run([sys.executable, "-m", "dds_pod.cli", "serve", "--config", str(config),
                           "--port", str(free_port()), "--seed", f"barcelona=decidim-csv:{BARCELONA}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_seeding_an_export_without_a_pseudonym_key_refuses_to_start(tmp_path):
    config = tmp_path / "demo.toml"
    config.write_text('base_url = "http://127.0.0.1:8000/"\n[pods.barcelona]\ntitle = "Barcelona"\n'
                      'platform = "https://www.decidim.barcelona"\ntoken = "t"\n', encoding="utf-8")
    result = _serve(config, tmp_path)
    assert result.returncode != 0
    assert "pseudonymisation key" in result.stderr and "DDS_PSEUDONYM_KEY" in result.stderr


def test_the_demo_config_gives_a_pseudonym_key():
    key = tomllib.loads((EXAMPLES / "demo.toml").read_text(encoding="utf-8"))["import"]["pseudonym_key"]
    assert len(key) >= 16
