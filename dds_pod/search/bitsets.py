"""Facet counts from bitsets: for every value of every facet, one Python integer whose bit *i* is set when the
document of id *i* holds that value.

Counting a facet under the reader's filters is then an ``&`` and a ``bit_count()`` per value, a few microseconds
over 100 000 documents, where nine ``GROUP BY`` passes over the matched rows cost hundreds of milliseconds. The
bitsets are loaded from the index's tables once per generation of the index (every write bumps it) and shared by
the threads of a process (with PostgreSQL, each process loads its own from the shared index). What cannot be a
bitset beforehand is asked of the database and turned into one: the words
once per generation (kept, most recent first, for the pages and facet changes that follow a search), the dates
and the bounding box once per search.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import FACETS, Grouping

Counts = tuple[tuple[str, int], ...]
GROUPED = "grouping"  # the key of a query's grouping among the chosen facets (its counts are named by the grouping)


class Connection(Protocol):
    """What the bitsets need of a database connection: sqlite3's and psycopg's both run a statement this way."""

    def execute(self, sql: Any, /) -> Any: ...

# Facets whose values are a column of ``docs``; flags hold "true" / "false"; linked facets have their own table.
VALUE_COLUMNS = {"kind": "kind", "platform": "platform", "space": "space", "status": "status",
                 # buckets of the ranges, never counted: the month published, the degree of latitude and longitude
                 "month": "substr(published, 1, 7)", "lat": "CAST(lat + 1000 AS INTEGER) - 1000",
                 "lon": "CAST(lon + 1000 AS INTEGER) - 1000"}
FLAG_COLUMNS = {"located": "lat IS NOT NULL", "answered": "answered", "decided": "decided"}
LINKED_TABLES = {"topic": ("doc_topics", "topic"), "language": ("doc_languages", "language")}



@dataclass(frozen=True)
class Source:
    """Where a backend's tables hold the values the bitsets are made of: the table of the one-valued fields (with
    an ``id`` column), the SQL of each facet's value in it, and per linked facet a query of (value, document) rows
    with the name of its document column (a filter on it reads only the documents changed)."""

    table: str = "docs"
    values: Mapping[str, str] = field(default_factory=lambda: VALUE_COLUMNS)
    flags: Mapping[str, str] = field(default_factory=lambda: FLAG_COLUMNS)
    linked: Mapping[str, tuple[str, str]] = field(default_factory=lambda: {
        name: (f"SELECT {column}, doc FROM {table}", "doc") for name, (table, column) in LINKED_TABLES.items()})


SQLITE = Source()
KEPT_MATCHES = 64  # searches by words kept per generation
KEPT_WEIGHT = 2_000_000  # and the documents they hold, at most (about 32 MB)


class WordMatch:
    """The documents some words match: their bitset, and their ids ranked by relevance once a page asks (in
    arrays: 16 bytes a document)."""

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.order: array[int] | None = None
        self.scores: array[float] = array("d")

    def rank(self, scored: list[tuple[int, float]]) -> None:
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        self.scores = array("d", (score for _, score in scored))
        self.order = array("q", (doc for doc, _ in scored))

    def page(self, matched: int, offset: int, limit: int) -> list[tuple[int, float]]:
        """The ranked documents that are among ``matched``, from the ``offset``-th, ``limit`` of them at most, with
        their scores (once ranked)."""
        found = members(matched)
        page: list[tuple[int, float]] = []
        seen = 0
        for doc, score in zip(self.order or (), self.scores, strict=True):
            if found(doc):
                if seen >= offset:
                    page.append((doc, score))
                    if len(page) >= limit:
                        break
                seen += 1
        return page

    @property
    def weight(self) -> int:
        """Roughly what it holds in memory, in documents."""
        return len(self.order or ()) + self.bits.bit_length() // 64


class WordMatches:
    """The word matches of one generation, the least recently asked forgotten first."""

    def __init__(self, size: int = KEPT_MATCHES, weight: int = KEPT_WEIGHT) -> None:
        self._size = size
        self._weight = weight
        self._kept: OrderedDict[str, WordMatch] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, expression: str, load: Callable[[], WordMatch]) -> WordMatch:
        with self._lock:
            found = self._kept.get(expression)
            if found is not None:
                self._kept.move_to_end(expression)
                return found
        found = load()
        with self._lock:
            self._kept[expression] = found
            while len(self._kept) > self._size or (
                    len(self._kept) > 1 and sum(match.weight for match in self._kept.values()) > self._weight):
                self._kept.popitem(last=False)
        return found


def bitset(ids: list[int]) -> int:
    """The integer whose bits are these ids."""
    if not ids:
        return 0
    bits = bytearray((max(ids) >> 3) + 1)
    for doc in ids:
        bits[doc >> 3] |= 1 << (doc & 7)
    return int.from_bytes(bits, "little")


@dataclass(frozen=True)
class FacetBitsets:
    """The bitsets of one generation of the index."""

    generation: int
    everything: int
    values: Mapping[str, Mapping[str, int]]  # facet -> value -> bitset
    words: WordMatches = field(default_factory=WordMatches, compare=False)

    @classmethod
    def load(cls, connection: Connection, generation: int, source: Source = SQLITE) -> FacetBitsets:
        """Read in the caller's transaction, so the bitsets and ``generation`` describe one snapshot."""
        everything, ids = _read(connection, None, source)
        return cls(generation, bitset(everything),
                   {name: {value: bitset(docs) for value, docs in by_value.items()} for name, by_value in ids.items()})

    def patched(self, connection: Connection, generation: int, changed: str,
                source: Source = SQLITE) -> FacetBitsets:
        """These bitsets with the documents of the ``changed`` query (ids) read again: those removed drop out."""
        stale = bitset([doc for (doc,) in connection.execute(changed)])
        present, ids = _read(connection, changed, source)
        values: dict[str, dict[str, int]] = {}
        for name, by_value in self.values.items():
            fresh = {value: bitset(docs) for value, docs in ids[name].items()}
            kept = {value: bits & ~stale for value, bits in by_value.items()}
            merged = {value: kept.get(value, 0) | fresh.get(value, 0) for value in {*kept, *fresh}}
            values[name] = {value: bits for value, bits in merged.items() if bits}
        return FacetBitsets(generation, (self.everything & ~stale) | bitset(present), values)

    def having(self, name: str, values: Iterable[str]) -> int:
        """The documents holding any of these values of a facet."""
        found = 0
        for value in values:
            found |= self.values[name].get(value, 0)
        return found

    def ranged(self, since: str | None, until: str | None,
               bbox: tuple[float, float, float, float] | None) -> tuple[int, int]:
        """The documents surely within the dates and box, and those that may be (their bucket straddles an edge:
        to be checked one by one)."""
        surely, maybe = self.everything, self.everything
        if since or until:
            low, high = since or "", until or "\uffff"
            surely &= self._buckets("month", lambda month: low <= f"{month}-01T00:00:00Z"
                                    and f"{month}-31T23:59:59Z" <= high)
            maybe &= self._buckets("month", lambda month: f"{month}-01T00:00:00Z" <= high
                                   and low <= f"{month}-31T23:59:59Z")
        if bbox:
            west, south, east, north = bbox
            for name, start, end in (("lat", south, north), ("lon", west, east)):
                surely &= self._buckets(name, _degrees_inside(start, end))
                maybe &= self._buckets(name, _degrees_touching(start, end))
        return surely, maybe

    def _buckets(self, name: str, chosen: Callable[[str], bool]) -> int:
        found = 0
        for value, bits in self.values[name].items():
            if chosen(value):
                found |= bits
        return found

    def counts(self, name: str, among: int, most: int) -> Counts:
        """The ``most`` most frequent values of a facet among these documents, with their counts."""
        return value_counts(self.values[name], among, most)


