"""Every bad request gets a clear error; the server stays up and the stored data is unchanged."""

from __future__ import annotations

import http.client
import json
from typing import ClassVar
from urllib.parse import urlparse

import pytest
import requests

from dds_pod.testing import Loopback, QuietHandler

from ..conftest import run_cli
from .conftest import JSONLD, auth, example, post


@pytest.fixture
def snapshot(base):
    """The pod's proposals container and one proposal, before and after a bad request."""
    location = post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo"), slug="witness").headers[
        "Location"]

    def read() -> tuple:
        container = requests.get(f"{base}bordeaux/proposals/?limit=10000", headers={"Accept": "text/turtle"},
                                 timeout=5)
        resource = requests.get(location, timeout=5)
        return container.headers["ETag"], resource.headers["ETag"], resource.text

    before = read()
    yield location
    assert read() == before, "a refused request changed the stored data"


def _raw(base: str, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """Send a request without any client-side URL normalisation (requests would resolve '../')."""
    parsed = urlparse(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type"), data


def _problem(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_invalid_json_is_400_with_position(base, snapshot):
    response = requests.post(f"{base}bordeaux/proposals/", data=b'{"type": "Proposal",\n "title": }',
                             headers={**JSONLD, **auth()}, timeout=5)
    assert response.status_code == 400
    assert "line 2, column" in _problem(response)["detail"]


def test_invalid_turtle_is_400_with_position(base, snapshot):
    response = requests.post(f"{base}bordeaux/proposals/", data=b"<> a <https://w3id.org/dds/ns#Proposal>\n<x",
                             headers={**auth(), "Content-Type": "text/turtle"}, timeout=5)
    assert response.status_code == 400
    assert "invalid turtle" in _problem(response)["detail"]


def test_wrong_content_type_is_415(base, snapshot):
    response = requests.post(f"{base}bordeaux/proposals/", data=b"title=x",
                             headers={**auth(), "Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
    assert response.status_code == 415
    assert "application/ld+json" in _problem(response)["detail"]


def test_body_over_the_limit_is_413(base, snapshot):
    body = json.dumps({"@context": "https://w3id.org/dds/context.jsonld", "type": "Proposal",
                       "content": {"fr": "x" * (6 * 1024 * 1024)}}).encode()
    response = requests.post(f"{base}bordeaux/proposals/", data=body, headers={**JSONLD, **auth()}, timeout=30)
    assert response.status_code == 413
    assert "limit" in _problem(response)["detail"]


def test_remote_context_is_400_and_never_fetched(base, snapshot):
    document = dict(example("proposal-community-garden"), **{"@context": "http://127.0.0.1:9/context.jsonld"})
    response = post(base, "proposals/", document)
    assert response.status_code == 400
    problem = _problem(response)
    assert problem["field"] == "@context" and "127.0.0.1:9" in problem["detail"]


def test_id_outside_the_pod_is_400(base, snapshot):
    document = dict(example("proposal-community-garden"), id="https://elsewhere.example/proposals/1")
    response = post(base, "proposals/", document)
    assert response.status_code == 400
    assert "outside this pod" in _problem(response)["detail"]


@pytest.mark.parametrize("path", [
    "/bordeaux/proposals/../../etc/passwd",
    "/bordeaux/proposals/%2e%2e/%2e%2e/x",
    "/bordeaux/proposals/a%00b",
    "/bordeaux/%2E%2E/paris/proposals/",
])
def test_path_traversal_in_url_is_400(base, snapshot, path):
    status, _, _ = _raw(base, "PUT", path, b"<> a <https://w3id.org/dds/ns#Proposal> .",
                                   {**auth(), "Content-Type": "text/turtle"})
    assert status == 400
    status, _, _ = _raw(base, "GET", path)
    assert status == 400


@pytest.mark.parametrize("slug", ["../escape", "%2e%2e%2fescape", "a\x00b", "..\\x"])
def test_path_traversal_in_slug_is_400(base, snapshot, slug):
    status, _, body = _raw(base, "POST", "/bordeaux/proposals/", json.dumps(example("proposal-community-garden"))
                           .encode(), {**auth(), **JSONLD, "Slug": slug})
    assert status == 400, body


def test_ten_thousand_deep_json_is_400(base, snapshot):
    body = b'{"@context": "https://w3id.org/dds/context.jsonld", "content": ' + b"[" * 10000 + b"]" * 10000 + b"}"
    response = requests.post(f"{base}bordeaux/proposals/", data=body, headers={**JSONLD, **auth()}, timeout=10)
    assert response.status_code == 400
    assert "nested deeper" in _problem(response)["detail"]


def test_unknown_pod_is_404(base, snapshot):
    assert requests.get(f"{base}lyon/proposals/", timeout=5).status_code == 404
    assert requests.post(f"{base}lyon/proposals/", data=json.dumps(example("proposal-community-garden")),
                         headers={**JSONLD, **auth()}, timeout=5).status_code == 404


def test_put_changing_a_container_into_a_proposal_is_409(base, snapshot):
    response = requests.put(f"{base}bordeaux/proposals/", data=json.dumps(example("proposal-community-garden")),
                            headers={**JSONLD, **auth()}, timeout=5)
    assert response.status_code == 409


def test_delete_of_a_non_empty_container_is_409(base, snapshot):
    response = requests.delete(f"{base}bordeaux/proposals/", headers=auth(), timeout=5)
    assert response.status_code == 409
    assert "not empty" in _problem(response)["detail"]


def test_unmapped_key_with_an_inline_context_is_refused(base, snapshot):
    document = {"@context": {"title": {"@id": "http://purl.org/dc/terms/title", "@container": "@language"}},
                "title": {"fr": "x"}, "colour": "blue"}
    response = post(base, "proposals/", document)
    assert response.status_code == 400
    assert _problem(response)["field"] == "colour"


def test_server_is_still_up(server):
    assert server.alive
    assert requests.get(server.url, timeout=5).status_code == 200


# --------------------------------------------------------------------------- parsers get bounded input

RDF_XML = "application/rdf+xml"
TURTLE = "text/turtle"
XML_HEAD = ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns:as="https://www.w3.org/ns/activitystreams#">')


def billion_laughs() -> bytes:
    """Nine levels of ten entities each: a gigabyte of "lol" from a few hundred bytes, if anything expands it."""
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE r [{entities}]>{XML_HEAD}<rdf:Description rdf:about="">'
            "<as:content>&a9;</as:content></rdf:Description></rdf:RDF>").encode()


def deep_xml(depth: int) -> bytes:
    return (f'{XML_HEAD}<rdf:Description rdf:about="">' + "<as:location><rdf:Description>" * depth
            + "</rdf:Description></as:location>" * depth + "</rdf:Description></rdf:RDF>").encode()


def deep_turtle(opener: str, closer: str, depth: int = 100_000) -> bytes:
    inner = "[ <http://x.example/p> " if opener == "[" else opener + " "
    return (f"<> <https://www.w3.org/ns/activitystreams#location> {inner * depth}1 {closer * depth} .").encode()


def _refused(response: requests.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text[:300]
    problem = _problem(response)
    assert problem["status"] == status and problem["title"] and problem["detail"]
    for word in words:
        assert word in problem["detail"]
    return problem


@pytest.mark.parametrize("container", ["inbox/", "proposals/"])
def test_billion_laughs_are_refused_before_any_parser_and_the_worker_lives(base, snapshot, container):
    headers = {"Content-Type": RDF_XML} if container == "inbox/" else {"Content-Type": RDF_XML, **auth()}
    response = requests.post(f"{base}bordeaux/{container}", data=billion_laughs(), headers=headers, timeout=30)
    _refused(response, 400, "DOCTYPE")
    response = requests.put(f"{base}bordeaux/proposals/laughs", data=billion_laughs(),
                            headers={"Content-Type": RDF_XML, **auth()}, timeout=30)
    _refused(response, 400, "DOCTYPE")
    assert requests.get(f"{base}bordeaux/proposals/laughs", timeout=5).status_code == 404


def test_an_entity_declared_without_a_doctype_keyword_in_a_comment_is_still_xml(base, snapshot):
    """The scan reads XML as XML: a DOCTYPE inside a comment is text, the document goes on to validation."""
    body = (f'<!-- <!DOCTYPE r [<!ENTITY a "b">]> -->{XML_HEAD}<rdf:Description rdf:about="">'
            "<as:name>x</as:name></rdf:Description></rdf:RDF>").encode()
    response = requests.post(f"{base}bordeaux/proposals/", data=body, headers={"Content-Type": RDF_XML, **auth()},
                             timeout=10)
    assert response.status_code == 422  # parsed, then refused by the shapes: no type, no title


def test_deep_rdf_xml_is_refused_naming_the_limit(base, snapshot):
    response = requests.post(f"{base}bordeaux/proposals/", data=deep_xml(5000),
                             headers={"Content-Type": RDF_XML, **auth()}, timeout=30)
    _refused(response, 400, "nested deeper than 64")


@pytest.mark.parametrize("opener, closer", [("[", "]"), ("(", ")")], ids=["blank-nodes", "collections"])
@pytest.mark.parametrize("media_type", [TURTLE, "application/n-triples"])
def test_deep_turtle_is_refused_naming_the_limit(base, snapshot, opener, closer, media_type):
    response = requests.post(f"{base}bordeaux/proposals/", data=deep_turtle(opener, closer),
                             headers={"Content-Type": media_type, **auth()}, timeout=30)
    _refused(response, 400, "nested deeper than 64")


def test_brackets_in_strings_and_comments_do_not_count(base, snapshot):
    text = '"' + "[" * 200 + '"'
    body = (f'# {"(" * 200}\n<> a <https://w3id.org/dds/ns#Proposal> ; <http://purl.org/dc/terms/title> '
            f'{text}@fr, """{"{" * 200}"""@en ; <http://x.example/p> <http://x.example/a_(b)> .').encode()
    response = requests.post(f"{base}bordeaux/proposals/", data=body, headers={"Content-Type": TURTLE, **auth()},
                             timeout=10)
    assert response.status_code == 422, response.text  # parsed, then refused by the shapes (no date)
    assert "nested deeper" not in response.text


def test_deep_triple_terms_in_n_quads_are_refused(base, snapshot):
    body = ("<http://x.example/s> <http://x.example/p> " + "<<( <http://x.example/s> <http://x.example/p> " * 1000
            + "1" + " )>>" * 1000 + " .").encode()
    response = requests.post(f"{base}bordeaux/proposals/", data=body,
                             headers={"Content-Type": "application/n-quads", **auth()}, timeout=10)
    _refused(response, 400, "nested deeper than 64")


def test_too_many_statements_are_413_naming_the_limit(base, snapshot):
    body = ("<> <http://x.example/p> " + ",".join(str(i) for i in range(200_001)) + " .").encode()
    response = requests.post(f"{base}bordeaux/proposals/", data=body, headers={"Content-Type": TURTLE, **auth()},
                             timeout=60)
    _refused(response, 413, "200000 statements")


@pytest.mark.parametrize("media_type, body", [
    ("application/sparql-update", "INSERT DATA { <> <http://x.example/p> " + "[ <http://x.example/p> " * 50_000
     + "1" + " ]" * 50_000 + " }"),
    ("application/sparql-update", "DELETE { } INSERT { } WHERE { FILTER(" + "!" * 100_000 + "true) }"),
    ("application/sparql-update", "INSERT { } WHERE " + "{ " * 100_000 + "}" * 100_000),
    ("text/n3", "@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:r a solid:InsertDeletePatch; solid:inserts { "
     "<> <http://x.example/p> " + "( " * 100_000 + "1" + " )" * 100_000 + " }."),
], ids=["update-blank-nodes", "update-negations", "update-groups", "n3-collections"])
def test_deep_patches_are_refused_and_the_worker_lives(base, snapshot, media_type, body):
    response = requests.patch(snapshot, data=body.encode(), headers={"Content-Type": media_type, **auth()},
                              timeout=30)
    problem = _refused(response, 400, "the limit is 64")
    assert "SPARQL update" in problem["detail"] or "N3 Patch" in problem["detail"]


@pytest.mark.parametrize("query", ["ASK " + "{ " * 50_000 + "}" * 50_000,
                                   "ASK { FILTER(" + "! " * 50_000 + "true) }"], ids=["groups", "negations"])
def test_deep_sparql_queries_are_refused_and_the_worker_lives(base, snapshot, query):
    response = requests.post(f"{base}sparql", data=query.encode(),
                             headers={"Content-Type": "application/sparql-query"}, timeout=30)
    _refused(response, 400, "the limit is 64")
    response = requests.post(f"{base}sparql", data={"query": query}, timeout=30)
    _refused(response, 400, "the limit is 64")


DEEP_JSON = [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000]


@pytest.mark.parametrize("body", DEEP_JSON, ids=["arrays", "objects"])
def test_deep_json_is_400_on_every_entry_point(base, snapshot, body):
    writes = [("POST", "bordeaux/proposals/", JSONLD), ("PUT", "bordeaux/proposals/deep", JSONLD),
              ("PATCH", snapshot.removeprefix(base), {"Content-Type": "application/merge-patch+json"}),
              ("POST", "bordeaux/batch", {"Content-Type": "application/json"})]
    for method, path, headers in writes:
        response = requests.request(method, base + path, data=body, headers={**headers, **auth()}, timeout=30)
        _refused(response, 400, "nested deeper than 64")
    response = requests.post(f"{base}bordeaux/inbox/", data=body, headers=JSONLD, timeout=30)
    _refused(response, 400, "nested deeper than 64")


def test_a_number_of_ten_thousand_digits_is_400(base, snapshot):
    body = b'{"@context": "https://w3id.org/dds/context.jsonld", "supportCount": ' + b"9" * 10_000 + b"}"
    response = requests.post(f"{base}bordeaux/proposals/", data=body, headers={**JSONLD, **auth()}, timeout=10)
    _refused(response, 400, "digits")
    response = requests.post(f"{base}bordeaux/inbox/", data=body, headers=JSONLD, timeout=10)
    _refused(response, 400, "digits")


@pytest.mark.parametrize("header", [{"Content-Language": "a b"}, {"Content-Language": '"><x'}])
def test_a_bad_language_for_plain_text_is_400_naming_the_header(base, snapshot, header):
    form = {"@context": {"@vocab": "https://cdn.startinblox.com/owl#"}, "@type": "Proposal", "title": "Vélo"}
    response = post(base, "proposals/", form, **header)
    assert _refused(response, 400, "language tag")["field"] == "Content-Language"


def test_validate_refuses_bombs_with_exit_status_2(tmp_path):
    (tmp_path / "laughs.rdf").write_bytes(billion_laughs())
    (tmp_path / "deep.ttl").write_bytes(deep_turtle("[", "]"))
    (tmp_path / "deep.jsonld").write_bytes(DEEP_JSON[0])
    for name, words in (("laughs.rdf", "DOCTYPE"), ("deep.ttl", "nested deeper than 64"),
                        ("deep.jsonld", "nested deeper than 64")):
        result = run_cli("validate", str(tmp_path / name))
        assert result.returncode == 2, result.stderr
        assert words in result.stderr + result.stdout


class Canary(QuietHandler):
    """Counts every request: a context fetched from it would show up here."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Canary.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.end_headers()
        self.wfile.write(b'{"@context": {"title": "http://purl.org/dc/terms/title"}}')


@pytest.fixture
def canary():
    server = Loopback(Canary)
    Canary.hits = []
    yield server.url + "context.jsonld"
    server.close()
    assert Canary.hits == [], "a remote context was fetched"


def test_remote_contexts_are_never_fetched_however_they_are_reached(base, snapshot, canary):
    proposal = example("proposal-community-garden")
    dds = proposal["@context"]
    scoped = {"headline": {"@id": "http://purl.org/dc/terms/title", "@context": canary}}
    typed = {"@vocab": "https://w3id.org/dds/ns#", "Idea": {"@id": "https://w3id.org/dds/ns#Proposal",
                                                             "@context": canary}}
    documents = [{**proposal, "@context": canary}, {**proposal, "@context": [dds, canary]},
                 {**proposal, "@context": [dds, {"@import": canary}]},
                 {**proposal, "@context": [dds, scoped], "headline": {"x": "y"}},
                 {"@context": typed, "@type": "Idea", "title": "x"},
                 {**proposal, "@context": [dds, {"title": {"@id": "http://purl.org/dc/terms/title",
                                                           "@context": canary}}]}]
    for document in documents:
        assert _refused(post(base, "proposals/", document), 400)["field"] == "@context", document["@context"]
    nested = {**proposal, "location": {"@context": canary, "type": "Place", "name": "x"}}
    assert _refused(post(base, "proposals/", nested), 400)["field"] == "@context"
    notice = {"@context": canary, "type": "Create", "actor": f"{base}paris/", "object": f"{base}paris/x",
              "target": snapshot}
    response = requests.post(f"{base}bordeaux/inbox/", data=json.dumps(notice), headers=JSONLD, timeout=10)
    assert _refused(response, 400)["field"] == "@context"


# --------------------------------------------------------------------------- IRIs checked where they enter

BAD_IRIS = ["http://x.example/a\tb", "http://x.example/a\nb", "http://x.example/a b", "http://x.example/<a>",
            'http://x.example/"a"', "http://x.example/{a}", "http://x.example/a|b", "http://x.example/a^b",
            "http://x.example/a`b", "http://x.example/a\\b"]


@pytest.mark.parametrize("value", BAD_IRIS)
@pytest.mark.parametrize("route, name", [("federation/proposals/", "platform"), ("federation/proposals/", "topic"),
                                         ("federation/comments/", "space"), ("federation/trace", "of"),
                                         ("sparql", "default-graph-uri"), ("sparql", "named-graph-uri")])
def test_invalid_iris_in_query_parameters_are_400_naming_them(base, snapshot, route, name, value):
    params = {name: value, **({"query": "ASK {}"} if route == "sparql" else {})}
    response = requests.get(base + route, params=params, headers={"Accept": "application/ld+json"}, timeout=10)
    problem = _refused(response, 400)
    assert problem["field"] == name


def test_control_characters_in_decidim_references_are_400(base, snapshot):
    response = requests.get(f"{base}api/v1/data/contributions", params={"container": "a\tb"}, timeout=10)
    assert _refused(response, 400)["field"] == "container"
    response = requests.get(f"{base}api/v1/data/contributions/a%09b", timeout=10)
    assert _refused(response, 400)["field"] == "reference"


@pytest.mark.parametrize("path", ["/bordeaux/proposals/a%09b", "/bordeaux/proposals/a%0Ab", "/bordeaux/a%0D/"])
def test_control_characters_in_paths_are_400(base, snapshot, path):
    status, content_type, body = _raw(base, "GET", path)
    assert status == 400 and content_type.startswith("application/problem+json")
    assert json.loads(body)["field"] == "path"
    status, _, _ = _raw(base, "PUT", path, b"<> a <https://w3id.org/dds/ns#Proposal> .",
                        {**auth(), "Content-Type": "text/turtle"})
    assert status == 400


@pytest.mark.parametrize("slug", ["a\tb", "proposal\t\tone"])
def test_control_characters_in_a_slug_are_400(base, snapshot, slug):
    status, _, body = _raw(base, "POST", "/bordeaux/proposals/", json.dumps(example("proposal-community-garden"))
                           .encode(), {**auth(), **JSONLD, "Slug": slug})
    assert status == 400, body
    assert json.loads(body)["field"] == "Slug"


@pytest.mark.parametrize("change, field", [
    ({"inReplyTo": "http://x.example/a b"}, "inReplyTo"),
    ({"topic": [{"id": "http://x.example/a\tb"}]}, "topic"),
    ({"url": "http://x.example/a\nb"}, "url"),
    ({"id": "x y"}, "@id"),
    ({"type": ["Proposal", "http://x.example/a b"]}, "type"),
    ({"location": {"id": "#a b", "type": "Place", "name": "x"}}, "location"),
], ids=["reply", "topic", "url", "id", "type", "fragment"])
def test_invalid_iris_in_bodies_are_400_naming_the_field_and_nothing_is_stored(base, snapshot, change, field):
    document = {**example("proposal-community-garden"), **change}
    response = post(base, "proposals/", document, slug="bad-iri")
    assert _refused(response, 400, "invalid IRI")["field"] == field
    assert requests.get(f"{base}bordeaux/proposals/bad-iri", timeout=5).status_code == 404


def test_invalid_iris_in_other_syntaxes_are_400(base, snapshot):
    for body in (b"<> <http://x.example/p> <http://x.example/a b> .", b"<> <http://x.example/p> <a\tb> ."):
        response = requests.post(f"{base}bordeaux/proposals/", data=body,
                                 headers={"Content-Type": TURTLE, **auth()}, timeout=10)
        _refused(response, 400, "Invalid IRI")
    response = requests.patch(snapshot, data=json.dumps({"inReplyTo": "http://x.example/a b"}),
                              headers={"Content-Type": "application/merge-patch+json", **auth()}, timeout=10)
    assert _refused(response, 400, "invalid IRI")["field"] == "inReplyTo"
    # The update is refused by the parser that checks it before it runs, whose message does not name the IRI.
    patches = [("text/n3", "@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:r a solid:InsertDeletePatch; "
                "solid:inserts { <> <https://www.w3.org/ns/activitystreams#inReplyTo> <http://x.example/a\\u0020b> }.",
                "IRI"),
               ("application/sparql-update", "INSERT DATA { <> <https://www.w3.org/ns/activitystreams#inReplyTo> "
                "<http://x.example/a\\u0020b> }", "invalid SPARQL Update")]
    for media_type, body, reason in patches:
        response = requests.patch(snapshot, data=body.encode(), headers={"Content-Type": media_type, **auth()},
                                  timeout=10)
        _refused(response, 400, reason)
    xml = (f'{XML_HEAD}<rdf:Description rdf:about=""><as:inReplyTo rdf:resource="http://x.example/a b"/>'
           "</rdf:Description></rdf:RDF>")
    response = requests.put(snapshot, data=xml.encode(), headers={"Content-Type": RDF_XML, **auth()}, timeout=10)
    _refused(response, 400, "Invalid IRI")


def test_a_large_n3_patch_is_413_naming_the_limit(base, snapshot):
    """rdflib's N3 parser is slow: a patch, which changes one resource, is bounded more tightly than a body."""
    inserts = " ".join(f'<> <http://x.example/p> "value {i}" .' for i in range(20_000))
    body = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:r a solid:InsertDeletePatch; "
            f"solid:inserts {{ {inserts} }}.")
    response = requests.patch(snapshot, data=body.encode(), headers={"Content-Type": "text/n3", **auth()}, timeout=30)
    _refused(response, 413, "limit of 524288 bytes")


@pytest.mark.parametrize("iri", ["bordeaux/proposals/a b", "bordeaux/proposals/a\tb", "x y"])
def test_invalid_iris_to_delete_in_a_batch_are_400(base, snapshot, iri):
    body = {"delete": [snapshot, base + iri if iri.startswith("bordeaux") else iri]}
    response = requests.post(f"{base}bordeaux/batch", data=json.dumps(body),
                             headers={"Content-Type": "application/json", **auth()}, timeout=10)
    assert _refused(response, 400, "not a valid absolute IRI")["field"] == "delete"


@pytest.mark.parametrize("path, name", [("bordeaux/proposals/", "offset"), ("bordeaux/proposals/", "limit"),
                                        ("federation/proposals/", "offset"), ("bordeaux/changes/", "since"),
                                        ("bordeaux/changes/", "limit")])
def test_integers_past_the_range_are_400_naming_them(base, snapshot, path, name):
    response = requests.get(base + path, params={name: "99999999999999999999"}, timeout=10)
    assert _refused(response, 400, "between")["field"] == name


# --------------------------------------------------------------------------- every error is a problem document

@pytest.mark.parametrize("method, path, body, headers, status", [
    ("GET", "api/v1/data/nowhere/at/all", b"", {}, 404),
    ("GET", "federation/nothing/", b"", {}, 404),
    ("PUT", "sparql", b"x", {}, 405),
    ("GET", "bordeaux/proposals/", b"", {"Accept": "image/png"}, 406),
    ("POST", "bordeaux/proposals/", b"x", {"Content-Type": "application/x-msdownload", **auth()}, 415),
    ("POST", "bordeaux/batch", b"{", {"Content-Type": "application/json", **auth()}, 400),
    ("POST", "sparql", b"query=%ff", {"Content-Type": "application/x-www-form-urlencoded"}, 400),
    ("POST", "bordeaux/proposals/", b"{}", JSONLD, 401),
    ("POST", "bordeaux/proposals/", b"{}", {**JSONLD, **auth("paris")}, 403),
], ids=["404-routing", "404-view", "405-routing", "406", "415", "400-json", "400-form", "401", "403"])
def test_every_error_is_a_problem_document(base, snapshot, method, path, body, headers, status):
    response = requests.request(method, base + path, data=body, headers=headers, timeout=10)
    _refused(response, status)


def test_a_bare_405_on_a_resource_is_a_problem_document_with_allow(base, snapshot):
    response = requests.post(snapshot, data=b"{}", headers={**JSONLD, **auth()}, timeout=10)
    problem = _refused(response, 405, "Allow")
    assert problem["title"] == "Method Not Allowed"
    assert "PUT" in response.headers["Allow"]
    response = requests.delete(f"{base}bordeaux/changes/", headers=auth(), timeout=10)
    _refused(response, 405)
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_a_405_from_routing_keeps_its_allow_header(base, snapshot):
    response = requests.delete(f"{base}sparql", timeout=10)
    _refused(response, 405)
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_a_body_over_the_limit_is_a_problem_document_on_every_route(base, snapshot):
    body = b"x" * (6 * 1024 * 1024)
    for path in ("bordeaux/batch", "bordeaux/inbox/", "sparql"):
        headers = {"Content-Type": "application/json", **auth()} if "batch" in path else JSONLD
        if path == "sparql":
            headers = {"Content-Type": "application/sparql-query"}
        response = requests.post(base + path, data=body, headers=headers, timeout=30)
        _refused(response, 413, "limit")


def test_a_large_document_for_the_general_json_ld_processor_is_413_naming_the_limit(base, snapshot):
    """pyld reads foreign contexts and notifications: a few megabytes would hold a worker thread for a minute."""
    graph = [{"@id": f"http://x.example/{i}", "p": i, "q": "text"} for i in range(6000)]
    document = {"@context": {"@vocab": "http://x.example/"}, "@graph": graph}
    response = requests.post(f"{base}bordeaux/inbox/", data=json.dumps(document), headers=JSONLD, timeout=30)
    _refused(response, 413, "20000 values")
    response = post(base, "proposals/", document)
    _refused(response, 413, "20000 values")


@pytest.mark.parametrize("text", ["😀", 'a"b\\', "a\nb\tc"])
def test_any_text_searched_in_a_merged_view_is_a_search_not_an_error(base, snapshot, text):
    response = requests.get(f"{base}federation/proposals/", params={"q": text},
                            headers={"Accept": "application/ld+json"}, timeout=10)
    assert response.status_code == 200, response.text
