"""No SPARQL request makes the node call another server: every spelling of SERVICE and LOAD, against a canary.

The canary is an HTTP server on loopback that counts every request it receives; a real node is asked,
through ``/sparql`` and through PATCH, to call it in every way SPARQL allows to name a service. Each
request must be refused with a problem naming why, and the canary must have received nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from dds_pod.testing import TOKENS, Loopback, QuietHandler, ServerProcess, free_port, write_config

PATTERN = "{ ?s ?p ?o }"


class Canary:
    """A loopback HTTP server that answers any request with an empty SPARQL result and counts it."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        canary = self

        class Handler(QuietHandler):
            def _answer(self) -> None:
                with canary._lock:
                    canary.count += 1
                body = b'{"head": {"vars": []}, "results": {"bindings": [{}]}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self.handler: type[BaseHTTPRequestHandler] = Handler
        self.server = Loopback(Handler)
        self.url = self.server.url


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    canary = Canary()
    yield canary
    canary.server.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("sparql-network")
    port = free_port()
    yield (server := ServerProcess(write_config(directory, port), port, directory / "server.log").start())
    server.stop()


def service_queries(url: str) -> dict[str, str]:
    """Every way found to make a query name the canary as a service."""
    host_port = url.removeprefix("http://").rstrip("/")
    escaped = "".join(f"\\u{ord(c):04X}" for c in url)
    return {
        "plain": f"SELECT * WHERE {{ SERVICE <{url}> {PATTERN} }}",
        "prefixed name": f"PREFIX c: <{url}> SELECT * WHERE {{ SERVICE c:sparql {PATTERN} }}",
        "lower case": f"select * where {{ service <{url}> {PATTERN} }}",
        "mixed case": f"SeLeCt * WhErE {{ sErViCe <{url}> {PATTERN} }}",
        "comments between tokens": f"SELECT * WHERE {{ #x\nSERVICE#y\n<{url}>#z\n{PATTERN} }}",
        "escaped keyword": f"SELECT * WHERE {{ S\\u0045RVIC\\u0045 <{url}> {PATTERN} }}",
        "escaped IRI": f"SELECT * WHERE {{ SERVICE <{escaped}> {PATTERN} }}",
        "escaped colon": f"SELECT * WHERE {{ SERVICE <http\\u003A//{host_port}/> {PATTERN} }}",
        "silent": f"SELECT * WHERE {{ SERVICE SILENT <{url}> {PATTERN} }}",
        "nested groups": f"SELECT * WHERE {{ {{ {{ {{ SERVICE <{url}> {PATTERN} }} }} }} }}",
        "sub-query": f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {PATTERN} }} }} }}",
        "optional": f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE <{url}> {PATTERN} }} }}",
        "union": f"SELECT * WHERE {{ {{ ?a ?b ?c }} UNION {{ SERVICE <{url}> {PATTERN} }} }}",
        "minus": f"SELECT * WHERE {{ ?a ?b ?c MINUS {{ SERVICE <{url}> {PATTERN} }} }}",
        "exists": f"SELECT * WHERE {{ BIND(1 AS ?x) FILTER EXISTS {{ SERVICE <{url}> {PATTERN} }} }}",
        "not exists": f"SELECT * WHERE {{ BIND(1 AS ?x) FILTER NOT EXISTS {{ SERVICE <{url}> {PATTERN} }} }}",
        "exists in a projection": f"SELECT (EXISTS {{ SERVICE <{url}> {PATTERN} }} AS ?e) WHERE {{}}",
        "graph": f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{url}> {PATTERN} }} }}",
        "whitespace and newlines": f"SELECT*WHERE{{\n\tSERVICE\r\n\t<{url}>\n\n{PATTERN}}}",
        "no whitespace at all": f"SELECT*{{SERVICE<{url}>{{?s?p?o}}}}",
        "glued to a dot": f"SELECT * WHERE {{ ?a ?b ?c .SERVICE <{url}> {PATTERN} }}",
        "glued to a language tag": f"SELECT * WHERE {{ ?a ?b 'x'@en.SERVICE <{url}> {PATTERN} }}",
        "variable with values": f"SELECT * WHERE {{ VALUES ?service {{ <{url}> }} SERVICE ?service {PATTERN} }}",
        "variable bound later": f"SELECT * WHERE {{ SERVICE ?service {PATTERN} }} VALUES ?service {{ <{url}> }}",
        "base-relative IRI": f"BASE <{url}> SELECT * WHERE {{ SERVICE <sparql> {PATTERN} }}",
        "ask": f"ASK {{ SERVICE <{url}> {PATTERN} }}",
        "construct": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {PATTERN} }}",
        "describe": f"DESCRIBE ?s WHERE {{ SERVICE <{url}> {PATTERN} }}",
        # A string whose escapes, read before parsing, would close it around a SERVICE clause.
        "escaped quotes": f'SELECT * WHERE {{ ?s ?p "\\u0022 . SERVICE <{url}> {PATTERN} ?s ?p \\u0022" }}',
    }


