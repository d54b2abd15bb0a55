"""A member's document may describe only itself (its IRI, its fragments, blank nodes) in the merged graph."""

from __future__ import annotations

import pyoxigraph as ox

from dds_pod.federation.harvester import _foreign_subject
from dds_pod.federation.sources import Harvested

DOC = "https://pod.example/bordeaux/proposals/p1"
NAME = ox.NamedNode("http://schema.org/name")


def harvested(*subjects: ox.NamedNode | ox.BlankNode) -> Harvested:
    return Harvested(DOC, [ox.Triple(subject, NAME, ox.Literal("x")) for subject in subjects], None)


def test_the_document_its_fragments_and_blank_nodes_are_its_own():
    assert _foreign_subject(harvested(ox.NamedNode(DOC), ox.NamedNode(f"{DOC}#place"), ox.BlankNode())) is None


def test_another_resource_or_a_look_alike_prefix_is_foreign():
    assert _foreign_subject(harvested(ox.NamedNode(DOC), ox.NamedNode("https://pod.example/paris/p9"))) \
        == "https://pod.example/paris/p9"
    assert _foreign_subject(harvested(ox.NamedNode(f"{DOC}-other"))) == f"{DOC}-other"
