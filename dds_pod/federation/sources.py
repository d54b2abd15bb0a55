"""Where the federation reads a member's resources: over HTTP for remote pods, in process for its own.

Both kinds answer the same three questions: every resource now (a first sync walks the
containers), the events after a sequence number (later syncs read the change feed), and one
resource's current state. A feed whose sequence numbers jump has lost events: reading it raises
:class:`FeedGap`, so that the harvester walks the member again instead of leaving stale copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import pyoxigraph as ox

from ..canonical import by_subject, reachable_in
from ..changes import Event
from ..errors import Gone, NotFound
from ..ldp.resources import Pod
from ..terms import value_of
from ..vocab import AS, DCTERMS, DDS, LDP
from .fetch import AddressPolicy, Fetcher, FetchError

CONTAINS = ox.NamedNode(str(LDP.contains))
# What a pod adds when it serves a resource (its replies and reaction counts) is not the resource's
# state: it changes without a feed event, so copies of it would go stale in the merged graph.
SERVED_EXTRAS = {CONTAINS, ox.NamedNode(str(AS.replies)), ox.NamedNode(str(DDS.reactionCounts))}
SKIPPED_CONTAINERS = ("inbox/",)
TURTLE = {"Accept": "text/turtle"}
MAX_PAGES = 100_000


@dataclass(frozen=True)
class Harvested:
    iri: str
    triples: list[ox.Triple]
    etag: str | None


class Source(Protocol):
    url: str

    @property
    def platform(self) -> str | None:
        """The platform the member speaks for, when known without reading its data."""

    def title(self) -> str | None: ...

    def head(self) -> int | None: ...

    def walk(self) -> Iterator[Harvested]: ...

    def events(self, since: int) -> Iterator[Event]: ...

    def fetch(self, iri: str, etag: str | None = None) -> Harvested | NotModifiedType | None: ...

    def file_bytes(self, iri: str, sha256: str) -> bytes:
        """The bytes of one of the member's files (FetchError when they cannot be read)."""
        ...


class NotModifiedType:
    """The resource still has the ETag the federation holds (a 304 to a conditional request)."""


NOT_MODIFIED = NotModifiedType()


class FeedGap(Exception):
    """A member's change feed skipped sequence numbers: the events in between are lost to the reader."""

    def __init__(self, member: str, expected: int, found: int) -> None:
        super().__init__(f"the change feed jumped from {expected - 1} to {found}")
        self.member, self.expected, self.found = member, expected, found


def member_sources(pods: Iterable[Pod], members: Iterable[str], timeout_s: float,
                   max_bytes: int, policy: AddressPolicy) -> dict[str, Source]:
    """A source per member: this node's pods read in process, every other member over HTTP."""
    sources: dict[str, Source] = {pod.url: LocalSource(pod) for pod in pods}
    remote = [member for member in members if member not in sources]
    fetcher = Fetcher(remote, timeout_s=timeout_s, max_bytes=max_bytes, policy=policy)
    sources.update({url: HttpSource(url, fetcher) for url in remote})
    return sources


def contiguous(member: str, events: Iterable[Event], since: int) -> Iterator[Event]:
    """The events after ``since`` in order; a repeated one is skipped, a missing one raises :class:`FeedGap`."""
    expected = since + 1
    for event in events:
        if event.sequence < expected:
            continue
        if event.sequence > expected:
            raise FeedGap(member, expected, event.sequence)
        expected += 1
        yield event


