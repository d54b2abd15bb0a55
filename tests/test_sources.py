"""Cutting each member out of a container page, as a harvest does."""

from __future__ import annotations

import pyoxigraph as ox

from dds_pod.federation.sources import describe

POD = "http://127.0.0.1:8001/p/"
TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
LOCATION = ox.NamedNode("https://www.w3.org/ns/activitystreams#location")
NAME = ox.NamedNode("https://www.w3.org/ns/activitystreams#name")


def _page() -> tuple[list[ox.Triple], dict[str, set[ox.Triple]]]:
    expected: dict[str, set[ox.Triple]] = {}
    triples: list[ox.Triple] = []
    for index in range(50):
        iri = f"{POD}proposals/m{index}"
        member, fragment, place = ox.NamedNode(iri), ox.NamedNode(f"{iri}#answer"), ox.BlankNode()
        own = {ox.Triple(member, TITLE, ox.Literal(f"M{index}", language="fr")),
               ox.Triple(member, LOCATION, place), ox.Triple(place, NAME, ox.Literal(f"Place {index}")),
               ox.Triple(fragment, TITLE, ox.Literal("Réponse", language="fr"))}
        expected[iri] = own
        triples.extend(own)
    # m1 and m10 share a prefix: only the exact IRI and its fragments belong to m1.
    return triples, expected


def test_each_member_gets_its_own_triples_fragments_and_blank_nodes_only():
    triples, expected = _page()
    for iri, own in expected.items():
        assert set(describe(triples, iri)) == own


def test_a_member_absent_from_the_page_gets_nothing():
    triples, _ = _page()
    assert describe(triples, f"{POD}proposals/absent") == []
