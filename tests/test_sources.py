"""Cutting each member out of a container page, as a harvest does; checking a change feed's numbering."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from dds_pod.changes import Event
from dds_pod.federation.sources import FeedGap, contiguous, describe

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


def _events(*sequences: int) -> list[Event]:
    return [Event(n, "update", f"{POD}proposals/m{n}", "2025-04-01T10:00:00Z") for n in sequences]


def test_a_feed_numbered_without_gaps_is_read_whole_and_repeats_are_dropped():
    read = contiguous(POD, _events(3, 4, 4, 5), since=2)
    assert [event.sequence for event in read] == [3, 4, 5]


def test_a_jump_in_the_numbering_stops_the_reading_at_the_gap():
    read = contiguous(POD, _events(3, 4, 6, 7), since=2)
    assert [next(read).sequence, next(read).sequence] == [3, 4]
    with pytest.raises(FeedGap, match="jumped from 4 to 6") as raised:
        next(read)
    assert (raised.value.member, raised.value.expected, raised.value.found) == (POD, 5, 6)


def test_events_missing_right_after_the_last_one_applied_are_a_gap():
    with pytest.raises(FeedGap, match="jumped from 2 to 4"):
        list(contiguous(POD, _events(4, 5), since=2))
