"""Where pyoxigraph's types allow more than a pod stores: triple terms (RDF 1.2) in statements, answers of
other query forms than SELECT, and ETag conditions that are either versions or ``"*"``."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from dds_pod import jsonld, rdfio
from dds_pod.conformance import compile_shapes
from dds_pod.errors import PreconditionFailed
from dds_pod.ldp.resources import Preconditions
from dds_pod.standard import shapes_graph
from dds_pod.store import Change
from dds_pod.store.oxigraph import OxigraphStore
from dds_pod.terms import XSD_INTEGER, date_time, utc_now, value_of
from dds_pod.validation import MAX_BLANK_DEPTH, default_validator

from .conftest import EXAMPLES

BASE = "https://pod.example/bordeaux/proposals/doc"
SUBJECT, PREDICATE, OBJECT = (ox.NamedNode(f"https://a.example/{name}") for name in ("s", "p", "o"))


def test_value_of_reads_iris_blank_nodes_and_literals():
    assert value_of(SUBJECT) == "https://a.example/s"
    assert value_of(ox.BlankNode("b1")) == "b1"
    assert value_of(ox.Literal("2", datatype=XSD_INTEGER)) == "2"


def test_value_of_refuses_a_triple_term():
    with pytest.raises(ValueError, match="triple term"):
        value_of(ox.Triple(SUBJECT, PREDICATE, OBJECT))


def test_the_screen_leaves_a_document_with_a_triple_term_to_the_reference():
    validator = default_validator()
    screen = compile_shapes(shapes_graph(), (str(t) for t in validator.known_terms), MAX_BLANK_DEPTH)
    document = json.loads((EXAMPLES / "valid" / "proposal-community-garden.jsonld").read_text(encoding="utf-8"))
    triples = rdfio.to_oxigraph(jsonld.to_graph(document, base=BASE))
    triples = validator.fill_server_managed(triples, "https://participation.example", date_time(utc_now()))
    assert not screen.may_violate(triples)
    # A property no shape constrains: only the term itself makes the screen hand the document on.
    see_also = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#seeAlso")
    assert not screen.may_violate([*triples, ox.Triple(SUBJECT, see_also, OBJECT)])
    assert screen.may_violate([*triples, ox.Triple(SUBJECT, see_also, ox.Triple(SUBJECT, PREDICATE, OBJECT))])


def test_select_gives_rows_and_refuses_other_query_forms():
    store = OxigraphStore()
    change = Change()
    change.add_graph("https://a.example/g", [ox.Triple(SUBJECT, PREDICATE, OBJECT)])
    store.commit(change)
    assert [row["o"].value for row in store.select("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }")] == [OBJECT.value]
    for query in ("ASK { ?s ?p ?o }", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"):
        with pytest.raises(TypeError, match="not a SELECT query"):
            store.select(query)


@pytest.mark.parametrize(("conditions", "current", "holds"), [
    (Preconditions(if_match="*"), "v1", True),
    (Preconditions(if_match="*"), None, False),
    (Preconditions(if_match=("v1+r9",)), "v1", True),  # reactions are not part of the resource's state
    (Preconditions(if_match=("v1",)), "v2", False),
    (Preconditions(if_none_match="*"), None, True),
    (Preconditions(if_none_match="*"), "v1", False),
    (Preconditions(if_none_match=("v1",)), "v1", False),
    (Preconditions(if_none_match=("v1",)), "v2", True),
    (Preconditions(), None, True),
])
def test_etag_conditions_are_versions_or_any(conditions, current, holds):
    if holds:
        conditions.check(current)
    else:
        with pytest.raises(PreconditionFailed):
            conditions.check(current)
