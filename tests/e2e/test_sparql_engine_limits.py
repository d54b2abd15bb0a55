"""The public SPARQL endpoint and the pods on a remote engine that answers too much, too slowly, or not at all: the
endpoint's limits (time, results, bytes, no SERVICE, no update) hold although the engine evaluates the queries, and a
stalled engine makes requests fail fast with a 503 problem, writes nothing half, and is served again once it returns.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from rdflib import Graph, Namespace

from dds_pod.testing import (
    Loopback,
    OxigraphServer,
    QuietHandler,
    ServerProcess,
    SilentServer,
    free_port,
    oxigraph_command,
    sparql_store_table,
    write_config,
)

from .conftest import ACCEPT_JSONLD, JSONLD, auth, example, post, tool_missing, until

EX = "http://example.org/limits/"
SHORT, LONG = EX + "graph/short", EX + "graph/long"
MAX_RESULTS, MAX_BYTES = 1000, 200_000
VALUE = ox.NamedNode(EX + "value")
PROBLEM = "application/problem+json"
DDS = Namespace("https://w3id.org/dds/ns#")


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> Iterator[tuple[OxigraphServer, OxigraphServer]]:
    """Oxigraph servers without a time limit of their own (no --timeout-s): the node's limits are the only ones.
    The merged graph holds 1,500 short values (more rows than a query may give) and 400 values of 1,000 bytes
    (fewer rows, but an answer over the byte limit)."""
    if oxigraph_command() is None:
        tool_missing("the oxigraph command is missing: pip install oxigraph (a test extra of dds-pod)")
    directory = tmp_path_factory.mktemp("engines")
    pods = OxigraphServer(directory / "pods", directory / "pods.log").start()
    merged = OxigraphServer(directory / "merged", directory / "merged.log").start()
    merged.load([
        *(ox.Quad(ox.NamedNode(f"{EX}s{i}"), VALUE, ox.Literal(i), ox.NamedNode(SHORT)) for i in range(1500)),
        *(ox.Quad(ox.NamedNode(f"{EX}l{i}"), VALUE, ox.Literal(f"{i:04d}" + "x" * 996), ox.NamedNode(LONG))
          for i in range(400)),
    ])
    yield pods, merged
    pods.resume()
    merged.resume()
    pods.stop()
    merged.stop()


def start_node(directory: Path, pods, merged, federation: str = "") -> ServerProcess:
    port = free_port()
    config = write_config(directory, port, page_size=5)
    with config.open("a", encoding="utf-8") as file:
        file.write("\n".join([
            "[federation]", "query_timeout_s = 1", f"max_results = {MAX_RESULTS}", f"query_max_bytes = {MAX_BYTES}",
            federation, sparql_store_table(pods, merged, timeout_s=2, lock_dir=directory / "locks")]))
    return ServerProcess(config, port, directory / "server.log").start()


@pytest.fixture(scope="module")
def node(engines, tmp_path_factory) -> Iterator[ServerProcess]:
    process = start_node(tmp_path_factory.mktemp("node"), *engines)
    yield process
    process.stop()


def query(node: ServerProcess, sparql: str, timeout: float = 10) -> requests.Response:
    return requests.post(f"{node.url}sparql", data={"query": sparql}, timeout=timeout,
                         headers={"Accept": "application/sparql-results+json"})


def values(graph: str) -> str:
    return f"SELECT ?v WHERE {{ GRAPH <{graph}> {{ ?s <{VALUE.value}> ?v }} }}"


def assert_problem(response: requests.Response, status: int, title: str, *words: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["title"] == title
    for word in words:
        assert word in problem["detail"]


# ------------------------------------------------------------------ the endpoint's limits

def test_an_answer_within_the_limits_comes_from_the_engine(node):
    response = query(node, values(SHORT) + " LIMIT 1000")
    assert response.status_code == 200, response.text[:300]
    assert len(response.json()["results"]["bindings"]) == 1000


def test_more_results_than_the_limit_is_a_422_naming_it(node):
    assert_problem(query(node, values(SHORT)), 422, "Result too large", f"more than {MAX_RESULTS} results")


def test_an_engine_answer_over_the_byte_limit_is_given_up_with_a_422_naming_it(node):
    """400 rows, under the result limit: the engine's 400 kB answer is refused past its first 200 kB."""
    assert_problem(query(node, values(LONG)), 422, "Result too large", f"larger than {MAX_BYTES} bytes")
    assert query(node, values(LONG) + " LIMIT 100").status_code == 200  # 100 kB is within the limit


def test_a_query_the_engine_runs_long_is_answered_503_on_time_while_others_are_served(node):
    """The engine has no time limit of its own: the node's holds, by when it stops waiting for the answer."""
    explosive = (f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{SHORT}> {{ ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }} }}")
    outcome: dict[str, object] = {}

    def explode() -> None:
        started = time.monotonic()
        outcome["response"] = query(node, explosive, timeout=30)
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=explode)
    thread.start()
    time.sleep(0.3)
    simple = query(node, f"ASK {{ GRAPH <{SHORT}> {{ <{EX}s1> ?p ?o }} }}")
    thread.join(30)
    assert simple.status_code == 200 and simple.json()["boolean"] is True
    assert isinstance(outcome["response"], requests.Response)
    assert_problem(outcome["response"], 503, "Query timeout", "1 s limit")
    assert isinstance(outcome["elapsed"], float) and outcome["elapsed"] < 2.5


