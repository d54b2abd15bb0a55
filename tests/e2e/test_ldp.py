"""What LDP 1.0 and the Solid Protocol ask of a pod, checked over HTTP in eleven numbered behaviours: type links,
GET/HEAD/OPTIONS, ETags, PUT, POST, Turtle, Accept-Post/Patch, DELETE, content negotiation, Solid rules, paging."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import requests
from rdflib import Dataset, Graph, URIRef

from .conftest import ACCEPT_JSONLD, JSONLD, auth, example, post

LDP = "http://www.w3.org/ns/ldp#"
TURTLE_PROPOSAL = """
@prefix dds: <https://w3id.org/dds/ns#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix as: <https://www.w3.org/ns/activitystreams#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<> a dds:Proposal ; dcterms:title "Des bancs place Pey-Berland"@fr ;
   as:published "2025-03-04T09:12:00Z"^^xsd:dateTime .
"""


def _types(response) -> set[str]:
    return {link["url"] for rel, link in _links(response) if rel == "type"}


def _links(response):
    for value in response.raw.headers.getlist("Link") if hasattr(response.raw.headers, "getlist") else []:
        for part in value.split(", <"):
            url, _, params = part.partition(";")
            rel = params.split('rel="', 1)[1].split('"', 1)[0] if 'rel="' in params else ""
            yield rel, {"url": url.strip("<> ")}


def test_1_type_links_on_containers_and_resources(base):
    container = requests.get(f"{base}bordeaux/proposals/", headers=ACCEPT_JSONLD, timeout=5)
    assert {LDP + "BasicContainer", LDP + "Resource"} <= _types(container)
    created = post(base, "proposals/", example("proposal-community-garden"))
    resource = requests.get(created.headers["Location"], headers=ACCEPT_JSONLD, timeout=5)
    assert {LDP + "Resource", LDP + "RDFSource"} <= _types(resource)
    assert LDP + "BasicContainer" not in _types(resource)


def test_2_get_head_options_everywhere(base):
    for url in (f"{base}bordeaux/", f"{base}bordeaux/proposals/"):
        assert requests.get(url, timeout=5).status_code == 200
        head = requests.head(url, timeout=5)
        assert head.status_code == 200 and head.content == b"" and head.headers["ETag"]
        options = requests.options(url, timeout=5)
        assert options.status_code == 204
        assert "POST" in options.headers["Allow"] and "DELETE" in options.headers["Allow"]


def test_3_etags_and_conditional_requests(base):
    location = post(base, "proposals/", example("proposal-community-garden")).headers["Location"]
    first = requests.get(location, headers=ACCEPT_JSONLD, timeout=5)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert requests.get(location, headers={**ACCEPT_JSONLD, "If-None-Match": etag}, timeout=5).status_code == 304
    turtle = requests.get(location, headers={"Accept": "text/turtle"}, timeout=5)
    assert turtle.headers["ETag"] != etag, "each representation has its own strong ETag"
    changed = dict(example("proposal-community-garden"), supportCount=3)
    ok = requests.put(location, data=json.dumps(changed), headers={**JSONLD, **auth(), "If-Match": etag}, timeout=5)
    assert ok.status_code == 204
    stale = requests.put(location, data=json.dumps(changed), headers={**JSONLD, **auth(), "If-Match": etag}, timeout=5)
    assert stale.status_code == 412
    assert requests.delete(location, headers={**auth(), "If-Match": etag}, timeout=5).status_code == 412
    exists = requests.put(location, data=json.dumps(changed), headers={**JSONLD, **auth(), "If-None-Match": "*"},
                          timeout=5)
    assert exists.status_code == 412


def test_4_put_replaces_the_state_but_not_server_managed_triples(base):
    location = post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo")).headers["Location"]
    before = requests.get(location, headers=ACCEPT_JSONLD, timeout=5).json()
    replacement = {"@context": "https://w3id.org/dds/context.jsonld", "type": "Proposal",
                   "title": {"en": "Replaced"}, "published": "2025-05-01T00:00:00Z",
                   "platform": "https://attacker.example", "created": "1999-01-01T00:00:00Z"}
    replaced = requests.put(location, data=json.dumps(replacement), headers={**JSONLD, **auth()}, timeout=5)
    assert replaced.status_code == 204
    after = requests.get(location, headers=ACCEPT_JSONLD, timeout=5).json()
    assert after["title"] == {"en": "Replaced"}
    assert "status" not in after and "location" not in after, "PUT replaces the whole state"
    assert after["platform"] == "https://participation.bordeaux-metropole.example"
    assert after["created"] == before["created"]
    assert datetime.fromisoformat(after["modified"]) >= datetime.fromisoformat(before["modified"])


def test_5_post_creates_a_member_with_slug_and_containment(base):
    slug = f"bancs-{uuid.uuid4().hex[:6]}"
    created = post(base, "proposals/", example("proposal-community-garden"), slug=slug)
    assert created.status_code == 201
    assert created.headers["Location"] == f"{base}bordeaux/proposals/{slug}"
    again = post(base, "proposals/", example("proposal-community-garden"), slug=slug)
    assert again.headers["Location"] != created.headers["Location"], "a taken slug is only a hint"
    container = requests.get(f"{base}bordeaux/proposals/?limit=1000", headers=ACCEPT_JSONLD, timeout=5).json()
    assert created.headers["Location"] in {m["@id"] for m in container["ldp:contains"]}


def test_5_post_with_container_link_creates_a_container(base):
    response = requests.post(f"{base}bordeaux/", headers={
        **auth(), "Content-Type": "text/turtle", "Slug": f"assemblies-{uuid.uuid4().hex[:6]}",
        "Link": '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"'}, timeout=5)
    assert response.status_code == 201 and response.headers["Location"].endswith("/")
    assert LDP + "BasicContainer" in _types(requests.get(response.headers["Location"], timeout=5))


def test_6_turtle_accepted_and_null_iri_names_the_new_resource(base):
    response = requests.post(f"{base}bordeaux/proposals/", data=TURTLE_PROPOSAL.encode(),
                             headers={**auth(), "Content-Type": "text/turtle", "Slug": "bancs-ttl"}, timeout=5)
    assert response.status_code == 201, response.text
    graph = Graph().parse(data=requests.get(response.headers["Location"], headers={"Accept": "text/turtle"},
                                            timeout=5).text, format="turtle")
    assert (URIRef(response.headers["Location"]), None, None) in graph


def test_7_accept_post_and_accept_patch(base):
    for method in (requests.get, requests.head, requests.options):
        headers = method(f"{base}bordeaux/proposals/", timeout=5).headers
        assert "text/turtle" in headers["Accept-Post"] and "application/ld+json" in headers["Accept-Post"]
        assert "application/sparql-update" in headers["Accept-Patch"]


def test_8_delete_removes_resource_and_containment(base):
    location = post(base, "proposals/", example("proposal-community-garden")).headers["Location"]
    assert requests.delete(location, headers=auth(), timeout=5).status_code == 204
    assert requests.get(location, timeout=5).status_code in (404, 410)
    container = requests.get(f"{base}bordeaux/proposals/?limit=1000", headers=ACCEPT_JSONLD, timeout=5).json()
    assert location not in {m["@id"] for m in container["ldp:contains"]}


def test_9_content_negotiation(base):
    location = post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo")).headers["Location"]
    for media_type, parse_as in [("text/turtle", "turtle"), ("application/n-triples", "nt"),
                                 ("application/n-quads", "nquads"), ("application/rdf+xml", "xml")]:
        response = requests.get(location, headers={"Accept": media_type}, timeout=5)
        assert response.headers["Content-Type"].startswith(media_type)
        parsed = (Dataset() if parse_as == "nquads" else Graph()).parse(data=response.text, format=parse_as)
        assert len(list(parsed.quads() if parse_as == "nquads" else parsed)) > 10
    compact = requests.get(location, headers={"Accept": "application/ld+json"}, timeout=5).json()
    assert compact["@context"] == f"{base}ns/context.jsonld" and compact["status"] == "evaluating"
    expanded = requests.get(location, timeout=5, headers={
        "Accept": 'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"'}).json()
    assert isinstance(expanded, list) and "@context" not in json.dumps(expanded)
    html = requests.get(location, headers={"Accept": "text/html"}, timeout=5)
    assert html.headers["Content-Type"].startswith("text/html") and "<table" in html.text and "href=" in html.text
    assert requests.get(location, headers={"Accept": "image/png"}, timeout=5).status_code == 406
    assert "Accept" in requests.get(location, timeout=5).headers["Vary"]


def test_a_client_without_preference_gets_turtle_and_named_types_keep_theirs(base):
    """LDP 1.0 §4.3.2.2: Turtle when the request states no preference; a browser (text/html first) and
    Startin'blox (application/ld+json) are not affected, and ETags follow the representation."""
    location = post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo")).headers["Location"]
    session = requests.Session()
    del session.headers["Accept"]  # no Accept header at all
    for url in (location, f"{base}bordeaux/proposals/"):
        for headers in ({}, {"Accept": "*/*"}):
            response = session.get(url, headers=headers, timeout=5)
            assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle"), url
            assert len(Graph().parse(data=response.text, format="turtle", publicID=url)) > 3
    turtle = session.get(location, timeout=5).headers["ETag"]
    browser = requests.get(location, timeout=5, headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert browser.headers["Content-Type"].startswith("text/html")
    sib = requests.get(location, headers={"Accept": "application/ld+json"}, timeout=5)
    assert sib.json()["@id"] == location and sib.headers["ETag"] != turtle
    assert requests.get(location, headers={"Accept": "application/json;q=0.5, */*;q=0.1"},
                        timeout=5).headers["Content-Type"].startswith("application/ld+json")
    assert requests.get(location, headers={"Accept": "text/plain"}, timeout=5).status_code == 406


def test_10_solid_rules(base):
    no_type = requests.post(f"{base}bordeaux/proposals/", data=b"{}", headers=auth(), timeout=5)
    assert no_type.status_code in (400, 415)
    missing = requests.post(f"{base}bordeaux/nowhere/", data=json.dumps(example("proposal-community-garden")),
                            headers={**JSONLD, **auth()}, timeout=5)
    assert missing.status_code == 404
    twin = requests.put(f"{base}bordeaux/proposals", data=b"", headers={**auth(), "Content-Type": "text/turtle"},
                        timeout=5)
    assert twin.status_code == 409, "/proposals and /proposals/ cannot both exist"


def test_11_prefer_minimal_container_and_paging(base):
    for index in range(7):
        post(base, "meetings/", example("meeting-atelier-mobilite"), slug=f"atelier-{index}")
    minimal = requests.get(f"{base}bordeaux/meetings/", timeout=5, headers={**ACCEPT_JSONLD,
        "Prefer": 'return=representation; include="http://www.w3.org/ns/ldp#PreferMinimalContainer"'})
    assert "ldp:contains" not in minimal.json()
    assert minimal.headers["Preference-Applied"] == "return=representation"
    page = requests.get(f"{base}bordeaux/meetings/", headers=ACCEPT_JSONLD, timeout=5)  # page size 5 here
    assert len(page.json()["ldp:contains"]) == 5
    links = page.links
    assert {"first", "next", "last"} <= set(links)
    second = requests.get(links["next"]["url"], headers=ACCEPT_JSONLD, timeout=5).json()
    assert second["@id"] == f"{base}bordeaux/meetings/", "the container keeps its IRI without the query"
    first_ids = {m["@id"] for m in page.json()["ldp:contains"]}
    assert first_ids.isdisjoint(m["@id"] for m in second["ldp:contains"])
    assert "prev" in requests.get(links["next"]["url"], headers=ACCEPT_JSONLD, timeout=5).links


def test_post_with_prefer_minimal_answers_without_a_body(base):
    response = post(base, "proposals/", example("proposal-community-garden"), Prefer="return=minimal")
    assert response.status_code == 201 and response.content == b""
    assert response.headers["ETag"] and requests.get(response.headers["Location"], timeout=5).status_code == 200
