"""A node whose pods and merged graph live on two Oxigraph servers (the ``sparql`` store backend), driven over HTTP:
writes and reads, the change feed, a harvest of its own pod, and the engine stopped and started again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from rdflib import RDF, Graph, Namespace, URIRef

from dds_pod.testing import OxigraphServer, ServerProcess, free_port, oxigraph_command, sparql_store_table, write_config

from .conftest import ACCEPT_JSONLD, JSONLD, auth, example, post

AS = Namespace("https://www.w3.org/ns/activitystreams#")
DDS = Namespace("https://w3id.org/dds/ns#")


class Engines:
    def __init__(self, directory: Path) -> None:
        self.pods = OxigraphServer(directory / "pods", directory / "pods.log").start()
        self.federation = OxigraphServer(directory / "federation", directory / "federation.log").start()

    def stop(self) -> None:
        self.pods.stop()
        self.federation.stop()


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> Iterator[Engines]:
    if oxigraph_command() is None:
        pytest.skip("the oxigraph command is missing: pip install oxigraph (a test extra of dds-pod)")
    engines = Engines(tmp_path_factory.mktemp("engines"))
    yield engines
    engines.stop()


@pytest.fixture(scope="module")
def node(engines, tmp_path_factory) -> Iterator[ServerProcess]:
    """A node on the engines that federates its own paris pod, harvested every half second."""
    directory = tmp_path_factory.mktemp("node")
    port = free_port()
    config = write_config(directory, port, page_size=5)
    federation = ["[federation]", f'members = ["http://127.0.0.1:{port}/paris/"]', "interval_s = 0.5",
                  "fetch_timeout_s = 2", 'allow_networks = ["127.0.0.0/8"]']
    with config.open("a", encoding="utf-8") as file:
        file.write("\n".join([*federation, sparql_store_table(engines.pods, engines.federation, timeout_s=2)]))
    process = ServerProcess(config, port, directory / "server.log").start()
    yield process
    process.stop()


def until(condition: Callable[[], object], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not hold in time")
        time.sleep(0.2)


def engine_holds(engine: OxigraphServer, iri: str) -> bool:
    response = requests.get(engine.query_url, params={"query": f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=5)
    return bool(response.json()["boolean"])


def events_of(base: str, pod: str, resource: str) -> list[URIRef]:
    """The kinds of the change feed's events about a resource, in the order of their sequence numbers."""
    response = requests.get(f"{base}{pod}/changes/", params={"since": 0, "limit": 1000},
                            headers={"Accept": "text/turtle"}, timeout=5)
    graph = Graph().parse(data=response.text, format="turtle")
    events = graph.subjects(AS.object, URIRef(resource))
    return [kind for _, kind in sorted((int(graph.value(e, DDS.sequence)), graph.value(e, RDF.type)) for e in events)]


def test_post_get_put_delete_on_the_engine(node, engines):
    base = node.url
    created = post(base, "proposals/", example("proposal-community-garden"), slug="garden")
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert engine_holds(engines.pods, location), "the resource is a named graph of the engine"
    read = requests.get(location, headers=ACCEPT_JSONLD, timeout=5)
    assert read.status_code == 200
    assert read.json()["title"] == example("proposal-community-garden")["title"]
    listed = requests.get(f"{base}bordeaux/proposals/", headers=ACCEPT_JSONLD, timeout=5).text
    assert location in listed
    updated = requests.put(location, data=json.dumps(dict(example("proposal-community-garden"), supportCount=7)),
                           headers={**JSONLD, **auth(), "If-Match": read.headers["ETag"]}, timeout=5)
    assert updated.status_code in (200, 204), updated.text
    assert requests.get(location, headers=ACCEPT_JSONLD, timeout=5).json()["supportCount"] == 7
    assert requests.delete(location, headers=auth(), timeout=5).status_code in (200, 204)
    assert requests.get(location, timeout=5).status_code == 410


def test_the_change_feed_records_each_write(node):
    base = node.url
    location = post(base, "comments/", example("comment-on-proposal"), pod="paris").headers["Location"]
    requests.put(location, data=json.dumps(example("comment-on-proposal")), headers={**JSONLD, **auth("paris")},
                 timeout=5)
    requests.delete(location, headers=auth("paris"), timeout=5)
    assert events_of(base, "paris", location) == [AS.Create, AS.Update, AS.Delete]


def test_invalid_writes_are_refused_as_on_the_embedded_store(node):
    document = dict(example("proposal-community-garden"), status="approved")
    assert post(node.url, "proposals/", document).status_code == 422


def test_the_harvest_fills_the_merged_graph_on_its_engine(node, engines):
    location = post(node.url, "proposals/", example("proposal-piste-cyclable-victor-hugo"), pod="paris",
                    slug="velo").headers["Location"]
    until(lambda: engine_holds(engines.federation, location))
    assert not engine_holds(engines.pods, location.replace("/paris/", "/bordeaux/"))
    merged = requests.get(f"{node.url}federation/proposals/", params={"limit": 1000}, headers=ACCEPT_JSONLD,
                          timeout=5)
    assert merged.status_code == 200
    assert location in merged.text


def test_an_engine_down_is_a_503_problem_then_the_node_recovers(node, engines):
    base = node.url
    engines.pods.stop()
    try:
        read = requests.get(f"{base}bordeaux/proposals/", headers=ACCEPT_JSONLD, timeout=10)
        assert read.status_code == 503
        assert read.headers["Content-Type"].startswith("application/problem+json")
        assert read.json()["title"] == "Store unavailable"
        assert "cannot be reached" in read.json()["detail"]
        write = post(base, "proposals/", example("proposal-community-garden"), slug="while-down")
        assert write.status_code == 503
        assert write.json()["status"] == 503
    finally:
        engines.pods.start()
    assert requests.get(f"{base}bordeaux/proposals/", headers=ACCEPT_JSONLD, timeout=5).status_code == 200
    assert requests.get(f"{base}bordeaux/proposals/while-down", timeout=5).status_code == 404, \
        "the refused write left nothing"
    assert post(base, "proposals/", example("proposal-community-garden"), slug="after").status_code == 201
    assert "Traceback" not in node.log()


def test_the_sparql_endpoint_answers_from_the_merged_graph_engine(node, engines):
    location = post(node.url, "proposals/", example("proposal-community-garden"), pod="paris",
                    slug="jardin").headers["Location"]
    until(lambda: engine_holds(engines.federation, location))
    response = requests.post(f"{node.url}sparql", data={"query": f"ASK {{ GRAPH <{location}> {{ ?s ?p ?o }} }}"},
                             headers={"Accept": "application/sparql-results+json"}, timeout=15)
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is True