def test_service_is_refused_before_the_engine_could_call_anyone(node):
    """Oxigraph server evaluates SERVICE itself: the node must refuse it before the query reaches the engine."""
    called: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            called.append(self.path)
            self.send_response(500)
            self.end_headers()

        do_POST = do_GET

    target = Loopback(Handler)
    try:
        for sparql in (f"SELECT * WHERE {{ SERVICE <{target.url}sparql> {{ ?s ?p ?o }} }}",
                       f"SELECT * WHERE {{ SERVICE SILENT <{target.url}sparql> {{ ?s ?p ?o }} }}"):
            assert_problem(query(node, sparql), 403, "Query refused", "SERVICE")
        assert called == []
    finally:
        target.close()


def count_quads(engine: OxigraphServer) -> int:
    counted = requests.get(engine.query_url, timeout=10, headers={"Accept": "application/sparql-results+json"},
                           params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"})
    return int(counted.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("update", ["LOAD <{url}ns>", "INSERT DATA {{ GRAPH <{graph}> {{ <{ex}x> <{ex}y> 1 }} }}",
                                    "DROP GRAPH <{graph}>"])
def test_updates_and_load_are_refused_and_the_engine_is_unchanged(node, engines, update):
    text = update.format(url=node.url, graph=SHORT, ex=EX)
    held = count_quads(engines[1])
    for response in (requests.post(f"{node.url}sparql", data={"update": text}, timeout=10),
                     requests.post(f"{node.url}sparql", data=text.encode(),
                                   headers={"Content-Type": "application/sparql-update"}, timeout=10)):
        assert_problem(response, 403, "Forbidden", "read-only")
    assert count_quads(engines[1]) == held


def test_a_query_to_an_engine_that_stopped_answering_gets_a_503_on_time_and_the_pods_go_on(node, engines):
    merged = engines[1]
    merged.pause()
    try:
        started = time.monotonic()
        response = query(node, "ASK { ?s ?p ?o }", timeout=30)
        elapsed = time.monotonic() - started
        created = post(node.url, "proposals/", example("proposal-community-garden"))
    finally:
        merged.resume()
    assert_problem(response, 503, "Query timeout", "1 s limit")
    assert elapsed < 2.5
    assert created.status_code == 201, created.text
    assert query(node, "ASK { ?s ?p ?o }").status_code == 200


def test_a_node_whose_engine_hangs_at_start_answers_every_request_503_at_once(engines, tmp_path):
    """While one request waits for the hanging engine (its 2 s), the others do not queue behind it."""
    silent = SilentServer()
    port = free_port()
    config = write_config(tmp_path, port)
    with config.open("a", encoding="utf-8") as file:
        file.write(sparql_store_table(silent, engines[1], timeout_s=2, lock_dir=tmp_path / "locks"))
    node = ServerProcess(config, port, tmp_path / "server.log").start(timeout=60, status=503)
    try:
        def timed(_: int) -> tuple[int, float]:
            started = time.monotonic()
            response = requests.get(f"{node.url}bordeaux/proposals/", headers=ACCEPT_JSONLD, timeout=30)
            return response.status_code, time.monotonic() - started

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(timed, range(8)))
        assert all(status == 503 for status, _ in answers)
        assert sorted(elapsed for _, elapsed in answers)[-2] < 1.0  # at most one waited for the engine
        assert silent.accepted >= 1
    finally:
        node.stop()
        silent.close()


# ------------------------------------------------------------------ a stalled engine

def feed_sequences(base: str) -> list[int]:
    response = requests.get(f"{base}bordeaux/changes/", params={"since": 0, "limit": 1000},
                            headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200, response.text[:300]
    graph = Graph().parse(data=response.text, format="turtle")
    return sorted(int(sequence) for sequence in graph.objects(None, DDS.sequence))


def test_a_stalled_engine_fails_requests_fast_writes_nothing_half_and_recovers(node, engines):
    pods = engines[0]
    created = post(node.url, "proposals/", example("proposal-community-garden"), slug="stalled")
    assert created.status_code == 201, created.text
    iri = created.headers["Location"]
    before = requests.get(iri, headers=ACCEPT_JSONLD, timeout=10)
    document = before.json()
    document["title"] = {"fr": "Jardin partagé, version révisée"}
    pods.pause()
    try:
        started = time.monotonic()
        read = requests.get(iri, headers=ACCEPT_JSONLD, timeout=30)
        put = requests.put(iri, data=json.dumps(document), timeout=30,
                           headers={**JSONLD, **auth(), "If-Match": before.headers["ETag"]})
        other = post(node.url, "proposals/", example("proposal-community-garden"), slug="during")
        elapsed = time.monotonic() - started
    finally:
        pods.resume()
    for response in (read, put, other):
        assert_problem(response, 503, "Store unavailable", "did not answer within 2 s")
    assert elapsed < 3 * 2 + 2  # each waited the engine's 2 s, no more
    until(lambda: requests.get(iri, headers=ACCEPT_JSONLD, timeout=10).status_code == 200)
    # A write the engine received before it stalled is applied whole once it resumes, or not at all: the resource,
    # its version and the change feed agree either way, and the feed's sequence has no gap.
    after = requests.get(iri, headers=ACCEPT_JSONLD, timeout=10)
    revised = "révisée" in after.text
    assert (after.headers["ETag"] != before.headers["ETag"]) == revised
    sequences = feed_sequences(node.url)
    assert sequences == list(range(1, len(sequences) + 1))
    retried = requests.put(iri, data=json.dumps(document), timeout=10,
                           headers={**JSONLD, **auth(), "If-Match": after.headers["ETag"]})
    assert retried.status_code in (200, 204), retried.text
    assert "révisée" in requests.get(iri, headers=ACCEPT_JSONLD, timeout=10).text
    assert "Traceback" not in node.log()
