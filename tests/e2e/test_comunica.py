"""A real JavaScript client, Comunica, queries a real node: its SPARQL endpoint and a pod's LDP documents.

``tests/e2e/js/query.mjs`` runs one SELECT query with Comunica (``@comunica/query-sparql``, pinned with
its lock file in ``tests/e2e/js``) and prints SPARQL JSON results. Install it with
``npm ci --prefix tests/e2e/js`` (``make test`` does it when npm is present). The container and resource are read with
Comunica's default settings, as any RDF document.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from dds_pod.testing import ServerProcess, free_port, write_config

from .conftest import example, post

JS = Path(__file__).parent / "js"
SCRIPT = JS / "query.mjs"
PROPOSALS = ("SELECT ?p ?title WHERE { ?p a <https://w3id.org/dds/ns#Proposal> ; "
             "<http://purl.org/dc/terms/title> ?title }")
NAMES = ("proposal-piste-cyclable-victor-hugo", "proposal-community-garden")
PLAIN_STRINGS = {"http://www.w3.org/2001/XMLSchema#string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
Title = tuple[str, str, str | None]  # (proposal IRI, title, language)


@pytest.fixture(scope="module")
def node_js() -> str:
    node = shutil.which("node")
    if node is None:
        message = ("node is missing: install Node.js 20 or later with npm (apt-get install nodejs npm), then run "
                   "`npm ci --prefix tests/e2e/js` (`make test` runs it when npm is present)")
    elif not (JS / "node_modules" / "@comunica" / "query-sparql").is_dir():
        message = (f"Comunica is not installed in {JS / 'node_modules'}: run `npm ci --prefix tests/e2e/js` "
                   "(`make test` runs it when npm is present)")
    else:
        return node
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[ServerProcess]:
    """A node of its own that harvests its pods into the merged store every half second."""
    directory = tmp_path_factory.mktemp("comunica")
    port = free_port()
    config = write_config(directory, port)
    with config.open("a", encoding="utf-8") as file:
        file.write("[federation]\ninterval_s = 0.5\n")
    server = ServerProcess(config, port, directory / "server.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def created(node) -> dict[str, str]:
    """The two example proposals POSTed to the bordeaux pod: example name -> the resource's URL."""
    locations = {}
    for name in NAMES:
        response = post(node.url, "proposals/", example(name), slug=f"comunica-{name}")
        assert response.status_code == 201, response.text
        locations[name] = response.headers["Location"]
    return locations


def expected(created: dict[str, str], *names: str) -> set[Title]:
    """The (proposal, title, language) solutions of PROPOSALS for these examples (all of them by default)."""
    titles = set()
    for name in names or NAMES:
        title = example(name)["title"]
        languages = title.items() if isinstance(title, dict) else [(None, title)]
        titles |= {(created[name], value, language) for language, value in languages}
    return titles


def comunica(node_js: str, source: str, query: str, *options: str) -> dict:
    started = time.monotonic()
    result = subprocess.run([node_js, str(SCRIPT), *options, source, query], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, f"query.mjs failed ({result.returncode}) on {source}:\n{result.stderr}"
    results = json.loads(result.stdout)
    print(f"comunica {' '.join(options)} {source}: {time.monotonic() - started:.2f}s, {result.stdout.strip()}")
    return results


def titles(results: dict) -> set[Title]:
    return {(row["p"]["value"], row["title"]["value"], row["title"].get("xml:lang"))
            for row in results["results"]["bindings"]}


def canonical(results: dict) -> tuple[list[str], list[list[tuple[str, tuple]]]]:
    """SPARQL JSON results without their row order; an xsd:string or rdf:langString datatype is implicit."""
    def term(value: dict) -> tuple:
        value = {key: v for key, v in value.items() if not (key == "datatype" and v in PLAIN_STRINGS)}
        return tuple(sorted(value.items()))

    rows = [sorted((variable, term(value)) for variable, value in row.items())
            for row in results["results"]["bindings"]]
    return results["head"]["vars"], sorted(rows)


def harvested(node: ServerProcess, created: dict[str, str], timeout: float = 20) -> dict:
    """The endpoint's answer to PROPOSALS, read with requests once the node has harvested both proposals."""
    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(f"{node.url}sparql", params={"query": PROPOSALS},
                                headers={"Accept": "application/sparql-results+json"}, timeout=10)
        assert response.status_code == 200, response.text
        if titles(response.json()) >= expected(created) or time.monotonic() > deadline:
            return response.json()
        time.sleep(0.2)


def test_comunica_reads_the_sparql_endpoint_as_requests_does(node_js, node, created):
    by_requests = harvested(node, created)
    assert titles(by_requests) == expected(created), f"not harvested in time:\n{node.log()}"
    by_comunica = comunica(node_js, f"sparql@{node.url}sparql", PROPOSALS)
    assert titles(by_comunica) == expected(created)
    assert canonical(by_comunica) == canonical(by_requests)


def test_comunica_reads_a_container_and_a_resource_as_rdf_documents(node_js, node, created):
    container = comunica(node_js, f"{node.url}bordeaux/proposals/", PROPOSALS)
    assert titles(container) == expected(created)
    garden = created["proposal-community-garden"]
    resource = comunica(node_js, garden, PROPOSALS)
    assert titles(resource) == expected(created, "proposal-community-garden")


