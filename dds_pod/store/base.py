"""The storage interface: named graphs of RDF terms, changed atomically.

One named graph holds one resource. A :class:`Change` gathers everything a single request
writes (the resource, its container's containment triple, metadata, a change-feed event) so
that the store applies all of it or nothing.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..terms import Statement


@dataclass
class Change:
    """A set of writes applied in one transaction, in this order: drops, removals, insertions.

    ``clear_subjects`` removes every triple of a subject in a graph (a record rewritten whole).
    """

    drop_graphs: set[str] = field(default_factory=set)
    remove: list[ox.Quad] = field(default_factory=list)
    remove_values: list[tuple[ox.NamedNode, ox.NamedNode, str]] = field(default_factory=list)
    clear_subjects: list[tuple[ox.NamedNode, str]] = field(default_factory=list)
    add: list[ox.Quad] = field(default_factory=list)
    # Counters (such as a change feed's sequence) advanced by this change but not yet committed.
    counters: dict[str, int] = field(default_factory=dict)
    values: dict[tuple, ox.Quad] = field(default_factory=dict)
    new_graphs: set[str] = field(default_factory=set)  # graphs this change creates

    def replace_graph(self, graph: str, statements: Iterable[Statement]) -> None:
        self.drop_graphs.add(graph)
        self._add_statements(graph, statements)

    def add_graph(self, graph: str, statements: Iterable[Statement]) -> None:
        """Add a graph known not to exist yet: unlike :meth:`replace_graph`, nothing to drop first."""
        self.new_graphs.add(graph)
        self._add_statements(graph, statements)

    def _add_statements(self, graph: str, statements: Iterable[Statement]) -> None:
        name = ox.NamedNode(graph)
        self.add.extend(s if isinstance(s, ox.Quad) and s.graph_name == name
                        else ox.Quad(s.subject, s.predicate, s.object, name) for s in statements)

    @property
    def insert_only(self) -> bool:
        """Whether this change only adds quads (a store may then take a faster road)."""
        return not (self.drop_graphs or self.remove or self.remove_values or self.clear_subjects)

    def set_value(self, graph: str, subject: ox.NamedNode, predicate: ox.NamedNode, value) -> None:
        """Replace every value of (subject, predicate) in a graph by one value; set twice, the last wins."""
        key = (subject, predicate, graph)
        if key not in self.values:
            self.remove_values.append(key)
        self.values[key] = ox.Quad(subject, predicate, value, ox.NamedNode(graph))

    def insertions(self) -> list[ox.Quad]:
        """Everything this change adds: its quads and the last value set for each key."""
        return [*self.add, *self.values.values()]


class Store(ABC):
    """What the pods and the federation need from a quad store."""

    # Whether queries are evaluated by another process (a SPARQL engine) that bounds their time itself: the
    # public endpoint then has no local evaluation to confine in a network-less child, which could not reach it.
    evaluates_elsewhere = False
    # The most resources one update may carry (an engine's limit on the size of a request), None for no limit:
    # the harvester then commits a member's changes in batches of at most this many, each still one transaction.
    resources_per_update: int | None = None

    @abstractmethod
    def triples(self, graph: str) -> list[ox.Triple]:
        """All triples of a named graph (empty when the graph does not exist)."""

    @abstractmethod
    def has_graph(self, graph: str) -> bool:
        """Whether a named graph holds at least one triple (without reading it)."""

    @abstractmethod
    def quads(self, subject=None, predicate=None, obj=None, graph: str | None = None) -> Iterable[ox.Quad]:
        """Quads matching a pattern (None matches anything)."""

    @abstractmethod
    def commit(self, change: Change) -> None:
        """Apply a change atomically and durably: once this returns, the change survives a crash."""

    @abstractmethod
    def query(self, sparql: str, *, union_default_graph: bool = True, default_graph: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None,
              base_iri: str | None = None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a SPARQL 1.1 query.

        ``default_graph`` (the graphs merged into the default graph) and ``named_graphs`` replace the
        query's FROM / FROM NAMED, and ``default_graph`` replaces the union; ``base_iri`` resolves
        relative IRIs in the query.
        """

    def write_lock(self, name: str) -> AbstractContextManager[object]:
        """The lock a writer holds from reading what it checks (a version an If-Match names, the next sequence of a
        change feed) until its change is committed, so that no other writer of ``name`` comes in between.

        One process owns an embedded store: a lock of that process is enough. A store that several processes
        write (a remote engine) must exclude the writers of the other processes too."""
        locks: dict[str, threading.Lock] = self.__dict__.setdefault("_write_locks", {})
        return locks.setdefault(name, threading.Lock())

    def bounded(self, timeout_s: float, max_bytes: int) -> Store:
        """This store, for queries whose answer must come within ``timeout_s`` and ``max_bytes`` (the public
        endpoint's). An embedded store evaluates in the caller's process, where the sandbox running the query bounds
        both: itself. A store that evaluates elsewhere bounds what it waits for and reads of the engine."""
        return self

    def select(self, sparql: str) -> Iterable[ox.QuerySolution]:
        """The rows of a SELECT query over the union of the graphs: :meth:`query` for callers that read rows."""
        results = self.query(sparql)
        if isinstance(results, ox.QueryBoolean | ox.QueryTriples):
            raise TypeError(f"not a SELECT query: {sparql}")
        return results

    def close(self) -> None:  # noqa: B027  (optional for stores without resources to release)
        """Release the store's resources."""