@dataclass(frozen=True)
class GroupBitsets:
    """A grouping's sets (the analysis's themes) as bitsets of one generation's document ids. After a write, the
    documents changed are looked up again by id (ids outlive upserts), not the whole index."""

    generation: int
    version: str
    values: Mapping[str, int]  # grouping value -> bitset
    member_of: Mapping[str, tuple[str, ...]]  # contribution IRI -> the values holding it

    @classmethod
    def load(cls, connection: Connection, generation: int, grouping: Grouping) -> GroupBitsets:
        member_of: dict[str, list[str]] = {}
        for value, iris in grouping.members.items():
            for iri in iris:
                member_of.setdefault(iri, []).append(value)
        found: dict[str, list[int]] = {value: [] for value in grouping.members}
        for doc, iri in connection.execute("SELECT id, iri FROM docs"):
            for value in member_of.get(iri, ()):
                found[value].append(doc)
        return cls(generation, grouping.version, {value: bitset(docs) for value, docs in found.items()},
                   {iri: tuple(values) for iri, values in member_of.items()})

    def patched(self, connection: Connection, generation: int, changed: str) -> GroupBitsets:
        """These bitsets with the documents of the ``changed`` query (ids) read again."""
        stale = bitset([doc for (doc,) in connection.execute(changed)])
        fresh: dict[str, list[int]] = {}
        for doc, iri in connection.execute(f"SELECT id, iri FROM docs WHERE id IN ({changed})"):
            for value in self.member_of.get(iri, ()):
                fresh.setdefault(value, []).append(doc)
        values = {value: (bits & ~stale) | bitset(fresh.get(value, [])) for value, bits in self.values.items()}
        return GroupBitsets(generation, self.version, values, self.member_of)


