"""Content hashes of resources: equal for the same triples whatever their blank node labels."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import Literal


def content_hash(triples: Iterable[ox.Triple], by_value: bool = False) -> str:
    """SHA-256 of the canonical N-Triples of a resource (blank nodes relabelled with RDFC-1.0).

    ``by_value`` compares typed literals by value, so that ``2025-04-03T10:02:11.000+02:00`` and the
    store's canonical ``2025-04-03T10:02:11+02:00`` count as the same date.
    """
    if by_value:
        triples = (ox.Triple(t.subject, t.predicate, _canonical(t.object)) for t in triples)
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    lines = sorted(f"{q.subject} {q.predicate} {q.object} ." for q in dataset)
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _canonical(term):
    if not isinstance(term, ox.Literal) or term.language or term.datatype.value == _STRING:
        return term
    literal = Literal(term.value, datatype=term.datatype.value, normalize=True)
    return ox.Literal(str(literal), datatype=term.datatype)


_STRING = "http://www.w3.org/2001/XMLSchema#string"
