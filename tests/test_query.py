"""The SPARQL query service on an in-memory store: dataset, formats, negotiation, limits and isolation."""

from __future__ import annotations

import csv
import io
import os
import threading
import time

import pyoxigraph as ox
import pytest

from dds_pod.errors import NotAcceptable
from dds_pod.federation.sparql import (
    Dataset,
    InvalidRequest,
    Limits,
    MalformedQuery,
    QueryOutOfMemory,
    QueryRefused,
    QueryService,
    QueryTimeout,
    ResultTooLarge,
)
from dds_pod.sparql_checks import check_query
from dds_pod.store.base import Change
from dds_pod.store.oxigraph import OxigraphStore

ENDPOINT = "http://node.example/sparql"
EX = "http://example.org/"
ONE, TWO, FILLER = f"{EX}graph/one", f"{EX}graph/two", f"{EX}graph/filler"
TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
A = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PROPOSAL = ox.NamedNode(f"{EX}Proposal")
PROPOSALS = f"SELECT ?s WHERE {{ ?s a <{EX}Proposal> }}"


def n(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


def quad(s, p, o, graph: str) -> ox.Quad:
    return ox.Quad(s, p, o, ox.NamedNode(graph))


@pytest.fixture(scope="module")
def store() -> OxigraphStore:
    """Two proposals in two named graphs, and a note on a blank node with awkward literals."""
    store = OxigraphStore()
    note = ox.BlankNode("note")
    store.commit(Change(add=[
        quad(n("p1"), A, PROPOSAL, ONE), quad(n("p1"), TITLE, ox.Literal("Pistes cyclables", language="fr"), ONE),
        quad(n("p2"), A, PROPOSAL, TWO), quad(n("p2"), TITLE, ox.Literal("Bike lanes", language="en"), TWO),
        quad(note, n("text"), ox.Literal('tab\there, "quoted"\nnew line'), TWO),
        quad(note, n("day"), ox.Literal("2024-05-01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
             TWO),
    ]))
    return store


@pytest.fixture(scope="module")
def big_store() -> OxigraphStore:
    """3,000 quads: enough for a cross product of three patterns to run for hours."""
    store = OxigraphStore()
    store.commit(Change(add=[quad(n(f"f{i}"), n("value"), ox.Literal(i), FILLER) for i in range(3000)]))
    return store


def service(store, **limits) -> QueryService:
    return QueryService(store, ENDPOINT, Limits(**limits), isolate=True)


def values(body: bytes, media_type: str, variable: str) -> set[str]:
    formats = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
               "application/sparql-results+xml": ox.QueryResultsFormat.XML,
               "text/tab-separated-values": ox.QueryResultsFormat.TSV}
    if media_type.startswith("text/csv"):
        return {row[variable] for row in csv.DictReader(io.StringIO(body.decode()))}
    solutions = ox.parse_query_results(body, formats[media_type.split(";")[0]])
    return {solution[variable].value for solution in solutions if solution[variable] is not None}


def run_values(svc: QueryService, sparql: str, variable: str, dataset: Dataset | None = None) -> set[str]:
    answer = svc.run(sparql, dataset)
    return values(answer.body, answer.media_type, variable)


# ------------------------------------------------------------------- dataset

def test_default_graph_is_the_union_of_all_graphs(store):
    assert run_values(service(store), PROPOSALS, "s") == {EX + "p1", EX + "p2"}


def test_every_named_graph_is_available_to_graph(store):
    sparql = f"SELECT ?g WHERE {{ GRAPH ?g {{ ?s a <{EX}Proposal> }} }}"
    assert run_values(service(store), sparql, "g") == {ONE, TWO}


def test_default_graph_uri_restricts_the_default_graph_and_leaves_no_named_graph(store):
    dataset = Dataset(default_graphs=(ONE,))
    assert run_values(service(store), PROPOSALS, "s", dataset) == {EX + "p1"}
    assert run_values(service(store), "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "g", dataset) == set()


def test_named_graph_uri_alone_gives_an_empty_default_graph(store):
    dataset = Dataset(named_graphs=(TWO,))
    assert run_values(service(store), PROPOSALS, "s", dataset) == set()
    assert run_values(service(store), "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "g", dataset) == {TWO}


def test_from_in_the_query_replaces_the_union(store):
    sparql = f"SELECT ?s FROM <{TWO}> WHERE {{ ?s a <{EX}Proposal> }}"
    assert run_values(service(store), sparql, "s") == {EX + "p2"}


def test_from_named_with_graph(store):
    sparql = f"SELECT ?g ?s FROM NAMED <{ONE}> WHERE {{ GRAPH ?g {{ ?s a <{EX}Proposal> }} }}"
    assert run_values(service(store), sparql, "g") == {ONE}
    only_named = f"SELECT ?s FROM NAMED <{ONE}> WHERE {{ ?s ?p ?o }}"
    assert run_values(service(store), only_named, "s") == set()


def test_the_protocol_dataset_wins_over_from(store):
    sparql = f"SELECT ?s FROM <{TWO}> WHERE {{ ?s a <{EX}Proposal> }}"
    assert run_values(service(store), sparql, "s", Dataset(default_graphs=(ONE,))) == {EX + "p1"}


def test_a_graph_name_that_is_not_an_iri_is_refused(store):
    with pytest.raises(InvalidRequest, match="not an absolute IRI"):
        service(store).run("ASK {}", Dataset(default_graphs=("graph one",)))


def test_relative_iris_resolve_against_the_endpoint(store):
    answer = service(store).run("CONSTRUCT { <s> <p> 1 } WHERE {}", accept=[("application/n-triples", 1.0)])
    assert answer.body.decode().startswith("<http://node.example/s> <http://node.example/p> ")


# ------------------------------------------------------------------- formats

SELECT_TYPES = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"]


@pytest.mark.parametrize("media_type", SELECT_TYPES)
def test_select_in_each_result_format(store, media_type):
    answer = service(store).run(PROPOSALS, accept=[(media_type, 1.0)])
    assert answer.media_type.split(";")[0] == media_type
    assert values(answer.body, answer.media_type, "s") == {EX + "p1", EX + "p2"}


@pytest.mark.parametrize("media_type", ["application/sparql-results+json", "application/sparql-results+xml"])
def test_ask_in_each_boolean_format(store, media_type):
    formats = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
               "application/sparql-results+xml": ox.QueryResultsFormat.XML}
    answer = service(store).run(f"ASK {{ <{EX}p1> ?p ?o }}", accept=[(media_type, 1.0)])
    assert answer.media_type == media_type
    assert bool(ox.parse_query_results(answer.body, formats[media_type])) is True


@pytest.mark.parametrize(("media_type", "rdf_format"), [
    ("text/turtle", ox.RdfFormat.TURTLE), ("application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/n-triples", ox.RdfFormat.N_TRIPLES), ("application/rdf+xml", ox.RdfFormat.RDF_XML)])
def test_construct_in_each_rdf_format(store, media_type, rdf_format):
    sparql = f"CONSTRUCT {{ ?s <{EX}label> ?t }} WHERE {{ ?s <http://purl.org/dc/terms/title> ?t }}"
    answer = service(store).run(sparql, accept=[(media_type, 1.0)])
    assert answer.media_type == media_type
    triples = {(t.subject.value, t.object.value) for t in ox.parse(answer.body, format=rdf_format)}
    assert triples == {(EX + "p1", "Pistes cyclables"), (EX + "p2", "Bike lanes")}


def test_defaults_are_json_for_solutions_and_turtle_for_graphs(store):
    assert service(store).run(PROPOSALS).media_type == "application/sparql-results+json"
    assert service(store).run(f"DESCRIBE <{EX}p1>").media_type == "text/turtle"


def test_qualities_and_wildcards_choose_the_format(store):
    svc = service(store)
    preferred = [("text/csv", 0.5), ("application/sparql-results+xml", 0.9)]
    assert svc.run(PROPOSALS, accept=preferred).media_type == "application/sparql-results+xml"
    assert svc.run(PROPOSALS, accept=[("text/*", 1.0)]).media_type.startswith("text/csv")
    assert svc.run(f"DESCRIBE <{EX}p1>", accept=[("text/*", 1.0)]).media_type == "text/turtle"
    refused_json = [("application/sparql-results+json", 0.0), ("*/*", 1.0)]
    assert svc.run(PROPOSALS, accept=refused_json).media_type == "application/sparql-results+xml"


def test_nothing_acceptable_is_406(store):
    with pytest.raises(NotAcceptable):
        service(store).run(PROPOSALS, accept=[("image/png", 1.0)])
    with pytest.raises(NotAcceptable, match="offered for this query"):
        service(store).run("ASK {}", accept=[("text/csv", 1.0)])  # a boolean has no CSV form


def test_tsv_round_trip_keeps_every_term_as_it_is(store):
    """Solutions reach other formats through TSV: blank nodes, languages, datatypes, escapes and unbound survive."""
    sparql = f"SELECT ?s ?p ?o ?none WHERE {{ ?s ?p ?o OPTIONAL {{ ?s <{EX}nothing> ?none }} }} ORDER BY ?s ?p ?o"
    direct = store.query(sparql).serialize(format=ox.QueryResultsFormat.JSON)
    assert service(store).run(sparql).body == direct


# ------------------------------------------------------------------- errors

def test_a_malformed_query_carries_pyoxigraph_message(store):
    with pytest.raises(MalformedQuery, match="error at 1:6"):
        service(store).run("ASK {")


def test_an_update_is_not_a_query_and_changes_nothing(store):
    with pytest.raises(MalformedQuery):
        service(store).run(f"INSERT DATA {{ <{EX}x> <{EX}y> <{EX}z> }}")
    assert run_values(service(store), f"SELECT ?s WHERE {{ <{EX}x> ?p ?s }}", "s") == set()


@pytest.mark.parametrize("sparql", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { S\\u0045RVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
])
def test_service_is_refused(store, sparql):
    with pytest.raises(QueryRefused, match="SERVICE"):
        service(store).run(sparql)


@pytest.mark.parametrize(("sparql", "found"), [
    ("SELECT * FROM <g> { ?s ?p ?o }", True),
    ("select * from named <g> { ?s ?p ?o }", True),
    ("SELECT ?from { ?from ?p ?o }", False),
    ("PREFIX from: <x:> PREFIX ex: <y:> SELECT * { from:a ex:from ?o }", False),
    ("SELECT * { ?s ?p 'FROM' } # FROM <g>", False),
    ("SELECT * { ?s ?p <http://ex/FROM> . ?s ?p \"\"\"a\nFROM\"\"\" . ?s ?p 'x'@from }", False),
])
def test_dataset_clauses_are_found_only_as_keywords(sparql, found):
    assert check_query(sparql).has_dataset_clause is found


# ------------------------------------------------------------------- limits

def test_an_explosive_query_is_stopped_at_its_time_limit_and_leaves_no_process(big_store, monkeypatch):
    children = _record_forks(monkeypatch)
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="1 s limit"):
        service(big_store, timeout_s=1).run(
            "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }")
    assert time.monotonic() - started < 3
    assert len(children) == 1
    _assert_reaped(children)


def test_a_finished_query_leaves_no_process(store, monkeypatch):
    children = _record_forks(monkeypatch)
    service(store).run(PROPOSALS)
    with pytest.raises(MalformedQuery):
        service(store).run("SELECT")
    assert len(children) == 2
    _assert_reaped(children)


class GatedStore:
    """A store whose queries first pass a lock, as RocksDB's reads take its mutex."""

    def __init__(self, store: OxigraphStore, gate: threading.Lock) -> None:
        self.store, self.gate = store, gate

    evaluates_elsewhere = False

    def bounded(self, timeout_s: float, max_bytes: int) -> GatedStore:
        return self

    def query(self, sparql: str, **options):
        with self.gate:
            return self.store.query(sparql, **options)


def test_a_child_born_with_a_held_lock_is_forked_again(store, monkeypatch):
    """A thread of the server holds the lock when the first child is forked: that child would wait forever."""
    children = _record_forks(monkeypatch)
    gate = threading.Lock()
    gate.acquire()
    threading.Timer(0.3, gate.release).start()
    started = time.monotonic()
    answer = QueryService(GatedStore(store, gate), ENDPOINT, Limits(timeout_s=5), isolate=True).run(PROPOSALS)
    assert values(answer.body, answer.media_type, "s") == {EX + "p1", EX + "p2"}
    assert 0.3 <= time.monotonic() - started < 1.5
    assert len(children) >= 2
    _assert_reaped(children)


def test_over_the_result_limit_is_an_error_naming_it(big_store):
    select_all = "SELECT ?s WHERE { ?s ?p ?o }"
    with pytest.raises(ResultTooLarge, match="more than 2999 results"):
        service(big_store, max_results=2999).run(select_all)
    answer = service(big_store, max_results=3000).run(select_all, accept=[("text/tab-separated-values", 1.0)])
    assert answer.body.count(b"\n") == 3001  # the header and every solution: nothing cut
    with pytest.raises(ResultTooLarge, match="more than 10 results"):
        service(big_store, max_results=10).run("CONSTRUCT WHERE { ?s ?p ?o }")


def test_over_the_byte_limit_is_an_error_naming_it(store):
    with pytest.raises(ResultTooLarge, match="larger than 100 bytes"):
        service(store, max_bytes=100).run("SELECT * WHERE { ?s ?p ?o }")
    with pytest.raises(ResultTooLarge, match="larger than 100 bytes"):
        service(store, max_bytes=100).run("CONSTRUCT WHERE { ?s ?p ?o }")


def test_without_fork_a_thread_answers_within_the_same_deadline(store, big_store):
    in_thread = QueryService(store, ENDPOINT, Limits(timeout_s=0.2), isolate=False)
    assert values(in_thread.run(PROPOSALS).body, "application/sparql-results+json", "s") == {EX + "p1", EX + "p2"}
    slow = QueryService(big_store, ENDPOINT, Limits(timeout_s=0.2), isolate=False)
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        slow.run("SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d }")  # about 9 million rows
    assert time.monotonic() - started < 1


def _record_forks(monkeypatch) -> list[int]:
    children: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return children


def _assert_reaped(children: list[int]) -> None:
    """waitpid fails on a pid that is not an unreaped child: neither running nor a zombie."""
    for pid in children:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


# ------------------------------------------------------------------- service description

SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.mark.parametrize(("media_type", "rdf_format"), [
    ("text/turtle", ox.RdfFormat.TURTLE), ("application/ld+json", ox.RdfFormat.JSON_LD)])
def test_service_description(store, media_type, rdf_format):
    answer = service(store, timeout_s=7).describe([(media_type, 1.0)])
    assert answer.media_type == media_type
    triples = list(ox.parse(answer.body, format=rdf_format))

    def objects(subject, predicate: str) -> list:
        return [t.object for t in triples if t.subject == subject and t.predicate.value == predicate]

    def values_of(predicate: str) -> set[str]:
        return {term.value for term in objects(ox.NamedNode(ENDPOINT), SD + predicate)}

    assert values_of("endpoint") == {ENDPOINT}
    assert {term.value for term in objects(ox.NamedNode(ENDPOINT), A.value)} == {SD + "Service"}
    assert values_of("supportedLanguage") == {SD + "SPARQL11Query"}
    assert values_of("feature") == {SD + "UnionDefaultGraph"}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in values_of("resultFormat")
    (dataset,) = objects(ox.NamedNode(ENDPOINT), SD + "defaultDataset")
    assert objects(dataset, SD + "defaultGraph")


def test_a_query_that_runs_out_of_memory_is_named(big_store):
    with pytest.raises(QueryOutOfMemory, match="more memory than a query may take"):
        service(big_store, memory_mb=16, timeout_s=30).run(
            "SELECT * WHERE { ?a ?p ?b . ?c ?q ?d } ORDER BY ?a ?c")
