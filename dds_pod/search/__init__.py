"""The search index: full-text search and facet counts over every contribution of the merged graph.

A merged view's ``q=``, the public interface's Explore page and Startin'blox's ``search-fields`` read
through :class:`SearchIndex`, never through a scan of the store. Backends are registered by name, as stores
are: ``sqlite`` (SQLite FTS5, embedded, the default) ships with the package; a shared backend for many web
processes is added with :func:`register` without touching any caller.

An index holds one :class:`IndexDocument` per contribution: its texts per language and the fields its
facets count. Documents are built from the merged graph (``search/documents.py``) and kept up to date from
the harvests (``search/updater.py``); the index itself never reads the store.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from ..errors import ConfigError

Sort = Literal["relevance", "newest", "supported", "commented"]
SORTS: tuple[Sort, ...] = ("relevance", "newest", "supported", "commented")
# The facets every backend counts, by the name the query string and the pages use.
FACETS = ("kind", "platform", "space", "topic", "status", "language", "located", "answered", "decided")


@dataclass(frozen=True)
class LocalizedText:
    """The texts of a contribution in one language (``""`` when the platform did not tag it)."""

    language: str
    title: str = ""
    body: str = ""  # content, summary and official answer, as plain text


@dataclass(frozen=True)
class IndexDocument:
    """What the index knows of one contribution; every field is plain data, ready to store."""

    iri: str
    kind: str  # a merged view's name: "proposals", "comments", "budget-projects", ...
    member: str  # the pod (or member) it was harvested from
    platform: str | None = None
    space: str | None = None
    topics: tuple[str, ...] = ()  # topic keys: aligned topics (skos:exactMatch) share one key
    status: str | None = None  # the DDS status's local name: "accepted", "evaluating", ...
    published: str | None = None  # ISO 8601 date-time, UTC
    location: tuple[float, float] | None = None  # latitude, longitude
    place: str | None = None  # the place's name, as the platform wrote it
    answered: bool = False  # has an official answer
    decided: bool = False  # influenced a result or decision
    supports: int = 0
    comments: int = 0
    in_reply_to: str | None = None
    texts: tuple[LocalizedText, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({text.language for text in self.texts if text.language}))


@dataclass(frozen=True)
class Grouping:
    """Named sets of contributions the index does not hold (the analysis's themes), counted and filtered on as one
    more facet, ``facet``. ``version`` names this state of the sets: a backend converts them into its own terms
    once per version (and per state of its documents), not per search."""

    facet: str
    version: str
    members: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)  # value -> contribution IRIs


@dataclass(frozen=True)
class SearchQuery:
    """One search: the text (the reader's words, never index syntax), the facet values that must hold (values
    of one facet are alternatives, facets are all required), and the page wanted."""

    text: str = ""
    fields: frozenset[str] = frozenset()  # "title", "body": where the words are looked for (empty: both)
    exact: bool = False  # the words as one phrase, in their exact forms (Startin'blox's search-method=exact)
    kinds: frozenset[str] = frozenset()
    platforms: frozenset[str] = frozenset()
    spaces: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    located: bool | None = None
    answered: bool | None = None
    decided: bool | None = None
    since: str | None = None  # ISO 8601 date-time, inclusive
    until: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat
    sort: Sort = "relevance"
    limit: int = 20
    offset: int = 0
    reader_language: str | None = None  # stems the text in this language too, and picks snippets
    grouping: Grouping | None = None  # counted as its facet when given
    groups: frozenset[str] = frozenset()  # the grouping's values that must hold (alternatives)


@dataclass(frozen=True)
class Hit:
    iri: str
    score: float = 0.0


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: tuple[Hit, ...]
    # facet name -> (value, count) pairs, most frequent first; each facet is counted with every other
    # facet's filter applied but not its own, so a reader sees what choosing another value would give.
    facets: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)


class SearchIndex(Protocol):
    def upsert(self, documents: Iterable[IndexDocument]) -> None:
        """Add or replace documents, by IRI, in one transaction."""

    def replace(self, documents: Iterable[IndexDocument]) -> None:
        """Replace the whole index by these documents in one transaction (a rebuild)."""

    def remove(self, iris: Iterable[str]) -> None: ...

    def documents(self, iris: Sequence[str]) -> list[IndexDocument]:
        """The stored documents of these IRIs, in their order (those not indexed left out): what a page of
        results shows, without reading the merged graph again. Long bodies come back shortened."""

    def search(self, query: SearchQuery, facets: bool = True) -> SearchResult: ...

    def clear(self) -> None: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SearchSettings:
    backend: str = "sqlite"
    options: Mapping[str, Any] = field(default_factory=dict)


# A backend's two functions, as for stores: read the raw options of its [search] table (given the node's
# data_dir, None for an in-memory node), and open the index from the options read.
ReadOptions = Callable[[Mapping[str, Any], Path | None], Mapping[str, Any]]
Opener = Callable[[Mapping[str, Any]], SearchIndex]


@dataclass(frozen=True)
class Backend:
    read_options: ReadOptions
    open: Opener


_BACKENDS: dict[str, Backend] = {}
_BUILT_IN = {"sqlite": f"{__name__}.sqlite", "postgres": f"{__name__}.postgres"}


def register(name: str, read_options: ReadOptions, opener: Opener) -> None:
    _BACKENDS[name] = Backend(read_options, opener)


def read_settings(raw: Any, data_dir: Path | None) -> SearchSettings:
    """The ``[search]`` table: ``backend`` (default ``sqlite``) and that backend's options."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("search must be a [search] table", field="search")
    options = dict(raw)
    name = options.pop("backend", "sqlite")
    return SearchSettings(name, _backend(name).read_options(options, data_dir))


def open_index(settings: SearchSettings) -> SearchIndex:
    return _backend(settings.backend).open(settings.options)


def _backend(name: Any) -> Backend:
    if isinstance(name, str) and name not in _BACKENDS and name in _BUILT_IN:
        try:
            importlib.import_module(_BUILT_IN[name])
        except ImportError as exc:  # a backend's client library is an optional dependency
            raise ConfigError(f"search.backend = {name!r} needs {exc.name}: pip install 'dds-pod[{name}]'",
                              field="search.backend") from None
    if not isinstance(name, str) or name not in _BACKENDS:
        known = ", ".join(sorted({*_BACKENDS, *_BUILT_IN}))
        raise ConfigError(f"search.backend: unknown search backend {name!r}; known: {known}", field="search.backend")
    return _BACKENDS[name]


def utc_instant(value: str | None) -> str | None:
    """A date-time as every backend stores and compares them: UTC, ``YYYY-MM-DDTHH:MM:SSZ`` (no zone read as UTC),
    so that comparing the strings compares the instants; None for a value that is no date-time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