class GroupCache:
    """A process's bitsets of the latest grouping: made once per grouping version (one pass over the documents'
    IRIs), then patched with the documents each write changed, as the facets are. Both backends keep one; their
    ``generation`` and ``changes`` tables have the same shape."""

    def __init__(self) -> None:
        self._kept: GroupBitsets | None = None
        self._lock = threading.Lock()

    def values(self, connection: Connection, generation: int, grouping: Grouping) -> Mapping[str, int]:
        with self._lock:
            kept = self._kept
            if kept is not None and kept.version == grouping.version and kept.generation == generation:
                return kept.values
            logged_since = connection.execute("SELECT logged_since FROM generation").fetchone()[0]
            if (kept is None or kept.version != grouping.version or kept.generation < logged_since
                    or kept.generation > generation):
                kept = GroupBitsets.load(connection, generation, grouping)
            else:
                kept = kept.patched(connection, generation, "SELECT DISTINCT doc FROM changes "
                                    f"WHERE generation > {int(kept.generation)}")
            self._kept = kept
        return kept.values


def counted(bitsets: FacetBitsets, base: int, chosen: Mapping[str, int], most: int,
            grouping: tuple[str, Mapping[str, int]] | None = None,
            facets: bool = True) -> tuple[int, dict[str, Counts]]:
    """The documents of ``base`` holding every ``chosen`` facet's values (each a bitset; a grouping's under the
    key ``GROUPED``), and each facet's counts under every choice but its own: choosing another value of it would
    give these. ``grouping`` is the grouping's facet name and its values' bitsets, counted as that facet."""
    counts: dict[str, Counts] = {}
    for name in (*FACETS, *([GROUPED] if grouping is not None else [])) if facets else ():
        among = base
        for other, bits in chosen.items():
            if other != name:
                among &= bits
        if name == GROUPED and grouping is not None:
            counts[grouping[0]] = value_counts(grouping[1], among, most)
        else:
            counts[name] = bitsets.counts(name, among, most)
    matched = base
    for bits in chosen.values():
        matched &= bits
    return matched, counts


def value_counts(values: Mapping[str, int], among: int, most: int) -> Counts:
    """The ``most`` most frequent of these values (each a bitset) among the documents of ``among``."""
    counted = [(value, n) for value, bits in values.items() if (n := (bits & among).bit_count())]
    counted.sort(key=lambda pair: (-pair[1], pair[0]))
    return tuple(counted[:most])


def union(bitsets: Iterable[int]) -> int:
    found = 0
    for bits in bitsets:
        found |= bits
    return found


def ids(bits: int) -> list[int]:
    """The ids of a bitset, in order."""
    found: list[int] = []
    for index, byte in enumerate(bits.to_bytes((bits.bit_length() + 7) // 8, "little")):
        if byte:
            found.extend((index << 3) + bit for bit in range(8) if byte >> bit & 1)
    return found


def members(bits: int) -> Callable[[int], bool]:
    """A test of membership in a bitset, for walking many ids (a shift of a large integer per id would copy it)."""
    flags = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    size = len(flags)
    return lambda doc: (doc >> 3) < size and bool(flags[doc >> 3] >> (doc & 7) & 1)


def _degrees_inside(start: float, end: float) -> Callable[[str], bool]:
    """Whether a degree's band [d, d + 1) lies wholly within [start, end]."""
    return lambda degree: start <= int(degree) and int(degree) + 1 <= end


def _degrees_touching(start: float, end: float) -> Callable[[str], bool]:
    return lambda degree: int(degree) <= end and start < int(degree) + 1


def _read(connection: Connection, docs: str | None,
          source: Source) -> tuple[list[int], dict[str, dict[str, list[int]]]]:
    """The documents of the ``docs`` query (ids; None: all) that are indexed, and their ids by facet and value."""
    where = f"WHERE id IN ({docs})" if docs else ""
    names = [*source.values, *source.flags]
    columns = ", ".join([*source.values.values(), *source.flags.values()])
    ids: dict[str, dict[str, list[int]]] = {name: {} for name in [*names, *source.linked]}
    present: list[int] = []
    for doc, *fields in connection.execute(f"SELECT id, {columns} FROM {source.table} {where}"):
        present.append(doc)
        for name, value in zip(names, fields, strict=True):
            if name in source.flags:
                value = "true" if value else "false"
            if value is not None:
                ids[name].setdefault(str(value), []).append(doc)
    for name, (pairs, doc_column) in source.linked.items():
        for value, doc in connection.execute(pairs + (f" WHERE {doc_column} IN ({docs})" if docs else "")):
            ids[name].setdefault(value, []).append(doc)
    return present, ids