class LocalSource:
    """One of this node's own pods, read directly (its writes were validated already)."""

    trusted = True

    def __init__(self, pod: Pod) -> None:
        self.pod = pod
        self.url = pod.url
        self.platform = pod.config.platform

    def title(self) -> str | None:
        return self.pod.config.title

    def head(self) -> int:
        return self.pod.feed.last_sequence()

    def walk(self) -> Iterator[Harvested]:
        pending = [self.url]
        while pending:
            container = pending.pop()
            for triple in self.pod.store.triples(container):
                if triple.predicate != CONTAINS:
                    continue
                member = value_of(triple.object)
                if member.endswith("/"):
                    if not member.endswith(SKIPPED_CONTAINERS):
                        pending.append(member)
                elif isinstance(found := self.fetch(member), Harvested):
                    yield found

    def events(self, since: int) -> Iterator[Event]:
        yield from contiguous(self.url, self._pages(since), since)

    def _pages(self, since: int) -> Iterator[Event]:
        while batch := self.pod.feed.events(since, 500):
            yield from batch
            since = batch[-1].sequence

    def fetch(self, iri: str, etag: str | None = None) -> Harvested | NotModifiedType | None:
        """The resource, or None when it is gone or in the pod's free-RDF area (apps' documents, not civic data:
        they stay out of the merged graph)."""
        if self.pod.is_free(iri):
            return None
        try:
            resource = self.pod.get(iri)
        except (NotFound, Gone):
            return None
        if etag is not None and etag == resource.version:
            return NOT_MODIFIED
        return Harvested(iri, resource.triples, resource.version)

    def file_bytes(self, iri: str, sha256: str) -> bytes:
        try:
            with self.pod.blobs.open(sha256) as data:
                return data.read()
        except FileNotFoundError:
            raise FetchError(f"the bytes of {iri} are missing") from None


class HttpSource:
    """A remote pod, read over HTTP through the member-only :class:`Fetcher`."""

    trusted = False
    platform = None

    def __init__(self, url: str, fetcher: Fetcher, page_size: int = 500) -> None:
        self.url = url
        self.fetcher = fetcher
        self.page_size = page_size

    def title(self) -> str | None:
        triples = self._graph(self.fetcher.get(self.url, TURTLE))
        return next((value_of(t.object) for t in triples if t.subject == ox.NamedNode(self.url)
                     and t.predicate.value == str(DCTERMS.title)), None)

    def head(self) -> int | None:
        """The last sequence of the member's change feed, or None for a plain LDP server without one. It is read
        from the stream's own IRI, never cached, which states it (a full page of the feed does not: it never
        changes)."""
        page = self.fetcher.get(f"{self.url}changes/?limit=1", TURTLE)
        if page.status == 404:
            return None
        for triple in self._graph(page):
            if triple.predicate.value == str(DDS.lastSequence):
                return int(value_of(triple.object))
        return None

    def walk(self) -> Iterator[Harvested]:
        """Every resource under the pod, each container and page read once (a member listing itself or
        paging in circles cannot keep the walk going), and nothing outside the pod's URL."""
        pending, containers = [self.url], {self.url}
        seen_pages: set[str] = set()
        while pending:
            page_url: str | None = f"{pending.pop()}?limit={self.page_size}"
            while page_url and page_url not in seen_pages and len(seen_pages) < MAX_PAGES:
                seen_pages.add(page_url)
                page = self.fetcher.get(page_url, TURTLE)
                triples = self._graph(page)
                members = _Page(triples)
                container = ox.NamedNode(page_url.split("?", 1)[0])
                for member in sorted(value_of(t.object) for t in triples
                                     if t.subject == container and t.predicate == CONTAINS):
                    if not self.owns(member):
                        continue
                    if member.endswith("/"):
                        if not member.endswith(SKIPPED_CONTAINERS) and member not in containers:
                            containers.add(member)
                            pending.append(member)
                        continue
                    embedded = members.describe(member)
                    found = Harvested(member, embedded, None) if embedded else self.fetch(member)
                    if isinstance(found, Harvested):
                        yield found
                page_url = page.links.get("next")

    def events(self, since: int) -> Iterator[Event]:
        """The feed's events after ``since``, about the pod's own resources only, in order (the numbering is
        checked before other pods' events are left out, so leaving them out is no gap)."""
        return (e for e in contiguous(self.url, self._pages(since), since) if self.owns(e.iri))

    def _pages(self, since: int) -> Iterator[Event]:
        page_url: str | None = f"{self.url}changes/?since={since}&limit={self.page_size}"
        seen_pages: set[str] = set()
        while page_url and page_url not in seen_pages and len(seen_pages) < MAX_PAGES:
            seen_pages.add(page_url)
            page = self.fetcher.get(page_url, TURTLE)
            yield from _events(self._graph(page))
            page_url = page.links.get("next")

    def owns(self, iri: str) -> bool:
        """A member speaks for its own pod only: other pods' IRIs in its listings or feed are ignored."""
        return self.fetcher.allowed(iri) and iri.startswith(self.url)

    def fetch(self, iri: str, etag: str | None = None) -> Harvested | NotModifiedType | None:
        """The resource now; a conditional request when its ETag is known, so an unchanged one costs no body."""
        page = self.fetcher.get(iri, {**TURTLE, "If-None-Match": etag} if etag else TURTLE)
        if page.status == 304:
            return NOT_MODIFIED
        if page.status in (404, 410):
            return None
        etag = page.headers.get("etag")
        if page.status < 400 and page.media_type != "text/turtle" and self.owns(page.links.get("describedby", "")):
            page = self.fetcher.get(page.links["describedby"], TURTLE)  # a file: what its description says
        triples = self._graph(page)
        return Harvested(iri, describe(triples, iri), etag)

    def file_bytes(self, iri: str, sha256: str) -> bytes:
        """Through the member-only fetcher, so within its size cap and from the member's own pod only."""
        page = self.fetcher.get(iri)
        if page.status >= 400:
            raise FetchError(f"{page.url} answered {page.status}")
        return page.body

    def _graph(self, page) -> list[ox.Triple]:
        if page.status >= 400:
            raise FetchError(f"{page.url} answered {page.status}")
        if page.media_type != "text/turtle":
            raise FetchError(f"{page.url} answered {page.media_type or 'no content type'}, not Turtle")
        try:
            return [ox.Triple(q.subject, q.predicate, q.object)
                    for q in ox.parse(page.body, format=ox.RdfFormat.TURTLE, base_iri=page.url)]
        except (SyntaxError, ValueError) as exc:
            raise FetchError(f"{page.url}: invalid Turtle: {exc}") from None


