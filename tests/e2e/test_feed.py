"""The change feed is a Linked Data Event Stream a client can follow incrementally."""

from __future__ import annotations

import json

import requests
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from .conftest import JSONLD, auth, example, post

LDES = Namespace("https://w3id.org/ldes#")
TREE = Namespace("https://w3id.org/tree#")
AS = Namespace("https://www.w3.org/ns/activitystreams#")
DDS = Namespace("https://w3id.org/dds/ns#")


def _feed(base: str, since: int, limit: int = 100) -> Graph:
    response = requests.get(f"{base}paris/changes/", params={"since": since, "limit": limit},
                            headers={"Accept": "text/turtle"}, timeout=5)
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


def _events(graph: Graph) -> list[tuple[int, URIRef, URIRef]]:
    rows = [(int(graph.value(e, DDS.sequence)), graph.value(e, RDF.type),
             graph.value(e, AS.object)) for e in graph.objects(None, TREE.member)]
    return sorted(rows)


def test_creates_updates_and_deletes_are_streamed_in_order(base):
    start = max([s for s, _, _ in _events(_feed(base, 0, 100000))], default=0)
    location = post(base, "proposals/", example("proposal-community-garden"), pod="paris").headers["Location"]
    requests.put(location, data=json.dumps(dict(example("proposal-community-garden"), supportCount=4)),
                 headers={**JSONLD, **auth("paris")}, timeout=5)
    requests.delete(location, headers=auth("paris"), timeout=5)
    graph = _feed(base, start)
    assert (None, RDF.type, LDES.EventStream) in graph
    events = _events(graph)
    assert [(kind, obj) for _, kind, obj in events] == [
        (AS.Create, URIRef(location)), (AS.Update, URIRef(location)), (AS.Delete, URIRef(location))]
    assert [s for s, _, _ in events] == [start + 1, start + 2, start + 3]
    deleted = next(iter(graph.subjects(RDF.type, AS.Delete)))
    assert graph.value(deleted, AS.formerType) == DDS.Proposal
    tombstone = requests.get(location, timeout=5)
    assert tombstone.status_code == 410


def test_pages_link_to_the_next_with_a_tree_relation(base):
    for index in range(3):
        post(base, "comments/", example("comment-on-proposal"), slug=f"feed-{index}", pod="paris")
    first = requests.get(f"{base}paris/changes/", params={"since": 0, "limit": 2}, headers={"Accept": "text/turtle"},
                         timeout=5)
    graph = Graph().parse(data=first.text, format="turtle")
    assert len(list(graph.objects(None, TREE.member))) == 2
    relation = next(r for r in graph.objects(None, TREE.relation) if graph.value(r, TREE.path) == DDS.sequence)
    assert graph.value(relation, RDF.type) == TREE.GreaterThanRelation
    assert graph.value(relation, TREE.value) == Literal(2)
    assert first.links["next"]["url"].startswith(f"{base}paris/changes/?since=2")
    second = requests.get(first.links["next"]["url"], headers={"Accept": "application/ld+json"}, timeout=5).json()
    sequences = [n["sequence"] for n in second["@graph"] if "sequence" in n]
    assert sequences and min(sequences) == 3


def test_the_feed_is_read_only(base):
    response = requests.post(f"{base}paris/changes/", data=b"{}", headers={**JSONLD, **auth("paris")}, timeout=5)
    assert response.status_code == 405
