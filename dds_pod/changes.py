"""A pod's change feed: an append-only Linked Data Event Stream of Create/Update/Delete events.

Every write adds one event to the pod's feed graph in the same transaction as the write
itself, with a strictly increasing sequence number. Readers (the federation, any LDES client)
page through it with ``?since=N`` and get only what changed after N.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from .store import Change, Store
from .vocab import AS, DDS, LDES, RDF, TREE, XSD

INTERNAL = "urn:dds:internal:"
META_GRAPH = "urn:dds:meta"
LAST_SEQUENCE = ox.NamedNode(INTERNAL + "lastSequence")

KINDS = {"create": AS.Create, "update": AS.Update, "delete": AS.Delete}


def _n(term) -> ox.NamedNode:
    return ox.NamedNode(str(term))


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

    def last_sequence(self) -> int:
        for quad in self.store.quads(_n(self.pod_url), LAST_SEQUENCE, None, META_GRAPH):
            return int(quad.object.value)
        return 0

    def record(self, change: Change, kind: str, iri: str, time: str, former_type: str | None = None) -> int:
        """Add the event of a write to ``change``; call under the pod's write lock."""
        sequence = change.counters.get(self.url, self.last_sequence()) + 1
        change.counters[self.url] = sequence
        event = ox.NamedNode(f"{self.url}#{sequence}")
        graph = ox.NamedNode(self.url)
        triples = [
            (event, _n(RDF.type), _n(KINDS[kind])),
            (event, _n(AS.object), ox.NamedNode(iri)),
            (event, _n(AS.published), ox.Literal(time, datatype=_n(XSD.dateTime))),
            (event, _n(DDS.sequence), ox.Literal(str(sequence), datatype=_n(XSD.integer))),
        ]
        if former_type:
            triples.append((event, _n(AS.formerType), ox.NamedNode(former_type)))
        change.add.extend(ox.Quad(s, p, o, graph) for s, p, o in triples)
        counter = ox.Literal(str(sequence), datatype=_n(XSD.integer))
        change.set_value(META_GRAPH, _n(self.pod_url), LAST_SEQUENCE, counter)
        return sequence

    def events(self, since: int, limit: int) -> list[Event]:
        query = f"""
            SELECT ?event ?kind ?object ?time ?seq WHERE {{
              GRAPH <{self.url}> {{
                ?event a ?kind ; <{AS.object}> ?object ; <{AS.published}> ?time ; <{DDS.sequence}> ?seq .
              }}
              FILTER(?seq > {int(since)})
            }} ORDER BY ?seq LIMIT {int(limit)}"""
        names = {str(v): k for k, v in KINDS.items()}
        return [
            Event(int(row["seq"].value), names[row["kind"].value], row["object"].value, row["time"].value)
            for row in self.store.query(query)
        ]

    def page(self, since: int, limit: int) -> tuple[list[ox.Triple], int | None]:
        """The triples of one page of the stream, and the ``since`` of the next page if there is one."""
        events = self.events(since, limit + 1)
        more = len(events) > limit
        events = events[:limit]
        stream = ox.NamedNode(self.url)
        view = ox.NamedNode(f"{self.url}?since={since}")
        triples = [
            ox.Triple(stream, _n(RDF.type), _n(LDES.EventStream)),
            ox.Triple(stream, _n(LDES.timestampPath), _n(AS.published)),
            ox.Triple(stream, _n(LDES.versionOfPath), _n(AS.object)),
            ox.Triple(stream, _n(TREE.view), view),
            # The head of the stream, so a new reader can walk the pod and then follow changes from here.
            ox.Triple(stream, _n(DDS.lastSequence), ox.Literal(str(self.last_sequence()), datatype=_n(XSD.integer))),
            ox.Triple(view, _n(RDF.type), _n(TREE.Node)),
        ]
        for item in events:
            event = ox.NamedNode(f"{self.url}#{item.sequence}")
            triples.append(ox.Triple(stream, _n(TREE.member), event))
            triples.extend(ox.Triple(q.subject, q.predicate, q.object) for q in self.store.quads(event, graph=self.url))
        next_since = events[-1].sequence if more and events else None
        if next_since is not None:
            relation = ox.BlankNode()
            next_view = ox.NamedNode(f"{self.url}?since={next_since}")
            triples += [
                ox.Triple(view, _n(TREE.relation), relation),
                ox.Triple(relation, _n(RDF.type), _n(TREE.GreaterThanRelation)),
                ox.Triple(relation, _n(TREE.node), next_view),
                ox.Triple(relation, _n(TREE.path), _n(DDS.sequence)),
                ox.Triple(relation, _n(TREE.value), ox.Literal(str(next_since), datatype=_n(XSD.integer))),
            ]
        return triples, next_since
