"""The read model's entry point for the web layer: one :class:`Portal` per node.

The home page reads the whole merged graph (counts per platform, topics, spaces), so its summary is kept per
version of the merged graph and reader language: a harvest that changes something gives a new version, and the
next reader gets fresh figures.

The analysis's views read the latest published analysis (``analysis``, cached by its source): its lookups are
indexed once per analysis object and shared by every reader.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..analysis import Analysis
from ..federation.merged import MergedGraph
from ..ldp.reactions import Reaction
from . import overview
from .analysis import AnalysisViews, Links, Lookup
from .contribution import Contribution, contribution
from .labels import Labeller
from .reading import MachineReader
from .reads import PortalReads

ReceivedReactions = Callable[[str], list[Reaction]]  # reactions a local pod's inbox accepted for an IRI
AnalysisSource = Callable[[], Analysis | None]  # the latest published analysis; None when never analysed


class Portal:
    def __init__(self, merged: MergedGraph, received: ReceivedReactions, analysis: AnalysisSource | None = None,
                 links: Links | None = None) -> None:
        self.reads = PortalReads(merged)
        self.received = received
        self.analysis, self.links = analysis, links
        self.reading = MachineReader(self.reads)
        self._lookup: Lookup | None = None
        self._lookup_lock = threading.Lock()  # apart from the other caches': building a lookup takes seconds
        self._lock = threading.Lock()
        self._platforms: tuple[int, dict] = (-1, {})
        self._homes: dict[tuple[int, str], overview.Home] = {}

    def labeller(self, reader: str) -> Labeller:
        version = self.reads.version
        with self._lock:
            if self._platforms[0] != version:
                self._platforms = (version, self.reads.platform_names())
            names = self._platforms[1]
        return Labeller(self.reads, reader, names)

    def home(self, reader: str) -> overview.Home:
        key = (self.reads.version, reader)
        with self._lock:
            cached = self._homes.get(key)
        if cached is not None:
            return cached
        built = overview.home(self.reads, self.labeller(reader))
        with self._lock:
            self._homes = {k: v for k, v in self._homes.items() if k[0] == key[0]}
            self._homes[key] = built
        return built

    def platform(self, iri: str, reader: str) -> overview.Holdings | None:
        return overview.platform_holdings(self.reads, self.labeller(reader), iri)

    def space(self, iri: str, reader: str) -> overview.Holdings | None:
        return overview.space_holdings(self.reads, self.labeller(reader), iri)

    def contribution(self, iri: str, reader: str) -> Contribution | None:
        return contribution(self.reads, self.labeller(reader), iri, self.received(iri))

    def analysed(self, reader: str) -> AnalysisViews | None:
        """The views of the latest analysis for a reader, or None when the node never analysed its data."""
        analysis = self.analysis() if self.analysis is not None else None
        if analysis is None or self.links is None:
            return None
        with self._lookup_lock:
            lookup = self._lookup
            if lookup is None or lookup.analysis is not analysis:
                lookup = self._lookup = Lookup(analysis)
        return AnalysisViews(lookup, self.reads, self.labeller(reader), self.links)

    def resource(self, iri: str) -> list:
        """The contribution's statements as harvested, for its JSON-LD and Turtle copies."""
        return self.reads.resource(iri)
