"""The SPARQL dialects of the sparql store backend: how Virtuoso's requests differ from Oxigraph's, what its answers
need before pyoxigraph reads them, and a dialect the configuration misspells."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pyoxigraph as ox
import pytest

from dds_pod.errors import ConfigError
from dds_pod.federation.harvester import BATCH, Harvester
from dds_pod.federation.merged import MergedGraph, MergedGraphs
from dds_pod.store import Change, StoreContext, read_settings
from dds_pod.store.dialects import FORM, N_TRIPLES, SPARQL_JSON, dialect
from dds_pod.store.oxigraph import OxigraphStore, update_request
from dds_pod.store.sparql import SparqlStore

OXIGRAPH, VIRTUOSO = dialect("oxigraph"), dialect("virtuoso")
G = "http://example.org/g"
S, P = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")
TABLE = {"backend": "sparql", "query_url": "http://127.0.0.1:1/q", "update_url": "http://127.0.0.1:1/u",
         "federation": {"query_url": "http://127.0.0.1:2/q", "update_url": "http://127.0.0.1:2/u"}}


def test_oxigraph_is_sent_the_query_as_its_body_and_virtuoso_as_a_form_with_the_dataset():
    direct = OXIGRAPH.query_request("ASK {}", {"default-graph-uri": [G]})
    assert (direct.media_type, direct.body, direct.parameters) == ("application/sparql-query", "ASK {}",
                                                                   {"default-graph-uri": [G]})
    form = VIRTUOSO.query_request("ASK { ?s ?p 'é&=' }", {"default-graph-uri": [G, G + "2"]})
    assert form.media_type == FORM and form.parameters == {}
    assert parse_qs(form.body) == {"query": ["ASK { ?s ?p 'é&=' }"], "default-graph-uri": [G, G + "2"]}


@pytest.mark.parametrize(("query", "accept"), [
    ("CONSTRUCT WHERE { ?s ?p ?o }", N_TRIPLES),
    ("PREFIX ex: <http://example.org/>\n# a comment\nBASE <http://example.org/> describe ex:s", N_TRIPLES),
    ("PREFIX construct: <http://example.org/> SELECT * WHERE { ?s construct:p ?o }", SPARQL_JSON),
    ("ASK {}", SPARQL_JSON),
])
def test_virtuoso_is_asked_for_the_format_of_the_query_form_only(query, accept):
    assert VIRTUOSO.query_request(query, {}).accept == accept
    assert SPARQL_JSON in OXIGRAPH.query_request(query, {}).accept  # Oxigraph chooses by the form itself


def test_virtuoso_blank_node_labels_are_read_as_labels():
    body = (b'{ "head": { "vars": ["s"] }, "results": { "bindings": [ { "s": { "type": "bnode", '
            b'"value": "nodeID://b10003" } } ] } }')
    with pytest.raises(SyntaxError):
        list(ox.parse_query_results(body, ox.QueryResultsFormat.JSON))
    solutions = list(ox.parse_query_results(VIRTUOSO.fix_results(body), ox.QueryResultsFormat.JSON))
    assert solutions[0]["s"] == ox.BlankNode("b10003")


def test_blank_nodes_go_in_an_insert_template_where_insert_data_refuses_them():
    with_blank, without = Change(), Change()
    with_blank.add_graph(G, [ox.Triple(S, P, ox.BlankNode("b"))])
    without.add_graph(G, [ox.Triple(S, P, ox.Literal("x"))])
    assert update_request(with_blank).startswith("INSERT DATA {")
    assert update_request(with_blank, blank_nodes_in_data=False).endswith("} WHERE {}")
    assert update_request(without, blank_nodes_in_data=False).startswith("INSERT DATA {")
    store = ox.Store()  # the template inserts what INSERT DATA would
    store.update(update_request(with_blank, blank_nodes_in_data=False))
    assert len(list(store.quads_for_pattern(S, P, None, ox.NamedNode(G)))) == 1


def test_the_dialect_option_chooses_the_union_parameter_and_refuses_an_unknown_name():
    context = StoreContext(data_dir=None, relative_to=Path("."))
    assert read_settings({**TABLE, "dialect": "virtuoso"}, context).options["dialect"] is VIRTUOSO
    assert read_settings(TABLE, context).options["dialect"] is OXIGRAPH
    with pytest.raises(ConfigError) as refused:
        read_settings({**TABLE, "dialect": "fuseki"}, context)
    assert refused.value.field == "store.dialect" and "virtuoso" in refused.value.message


def test_the_harvesters_batch_is_no_larger_than_the_engine_takes_in_one_update():
    virtuoso = SparqlStore("http://127.0.0.1:9/sparql", "http://127.0.0.1:9/sparql", sparql_dialect=dialect("virtuoso"))
    oxigraph = SparqlStore("http://127.0.0.1:9/query", "http://127.0.0.1:9/update")
    assert virtuoso.resources_per_update == 20 and oxigraph.resources_per_update is None
    for store, expected in ((virtuoso, 20), (oxigraph, BATCH), (OxigraphStore(), BATCH)):
        harvester = Harvester(MergedGraph(store, MergedGraphs("http://node.example/")), None, {})  # type: ignore[arg-type]
        assert harvester.batch_size == expected
