"""A node started while its SPARQL engine is down: it serves 503 problems that say what it waits for, then prepares
its pods once the engine answers, without being restarted."""

from __future__ import annotations

import requests

from dds_pod.testing import OxigraphServer, ServerProcess, free_port, oxigraph_command, sparql_store_table, write_config

from .conftest import ACCEPT_JSONLD, example, post, tool_missing, until


def test_a_node_started_before_its_engine_serves_503_then_recovers(tmp_path):
    if oxigraph_command() is None:
        tool_missing("the oxigraph command is missing: pip install oxigraph (a test extra of dds-pod)")
    pods = OxigraphServer(tmp_path / "pods", tmp_path / "pods.log")
    federation = OxigraphServer(tmp_path / "federation", tmp_path / "federation.log").start()
    port = free_port()
    config = write_config(tmp_path, port, page_size=5)
    with config.open("a", encoding="utf-8") as file:
        file.write(sparql_store_table(pods, federation, timeout_s=2, lock_dir=tmp_path / "locks"))
    node = ServerProcess(config, port, tmp_path / "serve.log").start(status=503)
    try:
        read = requests.get(f"{node.url}bordeaux/proposals/", headers=ACCEPT_JSONLD, timeout=10)
        assert read.status_code == 503
        assert read.headers["Content-Type"].startswith("application/problem+json")
        assert read.json()["title"] == "Store unavailable"
        assert "waiting for its store" in read.json()["detail"]
        assert "cannot be reached" in read.json()["detail"]
        assert post(node.url, "proposals/", example("proposal-community-garden")).status_code == 503
        assert "requests get 503 until it does" in node.log()
        pods.start()
        until(lambda: requests.get(f"{node.url}bordeaux/proposals/", headers=ACCEPT_JSONLD,
                                   timeout=10).status_code == 200)
        created = post(node.url, "proposals/", example("proposal-community-garden"))
        assert created.status_code == 201, created.text
        assert requests.get(created.headers["Location"], headers=ACCEPT_JSONLD, timeout=10).status_code == 200
        assert "starting it again" not in node.log(), "the same process recovered"
        assert "Traceback" not in node.log()
    finally:
        node.stop()
        pods.stop()
        federation.stop()
