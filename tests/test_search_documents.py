"""The index's documents built from a real merged graph, and the index kept up to date by harvests."""

from __future__ import annotations

import json

import pytest

from dds_pod.config import from_dict
from dds_pod.demo import seed
from dds_pod.ldp.intake import Body
from dds_pod.ldp.resources import Preconditions
from dds_pod.node import Node
from dds_pod.search import SearchQuery
from dds_pod.search.documents import topic_keys
from dds_pod.search.updater import rebuild

from .conftest import EXAMPLES

BASE = "http://127.0.0.1:8000/"
BORDEAUX = f"{BASE}bordeaux/"
VELO = f"{BORDEAUX}proposals/piste-cyclable-victor-hugo"
FIRST_COMMENT = f"{BORDEAUX}comments/piste-cyclable-1"  # one reply in the examples, no declared count
MADRID_TOPIC = "https://decide.madrid.example/topics/movilidad"


@pytest.fixture(scope="module")
def node():
    config = from_dict({"base_url": BASE, "pods": {
        "bordeaux": {"platform": "https://participation.bordeaux-metropole.example", "token": "tb"},
        "paris": {"platform": "https://decidim.paris.example", "token": "tp"}}})
    node = Node(config)
    seed(node, "bordeaux", EXAMPLES / "valid")
    seed(node, "paris", EXAMPLES / "paris")
    node.harvester.sync_all()
    yield node
    node.close()


def documents(node) -> dict:
    return {document.iri: document for document in node.search_documents.all()}


def test_a_proposal_becomes_a_document_with_its_facets(node):
    velo = documents(node)[VELO]
    assert velo.kind == "proposals" and velo.member == BORDEAUX
    assert velo.platform == "https://participation.bordeaux-metropole.example"
    assert velo.space == f"{BORDEAUX}spaces/budget-participatif-2025"
    assert velo.status == "evaluating" and velo.published == "2025-03-04T09:12:00Z"
    assert velo.location == pytest.approx((44.8337, -0.5716))
    assert velo.answered and velo.decided  # the result names it as an influence
    assert velo.supports == 212 and velo.comments >= 2  # the platform's counts, at least what the graph holds
    [french] = velo.texts
    assert french.language == "fr" and "Victor-Hugo" in french.title
    assert "<p>" not in french.body and "cyclistes" in french.body and "service mobilité" in french.body


def test_kinds_are_the_most_specific_view_and_replies_know_their_parent(node):
    found = documents(node)
    assert found[f"{BORDEAUX}proposals/piste-cyclable-victor-hugo-amendement-1"].kind == "amendments"
    assert found[f"{BORDEAUX}comments/piste-cyclable-2"].in_reply_to == f"{BORDEAUX}comments/piste-cyclable-1"
    assert found[f"{BORDEAUX}spaces/budget-participatif-2025"].kind == "spaces"
    assert not any(document.kind == "reactions" for document in found.values())
    assert not found[f"{BORDEAUX}proposals/community-garden-bastide"].decided


def test_aligned_topics_share_one_key(node):
    key = min(f"{BORDEAUX}topics/mobilite", MADRID_TOPIC)
    assert documents(node)[VELO].topics == (key,)
    assert node.search_documents.topic_key(MADRID_TOPIC) == key
    assert node.search_documents.topic_key("https://elsewhere.example/t") == "https://elsewhere.example/t"


def test_topic_keys_follow_chains_in_both_directions():
    keys = topic_keys([("http://c/", "http://b/"), ("http://d/", "http://c/"), ("http://x/", "http://y/")])
    assert keys == {"http://b/": "http://b/", "http://c/": "http://b/", "http://d/": "http://b/",
                    "http://x/": "http://x/", "http://y/": "http://x/"}


def test_a_harvest_updates_the_index_and_the_parent_counts(node):
    assert node.search.search(SearchQuery(text="Victor-Hugo")).total >= 1
    before = _indexed(node, FIRST_COMMENT)["comments"]
    pod = node.pods["bordeaux"]
    comment = {"@context": "https://w3id.org/dds/context.jsonld", "type": "Comment", "inReplyTo": FIRST_COMMENT,
               "content": {"es": "Necesitamos más carriles para bicicletas"}, "published": "2025-03-06T10:00:00Z"}
    iri = f"{BORDEAUX}comments/carriles"
    pod.put(iri, Body(json.dumps(comment).encode(), "application/ld+json"), preconditions=Preconditions(),
            credential="tb")
    node.harvester.sync_all()
    result = node.search.search(SearchQuery(text="bicicleta", kinds=frozenset({"comments"})))
    assert [hit.iri for hit in result.hits] == [iri]
    assert _indexed(node, FIRST_COMMENT)["comments"] == before + 1 == 2
    pod.delete(iri, preconditions=Preconditions())
    node.harvester.sync_all()
    assert node.search.search(SearchQuery(text="bicicleta")).total == 0
    assert _indexed(node, FIRST_COMMENT)["comments"] == before


def test_a_rebuild_gives_the_index_the_updates_made(node):
    searched = SearchQuery(text="cyclable", sort="newest", limit=100)
    incremental = [hit.iri for hit in node.search.search(searched).hits]
    reports: list[tuple[int, int]] = []
    written = rebuild(node.search, node.search_documents, lambda done, total: reports.append((done, total)))
    assert written == node.search.count() and reports[-1] == (written, written)
    assert [hit.iri for hit in node.search.search(searched).hits] == incremental and incremental


def _indexed(node, iri: str) -> dict:
    stored = node.search.stored(iri)
    assert stored is not None, iri
    return stored
