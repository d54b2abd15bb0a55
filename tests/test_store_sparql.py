"""The store interface on both backends: the embedded pyoxigraph store and the ``sparql`` backend on a real Oxigraph
server started on a loopback port. The same tests run on each, so callers cannot tell them apart; then what only
the remote backend has: its options, and its failures when the engine is down, slow or answers nonsense."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from dds_pod.errors import ConfigError, StoreUnavailable
from dds_pod.store import StoreContext, open_store, read_settings
from dds_pod.store.base import Change, Store
from dds_pod.store.oxigraph import OxigraphStore
from dds_pod.store.sparql import SparqlStore
from dds_pod.testing import Loopback, OxigraphServer, QuietHandler, free_port, oxigraph_command

EX = "http://pod.example/"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
TITLE, COUNT, KNOWS = (ox.NamedNode(f"{EX}vocab#{name}") for name in ("title", "count", "knows"))
ALICE, BOB = ox.NamedNode(f"{EX}alice"), ox.NamedNode(f"{EX}bob")


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Iterator[OxigraphServer]:
    if oxigraph_command() is None:
        pytest.skip("the oxigraph command is missing: pip install oxigraph (a test extra of dds-pod)")
    directory = tmp_path_factory.mktemp("oxigraph")
    server = OxigraphServer(directory / "data", directory / "oxigraph.log").start()
    yield server
    server.stop()


@pytest.fixture(params=["oxigraph", "sparql"])
def store(request) -> Iterator[Store]:
    if request.param == "oxigraph":
        yield OxigraphStore()
        return
    engine: OxigraphServer = request.getfixturevalue("engine")
    requests.post(engine.update_url, data="DROP ALL", headers={"Content-Type": "application/sparql-update"},
                  timeout=10).raise_for_status()
    remote = SparqlStore(engine.query_url, engine.update_url)
    yield remote
    remote.close()


def alice_graph() -> list[ox.Triple]:
    return [ox.Triple(ALICE, TITLE, ox.Literal("Pistes cyclables", language="fr")),
            ox.Triple(ALICE, TITLE, ox.Literal("Bike lanes", language="en")),
            ox.Triple(ALICE, COUNT, ox.Literal("42", datatype=XSD_INTEGER)),
            ox.Triple(ALICE, KNOWS, BOB)]


def written(store: Store, graphs: dict[str, list[ox.Triple]]) -> Store:
    change = Change()
    for graph, triples in graphs.items():
        change.replace_graph(graph, triples)
    store.commit(change)
    return store


# ----------------------------------------------------------------- reading what was written

def test_triples_keep_languages_datatypes_and_iris(store):
    written(store, {f"{EX}alice": alice_graph()})
    assert set(store.triples(f"{EX}alice")) == set(alice_graph())
    assert store.triples(f"{EX}nobody") == []


def test_has_graph(store):
    written(store, {f"{EX}alice": alice_graph()})
    assert store.has_graph(f"{EX}alice")
    assert not store.has_graph(f"{EX}bob")


def test_blank_nodes_come_back_as_one_node_per_label(store):
    place = ox.BlankNode()
    written(store, {f"{EX}alice": [ox.Triple(ALICE, KNOWS, place), ox.Triple(place, TITLE, ox.Literal("Place"))]})
    triples = store.triples(f"{EX}alice")
    node = next(t.object for t in triples if t.predicate == KNOWS)
    assert isinstance(node, ox.BlankNode)
    assert [t.object for t in triples if t.subject == node] == [ox.Literal("Place")]


def test_quads_by_pattern_and_graph(store):
    written(store, {f"{EX}alice": alice_graph(), f"{EX}bob": [ox.Triple(BOB, KNOWS, ALICE)]})
    alice, bob = ox.NamedNode(f"{EX}alice"), ox.NamedNode(f"{EX}bob")
    assert set(store.quads(None, KNOWS)) == {ox.Quad(ALICE, KNOWS, BOB, alice), ox.Quad(BOB, KNOWS, ALICE, bob)}
    assert set(store.quads(ALICE, None, None, f"{EX}alice")) == {ox.Quad(*t, alice) for t in alice_graph()}
    english = ox.Literal("Bike lanes", language="en")
    assert list(store.quads(None, None, english)) == [ox.Quad(ALICE, TITLE, english, alice)]
    assert list(store.quads(ALICE, None, None, f"{EX}bob")) == []


def test_a_change_drops_removes_sets_and_clears_in_one_commit(store):
    written(store, {f"{EX}alice": alice_graph(), f"{EX}bob": [ox.Triple(BOB, KNOWS, ALICE)],
                    f"{EX}meta": [ox.Triple(ALICE, COUNT, ox.Literal("1", datatype=XSD_INTEGER)),
                                  ox.Triple(BOB, TITLE, ox.Literal("Bob"))]})
    change = Change()
    change.drop_graphs.add(f"{EX}bob")
    change.remove.append(ox.Quad(ALICE, KNOWS, BOB, ox.NamedNode(f"{EX}alice")))
    change.set_value(f"{EX}meta", ALICE, COUNT, ox.Literal("2", datatype=XSD_INTEGER))
    change.set_value(f"{EX}meta", ALICE, COUNT, ox.Literal("3", datatype=XSD_INTEGER))  # the last one wins
    change.clear_subjects.append((BOB, f"{EX}meta"))
    change.add.append(ox.Quad(BOB, TITLE, ox.Literal("Robert"), ox.NamedNode(f"{EX}meta")))
    store.commit(change)
    assert not store.has_graph(f"{EX}bob")
    assert set(store.triples(f"{EX}alice")) == set(alice_graph()[:3])
    assert set(store.triples(f"{EX}meta")) == {ox.Triple(ALICE, COUNT, ox.Literal("3", datatype=XSD_INTEGER)),
                                               ox.Triple(BOB, TITLE, ox.Literal("Robert"))}


def test_an_empty_change_writes_nothing(store):
    store.commit(Change())
    assert list(store.quads()) == []


# ----------------------------------------------------------------- queries

def test_the_default_graph_is_the_union_unless_told_otherwise(store):
    written(store, {f"{EX}alice": alice_graph(), f"{EX}bob": [ox.Triple(BOB, KNOWS, ALICE)]})
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert int(next(iter(store.select(count)))["n"].value) == 5
    assert int(next(iter(store.query(count, union_default_graph=False)))["n"].value) == 0
    only_bob = store.query(count, default_graph=[f"{EX}bob"])
    assert int(next(iter(only_bob))["n"].value) == 1


def test_named_graphs_of_the_dataset(store):
    written(store, {f"{EX}alice": alice_graph(), f"{EX}bob": [ox.Triple(BOB, KNOWS, ALICE)]})
    rows = store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", default_graph=[],
                       named_graphs=[f"{EX}bob"])
    assert [row["g"] for row in rows] == [ox.NamedNode(f"{EX}bob")]
    from_clause = f"SELECT DISTINCT ?g FROM NAMED <{EX}alice> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert [row["g"] for row in store.query(from_clause, union_default_graph=False)] == [ox.NamedNode(f"{EX}alice")]


def test_named_graphs_beside_the_union_are_refused_by_the_remote_backend(engine):
    remote = SparqlStore(engine.query_url, engine.update_url)
    with pytest.raises(ValueError, match="give the default graph too"):
        remote.query("SELECT * WHERE { ?s ?p ?o }", named_graphs=[f"{EX}bob"])


def test_solutions_have_variables_and_terms(store):
    written(store, {f"{EX}alice": alice_graph()})
    results = store.query(f"SELECT ?title WHERE {{ <{ALICE.value}> <{TITLE.value}> ?title }} ORDER BY ?title")
    assert isinstance(results, ox.QuerySolutions)
    assert results.variables == [ox.Variable("title")]
    assert [row["title"] for row in results] == [ox.Literal("Bike lanes", language="en"),
                                                 ox.Literal("Pistes cyclables", language="fr")]


def test_ask_and_construct_give_pyoxigraph_results(store):
    written(store, {f"{EX}alice": alice_graph()})
    answer = store.query(f"ASK {{ <{ALICE.value}> <{KNOWS.value}> ?who }}")
    assert isinstance(answer, ox.QueryBoolean)
    assert bool(answer)
    assert not store.query(f"ASK {{ <{BOB.value}> ?p ?o }}")
    graph = store.query(f"CONSTRUCT {{ ?s <{KNOWS.value}> ?o }} WHERE {{ ?s <{KNOWS.value}> ?o }}")
    assert isinstance(graph, ox.QueryTriples)
    assert list(graph) == [ox.Triple(ALICE, KNOWS, BOB)]


def test_base_iri_resolves_relative_iris(store):
    written(store, {f"{EX}alice": alice_graph()})
    rows = store.query("SELECT ?o WHERE { <alice> <vocab#knows> ?o }", base_iri=EX)
    assert [row["o"] for row in rows] == [BOB]


def test_select_refuses_another_query_form(store):
    with pytest.raises(TypeError, match="not a SELECT"):
        store.select("ASK { ?s ?p ?o }")


def test_a_malformed_query_is_a_syntax_error(store):
    with pytest.raises(SyntaxError):
        store.query("SELECT WHERE {")


# ----------------------------------------------------------------- the remote backend only

def test_a_blank_node_pattern_is_refused(engine):
    with pytest.raises(TypeError, match="blank node"):
        SparqlStore(engine.query_url, engine.update_url).quads(ox.BlankNode())


def test_an_engine_that_is_not_listening_is_unavailable():
    url = f"http://127.0.0.1:{free_port()}/"
    remote = SparqlStore(url + "query", url + "update", connect_timeout_s=1)
    with pytest.raises(StoreUnavailable, match="cannot be reached") as raised:
        remote.has_graph(f"{EX}alice")
    assert raised.value.status == 503
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        written(remote, {f"{EX}alice": alice_graph()})


class SlowHandler(QuietHandler):
    def do_POST(self) -> None:
        time.sleep(2)
        self.send_response(200)
        self.end_headers()


class FailingHandler(QuietHandler):
    """An engine in trouble (500), or a server that is no SPARQL engine (HTML)."""

    def do_POST(self) -> None:
        failing = self.path.startswith("/failing")
        self.send_response(500 if failing else 200)
        self.send_header("Content-Type", "text/plain" if failing else "text/html")
        self.end_headers()
        self.wfile.write(b"trouble" if failing else b"<html></html>")


@pytest.fixture
def loopback(request) -> Iterator[Loopback]:
    server = Loopback(request.param)
    yield server
    server.close()


@pytest.mark.parametrize("loopback", [SlowHandler], indirect=True)
def test_an_engine_slower_than_the_timeout_is_unavailable(loopback):
    remote = SparqlStore(loopback.url + "query", loopback.url + "update", timeout_s=0.2)
    with pytest.raises(StoreUnavailable, match=r"did not answer within 0\.2 s"):
        remote.has_graph(f"{EX}alice")
    with pytest.raises(StoreUnavailable, match=r"did not answer within 0\.2 s"):
        written(remote, {f"{EX}alice": alice_graph()})


@pytest.mark.parametrize("loopback", [FailingHandler], indirect=True)
def test_an_engine_error_or_a_foreign_answer_is_unavailable(loopback, caplog):
    failing = SparqlStore(loopback.url + "failing/query", loopback.url + "failing/update")
    with pytest.raises(StoreUnavailable, match="failed with status 500") as raised:
        failing.triples(f"{EX}alice")
    assert "trouble" not in raised.value.message  # the engine's words are logged, not told to the client
    assert any("failed with status 500: trouble" in record.getMessage() for record in caplog.records)
    with pytest.raises(StoreUnavailable, match="failed with status 500"):
        written(failing, {f"{EX}alice": alice_graph()})
    foreign = SparqlStore(loopback.url + "query", loopback.url + "update")
    with pytest.raises(StoreUnavailable, match="text/html"):
        foreign.has_graph(f"{EX}alice")


def test_an_engine_stopped_then_started_again_serves_what_it_held(tmp_path):
    if oxigraph_command() is None:
        pytest.skip("the oxigraph command is missing: pip install oxigraph (a test extra of dds-pod)")
    server = OxigraphServer(tmp_path / "data", tmp_path / "oxigraph.log").start()
    remote = SparqlStore(server.query_url, server.update_url)
    try:
        written(remote, {f"{EX}alice": alice_graph()})
        server.stop()
        with pytest.raises(StoreUnavailable):
            written(remote, {f"{EX}alice": [], f"{EX}bob": [ox.Triple(BOB, KNOWS, ALICE)]})
        server.start()
        assert set(remote.triples(f"{EX}alice")) == set(alice_graph())  # the pooled session reconnects
        assert not remote.has_graph(f"{EX}bob")  # the refused change left nothing
    finally:
        server.stop()


# ----------------------------------------------------------------- options

def sparql_settings(**options):
    table = {"backend": "sparql", "query_url": "http://127.0.0.1:7878/query",
             "update_url": "http://127.0.0.1:7878/update",
             "federation": {"query_url": "http://127.0.0.1:7879/query", "update_url": "http://127.0.0.1:7879/update"},
             **options}
    return read_settings({key: value for key, value in table.items() if value is not None},
                         StoreContext(None, Path()))


def test_options_open_one_dataset_per_part():
    settings = sparql_settings(timeout_s=5, union_parameter="")
    pods, federation = open_store(settings), open_store(settings, "federation")
    assert isinstance(pods, SparqlStore) and isinstance(federation, SparqlStore)
    assert (pods.query_url, pods.update_url) == ("http://127.0.0.1:7878/query", "http://127.0.0.1:7878/update")
    assert federation.query_url == "http://127.0.0.1:7879/query"
    assert pods.timeout == (2.0, 5.0)
    assert pods.union_parameter == ""


@pytest.mark.parametrize(("options", "field"), [
    ({"query_url": None}, "store.query_url"),
    ({"update_url": "ftp://127.0.0.1/update"}, "store.update_url"),
    ({"federation": None}, "store.federation"),
    ({"federation": {"query_url": "http://127.0.0.1:7879/query"}}, "store.federation.update_url"),
    ({"federation": {"query_url": "http://127.0.0.1:7878/query", "update_url": "http://127.0.0.1:7878/update"}},
     "store.federation.query_url"),
    ({"federation": {"query_url": "http://a/q", "update_url": "http://a/u", "timeout": 3}}, "store.federation.timeout"),
    ({"timeout_s": 0}, "store.timeout_s"),
    ({"connect_timeout_s": "2"}, "store.connect_timeout_s"),
    ({"union_parameter": True}, "store.union_parameter"),
    ({"path": "var/store"}, "store.path"),
])
def test_bad_options_are_refused_by_name(options, field):
    with pytest.raises(ConfigError) as raised:
        sparql_settings(**options)
    assert raised.value.field == field
