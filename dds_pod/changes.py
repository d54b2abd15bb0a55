"""A pod's change feed: an append-only Linked Data Event Stream of Create/Update/Delete events.

Every write adds one event to the pod's feed graph in the same transaction as the write
itself, with a sequence number one above the previous event's. The number is the event IRI's
fragment (``{pod}changes/#N``); its ``dds:sequence`` triple is added when the feed is read, not stored
(one index entry fewer per write). Readers (the federation, any LDES client)
page through it with ``?since=N`` and get only what changed after N.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from .store import Change, Store
from .terms import date_time, integer, named, value_of
from .vocab import AS, DDS, LDES, RDF, TREE

INTERNAL = "urn:dds:internal:"
META_GRAPH = "urn:dds:meta"

KINDS = {"create": AS.Create, "update": AS.Update, "delete": AS.Delete}
KIND_TERMS = {kind: named(term) for kind, term in KINDS.items()}
TYPE, OBJECT, PUBLISHED = named(RDF.type), named(AS.object), named(AS.published)
SEQUENCE, FORMER_TYPE = named(DDS.sequence), named(AS.formerType)


@dataclass(frozen=True)
class Event:
    sequence: int
    kind: str
    iri: str
    time: str


class ChangeFeed:
    """The feed of one pod, at ``{pod}changes/``."""

    def __init__(self, store: Store, pod_url: str) -> None:
        self.store = store
        self.pod_url = pod_url
        self.url = f"{pod_url}changes/"
        self._known = 0  # a sequence known to exist: probing starts from there

    def last_sequence(self) -> int:
        """The newest event's sequence, without a stored counter that every write would replace.

        Events are numbered 1, 2, ... without gaps (a change commits all its events or none) and
        are never removed, so the first missing number ends the feed: it is found by probing event
        IRIs in doubling steps from the last sequence known, then halving ones, a few look-ups.
        """
        low, high = self._known, self._known + 1
        while self._exists(high):
            low, high = high, high + 2 * (high - low)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if self._exists(middle) else (low, middle)
        self._known = max(self._known, low)
        return low

    def _exists(self, sequence: int) -> bool:
        event = ox.NamedNode(f"{self.url}#{sequence}")
        return next(iter(self.store.quads(event, TYPE, None, self.url)), None) is not None

    def record(self, change: Change, kind: str, iri: str, time: str, former_type: str | None = None) -> int:
        """Add the event of a write to ``change``; call under the pod's write lock."""
        sequence = (change.counters.get(self.url) or self.last_sequence()) + 1
        change.counters[self.url] = sequence
        event = ox.NamedNode(f"{self.url}#{sequence}")
        triples: list[tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal]] = [
            (event, TYPE, KIND_TERMS[kind]),
            (event, OBJECT, ox.NamedNode(iri)),
            (event, PUBLISHED, date_time(time)),
        ]
        if former_type:
            triples.append((event, FORMER_TYPE, ox.NamedNode(former_type)))
        graph = ox.NamedNode(self.url)
        change.add.extend(ox.Quad(s, p, o, graph) for s, p, o in triples)
        return sequence

    def events(self, since: int, limit: int) -> list[Event]:
        """The events after ``since``, at most ``limit``."""
        return [event for event, _ in self._read(since, limit)]

    def _read(self, since: int, limit: int) -> list[tuple[Event, list[ox.Quad]]]:
        """The events after ``since`` with their quads, read by their IRIs: numbered without gaps, they need
        no scan of the feed, however long it is."""
        names = {term.value: kind for kind, term in KIND_TERMS.items()}
        found = []
        graph = ox.NamedNode(self.url)
        for sequence in range(max(since, 0) + 1, min(self.last_sequence(), since + limit) + 1):
            subject = ox.NamedNode(f"{self.url}#{sequence}")
            quads = list(self.store.quads(subject, None, None, self.url))
            values = {q.predicate: q.object for q in quads}
            if SEQUENCE not in values:  # stored by earlier versions only
                quads.append(ox.Quad(subject, SEQUENCE, integer(sequence), graph))
            event = Event(sequence, names[value_of(values[TYPE])], value_of(values[OBJECT]),
                          value_of(values[PUBLISHED]))
            found.append((event, quads))
        return found

    def page(self, since: int, limit: int) -> tuple[list[ox.Triple], int | None]:
        """The triples of one page of the stream, and the ``since`` of the next page if there is one."""
        read = self._read(since, limit + 1)
        more = len(read) > limit
        read = read[:limit]
        stream = ox.NamedNode(self.url)
        view = ox.NamedNode(f"{self.url}?since={since}")
        triples = [
            ox.Triple(stream, named(RDF.type), named(LDES.EventStream)),
            ox.Triple(stream, named(LDES.timestampPath), named(AS.published)),
            ox.Triple(stream, named(LDES.versionOfPath), named(AS.object)),
            ox.Triple(stream, named(TREE.view), view),
            # The head of the stream, so a new reader can walk the pod and then follow changes from here.
            ox.Triple(stream, named(DDS.lastSequence), integer(self.last_sequence())),
            ox.Triple(view, named(RDF.type), named(TREE.Node)),
        ]
        for event, quads in read:
            triples.append(ox.Triple(stream, named(TREE.member), ox.NamedNode(f"{self.url}#{event.sequence}")))
            triples.extend(q.triple for q in quads)
        next_since = read[-1][0].sequence if more and read else None
        if next_since is not None:
            relation = ox.BlankNode()
            next_view = ox.NamedNode(f"{self.url}?since={next_since}")
            triples += [
                ox.Triple(view, named(TREE.relation), relation),
                ox.Triple(relation, named(RDF.type), named(TREE.GreaterThanRelation)),
                ox.Triple(relation, named(TREE.node), next_view),
                ox.Triple(relation, named(TREE.path), named(DDS.sequence)),
                ox.Triple(relation, named(TREE.value), integer(next_since)),
            ]
        return triples, next_since
