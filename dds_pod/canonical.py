"""Resources as sets of triples: their content hash, and the part of a document that belongs to them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import Literal

from .terms import Statement


def content_hash(triples: Iterable[Statement], by_value: bool = False) -> str:
    """SHA-256 of the canonical N-Triples of a resource (blank nodes relabelled with RDFC-1.0).

    ``by_value`` compares typed literals by value, so that ``2025-04-03T10:02:11.000+02:00`` and the
    store's canonical ``2025-04-03T10:02:11+02:00`` count as the same date.
    """
    statements = [(t.subject, t.predicate, _canonical(t.object) if by_value else t.object) for t in triples]
    if all(isinstance(s, ox.NamedNode) and isinstance(o, ox.NamedNode | ox.Literal) for s, _, o in statements):
        # Without blank nodes (nor triple terms, which may hold some) the sorted lines are canonical already:
        # what RDFC-1.0 would give, much cheaper.
        return _digest({f"{s} {p} {o} ." for s, p, o in statements})
    dataset = ox.Dataset(ox.Quad(s, p, o) for s, p, o in statements)
    blank = {q.subject for q in dataset if isinstance(q.subject, ox.BlankNode)}
    if len(blank) <= MAX_CANONICAL_BLANK_NODES:
        # RDFC-1.0 can take exponential time on adversarial blank-node graphs; beyond the bound the hash
        # depends on labels, so such a resource merely counts as changed on every comparison.
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return _digest({f"{q.subject} {q.predicate} {q.object} ." for q in dataset})


def _digest(lines: set[str]) -> str:
    return "sha256:" + hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()


def reachable(triples: Iterable[ox.Triple], roots: Iterable, skip: frozenset | set = frozenset()) -> list[ox.Triple]:
    """The triples of ``roots`` and of the blank nodes they lead to (not following ``skip`` predicates).

    This is how one resource is cut out of a larger document: a container page embedding its
    members, or a catalogue record with its distributions.
    """
    return reachable_in(by_subject(triples), roots, skip)


def by_subject(triples: Iterable[ox.Triple]) -> dict[object, list[ox.Triple]]:
    """Triples grouped by subject: index a document once to cut many resources out of it."""
    index: dict[object, list[ox.Triple]] = {}
    for triple in triples:
        index.setdefault(triple.subject, []).append(triple)
    return index


def reachable_in(index: dict[object, list[ox.Triple]], roots: Iterable,
                 skip: frozenset | set = frozenset()) -> list[ox.Triple]:
    """:func:`reachable` over a document indexed by :func:`by_subject`."""
    result, seen, stack = [], set(), list(roots)
    while stack:
        subject = stack.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for triple in index.get(subject, ()):
            if triple.predicate in skip:
                continue
            result.append(triple)
            if isinstance(triple.object, ox.BlankNode):
                stack.append(triple.object)
    return result


def _canonical(term):
    if not isinstance(term, ox.Literal) or term.language or term.datatype.value == _STRING:
        return term
    literal = Literal(term.value, datatype=term.datatype.value, normalize=True)
    return ox.Literal(str(literal), datatype=term.datatype)


_STRING = "http://www.w3.org/2001/XMLSchema#string"
MAX_CANONICAL_BLANK_NODES = 64
