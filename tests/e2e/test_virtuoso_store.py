"""A node on two Virtuoso servers through the sparql store backend and its ``virtuoso`` dialect: writes, versions and
the change feed, blank nodes, and the public endpoint's queries. Virtuoso is not installed in CI (Debian's
virtuoso-opensource, ``apt-get install virtuoso-opensource``): without it these tests are skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pyoxigraph as ox
import pytest
import requests
from rdflib import Graph, Namespace

from dds_pod.testing import ServerProcess, VirtuosoServer, free_port, sparql_store_table, virtuoso_command, write_config

from .conftest import ACCEPT_JSONLD, JSONLD, auth, example, post, until

DDS = Namespace("https://w3id.org/dds/ns#")


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[ServerProcess]:
    if virtuoso_command() is None:
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource); CI does not install it")
    directory = tmp_path_factory.mktemp("virtuoso")
    engines = [VirtuosoServer(directory / name) for name in ("pods", "merged")]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda engine: engine.start(), engines))
    port = free_port()
    config = write_config(directory, port, page_size=5, free_rdf=["notes/"])
    with config.open("a", encoding="utf-8") as file:
        file.write("[federation]\ninterval_s = 0.5\n" + sparql_store_table(
            engines[0], engines[1], timeout_s=10, lock_dir=directory / "locks", dialect="virtuoso"))
    process = ServerProcess(config, port, directory / "server.log").start(timeout=60)
    yield process
    process.stop()
    for engine in engines:
        engine.stop()


def sequences(base: str) -> list[int]:
    response = requests.get(f"{base}bordeaux/changes/", params={"since": 0, "limit": 1000},
                            headers={"Accept": "text/turtle"}, timeout=10)
    return sorted(int(value) for value in Graph().parse(data=response.text, format="turtle").objects(None,
                                                                                                   DDS.sequence))


def test_a_resource_is_written_versioned_and_deleted_with_its_feed_whole(node):
    created = post(node.url, "proposals/", example("proposal-community-garden"), slug="garden")
    assert created.status_code == 201, created.text
    iri = created.headers["Location"]
    read = requests.get(iri, headers=ACCEPT_JSONLD, timeout=10)
    assert read.status_code == 200 and "garden" in read.text.lower()
    document = dict(example("proposal-community-garden"), supportCount=7)
    puts = [requests.put(iri, data=json.dumps(document), timeout=30,
                         headers={**JSONLD, **auth(), "If-Match": read.headers["ETag"]}) for _ in range(3)]
    statuses = sorted(response.status_code for response in puts)
    assert statuses[0] in (200, 204) and statuses[1:] == [412, 412], [response.text[:200] for response in puts]
    assert requests.get(iri, headers=ACCEPT_JSONLD, timeout=10).json()["supportCount"] == 7
    listing = requests.get(f"{node.url}bordeaux/proposals/", headers=ACCEPT_JSONLD, timeout=10)
    assert iri in listing.text
    assert requests.delete(iri, headers=auth(), timeout=10).status_code in (200, 204)
    assert requests.get(iri, headers=ACCEPT_JSONLD, timeout=10).status_code in (404, 410)
    found = sequences(node.url)
    assert found == list(range(1, len(found) + 1)) and len(found) >= 3


def test_blank_nodes_are_stored_and_read_back(node):
    turtle = "@prefix ex: <http://example.org/> . <> ex:about [ ex:label \"inner\" ; ex:rank 2 ] ."
    created = requests.post(f"{node.url}bordeaux/notes/", data=turtle.encode(), timeout=10,
                            headers={"Content-Type": "text/turtle", **auth()})
    assert created.status_code == 201, created.text
    read = requests.get(created.headers["Location"], headers={"Accept": "text/turtle"}, timeout=10)
    graph = Graph().parse(data=read.text, format="turtle", publicID=created.headers["Location"])
    labels = [str(o) for o in graph.objects(None, Namespace("http://example.org/").label)]
    assert labels == ["inner"]


def test_the_endpoint_answers_the_union_of_the_graphs_rows_and_graphs(node):
    created = post(node.url, "proposals/", example("proposal-community-garden"), slug="harvested")
    iri = created.headers["Location"]
    ask = f"ASK {{ <{iri}> ?p ?o }}"
    until(lambda: requests.get(f"{node.url}sparql", params={"query": ask}, timeout=10,
                               headers={"Accept": "application/sparql-results+json"}).json()["boolean"])
    rows = requests.get(f"{node.url}sparql", params={"query": f"SELECT ?p WHERE {{ <{iri}> ?p ?o }}"}, timeout=10,
                        headers={"Accept": "application/sparql-results+json"})
    assert rows.status_code == 200 and rows.json()["results"]["bindings"]
    graph = requests.get(f"{node.url}sparql", params={"query": f"CONSTRUCT WHERE {{ <{iri}> ?p ?o }}"}, timeout=10,
                         headers={"Accept": "application/n-triples"})
    assert graph.status_code == 200, graph.text[:300]
    triples = list(ox.parse(graph.content, format=ox.RdfFormat.N_TRIPLES))
    assert triples and all(triple.subject == ox.NamedNode(iri) for triple in triples)


def test_a_resource_of_two_thousand_triples_is_stored_whole(node):
    """Virtuoso's endpoint refuses an INSERT DATA of this size unless told to pass its constants as data."""
    turtle = "@prefix ex: <http://example.org/> .\n" + "\n".join(
        f"<#item{i}> ex:rank {i} ; ex:label \"élément {i}\"@fr ." for i in range(1000))
    created = requests.post(f"{node.url}bordeaux/notes/", data=turtle.encode(), timeout=60,
                            headers={"Content-Type": "text/turtle", **auth()})
    assert created.status_code == 201, created.text[:500]
    read = requests.get(created.headers["Location"], headers={"Accept": "text/turtle"}, timeout=30)
    graph = Graph().parse(data=read.text, format="turtle", publicID=created.headers["Location"])
    assert len(set(graph.objects(None, Namespace("http://example.org/").rank))) == 1000
