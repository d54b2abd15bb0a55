"""A resource's replies as an LDP container embedding each reply, which Startin'blox can nest in one request."""

from __future__ import annotations

import json

import requests
from rdflib import Graph, URIRef

from .conftest import ACCEPT_JSONLD, JSONLD, auth, example, post

LDP = "http://www.w3.org/ns/ldp#"


def _comment(base: str, target: str, text: dict, slug: str) -> str:
    document = dict(example("comment-on-proposal"), inReplyTo=target, content=text)
    return post(base, "comments/", document, slug=slug).headers["Location"]


def test_the_replies_container_embeds_each_reply_and_follows_changes(base):
    proposal = post(base, "proposals/", example("proposal-community-garden"), slug="threaded").headers["Location"]
    thread = f"{proposal}/replies/"
    assert requests.get(proposal, headers=ACCEPT_JSONLD, timeout=5).json()["repliesContainer"] == thread
    empty = requests.get(thread, headers=ACCEPT_JSONLD, timeout=5)
    assert empty.status_code == 200 and empty.json()["ldp:contains"] == []
    assert f'<{LDP}BasicContainer>; rel="type"' in empty.headers["Link"]
    first = _comment(base, proposal, {"fr": "Oui", "en": "Yes"}, "threaded-1")
    second = _comment(base, proposal, {"fr": "Non"}, "threaded-2")
    page = requests.get(thread, headers=ACCEPT_JSONLD, timeout=5)
    members = {m["@id"]: m for m in page.json()["ldp:contains"]}
    assert set(members) == {first, second} and members[first]["content"] == {"fr": "Oui", "en": "Yes"}
    assert members[second]["@type"] == "Comment" and members[second]["inReplyTo"] == proposal
    assert page.headers["ETag"] != empty.headers["ETag"]
    french = requests.get(thread, params={"lang": "en"}, headers=ACCEPT_JSONLD, timeout=5).json()
    assert {m["@id"]: m["content"] for m in french["ldp:contains"]}[first] == {"en": "Yes"}
    edited = requests.patch(first, data=json.dumps({"content": {"fr": "Oui !", "en": None}}), timeout=5,
                            headers={**auth(), "Content-Type": "application/merge-patch+json"})
    assert edited.status_code == 204, edited.text
    after = requests.get(thread, headers={**ACCEPT_JSONLD, "If-None-Match": page.headers["ETag"]}, timeout=5)
    assert after.status_code == 200, "an edited reply changes the container's ETag"
    turtle = Graph().parse(data=requests.get(thread, timeout=5).text, format="turtle", publicID=thread)
    assert (URIRef(thread), URIRef(LDP + "contains"), URIRef(first)) in turtle


def test_the_replies_container_is_read_only_and_404_without_its_resource(base):
    proposal = post(base, "proposals/", example("proposal-community-garden"), slug="threaded-ro").headers["Location"]
    thread = f"{proposal}/replies/"
    refused = requests.post(thread, data=json.dumps(example("comment-on-proposal")), headers={**JSONLD, **auth()},
                            timeout=5)
    assert refused.status_code == 405 and refused.headers["Content-Type"].startswith("application/problem+json")
    assert requests.get(f"{base}bordeaux/proposals/no-such-thing/replies/", timeout=5).status_code == 404
    assert requests.get(f"{base}bordeaux/proposals/replies/", timeout=5).status_code == 404
    assert requests.delete(proposal, headers=auth(), timeout=5).status_code == 204
    assert requests.get(thread, timeout=5).status_code == 410
