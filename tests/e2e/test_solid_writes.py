"""Writes as Solid clients and Startin'blox forms make them, over HTTP: containers inside typed containers, PATCH
that creates, and edits that send no type."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from .conftest import ACCEPT_JSONLD, JSONLD, auth, example, post

DDS = "https://w3id.org/dds/ns#"
CONTAINER_LINK = '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"'
SIB_CONTEXT = {"@vocab": "https://cdn.startinblox.com/owl#"}
TYPED_CONTAINERS = ["proposals/", "comments/", "spaces/", "meetings/", "results/"]


def _name() -> str:
    return uuid.uuid4().hex[:8]


def _types(url: str) -> list[str]:
    document = requests.get(url, headers=ACCEPT_JSONLD, timeout=5).json()
    types = document.get("@type", [])
    return types if isinstance(types, list) else [types]


# ------------------------------------------------------------------- containers inside typed containers

@pytest.mark.parametrize("container", TYPED_CONTAINERS)
def test_a_container_posted_into_a_typed_container_is_a_plain_container(base, container):
    response = requests.post(f"{base}bordeaux/{container}", headers={
        **auth(), "Content-Type": "text/turtle", "Slug": f"group-{_name()}", "Link": CONTAINER_LINK}, timeout=5)
    assert response.status_code == 201, response.text
    location = response.headers["Location"]
    assert location.endswith("/")
    types = _types(location)
    assert types and all("Container" in t for t in types), f"no member type on a container: {types}"
    member = post(base, location[len(f"{base}bordeaux/"):], example("proposal-community-garden"))
    assert member.status_code == 201, member.text


def test_a_container_still_refuses_a_member_type(base):
    body = '<> a <https://w3id.org/dds/ns#Proposal> .'
    response = requests.post(f"{base}bordeaux/proposals/", data=body.encode(), headers={
        **auth(), "Content-Type": "text/turtle", "Slug": f"typed-{_name()}", "Link": CONTAINER_LINK}, timeout=5)
    assert response.status_code == 409
    assert response.headers["Content-Type"].startswith("application/problem+json")


# ------------------------------------------------------------------- PATCH creates

def test_sparql_update_creates_a_missing_resource(base):
    url = f"{base}bordeaux/proposals/patched-{_name()}"
    assert "PATCH" in requests.options(url, timeout=5).headers["Allow"]
    update = f"""PREFIX dds: <{DDS}> PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX as: <https://www.w3.org/ns/activitystreams#> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        INSERT DATA {{ <{url}> a dds:Proposal ; dcterms:title "Des bancs"@fr ;
                       as:published "2025-03-04T09:12:00Z"^^xsd:dateTime . }}"""
    created = requests.patch(url, data=update.encode(), headers={
        **auth(), "Content-Type": "application/sparql-update"}, timeout=5)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == url and created.headers["ETag"]
    stored = requests.get(url, headers=ACCEPT_JSONLD, timeout=5).json()
    assert stored["title"] == {"fr": "Des bancs"}
    container = requests.get(f"{base}bordeaux/proposals/?limit=1000", headers=ACCEPT_JSONLD, timeout=5).json()
    assert url in {m["@id"] for m in container["ldp:contains"]}
    again = requests.patch(url, data=update.encode(), headers={
        **auth(), "Content-Type": "application/sparql-update"}, timeout=5)
    assert again.status_code == 204, "a second PATCH changes the resource it created"


def test_n3_patch_creates_a_missing_resource(base):
    url = f"{base}bordeaux/meetings/n3-{_name()}"
    patch = f"""@prefix solid: <http://www.w3.org/ns/solid/terms#> . @prefix dds: <{DDS}> .
        @prefix dcterms: <http://purl.org/dc/terms/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        @prefix as: <https://www.w3.org/ns/activitystreams#> .
        _:patch a solid:InsertDeletePatch ; solid:inserts {{ <{url}> a dds:Meeting ; dcterms:title "Atelier"@fr ;
            as:published "2025-03-01T09:00:00Z"^^xsd:dateTime ;
            as:startTime "2025-04-01T18:00:00Z"^^xsd:dateTime . }} ."""
    created = requests.patch(url, data=patch.encode(), headers={**auth(), "Content-Type": "text/n3"}, timeout=5)
    assert created.status_code == 201, created.text
    assert requests.get(url, headers=ACCEPT_JSONLD, timeout=5).status_code == 200


def test_a_patch_creating_an_invalid_document_stores_nothing(base):
    url = f"{base}bordeaux/proposals/invalid-{_name()}"
    update = f'INSERT DATA {{ <{url}> <http://purl.org/dc/terms/title> "Sans date"@fr . }}'
    refused = requests.patch(url, data=update.encode(), headers={
        **auth(), "Content-Type": "application/sparql-update"}, timeout=5)
    assert refused.status_code == 422, refused.text
    assert requests.get(url, timeout=5).status_code == 404
    merge = requests.patch(url, data=json.dumps({"status": "nonsense"}), headers={
        **auth(), "Content-Type": "application/merge-patch+json"}, timeout=5)
    assert merge.status_code == 422
    assert requests.get(url, timeout=5).status_code == 404


def test_a_patch_that_creates_needs_a_token_and_honours_if_match(base):
    url = f"{base}bordeaux/proposals/guarded-{_name()}"
    update = f'INSERT DATA {{ <{url}> <http://purl.org/dc/terms/title> "x"@fr . }}'
    headers = {"Content-Type": "application/sparql-update"}
    assert requests.patch(url, data=update.encode(), headers=headers, timeout=5).status_code == 401
    stale = requests.patch(url, data=update.encode(), headers={**headers, **auth(), "If-Match": '"v1"'}, timeout=5)
    assert stale.status_code == 412
    twin = requests.patch(f"{base}bordeaux/proposals", data=b"INSERT DATA {}", headers={**headers, **auth()},
                          timeout=5)
    assert twin.status_code == 409, "/proposals and /proposals/ cannot both exist"


# ------------------------------------------------------------------- edits without a type

def test_a_put_without_type_keeps_the_stored_type(base):
    location = post(base, "proposals/", example("proposal-community-garden")).headers["Location"]
    document = example("proposal-community-garden")
    del document["type"]
    document["title"] = {"en": "A garden, edited"}
    response = requests.put(location, data=json.dumps(document), headers={**JSONLD, **auth()}, timeout=5)
    assert response.status_code == 204, response.text
    stored = requests.get(location, headers=ACCEPT_JSONLD, timeout=5).json()
    assert stored["title"] == {"en": "A garden, edited"}
    assert _types(location) == ["Proposal"]


def test_a_form_put_without_type_creates_the_containers_member_type(base):
    url = f"{base}bordeaux/proposals/form-{_name()}"
    form = {"@context": SIB_CONTEXT, "title": "Des arceaux vélo", "published": "2025-03-04T09:12:00Z"}
    response = requests.put(url, data=json.dumps(form), headers={**JSONLD, **auth()}, timeout=5)
    assert response.status_code == 201, response.text
    assert _types(url) == ["Proposal"]


def test_a_put_without_type_outside_typed_containers_is_still_refused(base):
    form = {"@context": SIB_CONTEXT, "title": "Sans type", "published": "2025-03-04T09:12:00Z"}
    response = requests.put(f"{base}bordeaux/elsewhere-{_name()}", data=json.dumps(form),
                            headers={**JSONLD, **auth()}, timeout=5)
    assert response.status_code == 422
    assert "type" in json.dumps(response.json()).lower()