def update_patches(url: str) -> dict[str, str]:
    """Every way found to make a PATCH's update fetch from, or call, the canary."""
    return {
        "load": f"LOAD <{url}data.ttl>",
        "load silent into a graph": f"load silent <{url}data.ttl> into graph <{url}g>",
        "load after an insert": f"INSERT DATA {{ <> <http://purl.org/dc/terms/subject> 'x' }} ;\nLOAD <{url}>",
        "escaped load": f"\\u004C\\u004FAD <{url}>",
        "load with a comment": f"LOAD#x\n<{url}>",
        "prefixed load": f"PREFIX c: <{url}> LOAD c:data",
        "base-relative load": f"BASE <{url}> LOAD <data.ttl>",
        "service in where": (f"INSERT {{ <> <http://purl.org/dc/terms/subject> ?o }} WHERE {{ SERVICE <{url}> "
                             f"{PATTERN} }}"),
        "service in exists": (f"DELETE {{ <> ?p ?o }} WHERE {{ <> ?p ?o FILTER EXISTS {{ SERVICE SILENT <{url}> "
                              f"{PATTERN} }} }}"),
        "service in a sub-query": (f"INSERT {{ <> <http://purl.org/dc/terms/subject> ?o }} WHERE {{ {{ SELECT ?o "
                                   f"WHERE {{ SERVICE <{url}> {PATTERN} }} }} }}"),
        "variable service": (f"INSERT {{ <> <http://purl.org/dc/terms/subject> ?o }} WHERE {{ VALUES ?v {{ <{url}> }} "
                             f"SERVICE ?v {PATTERN} }}"),
        # A string whose escapes, read before parsing, would close it around a LOAD.
        "escaped quotes": (f'INSERT DATA {{ <> <http://purl.org/dc/terms/subject> "\\u0022 }} ; LOAD <{url}> ; '
                           f'INSERT DATA {{ <> <http://purl.org/dc/terms/subject> \\u0022" }}'),
    }


QUERY_CASES = list(service_queries("http://127.0.0.1:1/"))
PATCH_CASES = list(update_patches("http://127.0.0.1:1/"))


@pytest.mark.parametrize("case", QUERY_CASES)
@pytest.mark.parametrize("way", ["get", "form", "direct"])
def test_no_spelling_of_service_reaches_the_canary(node, canary, case, way):
    sparql = service_queries(canary.url)[case]
    endpoint = f"{node.url}sparql"
    response = {
        "get": lambda: requests.get(endpoint, params={"query": sparql}, timeout=30),
        "form": lambda: requests.post(endpoint, data={"query": sparql}, timeout=30),
        "direct": lambda: requests.post(endpoint, data=sparql.encode(),
                                        headers={"Content-Type": "application/sparql-query"}, timeout=30),
    }[way]()
    assert response.status_code == 403, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Query refused"
    assert "SERVICE" in response.json()["detail"]
    assert canary.count == 0
    assert requests.get(endpoint, params={"query": "ASK {}"}, timeout=10).status_code == 200  # still serving


@pytest.mark.parametrize("way", ["form", "direct"])
def test_load_through_the_query_endpoint_is_refused(node, canary, way):
    load = f"LOAD <{canary.url}data.ttl>"
    endpoint = f"{node.url}sparql"
    response = {
        "form": lambda: requests.post(endpoint, data={"update": load}, timeout=30),
        "direct": lambda: requests.post(endpoint, data=load.encode(),
                                        headers={"Content-Type": "application/sparql-update"}, timeout=30),
    }[way]()
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    as_query = requests.get(endpoint, params={"query": load}, timeout=30)
    assert as_query.status_code == 400
    assert as_query.json()["title"] == "Malformed query"
    assert canary.count == 0


@pytest.fixture(scope="module")
def resource(node) -> str:
    document = {"@context": "https://w3id.org/dds/context.jsonld", "type": "Proposal",
                "title": {"fr": "Bancs publics"}, "published": "2024-05-01T10:00:00Z"}
    response = requests.post(f"{node.url}bordeaux/proposals/", json=document, timeout=30,
                             headers={**AUTH, "Content-Type": "application/ld+json"})
    assert response.status_code == 201, response.text
    return response.headers["Location"]


AUTH = {"Authorization": f"Bearer {TOKENS['bordeaux']}"}


@pytest.mark.parametrize("case", PATCH_CASES)
def test_no_patch_reaches_the_canary_and_the_resource_is_unchanged(node, canary, resource, case):
    before = requests.get(resource, headers={"Accept": "application/n-triples"}, timeout=10)
    response = requests.patch(resource, data=update_patches(canary.url)[case].encode(), timeout=30,
                              headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert "is not allowed in a PATCH" in detail or detail.startswith("invalid SPARQL Update")
    assert canary.count == 0
    after = requests.get(resource, headers={"Accept": "application/n-triples"}, timeout=10)
    assert after.status_code == 200 and after.headers["ETag"] == before.headers["ETag"]


def test_the_refusal_names_the_operation(node, canary, resource):
    response = requests.patch(resource, data=update_patches(canary.url)["load"].encode(), timeout=30,
                              headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.json()["detail"].startswith("LOAD is not allowed in a PATCH")
    response = requests.patch(resource, data=update_patches(canary.url)["service in exists"].encode(), timeout=30,
                              headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.json()["detail"].startswith("SERVICE is not allowed in a PATCH")
    assert canary.count == 0


def test_honest_queries_and_patches_still_work(node, canary, resource):
    answer = requests.get(f"{node.url}sparql", timeout=30, params={
        "query": "SELECT ?x WHERE { BIND('SERVICE <http://127.0.0.1:1/>' AS ?x) } # SERVICE <http://127.0.0.1:1/>\n"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"]["bindings"] == [{"x": {"type": "literal", "value": "SERVICE <http://127.0.0.1:1/>"}}]
    patch = ("PREFIX dct: <http://purl.org/dc/terms/> DELETE { <> dct:title ?t } "
             "INSERT { <> dct:title \"Bancs (SERVICE, LOAD)\"@fr } WHERE { <> dct:title ?t }")
    response = requests.patch(resource, data=patch.encode(), timeout=30,
                              headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.status_code in (200, 204), response.text
    assert "Bancs (SERVICE, LOAD)" in requests.get(resource, headers={"Accept": "text/turtle"}, timeout=10).text
    assert canary.count == 0
