"""The W3C SPARQL 1.1 Protocol tests (protocol/manifest.ttl) against a real server.

Each test is read from the manifest as it stands: its HTTP requests (path, method, headers, body
in its declared encoding) and the response each expects (status class, result format, boolean).
The data the tests name (``ut:graphData``) is loaded into the merged store's named graphs before
the server starts. The ``update_*`` tests need a SPARQL Update service; this endpoint is read-only,
so they are reported as skipped. The ``bad_update_*`` tests expect a 4xx, which a read-only
endpoint gives every update, so they run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from rdflib import RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection

from dds_pod.testing import ServerProcess

from ..conftest import DATA
from .test_sparql import start_with_merged_graph

PROTOCOL = DATA / "w3c" / "sparql11" / "protocol"
MANIFEST = PROTOCOL / "manifest.ttl"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"
RESULTS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
           "application/sparql-results+xml": ox.QueryResultsFormat.XML,
           "text/tab-separated-values": ox.QueryResultsFormat.TSV}
TABULAR = {*RESULTS, "text/csv"}
RDF = {"application/rdf+xml": ox.RdfFormat.RDF_XML, "text/turtle": ox.RdfFormat.TURTLE,
       "application/n-triples": ox.RdfFormat.N_TRIPLES}


@dataclass(frozen=True)
class Exchange:
    """One ht:Request of a test and the ht:Response it expects."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[int]  # acceptable status classes: 2 for 2xx, ...
    result_format: str | None  # "boolean", "tabular" or "RDF"
    boolean: bool | None


@dataclass(frozen=True)
class ProtocolTest:
    name: str
    title: str
    graphs: tuple[tuple[str, Path], ...]  # (graph IRI, data file)
    exchanges: tuple[Exchange, ...]


def read_manifest() -> list[ProtocolTest]:
    graph = Graph().parse(MANIFEST, format="turtle")
    (manifest,) = graph.subjects(MF.entries, None)
    entries = Collection(graph, graph.value(manifest, MF.entries))
    return [_test(graph, entry) for entry in entries]


def _test(graph: Graph, entry: URIRef) -> ProtocolTest:
    graphs = tuple((str(graph.value(data, RDFS.label)), Path(str(graph.value(data, UT.graph)).removeprefix("file://")))
                   for data in graph.objects(entry, UT.graphData))
    requests_list = Collection(graph, graph.value(graph.value(entry, MF.action), HT.requests))
    return ProtocolTest(name=str(entry).rsplit("#", 1)[1], title=str(graph.value(entry, MF.name)),
                        graphs=graphs, exchanges=tuple(_exchange(graph, node) for node in requests_list))


def _exchange(graph: Graph, node) -> Exchange:
    headers_list = graph.value(node, HT.headers)
    headers = {str(graph.value(h, HT.fieldName)): str(graph.value(h, HT.fieldValue))
               for h in (Collection(graph, headers_list) if headers_list else [])}
    body_node = graph.value(node, HT.body)
    body = None
    if body_node is not None:
        body = str(graph.value(body_node, CNT.chars)).encode(str(graph.value(body_node, CNT.characterEncoding)))
    response = graph.value(node, HT.resp)
    expected_boolean = graph.value(response, MF.expectedBoolean)
    expected_format = graph.value(response, MF.expectedFormat)
    return Exchange(
        method=str(graph.value(node, HT.methodName)), path=str(graph.value(node, HT.absolutePath)),
        headers=headers, body=body,
        statuses=frozenset(int(str(s).removeprefix(HTS)[0]) for s in graph.objects(response, MF.expectedStatus)),
        result_format=str(expected_format) if expected_format is not None else None,
        boolean=expected_boolean.toPython() if expected_boolean is not None else None,
    )


TESTS = read_manifest()


def _param(test: ProtocolTest):
    marks = [pytest.mark.skip(reason="read-only endpoint")] if test.name.startswith("update_") else []
    return pytest.param(test, id=test.name, marks=marks)


def test_the_manifest_has_its_34_tests():
    assert len(TESTS) == 34
    assert sum(not t.name.startswith("update_") for t in TESTS) == 27


@pytest.fixture(scope="module")
def w3c_node(tmp_path_factory) -> Iterator[ServerProcess]:
    """A node whose merged store holds every graph the tests name, under the IRIs they give."""
    files = {iri: path for test in TESTS for iri, path in test.graphs}
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(iri))
             for iri, path in files.items() for t in ox.parse(path=path, format=ox.RdfFormat.N_TRIPLES)]
    server = start_with_merged_graph(tmp_path_factory.mktemp("w3c"), quads)
    yield server
    server.stop()


@pytest.mark.parametrize("test", [_param(test) for test in TESTS])
def test_w3c_protocol(w3c_node, test: ProtocolTest):
    for exchange in test.exchanges:
        # "A program using this manifest data must replace /sparql/ with the endpoint's path prefix."
        url = w3c_node.url + exchange.path.removeprefix("/").replace("sparql/", "sparql", 1)
        response = requests.request(exchange.method, url, headers=exchange.headers, data=exchange.body, timeout=30)
        assert response.status_code // 100 in exchange.statuses, f"{test.title}: {response.status_code} {response.text}"
        _check_format(response, exchange)


def _check_format(response: requests.Response, exchange: Exchange) -> None:
    media_type = response.headers.get("Content-Type", "").split(";")[0]
    if exchange.result_format == "boolean":
        result = ox.parse_query_results(response.content, RESULTS[media_type])
        assert isinstance(result, ox.QueryBoolean)
        if exchange.boolean is not None:
            assert bool(result) is exchange.boolean
    elif exchange.result_format == "tabular":
        assert media_type in TABULAR
        if media_type in RESULTS:
            assert isinstance(ox.parse_query_results(response.content, RESULTS[media_type]), ox.QuerySolutions)
    elif exchange.result_format == "RDF":
        assert media_type in RDF
        list(ox.parse(response.content, format=RDF[media_type]))