def describe(triples: list[ox.Triple], iri: str) -> list[ox.Triple]:
    """The triples of one resource in a larger document: its own, its fragments' and its blank nodes'."""
    return _Page(triples).describe(iri)


class _Page:
    """A container page indexed once, so that cutting each of its hundreds of members out of it costs
    the member's own size, not the page's."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self.index = by_subject(triples)
        self.by_resource: dict[str, list[ox.NamedNode]] = {}  # a resource's IRI: it and its #fragments
        for subject in self.index:
            if isinstance(subject, ox.NamedNode):
                self.by_resource.setdefault(subject.value.split("#", 1)[0], []).append(subject)

    def describe(self, iri: str) -> list[ox.Triple]:
        roots = [s for s in self.by_resource.get(iri.split("#", 1)[0], ())
                 if s.value == iri or s.value.startswith(iri + "#")]
        return reachable_in(self.index, roots, SERVED_EXTRAS)


def _events(triples: list[ox.Triple]) -> list[Event]:
    kinds = {"https://www.w3.org/ns/activitystreams#Create": "create",
             "https://www.w3.org/ns/activitystreams#Update": "update",
             "https://www.w3.org/ns/activitystreams#Delete": "delete"}
    fields: dict[object, dict[str, str]] = {}
    for triple in triples:
        fields.setdefault(triple.subject, {})[triple.predicate.value] = value_of(triple.object)
    events = []
    for values in fields.values():
        kind = kinds.get(values.get("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", ""))
        sequence = values.get(str(DDS.sequence))
        target = values.get("https://www.w3.org/ns/activitystreams#object")
        if kind and sequence and target:
            events.append(Event(int(sequence), kind, target, values.get(
                "https://www.w3.org/ns/activitystreams#published", "")))
    return sorted(events, key=lambda e: e.sequence)
