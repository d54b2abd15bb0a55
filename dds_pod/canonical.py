"""Content hashes of resources: equal for the same triples whatever their blank node labels."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyoxigraph as ox


def content_hash(triples: Iterable[ox.Triple]) -> str:
    """SHA-256 of the canonical N-Triples of a resource (blank nodes relabelled with RDFC-1.0)."""
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    lines = sorted(f"{q.subject} {q.predicate} {q.object} ." for q in dataset)
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
