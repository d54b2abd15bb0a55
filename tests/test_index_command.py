"""``dds-pod index rebuild``: the search index of an on-disk node rebuilt from its merged graph."""

from __future__ import annotations

import gc

import pytest

from dds_pod.config import load
from dds_pod.demo import seed
from dds_pod.node import Node
from dds_pod.search import SearchQuery
from dds_pod.testing import TOKENS, free_port, write_config

from .conftest import EXAMPLES, fresh_schema, run_cli


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_rebuild_fills_an_emptied_index_from_the_merged_graph(tmp_path, monkeypatch, request, backend):
    monkeypatch.setenv("DDS_TEST_TOKEN_PARIS", TOKENS["paris"])
    config = write_config(tmp_path, 8999, data_dir=tmp_path / "data")
    if backend == "postgres":
        server = request.getfixturevalue("postgres")
        with config.open("a", encoding="utf-8") as file:
            file.write(f'[search]\nbackend = "postgres"\ndsn = "{server.dsn}"\nschema = "{fresh_schema()}"\n')
    node = Node(load(config))
    seed(node, "bordeaux", EXAMPLES / "valid")
    node.harvester.sync_all()
    indexed = node.search.count()
    assert indexed > 5
    node.search.clear()  # as if the index file had been lost or its format changed
    node.close()
    del node
    gc.collect()  # the on-disk store's lock goes with its last reference

    done = run_cli("index", "rebuild", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert f"search index rebuilt: {indexed} documents" in done.stdout

    node = Node(load(config))
    try:
        assert node.search.count() == indexed
        assert node.search.search(SearchQuery(text="Victor-Hugo")).total >= 1
    finally:
        node.close()


def test_rebuild_with_an_unusable_configuration_names_the_problem(tmp_path):
    config = tmp_path / "node.toml"
    config.write_text('base_url = "http://127.0.0.1:8000/"\n[search]\nbackend = "elastic"\n', encoding="utf-8")
    done = run_cli("index", "rebuild", "--config", str(config))
    assert done.returncode == 2 and "unknown search backend 'elastic'" in done.stderr


def test_rebuild_with_the_index_server_away_fails_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("DDS_TEST_TOKEN_PARIS", TOKENS["paris"])
    config = write_config(tmp_path, 8999, data_dir=tmp_path / "data")
    with config.open("a", encoding="utf-8") as file:
        file.write(f'[search]\nbackend = "postgres"\ndsn = "host=127.0.0.1 port={free_port()} user=dds"\n'
                   "connect_timeout_s = 0.5\n")
    done = run_cli("index", "rebuild", "--config", str(config))
    assert done.returncode == 2 and "PostgreSQL server cannot be reached" in done.stderr
    assert "Traceback" not in done.stderr
