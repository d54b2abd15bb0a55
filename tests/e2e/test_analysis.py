"""The analysis of a real node: pods seeded with the examples and harvested, analysed by ``dds-pod analyse`` and by
the background job, then read as LDP resources and through the node's SPARQL endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from dds_pod.testing import TOKENS, ServerProcess, free_port, write_config

from ..conftest import EXAMPLES
from .conftest import until

SEEDS = ["--seed", f"bordeaux={EXAMPLES / 'valid'}", "--seed", f"paris={EXAMPLES / 'paris'}",
         "--seed", f"bordeaux=decidim-dataspace:{EXAMPLES.parent / 'data' / 'decidim-dataspace'}"]
KEY = "test-key-for-pseudonyms-0123"
TURTLE = {"Accept": "text/turtle"}
PROV_QUERY = """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dds: <https://w3id.org/dds/ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?theme ?label ?run ?method ?started WHERE {
  ?theme a skos:Concept ; skos:inScheme ?scheme ; skos:prefLabel ?label ; prov:wasGeneratedBy ?run .
  ?run a prov:Activity ; dds:method ?method ; prov:startedAtTime ?started ; dds:inputSnapshot ?input .
  ?input dds:feed ?feed ; dds:sequence ?sequence }"""


def node_config(directory: Path, port: int, analysis: str, data_dir: Path | None = None) -> Path:
    config = write_config(directory, port, data_dir=data_dir)
    with config.open("a", encoding="utf-8") as file:
        file.write(f'[import]\npseudonym_key = "{KEY}"\n[analysis]\n{analysis}\n')
    return config


def harvested(url: str) -> bool:
    response = requests.get(f"{url}federation/proposals/", headers={"Accept": "application/ld+json"}, timeout=10)
    return response.ok and len(response.json().get("ldp:contains", [])) >= 5


def analyse(config: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DDS_TEST_TOKEN_PARIS": TOKENS["paris"]}
    return subprocess.run([sys.executable, "-m", "dds_pod.cli", "analyse", "--config", str(config)],
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> ServerProcess:
    """A node on a store in its data directory: served and harvested, stopped, analysed by the command, served
    again (the store belongs to one process at a time)."""
    directory = tmp_path_factory.mktemp("analysed")
    port = free_port()
    config = node_config(directory, port, "background = false", data_dir=directory / "data")
    server = ServerProcess(config, port, directory / "first.log", SEEDS).start()
    try:
        assert until(lambda: harvested(server.url)), server.log()
    finally:
        server.stop()
    done = analyse(config)
    assert done.returncode == 0, done.stderr
    assert "themes:" in done.stdout and "time:" in done.stdout
    server = ServerProcess(config, port, directory / "second.log").start()
    yield server
    server.stop()


def get(url: str, **headers) -> requests.Response:
    return requests.get(url, headers=headers, timeout=10)


def test_the_root_lists_the_parts(analysed):
    root = get(f"{analysed.url}analysis/").json()
    assert {"ldp:BasicContainer", "dds:Analysis"} <= set(root["@type"])
    contained = {entry["@id"] for entry in root["ldp:contains"]}
    assert {f"{analysed.url}analysis/themes/", f"{analysed.url}analysis/runs/"} <= contained


def test_themes_are_paged_and_each_is_a_resource_with_its_run(analysed):
    page = get(f"{analysed.url}analysis/themes/?limit=1")
    assert page.status_code == 200 and 'rel="next"' in page.headers["Link"]
    first = page.json()["ldp:contains"][0]
    assert "Concept" in first["@type"] and first["prefLabel"]
    theme = get(first["@id"], **TURTLE)
    assert theme.headers["Content-Type"].startswith("text/turtle")
    triples = list(ox.parse(theme.content, format=ox.RdfFormat.TURTLE))
    runs = [t.object.value for t in triples if t.predicate.value == "http://www.w3.org/ns/prov#wasGeneratedBy"]
    assert runs
    run = get(runs[0]).json()
    assert run["@type"] == "Activity" and run["method"] and run["inputSnapshot"]


def test_every_part_is_served(analysed):
    for part in ("runs", "similar", "stances", "summaries", "not-enough", "groups", "bridges"):
        response = get(f"{analysed.url}analysis/{part}/", **TURTLE)
        assert response.status_code == 200, part
        for member in get(f"{analysed.url}analysis/{part}/?limit=2").json()["ldp:contains"]:
            assert get(member["@id"]).status_code == 200


def test_a_reader_revalidates_with_the_etag(analysed):
    first = get(f"{analysed.url}analysis/themes/")
    assert get(f"{analysed.url}analysis/themes/", **{"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert get(f"{analysed.url}analysis/themes/?limit=1",
               **{"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_unknown_results_and_writes_get_problems(analysed):
    missing = get(f"{analysed.url}analysis/themes/no-such-theme")
    assert missing.status_code == 404 and "no-such-theme" in missing.json()["detail"]
    assert get(f"{analysed.url}analysis/nothing/").status_code == 404
    bad = get(f"{analysed.url}analysis/themes/?limit=zero")
    assert bad.status_code == 400 and "limit" in json.dumps(bad.json())
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        refused = requests.request(method, f"{analysed.url}analysis/themes/", data="{}", timeout=10,
                                   headers={"Authorization": f"Bearer {TOKENS['bordeaux']}"})
        assert refused.status_code == 405 and refused.json()["status"] == 405
    assert get(f"{analysed.url}analysis/themes/").status_code == 200


def test_the_sparql_endpoint_finds_a_theme_and_its_activity(analysed):
    response = requests.get(f"{analysed.url}sparql", params={"query": PROV_QUERY}, timeout=30,
                            headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    rows = response.json()["results"]["bindings"]
    assert rows and all(row["run"]["value"].startswith(f"{analysed.url}analysis/runs/themes-") for row in rows)
    assert {row["method"]["value"] for row in rows} == {"tfidf-nmf"}


def test_the_command_names_what_is_wrong(tmp_path):
    config = node_config(tmp_path, free_port(), "enabled = false")
    refused = analyse(config)
    assert refused.returncode == 1 and "disabled" in refused.stderr
    in_memory = analyse(node_config(tmp_path, free_port(), "enabled = true"))
    assert in_memory.returncode == 2 and "in memory" in in_memory.stderr
    broken = node_config(tmp_path, free_port(), "quiet_s = -3")
    failed = analyse(broken)
    assert failed.returncode == 2 and "analysis.quiet_s" in failed.stderr


def test_the_background_job_analyses_after_the_harvest(tmp_path):
    port = free_port()
    config = node_config(tmp_path, port, "background = true\nquiet_s = 0\nmin_interval_s = 1")
    server = ServerProcess(config, port, tmp_path / "server.log", SEEDS).start()
    try:
        assert get(server.url).status_code == 200  # serving starts before the analysis

        def analysed_while_queried() -> list:
            # The endpoint forks a child per query: a fork during the run's matrix products must not hang it.
            asked = requests.get(f"{server.url}sparql", params={"query": PROV_QUERY}, timeout=10,
                                 headers={"Accept": "application/sparql-results+json"})
            assert asked.status_code == 200
            return get(f"{server.url}analysis/themes/").json().get("ldp:contains")

        assert until(analysed_while_queried, timeout=60), server.log()
        response = requests.post(f"{server.url}sparql", data={"query": PROV_QUERY}, timeout=30,
                                 headers={"Accept": "application/sparql-results+json"})
        assert response.json()["results"]["bindings"]
    finally:
        server.stop()
