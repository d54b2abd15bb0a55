"""Every bad request gets a clear error; the server stays up and the stored data is unchanged."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

import pytest
import requests

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
