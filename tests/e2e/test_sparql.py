"""The SPARQL endpoint of a real server: the protocol, formats, limits, CORS and a real client (SPARQLWrapper)."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from SPARQLWrapper import JSON, POST, SPARQLWrapper

from dds_pod.testing import ServerProcess, free_port, node_engines, write_config

EX = "http://example.org/test/"
ONE, TWO, FILLER = f"{EX}graph/one", f"{EX}graph/two", f"{EX}graph/filler"
TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
A = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PROPOSALS = f"SELECT ?s ?title WHERE {{ ?s a <{EX}Proposal> ; <http://purl.org/dc/terms/title> ?title }}"
EXPLOSIVE = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{FILLER}> {{ ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }} }}"
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
RESULTS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
           "application/sparql-results+xml": ox.QueryResultsFormat.XML,
           "text/tab-separated-values": ox.QueryResultsFormat.TSV}


def start_with_merged_graph(directory: Path, quads: Iterable[ox.Quad], federation: str = "") -> ServerProcess:
    """A server whose merged store holds these quads, written before it opens the store.

    The node opens ``<data_dir>/federation`` as its merged store, or under ``--store=sparql`` the merged graph's
    engine, which is filled before the node starts; ``federation`` is TOML appended under ``[federation]``
    (write_config has no parameter for it).
    """
    data_dir = directory / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = write_config(directory, port, data_dir=data_dir)
    with config.open("a", encoding="utf-8") as file:
        file.write(f"[federation]\n{federation}\n")
    engines = node_engines(config)
    if engines is not None:
        engines[1].load(quads)
    else:
        store = ox.Store(str(data_dir / "federation"))
        store.extend(quads)
        store.flush()
        del store  # releases the store's lock for the server
    return ServerProcess(config, port, directory / "server.log").start()


def _quads() -> list[ox.Quad]:
    def n(name: str) -> ox.NamedNode:
        return ox.NamedNode(EX + name)

    one, two, filler = ox.NamedNode(ONE), ox.NamedNode(TWO), ox.NamedNode(FILLER)
    return [
        ox.Quad(n("p1"), A, n("Proposal"), one),
        ox.Quad(n("p1"), TITLE, ox.Literal("Pistes cyclables", language="fr"), one),
        ox.Quad(n("p2"), A, n("Proposal"), two),
        ox.Quad(n("p2"), TITLE, ox.Literal("Bike lanes", language="en"), two),
        *(ox.Quad(n(f"f{i}"), n("value"), ox.Literal(i), filler) for i in range(2000)),
    ]


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[ServerProcess]:
    """A node with two proposals in two graphs and 2,000 filler quads; queries get 1 s and 1,000 results."""
    server = start_with_merged_graph(tmp_path_factory.mktemp("sparql"), _quads(),
                                     "query_timeout_s = 1\nmax_results = 1000")
    yield server
    server.stop()


@pytest.fixture
def endpoint(node) -> str:
    return f"{node.url}sparql"


def solutions(response: requests.Response, variable: str) -> set[str]:
    media_type = response.headers["Content-Type"].split(";")[0]
    if media_type == "text/csv":
        return {row[variable] for row in csv.DictReader(io.StringIO(response.text))}
    parsed = ox.parse_query_results(response.content, RESULTS[media_type])
    return {solution[variable].value for solution in parsed if solution[variable] is not None}


def ask(response: requests.Response) -> bool:
    return bool(ox.parse_query_results(response.content, RESULTS[response.headers["Content-Type"].split(";")[0]]))


# ------------------------------------------------------------------- the three ways of sending a query

@pytest.mark.parametrize("way", ["get", "form", "direct"])
def test_get_form_and_direct_post_query_the_union_of_all_graphs(endpoint, way):
    send = {
        "get": lambda: requests.get(endpoint, params={"query": PROPOSALS}, timeout=10),
        "form": lambda: requests.post(endpoint, data={"query": PROPOSALS}, timeout=10),
        "direct": lambda: requests.post(endpoint, data=PROPOSALS.encode(), headers={"Content-Type": DIRECT},
                                        timeout=10),
    }
    response = send[way]()
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/sparql-results+json"
    assert solutions(response, "title") == {"Pistes cyclables", "Bike lanes"}


def test_dataset_parameters_select_the_graphs(endpoint):
    only_one = requests.get(endpoint, params={"query": PROPOSALS, "default-graph-uri": ONE}, timeout=10)
    assert solutions(only_one, "title") == {"Pistes cyclables"}
    both = requests.post(f"{endpoint}?default-graph-uri={ONE}&default-graph-uri={TWO}", data=PROPOSALS.encode(),
                         headers={"Content-Type": DIRECT}, timeout=10)
    assert solutions(both, "title") == {"Pistes cyclables", "Bike lanes"}
    named = requests.post(endpoint, data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                          "named-graph-uri": [TWO, FILLER]}, timeout=10)
    assert solutions(named, "g") == {TWO, FILLER}


def test_from_named_and_graph_in_the_query(endpoint):
    sparql = f"SELECT DISTINCT ?g FROM NAMED <{ONE}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert solutions(requests.get(endpoint, params={"query": sparql}, timeout=10), "g") == {ONE}


# ------------------------------------------------------------------- formats

@pytest.mark.parametrize("media_type", ["application/sparql-results+json", "application/sparql-results+xml",
                                        "text/csv", "text/tab-separated-values"])
def test_select_result_formats(endpoint, media_type):
    response = requests.get(endpoint, params={"query": PROPOSALS}, headers={"Accept": media_type}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert "Accept" in response.headers["Vary"]
    assert solutions(response, "title") == {"Pistes cyclables", "Bike lanes"}


@pytest.mark.parametrize("media_type", ["application/sparql-results+json", "application/sparql-results+xml"])
def test_ask_result_formats(endpoint, media_type):
    sparql = f"ASK {{ <{EX}p2> ?p ?o }}"
    response = requests.get(endpoint, params={"query": sparql}, headers={"Accept": media_type}, timeout=10)
    assert response.headers["Content-Type"] == media_type
    assert ask(response) is True


@pytest.mark.parametrize(("accept", "media_type", "rdf_format"), [
    (None, "text/turtle", ox.RdfFormat.TURTLE),
    ("text/turtle", "text/turtle", ox.RdfFormat.TURTLE),
    ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES)])
def test_construct_formats(endpoint, accept, media_type, rdf_format):
    sparql = f"CONSTRUCT {{ ?s <{EX}label> ?t }} WHERE {{ ?s a <{EX}Proposal> ; <http://purl.org/dc/terms/title> ?t }}"
    headers = {"Accept": accept} if accept else {}
    response = requests.post(endpoint, data={"query": sparql}, headers=headers, timeout=10)
    assert response.headers["Content-Type"] == media_type
    triples = {(t.subject.value, t.object.value) for t in ox.parse(response.content, format=rdf_format)}
    assert triples == {(f"{EX}p1", "Pistes cyclables"), (f"{EX}p2", "Bike lanes")}


def test_nothing_acceptable_is_406(base):
    response = requests.get(f"{base}sparql", params={"query": "SELECT * {}"}, headers={"Accept": "image/png"},
                            timeout=10)
    assert response.status_code == 406
    assert response.headers["Content-Type"] == "application/problem+json"


# ------------------------------------------------------------------- refusals and errors

@pytest.mark.parametrize("way", ["form", "direct", "get"])
def test_updates_are_refused_and_change_nothing(endpoint, way):
    update = f"DROP GRAPH <{ONE}>"
    send = {
        "form": lambda: requests.post(endpoint, data={"update": update}, timeout=10),
        "direct": lambda: requests.post(endpoint, data=update.encode(),
                                        headers={"Content-Type": "application/sparql-update"}, timeout=10),
        "get": lambda: requests.get(endpoint, params={"update": update}, timeout=10),
    }
    response = send[way]()
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert solutions(requests.get(endpoint, params={"query": PROPOSALS}, timeout=10), "title") == {
        "Pistes cyclables", "Bike lanes"}


def test_a_malformed_query_is_400_with_the_parser_message(base):
    response = requests.get(f"{base}sparql", params={"query": "SELECT ?s WHERE { ?s ?p"}, timeout=10)
    assert response.status_code == 400
    problem = response.json()
    assert problem["title"] == "Malformed query"
    assert problem["detail"].startswith("error at 1:")


def test_other_methods_and_media_types_are_refused(base):
    put = requests.put(f"{base}sparql", params={"query": "ASK {}"}, timeout=10)
    assert put.status_code == 405
    assert put.headers["Allow"] == "GET, HEAD, POST, OPTIONS"
    plain = requests.post(f"{base}sparql", data=b"ASK {}", headers={"Content-Type": "text/plain"}, timeout=10)
    assert plain.status_code == 415


def test_cors_preflight_and_response_headers(base):
    preflight = requests.options(f"{base}sparql", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"}, timeout=10)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"  # an origin not in cors_origins
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    answer = requests.get(f"{base}sparql", params={"query": "ASK {}"}, headers={"Origin": "https://app.example"},
                          timeout=10)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


# ------------------------------------------------------------------- service description

SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.mark.parametrize(("accept", "media_type", "rdf_format"), [
    (None, "text/turtle", ox.RdfFormat.TURTLE),
    ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD)])
def test_get_without_query_is_the_service_description(base, accept, media_type, rdf_format):
    response = requests.get(f"{base}sparql", headers={"Accept": accept} if accept else {}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == media_type
    triples = {(t.subject.value, t.predicate.value, t.object.value)
               for t in ox.parse(response.content, format=rdf_format)}
    service = f"{base}sparql"
    assert {(service, SD + "endpoint", service), (service, SD + "supportedLanguage", SD + "SPARQL11Query"),
            (service, SD + "feature", SD + "UnionDefaultGraph")} <= triples
    assert any(s == service and p == SD + "defaultDataset" for s, p, _ in triples)


# ------------------------------------------------------------------- limits

def test_a_timeout_is_answered_on_time_while_other_queries_are_served(node, endpoint):
    outcome: dict[str, object] = {}

    def explode() -> None:
        started = time.monotonic()
        outcome["response"] = requests.post(endpoint, data={"query": EXPLOSIVE}, timeout=30)
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=explode)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    simple = requests.get(endpoint, params={"query": PROPOSALS}, timeout=10)
    simple_elapsed = time.monotonic() - started
    explosive_pending = thread.is_alive()
    thread.join(30)
    assert simple.status_code == 200 and solutions(simple, "title") == {"Pistes cyclables", "Bike lanes"}
    assert explosive_pending and simple_elapsed < 0.5  # answered while the explosive query was still running
    response = outcome["response"]
    assert isinstance(response, requests.Response)
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "1 s limit" in response.json()["detail"]
    assert outcome["elapsed"] < 2.2
    assert _descendants(_worker(node)) == []  # the query's process was killed and reaped


def test_over_the_result_limit_is_an_error_naming_it(endpoint):
    every_filler = f"SELECT ?s WHERE {{ GRAPH <{FILLER}> {{ ?s ?p ?o }} }}"
    response = requests.get(endpoint, params={"query": every_filler}, timeout=10)
    assert response.status_code == 422
    assert "more than 1000 results" in response.json()["detail"]
    under = requests.get(endpoint, params={"query": every_filler + " LIMIT 1000"},
                         headers={"Accept": "text/tab-separated-values"}, timeout=10)
    assert under.status_code == 200 and under.content.count(b"\n") == 1001


def _worker(node: ServerProcess) -> int:
    assert node.process is not None
    (worker,) = _children(node.process.pid)  # gunicorn's master has one worker
    return worker


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _descendants(pid: int) -> list[int]:
    children = _children(pid)
    return children + [d for child in children for d in _descendants(child)]


# ------------------------------------------------------------------- a real client

def test_sparqlwrapper_reads_the_endpoint(endpoint):
    client = SPARQLWrapper(endpoint)
    client.setQuery(PROPOSALS)
    client.setReturnFormat(JSON)
    bindings = client.query().convert()["results"]["bindings"]
    assert {(b["title"]["value"], b["title"]["xml:lang"]) for b in bindings} == {
        ("Pistes cyclables", "fr"), ("Bike lanes", "en")}
    client.setMethod(POST)
    client.setQuery(f"ASK {{ <{EX}p1> ?p ?o }}")
    assert client.query().convert()["boolean"] is True


@pytest.mark.embedded_only("a remote engine evaluates the query in its own memory, which it bounds itself")
def test_a_query_over_its_memory_budget_is_stopped_and_named(tmp_path):
    server = start_with_merged_graph(tmp_path, _quads(), "query_timeout_s = 30\nquery_memory_mb = 32")
    try:
        endpoint = f"{server.url}sparql"
        hungry = (f"SELECT ?a ?b WHERE {{ GRAPH <{FILLER}> {{ ?x ?p ?a . ?y ?q ?b }} }} "
                  "ORDER BY DESC(?a) ?b LIMIT 1")  # 4 million rows sorted before the first one is known
        response = requests.post(endpoint, data={"query": hungry}, timeout=60)
        assert response.status_code == 503, response.text[:300]
        assert response.json()["title"] == "Query out of memory"
        simple = requests.get(endpoint, params={"query": PROPOSALS}, timeout=10)
        assert solutions(simple, "title") == {"Pistes cyclables", "Bike lanes"}
        assert _descendants(_worker(server)) == []
    finally:
        server.stop()
