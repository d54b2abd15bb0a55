"""A civic document, stored or harvested, may describe only itself: its IRI, its fragments, blank nodes."""

from __future__ import annotations

import pyoxigraph as ox

from dds_pod.ldp.resources import foreign_subject

DOC = "https://pod.example/bordeaux/proposals/p1"
NAME = ox.NamedNode("http://schema.org/name")


def foreign(*subjects: ox.NamedNode | ox.BlankNode) -> str | None:
    found = foreign_subject([ox.Triple(subject, NAME, ox.Literal("x")) for subject in subjects], DOC)
    return found.value if isinstance(found, ox.NamedNode) else None


def test_the_document_its_fragments_and_blank_nodes_are_its_own():
    assert foreign(ox.NamedNode(DOC), ox.NamedNode(f"{DOC}#place"), ox.BlankNode()) is None


def test_another_resource_or_a_look_alike_prefix_is_foreign():
    assert foreign(ox.NamedNode(DOC), ox.NamedNode("https://pod.example/paris/p9")) \
        == "https://pod.example/paris/p9"
    assert foreign(ox.NamedNode(f"{DOC}-other")) == f"{DOC}-other"
