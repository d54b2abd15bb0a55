"""A pod's change feed: an append-only Linked Data Event Stream of Create/Update/Delete events.

Every write adds one event to the pod's feed graph in the same transaction as the write
itself, with a sequence number one above the previous event's. The number is the event IRI's
fragment (``{pod}changes/#N``); its ``dds:sequence`` triple is added when the feed is read, not stored
(one index entry fewer per write). Readers (the federation, any LDES client)
page through it with ``?since=N`` and get only what changed after N.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyoxigraph as ox

from .store import Change, Store
from .terms import date_time, integer, named, value_of
from .vocab import AS, DDS, LDES, RDF, RDFS, TREE, XSD

INTERNAL = "urn:dds:internal:"
META_GRAPH = "urn:dds:meta"

KINDS = {"create": AS.Create, "update": AS.Update, "delete": AS.Delete}
KIND_TERMS = {kind: named(term) for kind, term in KINDS.items()}
TYPE, OBJECT, PUBLISHED = named(RDF.type), named(AS.object), named(AS.published)
SEQUENCE, FORMER_TYPE = named(DDS.sequence), named(AS.formerType)
XSD_BOOLEAN = named(XSD.boolean)
RETENTION = "Every event is kept: the feed is never compacted, so a reader may start from its first page at any time."


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
        self.stream = ox.NamedNode(self.url)
        self._known = 0  # a sequence known to exist: probing starts from there
        self._last_time: tuple[int, datetime | None] = (0, None)  # the last event recorded here and its time

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
        time = self._clock(sequence, time)
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

    def _clock(self, sequence: int, time: str) -> str:
        """The time of event ``sequence``: the write's, moved to one millisecond after the previous event's when
        writes come faster (a batch writes many at once), so that ordering by time is ordering by sequence even
        for clients that read times to the millisecond."""
        known, known_time = self._last_time
        previous = known_time if known == sequence - 1 else self._stored_time(sequence - 1)
        moment = _parse(time)
        if previous is not None and moment <= previous:
            moment = previous + timedelta(milliseconds=1)
        self._last_time = (sequence, moment)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _stored_time(self, sequence: int) -> datetime | None:
        if sequence < 1:
            return None
        event = ox.NamedNode(f"{self.url}#{sequence}")
        found = next(iter(self.store.quads(event, PUBLISHED, None, self.url)), None)
        return _parse(value_of(found.object)) if found is not None else None

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

    def page(self, since: int, limit: int, node: str | None, root: str) -> FeedPage:
        """One page of the stream: the events after ``since`` (at most ``limit``) with the stream's description.

        ``node`` is the page's IRI (its URL); None for the stream's own IRI, which lists the first events but is no
        node of the view. ``root`` is the view's root node. A node holding ``limit`` events never changes again: it
        says so (``ldes:immutable``) and links to the next node, even while that one is still empty; the head of
        the stream (``dds:lastSequence``) is only stated where the answer may change.
        """
        read = self._read(since, limit)
        full = len(read) == limit
        immutable = node is not None and full
        triples = self._description(root)
        if not immutable:
            # The head of the stream, so a new reader can walk the pod and then follow changes from here.
            triples.append(ox.Triple(self.stream, named(DDS.lastSequence), integer(self.last_sequence())))
        for event, quads in read:
            triples.append(ox.Triple(self.stream, named(TREE.member), ox.NamedNode(f"{self.url}#{event.sequence}")))
            triples.extend(q.triple for q in quads)
        next_since = since + limit if full else None
        if node is not None:
            subject = ox.NamedNode(node)
            triples.append(ox.Triple(subject, TYPE, named(TREE.Node)))
            if immutable:
                triples.append(ox.Triple(subject, named(LDES.immutable), ox.Literal("true", datatype=XSD_BOOLEAN)))
            if next_since is not None and read:
                triples += _relations(subject, ox.NamedNode(self.page_url(next_since, limit)), read[-1][0])
        return FeedPage(triples, next_since, immutable)

    def page_url(self, since: int, limit: int) -> str:
        return f"{self.url}?since={since}&limit={limit}"

    def _description(self, root: str) -> list[ox.Triple]:
        """What every page says of the stream: its order, its view's root node and the root's retention policy."""
        view, policy = ox.NamedNode(root), ox.NamedNode(f"{self.url}#retention")
        return [
            ox.Triple(self.stream, TYPE, named(LDES.EventStream)),
            ox.Triple(self.stream, named(LDES.timestampPath), PUBLISHED),
            ox.Triple(self.stream, named(LDES.sequencePath), SEQUENCE),
            ox.Triple(self.stream, named(TREE.view), view),
            ox.Triple(view, TYPE, named(TREE.Node)),
            ox.Triple(view, named(LDES.retentionPolicy), policy),
            ox.Triple(policy, TYPE, named(LDES.RetentionPolicy)),
            ox.Triple(policy, named(RDFS.comment), ox.Literal(RETENTION, language="en")),
        ]


@dataclass(frozen=True)
class FeedPage:
    triples: list[ox.Triple]
    next_since: int | None  # the ``since`` of the next page, when this one is full
    immutable: bool


def _relations(node: ox.NamedNode, target: ox.NamedNode, last: Event) -> list[ox.Triple]:
    """The two bounds of the next node, both true of it (clients combine them): its events come after this page's
    last one, in sequence and in time."""
    triples: list[ox.Triple] = []
    for path, value in ((SEQUENCE, integer(last.sequence)), (PUBLISHED, date_time(last.time))):
        relation = ox.BlankNode()
        triples += [
            ox.Triple(node, named(TREE.relation), relation),
            ox.Triple(relation, TYPE, named(TREE.GreaterThanRelation)),
            ox.Triple(relation, named(TREE.node), target),
            ox.Triple(relation, named(TREE.path), path),
            ox.Triple(relation, named(TREE.value), value),
        ]
    return triples


def _parse(time: str) -> datetime:
    moment = datetime.fromisoformat(time)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
