"""Citizens' HTML cannot run: it is sanitised on every write, and the node's pages escape everything they show
and forbid scripts with a Content-Security-Policy."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
import requests

from .conftest import JSONLD, auth, example, post

HOSTILE = ('<p>Bonjour <img src=x onerror=alert(1)><script>alert(2)</script>'
           '<a href="javascript:alert(3)" onclick="alert(4)">lien</a> <b onmouseover="alert(5)">gras</b></p>')
TITLE = '"><script>alert(6)</script><img src=x onerror=alert(7)> \' onfocus=\'alert(8)'
HTML = {"Accept": "text/html"}


class ActiveMarkup(HTMLParser):
    """Collects what a browser could run: script elements, event-handler attributes, non-http(s) links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "img"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src") and not (value or "").startswith(("http://", "https://", "ns", "shapes")):
                self.found.append(f"{tag}[{name}={value}]")


def active_markup(page: str) -> list[str]:
    parser = ActiveMarkup()
    parser.feed(page)
    return parser.found


def assert_inert(response: requests.Response) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'") and "script-src" not in policy and "unsafe" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert active_markup(response.text) == []


def hostile_proposal() -> dict:
    document = example("proposal-community-garden")
    return {**document, "title": {"fr": TITLE}, "content": {"fr": HOSTILE}, "url": "javascript:alert(9)"}


def stored_content(location: str) -> str:
    body = requests.get(location, headers={"Accept": "application/ld+json"}, timeout=10).json()
    return body["content"]["fr"]


def assert_clean(content: str) -> None:
    for active in ("<script", "onerror", "onclick", "onmouseover", "javascript:", "<img"):
        assert active not in content, content
    assert "Bonjour" in content and "lien" in content and "<b>gras</b>" in content


def test_posted_html_is_sanitised_and_its_page_is_inert(base):
    response = post(base, "proposals/", hostile_proposal(), slug="hostile-html")
    assert response.status_code == 201, response.text
    location = response.headers["Location"]
    assert_clean(response.json()["content"]["fr"])
    assert_clean(stored_content(location))
    page = requests.get(location, headers=HTML, timeout=10)
    assert_inert(page)
    assert "&lt;script&gt;alert(6)" in page.text  # the title is text, shown escaped
    assert 'href="javascript:' not in page.text and "javascript:alert(9)" in page.text  # shown, not linked
    assert_inert(requests.get(f"{base}bordeaux/proposals/", headers=HTML, timeout=10))


@pytest.mark.parametrize("media_type, body", [
    ("application/merge-patch+json", json.dumps({"content": {"fr": HOSTILE}})),
    ("application/sparql-update", "DELETE { <> <https://www.w3.org/ns/activitystreams#content> ?c } INSERT { <> "
     f"<https://www.w3.org/ns/activitystreams#content> {json.dumps(HOSTILE)}@fr }} WHERE {{ <> "
     "<https://www.w3.org/ns/activitystreams#content> ?c }"),
    ("text/n3", "@prefix solid: <http://www.w3.org/ns/solid/terms#>. @prefix as: <https://www.w3.org/ns/activitystreams#>."
     " _:r a solid:InsertDeletePatch; solid:where { <> as:content ?c }; solid:deletes { <> as:content ?c };"
     f" solid:inserts {{ <> as:content {json.dumps(HOSTILE)}@fr }}."),
], ids=["merge-patch", "sparql-update", "n3-patch"])
def test_patched_html_is_sanitised(base, media_type, body):
    location = post(base, "proposals/", example("proposal-community-garden")).headers["Location"]
    response = requests.patch(location, data=body.encode(), headers={"Content-Type": media_type, **auth()},
                              timeout=10)
    assert response.status_code == 204, response.text
    assert_clean(stored_content(location))
    assert_inert(requests.get(location, headers=HTML, timeout=10))


def test_put_turtle_and_batch_html_are_sanitised(base):
    location = f"{base}bordeaux/proposals/hostile-put"
    response = requests.put(location, data=json.dumps(hostile_proposal()), headers={**JSONLD, **auth()}, timeout=10)
    assert response.status_code == 201, response.text
    assert_clean(stored_content(location))
    turtle = (f'<> a <https://w3id.org/dds/ns#Proposal> ; <http://purl.org/dc/terms/title> "t"@fr ; '
              f'<https://www.w3.org/ns/activitystreams#published> "2025-01-01T00:00:00Z"^^'
              f'<http://www.w3.org/2001/XMLSchema#dateTime> ; '
              f'<https://www.w3.org/ns/activitystreams#content> {json.dumps(HOSTILE)}@fr .')
    response = requests.put(f"{location}-ttl", data=turtle.encode(),
                            headers={"Content-Type": "text/turtle", **auth()}, timeout=10)
    assert response.status_code == 201, response.text
    assert_clean(stored_content(f"{location}-ttl"))
    batch = {"put": [{**hostile_proposal(), "id": f"{location}-batch"}]}
    response = requests.post(f"{base}bordeaux/batch", data=json.dumps(batch),
                             headers={"Content-Type": "application/json", **auth()}, timeout=10)
    assert response.status_code == 200 and response.json()["created"] == [f"{location}-batch"], response.text
    assert_clean(stored_content(f"{location}-batch"))


# The home page is the public interface's, whose policy allows the node's own scripts: tests/e2e/test_interface.py.
@pytest.mark.parametrize("path", ["ns", "shapes", "federation/proposals/", "bordeaux/"])
def test_every_html_page_sends_the_policy(base, path):
    assert_inert(requests.get(base + path, headers=HTML, timeout=10))
