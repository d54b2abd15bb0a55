"""LDP semantics of a pod, without HTTP: containers, members, server-managed triples, versions.

A pod is a tree of resources under ``{base_url}{name}/``. Each resource is one named graph of
the store; containers end with ``/`` and list their members with ``ldp:contains``. Every write
is validated before anything is stored, then committed as one atomic change that also bumps
versions (the ETags), appends an event to the pod's change feed and holds whatever the pod's write
hook stages (the notifications the write owes other pods). Each write is one call: the pod reads
the request body itself, against the IRI the resource gets.
"""

from __future__ import annotations

import hmac
import itertools
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote

import pyoxigraph as ox
from rdflib import URIRef

from .. import bounds, rdfio
from ..canonical import content_hash
from ..changes import INTERNAL, META_GRAPH, ChangeFeed
from ..config import PodConfig
from ..errors import (
    BadDocument,
    ConfigError,
    Conflict,
    DDSError,
    Gone,
    MethodNotAllowed,
    NotFound,
    PreconditionFailed,
    UnsupportedFormat,
)
from ..store import Change, Store
from ..store.blobs import BlobStore, MemoryBlobs
from ..terms import Statement, date_time, named, utc_now, value_of
from ..validation import Report, Validator
from ..vocab import AS, DCTERMS, DDS, LDP, RDF, SERVER_MANAGED
from . import files, merge, reactions
from .batches import read_batch
from .hooks import NoHook, StagedWrite, WriteHook
from .intake import Body, Intake, sanitized
from .naming import name_root, rename
from .patch import apply_n3_patch, apply_sparql_update

PATCH_MEDIA_TYPES = ("application/sparql-update", "text/n3", *merge.MEDIA_TYPES)

VERSION = ox.NamedNode(INTERNAL + "version")
CONTAINER_TYPES_OX = (named(LDP.BasicContainer), named(LDP.Container))
SERVER_MANAGED_OX = frozenset(named(p) for p in SERVER_MANAGED)
TYPE, CONTAINS, PUBLISHED_WITH = named(RDF.type), named(LDP.contains), named(DDS.publishedWith)
CREATED, MODIFIED = named(DCTERMS.created), named(DCTERMS.modified)
RESERVED_PATHS = frozenset({"changes/", "batch"})
# What a write changes even when the publisher's content is the same: left out when telling a real change.
VOLATILE_OX = frozenset(named(p) for p in (DCTERMS.modified, DDS.publishedWith))

# What a member of each initial container is when the client does not say (Startin'blox forms don't).
DEFAULT_CONTAINERS: dict[str, URIRef | None] = {
    "proposals/": DDS.Proposal,
    "comments/": DDS.Comment,
    "reactions/": None,
    "spaces/": DDS.ParticipatorySpace,
    "meetings/": DDS.Meeting,
    "results/": DDS.Result,
    "inbox/": None,
}
SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]+")
_RUN, _WRITES = uuid.uuid4().hex[:16], itertools.count(1)


def _new_run() -> None:
    """A forked process (a gunicorn worker) must not reuse its parent's versions."""
    global _RUN, _WRITES
    _RUN, _WRITES = uuid.uuid4().hex[:16], itertools.count(1)


os.register_at_fork(after_in_child=_new_run)


class BatchRejected(DDSError):
    """An atomic batch with non-conforming documents: nothing was stored."""

    status = 422
    title = "Validation failed"

    def __init__(self, outcome: BatchOutcome) -> None:
        super().__init__(f"{len(outcome.rejected)} document(s) do not conform; nothing was stored")
        self.outcome = outcome


class ValidationFailed(DDSError):
    """A write whose result does not conform to the shapes: nothing was stored."""

    status = 422
    title = "Validation failed"

    def __init__(self, report: Report) -> None:
        super().__init__("the document does not conform to the DDS shapes")
        self.report = report


@dataclass(frozen=True)
class Resource:
    iri: str
    triples: list[ox.Triple]
    version: str

    @property
    def is_container(self) -> bool:
        return self.iri.endswith("/")

    @property
    def subject(self) -> ox.NamedNode:
        return ox.NamedNode(self.iri)


@dataclass(frozen=True)
class Preconditions:
    """The ETag conditions of a request, as versions: ``None`` absent, ``"*"`` any."""

    if_match: tuple[str, ...] | str | None = None
    if_none_match: tuple[str, ...] | str | None = None

    def check(self, current: str | None) -> None:
        if self.if_match is not None and (current is None or not _matches(self.if_match, current)):
            raise PreconditionFailed("If-Match does not match the current version of the resource")
        if self.if_none_match is not None and current is not None and _matches(self.if_none_match, current):
            raise PreconditionFailed("If-None-Match: the resource exists in that version")


def _matches(condition: tuple[str, ...] | str, current: str) -> bool:
    """Whether an ETag condition (versions, or ``"*"``) holds for the current version."""
    return condition == "*" or (isinstance(condition, tuple) and current in _stored(condition))


def _stored(versions: tuple[str, ...]) -> set[str]:
    """The stored versions of versions as :meth:`Pod.view` gives them (``{version}+{reactions}``): reactions
    are not part of a resource's state, so a write conditional on the resource is not on them."""
    return {version.split("+", 1)[0] for version in versions}


@dataclass(frozen=True)
class Search:
    fields: tuple[URIRef, ...]
    terms: str
    method: str = "ibasic"


@dataclass
class BatchOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    rejected: dict[str, Report] = field(default_factory=dict)


@dataclass(frozen=True)
class _Checked:
    """A batch document ready to store, and the state of the resource it was checked against."""

    triples: list[Statement] | None  # None: refused
    previous: Resource | None
    seen_version: str | None  # of whatever the IRI held (a tombstone too)


@dataclass(frozen=True)
class Written:
    resource: Resource
    report: Report
    created: bool


class Pod:
    """One platform's pod: its resources, its credentials' fingerprints and its change feed."""

    def __init__(self, config: PodConfig, base_url: str, store: Store, validator: Validator, intake: Intake,
                 hook: WriteHook | None = None, blobs: BlobStore | None = None) -> None:
        self.config = config
        self.blobs = blobs or MemoryBlobs()
        self.url = config.url(base_url)
        self.store = store
        self.validator = validator
        self.intake = intake
        self.hook = hook or NoHook()
        self.feed = ChangeFeed(store, self.url)
        _check_free_rdf(config)

    def _writing(self) -> AbstractContextManager[object]:
        """The pod's write lock, held from reading what a write checks (If-Match, a free name, the feed's next
        sequence) to its commit: the store's, so that it excludes the writers of every process serving the pod."""
        return self.store.write_lock(self.url)

    def is_free(self, iri: str) -> bool:
        """Whether the resource is in one of the pod's free-RDF containers: any RDF, no DDS type needed (a
        document that claims a DDS class is still held to its shape)."""
        return iri.startswith(self.url) and iri[len(self.url):].startswith(self.config.free_rdf)

    def _deleted(self, iri: str) -> Gone | NotFound:
        """A deleted civic resource is 410 (its tombstone tells harvesters and readers it existed); in a free-RDF
        area it is 404, as generic Solid apps expect of a resource they deleted."""
        return NotFound(f"no resource at {iri} (it was deleted)") if self.is_free(iri) else Gone(f"{iri} was deleted")

    # ----------------------------------------------------------------- reading

    def get(self, iri: str) -> Resource:
        return self._read(iri, self._version(iri))

    def _read(self, iri: str, version: str | None) -> Resource:
        """The resource, given its version read before its triples (a write in between leaves an older ETag,
        never a newer)."""
        triples = self.store.triples(iri)
        if not triples:
            raise NotFound(f"no resource at {iri}")
        if ox.Triple(ox.NamedNode(iri), named(RDF.type), named(AS.Tombstone)) in triples:
            raise self._deleted(iri)
        return Resource(iri, triples, version or "0")

    def view(self, iri: str) -> Resource:
        """The resource as readers see it: a single resource also shows its replies (``as:replies``) and its
        reactions counted per platform (``dds:reactionCounts``), and its version then changes with them."""
        resource = self.get(iri)
        if resource.is_container:
            return resource
        found = reactions.find(self.store, self.url, iri)
        thread = reactions.thread_link(iri)
        if not found:
            return Resource(iri, [*resource.triples, thread], resource.version)
        return Resource(iri, [*resource.triples, *reactions.triples(iri, found), thread],
                        _with_reactions(resource.version, found))

    def replies(self, iri: str) -> tuple[Resource, list[str]]:
        """The resource whose replies container ``iri`` is (``<resource>/replies/``), as :meth:`view` shows it,
        and the IRIs of its replies; 404 when ``iri`` names no such container."""
        target = reactions.thread_target(iri)
        if target is None:
            raise NotFound(f"no resource at {iri}")
        resource = self.view(target)
        replies = sorted(t.object.value for t in resource.triples if t.subject == resource.subject
                         and t.predicate == named(AS.replies) and isinstance(t.object, ox.NamedNode))
        return resource, replies

    def version(self, iri: str) -> str | None:
        return self._version(iri)

    def require_container(self, iri: str) -> None:
        """Check that a live container exists, without reading its (possibly long) list of members."""
        if not self.store.has_graph(iri):
            raise NotFound(f"no resource at {iri}")
        tombstone = ox.Quad(ox.NamedNode(iri), named(RDF.type), named(AS.Tombstone), ox.NamedNode(iri))
        if next(iter(self.store.quads(tombstone.subject, tombstone.predicate, tombstone.object, iri)), None):
            raise self._deleted(iri)
        if not iri.endswith("/"):
            raise MethodNotAllowed(f"{iri} is not a container: POST needs a container")

    def member_page(self, container: str, limit: int, offset: int,
                    search: Search | None = None) -> tuple[list[tuple[str, str]], int]:
        """A page of a container's members as (IRI, version), newest first, and the total count."""
        where = self._members_pattern(container, search)
        count = next(iter(self.store.select(f"SELECT (COUNT(?m) AS ?n) WHERE {{ {where} }}")))["n"]
        rows = self.store.select(
            f"""SELECT ?m ?v WHERE {{ {where}
                  OPTIONAL {{ GRAPH ?m {{ ?m <{DCTERMS.created}> ?created }} }}
                  OPTIONAL {{ GRAPH <{META_GRAPH}> {{ ?m <{VERSION.value}> ?v }} }}
                }} ORDER BY DESC(?created) ?m LIMIT {int(limit)} OFFSET {int(offset)}"""
        )
        return [(row["m"].value, row["v"].value if row["v"] else "0") for row in rows], int(count.value)

    def _members_pattern(self, container: str, search: Search | None) -> str:
        pattern = f"GRAPH <{container}> {{ <{container}> <{LDP.contains}> ?m }}"
        if search is None:
            return pattern
        fields = ", ".join(f"<{f}>" for f in search.fields)
        return pattern + f" FILTER EXISTS {{ GRAPH ?m {{ ?m ?field ?value FILTER(?field IN ({fields})) " \
                         f"FILTER({_match(search)}) }} }}"

    # ----------------------------------------------------------------- writing

    def initialize(self) -> None:
        """Create the root container and the initial containers of a new pod, and the free-RDF containers the
        configuration names that do not exist yet."""
        with self._writing():
            change, now = Change(), utc_now()
            if not self.store.has_graph(self.url):
                self._put_container(change, self.url, self.config.title, now)
                for path in DEFAULT_CONTAINERS:
                    self._put_container(change, self.url + path, path.rstrip("/"), now)
                    change.add.append(_containment(self.url, self.url + path))
            for path in self.config.free_rdf:
                iri = self.url + path
                if iri not in change.new_graphs and not self.store.has_graph(iri):
                    self._put_container(change, iri, path.rstrip("/").rsplit("/", 1)[-1], now)
                    self._add_to_parents(change, iri, now, event=False)
            if change.new_graphs:
                self.store.commit(change)

    def post(self, container: str, body: Body, *, slug: str | None, as_container: bool,
             credential: str) -> Written:
        """POST: add a member to a container. The body is read against the IRI the member would get now, so that
        "<>" names it; if another writer takes that IRI meanwhile, the member gets a fresh one."""
        self.require_container(container)
        proposed = self._new_member_iri(container, slug, as_container)
        triples = self.intake.read_body(body, proposed, self.config.language)
        with self._writing():
            self.require_container(container)
            iri = proposed
            if not self._free(proposed):
                iri = self._new_member_iri(container, slug, as_container)
                triples = rename(triples, ox.NamedNode(proposed), ox.NamedNode(iri))
            return self._write(iri, triples, credential=credential, previous=None)

    def put(self, iri: str, body: Body, *, preconditions: Preconditions, credential: str) -> Written:
        """PUT: replace a resource's state (server-managed triples excepted), or create it. A body without a type
        keeps the stored one (forms send back only their fields), else gets its container's (see :meth:`_write`)."""
        triples = self.intake.read_body(body, iri, self.config.language)
        self._check_path(iri)
        with self._writing():
            previous = self._current(iri)
            preconditions.check(previous.version if previous else None)
            if previous is None:
                self._check_no_twin(iri)
            return self._write(iri, triples, credential=credential, previous=previous)

    def put_file(self, iri: str, upload: files.Upload, *, preconditions: Preconditions, credential: str) -> Written:
        """PUT of a file's bytes: create the file or replace one (never an RDF resource or a container)."""
        self._check_path(iri)
        if iri.endswith("/"):
            raise Conflict(f"{iri} ends with '/': a container cannot be a file")
        with self._writing():
            previous = self._current(iri)
            preconditions.check(previous.version if previous else None)
            if previous is None:
                self._check_no_twin(iri)
            elif not files.is_file(previous.triples, iri):
                raise Conflict(f"{iri} is an RDF resource: a file cannot replace it (delete it first)")
            return self._write_file(iri, upload, previous, credential)

    def post_file(self, container: str, upload: files.Upload, *, slug: str | None, credential: str) -> Written:
        """POST of a file's bytes into a container: a new member, named after the Slug."""
        self.require_container(container)
        with self._writing():
            self.require_container(container)
            return self._write_file(self._new_member_iri(container, slug, False), upload, None, credential)

    def _write_file(self, iri: str, upload: files.Upload, previous: Resource | None, credential: str) -> Written:
        """Keep the bytes and commit their description together (under the blobs' lock, so that no release of
        the same bytes by another write can come in between), then release the bytes it replaced."""
        now, subject = utc_now(), ox.NamedNode(iri)
        stamp = date_time(now)
        triples: list[Statement] = [*files.description(iri, upload),
                                    ox.Triple(subject, CREATED, _created(previous) or stamp),
                                    ox.Triple(subject, MODIFIED, stamp),
                                    ox.Triple(subject, PUBLISHED_WITH, self._credential_iri(credential))]
        change = Change()
        stored = previous is not None or self.store.has_graph(iri)
        with self.blobs.lock:
            self.blobs.keep(upload.staged)
            version = self._stage_write(change, iri, triples, previous, now, stored)
            self._commit(change)
        self._release([files.file_info(previous.triples, iri) if previous else None])
        return Written(Resource(iri, [t.triple if isinstance(t, ox.Quad) else t for t in triples], version),
                       Report(), created=previous is None)

    def _release(self, released: Iterable[files.FileInfo | None]) -> None:
        """Remove the bytes of replaced or deleted files that no description names any more."""
        with self.blobs.lock:
            for info in released:
                if info is not None and not files.referenced(self.store, info.sha256):
                    self.blobs.remove(info.sha256)

    def patch(self, iri: str, body: Body, *, preconditions: Preconditions, credential: str) -> Written:
        """PATCH: compute the new state from the current one (SPARQL Update, N3 Patch or merge patch), then
        write it like a PUT. A missing resource is patched from no triples and created, as the Solid Protocol
        asks, and validated like a PUT that creates it."""
        transform = self._patcher(iri, body)
        self._check_path(iri)
        with self._writing():
            previous = self._current(iri)
            preconditions.check(previous.version if previous else None)
            if previous is None:
                self._check_no_twin(iri)
            return self._write(iri, transform(previous.triples if previous else []), credential=credential,
                               previous=previous)

    def _patcher(self, iri: str, body: Body) -> Callable[[list[ox.Triple]], list[ox.Triple]]:
        """The new state as a function of the current one, from a patch body (read before the lock is taken)."""
        media_type = (body.media_type or "").split(";")[0].strip().lower()
        if media_type == "application/sparql-update":
            update = rdfio.decode_bounded(body.data, "SPARQL update")
            return lambda triples: apply_sparql_update(triples, update, iri)
        if media_type == "text/n3":
            patch = rdfio.decode_bounded(body.data, "N3 Patch", max_bytes=bounds.MAX_N3_BYTES)
            return lambda triples: apply_n3_patch(triples, patch, iri)
        if media_type in merge.MEDIA_TYPES:
            merged = merge.read_merge_patch(self.intake, body.data, iri, body.language, self.config.language)
            return lambda triples: merge.merge_patch(triples, merged, ox.NamedNode(iri))
        raise UnsupportedFormat(f"PATCH accepts {', '.join(PATCH_MEDIA_TYPES)}, not "
                                f"{media_type or '(no Content-Type)'!r}")

    def batch(self, body: Body, *, credential: str) -> BatchOutcome:
        """``POST {pod}batch``: read the batch body (see :mod:`.batches`), then :meth:`write_batch` it."""
        batch = read_batch(self.intake, body, body.language or self.config.language)
        return self.write_batch(batch.documents, batch.deletions, credential=credential, atomic=batch.atomic,
                                dry_run=batch.dry_run)

    def write_batch(self, documents: Sequence[tuple[str, Sequence[Statement]]], deletions: Sequence[str], *,
                    credential: str, atomic: bool = False, dry_run: bool = False) -> BatchOutcome:
        """Create or replace many resources and delete others in ONE transaction (bulk imports).

        Documents are prepared and checked before the pod's lock is taken, against the state they
        would replace, so other writers of the pod wait for a batch's commit only; under the lock, a
        document whose resource changed meanwhile is prepared and checked again. A document identical
        to what is stored is left alone (no new version, no event). Non-conforming documents are
        rejected and reported; the others are written, unless ``atomic``. A ``dry_run`` goes through all of
        it but the commit: its outcome lists the rejected documents, a name clash or a deletion the pod
        refuses raises as it would, and nothing is stored.
        """
        outcome, now = BatchOutcome(), utc_now()
        iris = [iri for iri, _ in documents]
        twice = {iri for iri, count in Counter(iris).items() if count > 1} | (set(iris) & set(deletions))
        if twice:
            raise BadDocument(f"a batch names {sorted(twice)[0]} twice", field="put")
        for iri in iris:
            self._check_batch_member(iri)
        checked = [self._check_document(iri, triples, credential, now, outcome) for iri, triples in documents]
        if atomic and outcome.rejected:
            raise BatchRejected(outcome)
        with self._writing():
            change = Change()
            for (iri, triples), ready in zip(documents, checked, strict=True):
                if self._version(iri) != ready.seen_version:  # written since it was checked
                    ready = self._check_document(iri, triples, credential, now, outcome)
                previous = ready.previous
                if ready.triples is None:
                    continue
                if previous is None:
                    self._check_no_twin(iri, change)
                elif _same_content(previous.triples, ready.triples):
                    outcome.unchanged.append(iri)
                    continue
                self._stage_write(change, iri, ready.triples, previous, now, stored=ready.seen_version is not None)
                (outcome.updated if previous else outcome.created).append(iri)
            if atomic and outcome.rejected:
                raise BatchRejected(outcome)
            released = []
            for iri in dict.fromkeys(deletions):
                previous = self._current(iri)
                if previous is not None:
                    self._check_deletable(previous)
                    released.append(self._stage_delete(change, previous, now))
                    outcome.deleted.append(iri)
            if dry_run:  # staged as it would be written, so every check ran: only the refusals are told
                return BatchOutcome(rejected=outcome.rejected)
            self._commit(change)
        self._release(released)
        return outcome

    def _check_batch_member(self, iri: str) -> None:
        if not iri.startswith(self.url) or iri.endswith("/"):
            raise BadDocument(f"{iri} is not a resource of this pod", field="@id")
        self._check_path(iri)

    def _check_document(self, iri: str, triples: Sequence[Statement], credential: str, now: str,
                        outcome: BatchOutcome) -> _Checked:
        """A batch document prepared against the stored state and screened (refused: reported, no triples)."""
        seen_version = self._version(iri)  # before the state: a write in between shows as a newer version
        previous = self._current(iri, seen_version) if seen_version is not None else None  # stored IRIs have one
        outcome.rejected.pop(iri, None)
        ready = self._prepare(iri, triples, previous, (), credential, now)
        report = self.validator.validate_triples(ready, require_type=self._requires_type(iri), warnings=False)
        if not report.conforms:
            outcome.rejected[iri] = report
        return _Checked(ready if report.conforms else None, previous, seen_version)

    def _stage_write(self, change: Change, iri: str, triples: list[Statement], previous: Resource | None,
                     now: str, stored: bool) -> str:
        """Add a resource's new state to a change: its graph, versions (its own and its container's), an event.
        ``stored``: whether the IRI holds anything yet (a resource or a tombstone)."""
        version = ox.Literal(_new_version())
        if not stored:
            change.add_graph(iri, triples)
            change.add.append(_version_quad(iri, version))
        else:
            change.replace_graph(iri, triples)
            change.set_value(META_GRAPH, ox.NamedNode(iri), VERSION, version)
        if previous is None:
            self._add_to_parents(change, iri, now, event=True)
        self.feed.record(change, "update" if previous else "create", iri, now)
        self.hook.stage(change, StagedWrite(self.url, iri, triples, created=previous is None))
        return version.value

    def delete(self, iri: str, *, preconditions: Preconditions) -> None:
        with self._writing():
            previous = self._current(iri)
            if previous is None:
                raise NotFound(f"no resource at {iri}")
            preconditions.check(previous.version)
            self._check_deletable(previous)
            change = Change()
            released = self._stage_delete(change, previous, utc_now())
            self._commit(change)
        self._release([released])

    def _check_deletable(self, resource: Resource) -> None:
        """Only the pod's own resources, never its root, a server-managed path or a non-empty container."""
        if not resource.iri.startswith(self.url):
            raise BadDocument(f"{resource.iri} is not a resource of this pod", field="@id")
        self._check_path(resource.iri)
        if resource.iri == self.url:
            raise MethodNotAllowed("the root container of a pod cannot be deleted")
        if resource.is_container and any(t.predicate == named(LDP.contains) for t in resource.triples):
            raise Conflict(f"{resource.iri} is not empty: delete its members first")

    def _stage_delete(self, change: Change, previous: Resource, now: str) -> files.FileInfo | None:
        """Replace a resource by its tombstone and take it out of its container; a file's bytes it released."""
        former = _type_of(previous)
        tombstone: list[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]] = [
            (named(RDF.type), named(AS.Tombstone)),
            (named(AS.deleted), date_time(now)),
        ]
        if former:
            tombstone.append((named(AS.formerType), ox.NamedNode(former)))
        change.replace_graph(previous.iri, [ox.Triple(previous.subject, p, o) for p, o in tombstone])
        change.set_value(META_GRAPH, previous.subject, VERSION, ox.Literal(_new_version()))
        parent = _parent(previous.iri)
        change.remove.append(_containment(parent, previous.iri))
        self.feed.record(change, "delete", previous.iri, now, former)
        return files.file_info(previous.triples, previous.iri)

    def add_received(self, iri: str, triples: list[ox.Triple], also: Change) -> bool:
        """Store a member the server writes itself (a notification received in the inbox) with ``also``, atomically.

        The member's IRI is derived from what was received, so a repeated delivery finds it and stores
        only ``also``: returns whether the member is new. Not in the change feed: the feed lists what the
        platform published, and a notification is what another platform said.
        """
        with self._writing():
            fresh = not self.store.has_graph(iri)
            if fresh:
                also.replace_graph(iri, triples)
                also.set_value(META_GRAPH, ox.NamedNode(iri), VERSION, ox.Literal(_new_version()))
                self._add_to_parents(also, iri, utc_now(), event=False)
            self.store.commit(also)
            return fresh

    # ----------------------------------------------------------------- internals

    def _current(self, iri: str, version: str | None = None) -> Resource | None:
        """The live resource, or None (nothing, or a tombstone); ``version``: already read."""
        try:
            return self._read(iri, version) if version is not None else self.get(iri)
        except (NotFound, Gone):
            return None

    def _version(self, iri: str) -> str | None:
        """A resource's version (its ETag). A container's own version changes with its own state and
        with memberships no event records (notifications); its version also carries the pod's last
        event, which every other change of its members comes with: a batch then adds members without
        replacing the container's version, and commits as insertions only."""
        for quad in self.store.quads(ox.NamedNode(iri), VERSION, None, META_GRAPH):
            own = value_of(quad.object)
            return f"{own}.{self.feed.last_sequence()}" if iri.endswith("/") else own
        return None

    def _write(self, iri: str, triples: list[ox.Triple], *, credential: str, previous: Resource | None) -> Written:
        now = utc_now()
        prepared = self._prepare(iri, triples, previous, self._default_types(iri, previous), credential, now)
        report = self.validator.validate_triples(prepared, require_type=self._requires_type(iri))
        if not report.conforms:
            raise ValidationFailed(report)
        change = Change()
        stored = previous is not None or self.store.has_graph(iri)  # a tombstone, when nothing is current
        version = self._stage_write(change, iri, prepared, previous, now, stored)
        self._commit(change)
        if iri.endswith("/"):  # a container's version joins the pod's last event (see _version)
            version = self._version(iri) or version
        elif stored:  # as a reader will see it, with its reactions (only a name stored before can have any)
            version = _with_reactions(version, reactions.find(self.store, self.url, iri))
        return Written(Resource(iri, [t.triple if isinstance(t, ox.Quad) else t for t in prepared], version), report,
                       created=previous is None)

    def _requires_type(self, iri: str) -> bool:
        """Containers and the free-RDF area need no DDS class; every other resource does."""
        return not iri.endswith("/") and not self.is_free(iri)

    def _default_types(self, iri: str, previous: Resource | None) -> list[ox.NamedNode]:
        """The types a document written without any gets: those stored, else its container's member type
        (Startin'blox forms send no type, neither when they create nor when they edit)."""
        stored = [t.object for t in previous.triples if t.subject == previous.subject and t.predicate == TYPE
                  and isinstance(t.object, ox.NamedNode)] if previous is not None else []
        member_type = DEFAULT_CONTAINERS.get(_parent(iri)[len(self.url):])
        return stored or ([named(member_type)] if member_type is not None else [])

    def _commit(self, change: Change) -> None:
        """Store one write whole: the resource, containment, versions, event and what the hook staged."""
        self.store.commit(change)
        self.hook.committed()

    def _prepare(self, iri: str, triples: Sequence[Statement], previous: Resource | None,
                 default_types: Sequence[ox.NamedNode], credential: str, now: str) -> list[Statement]:
        """The triples to store: the client's triples about this resource, plus what the server manages."""
        subject = ox.NamedNode(iri)
        if previous is not None and files.is_file(previous.triples, iri):
            raise Conflict(f"{iri} is a file: replace it with a PUT of its bytes, not with RDF")
        named_triples = name_root(sanitized(triples), subject)  # every write path passes here, patches included
        if not self.is_free(iri):  # a Solid app's document may describe anything; a civic one only itself
            self._check_subjects(named_triples, iri)
        kept = [t for t in named_triples
                if t.predicate != CONTAINS and not (t.subject == subject and t.predicate in SERVER_MANAGED_OX)]
        types = {t.object for t in kept if t.subject == subject and t.predicate == TYPE}
        if iri.endswith("/"):  # a container takes no member type, whatever container it is in
            _check_container_types(types)
            kept += [ox.Triple(subject, TYPE, kind) for kind in CONTAINER_TYPES_OX if kind not in types]
            if previous is not None:
                kept += [t for t in previous.triples if t.predicate == CONTAINS]
        elif types & set(CONTAINER_TYPES_OX):
            raise Conflict(f"{iri} does not end with '/', so it cannot be a container")
        elif not types:
            kept += [ox.Triple(subject, TYPE, kind) for kind in default_types]
        if previous is not None and previous.is_container != iri.endswith("/"):
            raise Conflict("a PUT cannot change a container into a resource or the reverse")
        # What the server adds is made as quads of the resource's graph, which the store then takes as they are.
        stamp = date_time(now)
        kept.append(ox.Quad(subject, CREATED, _created(previous) or stamp, subject))
        kept = self.validator.fill_server_managed(kept, self.config.platform, stamp, graph=subject)
        if not any(t.subject == subject and t.predicate == MODIFIED for t in kept):  # not a managed type
            kept.append(ox.Quad(subject, MODIFIED, stamp, subject))
        kept.append(ox.Quad(subject, PUBLISHED_WITH, self._credential_iri(credential), subject))
        return list(dict.fromkeys(kept))

    def _check_subjects(self, triples: Iterable[Statement], iri: str) -> None:
        foreign = foreign_subject(triples, iri)
        if isinstance(foreign, ox.Triple):
            raise BadDocument(f"a triple term cannot be a subject: a document may only describe {iri}", field="@id")
        if foreign is not None:
            where = "outside this pod" if not foreign.value.startswith(self.url) else "another resource"
            raise BadDocument(f"\"@id\" {foreign.value!r} is {where}: a document may only describe {iri}",
                              field="@id")

    def _new_member_iri(self, container: str, slug: str | None, as_container: bool) -> str:
        base = _clean_slug(slug) if slug else uuid.uuid4().hex[:12]
        suffix = "/" if as_container else ""
        for attempt in range(1000):
            name = base if attempt == 0 else f"{base}-{attempt + 1}"
            iri = f"{container}{name}{suffix}"
            if self._free(iri):
                return iri
        raise Conflict(f"no free name for the slug {slug!r}")

    def _credential_iri(self, credential: str) -> ox.NamedNode:
        return _credential_iri(self.url, self._credential_number(credential))

    def _credential_number(self, credential: str) -> int:
        """Which of the pod's configured tokens wrote (1, 2, ...): it names the credential without any trace
        of the secret, not even a hash that a weak token could be guessed from."""
        for number, token in enumerate(self.config.tokens, 1):
            if hmac.compare_digest(credential.encode(), token.encode()):
                return number
        return 0

    def _free(self, iri: str) -> bool:
        """No resource, container or tombstone has this name (or its twin), and the server does not keep it."""
        return (iri[len(self.url):] not in RESERVED_PATHS and not self.store.has_graph(iri)
                and not self.store.has_graph(_twin(iri)))

    def _check_path(self, iri: str) -> None:
        path = iri[len(self.url):]
        if path in RESERVED_PATHS or path.startswith(tuple(p for p in RESERVED_PATHS if p.endswith("/"))):
            raise MethodNotAllowed(f"{iri} is managed by the server")
        check_path_segments(path)

    def _check_no_twin(self, iri: str, change: Change | None = None) -> None:
        """A resource and a container cannot share a name, stored or created by the same ``change``."""
        if (change is not None and _twin(iri) in change.new_graphs) or self.store.has_graph(_twin(iri)):
            raise Conflict(f"{_twin(iri)} exists: a resource and a container cannot share a name")

    def _add_to_parents(self, change: Change, iri: str, now: str, event: bool) -> None:
        """Add the new resource to its container, creating missing intermediate containers. Without
        an ``event`` in the pod's feed, the container's own version must change (see ``_version``)."""
        child = iri
        while child != self.url:
            parent = _parent(child)
            change.add.append(_containment(parent, child))
            if parent in change.new_graphs:
                return
            if self.store.has_graph(parent):
                if not event:
                    change.set_value(META_GRAPH, ox.NamedNode(parent), VERSION, ox.Literal(_new_version()))
                return
            self._check_no_twin(parent, change)
            self._put_container(change, parent, parent.rstrip("/").rsplit("/", 1)[-1], now)
            child = parent

    def _put_container(self, change: Change, iri: str, title: str, now: str) -> None:
        subject = ox.NamedNode(iri)
        stamp = date_time(now)
        change.add_graph(iri, [
            ox.Triple(subject, named(RDF.type), named(LDP.BasicContainer)),
            ox.Triple(subject, named(RDF.type), named(LDP.Container)),
            ox.Triple(subject, named(DCTERMS.title), ox.Literal(title, language="en")),
            ox.Triple(subject, named(DCTERMS.created), stamp),
            ox.Triple(subject, named(DCTERMS.modified), stamp),
        ])
        change.add.append(_version_quad(iri, ox.Literal(_new_version())))


def foreign_subject(triples: Iterable[Statement], iri: str) -> ox.NamedNode | ox.Triple | None:
    """The first subject of a document other than the document itself, its fragments and blank nodes: what a
    civic document, stored or harvested, may not describe."""
    for triple in triples:
        subject = triple.subject
        if isinstance(subject, ox.BlankNode):
            continue
        if isinstance(subject, ox.Triple) or (subject.value != iri and not subject.value.startswith(iri + "#")):
            return subject
    return None


def _check_free_rdf(config: PodConfig) -> None:
    """A free-RDF container is neither a civic container nor one the server manages, nor inside them."""
    kept = [*DEFAULT_CONTAINERS, *(p for p in RESERVED_PATHS if p.endswith("/"))]
    for path in config.free_rdf:
        clash = next((k for k in kept if path.startswith(k) or k.startswith(path)), None)
        if clash is not None:
            raise ConfigError(f"pods.{config.name}.free_rdf: {path!r} would take {clash!r} out of validation or "
                              "out of the server's hands", field=f"pods.{config.name}.free_rdf")


def check_path_segments(path: str) -> None:
    """Refuse traversal and control characters in a path, raw or percent-encoded."""
    decoded = unquote(unquote(path))
    segments = decoded.split("/")
    if "\x00" in decoded or any(seg in (".", "..") for seg in segments) or "\\" in decoded \
            or any(ord(c) < 32 for c in decoded):
        raise BadDocument(f"path {path!r} contains '.', '..', a backslash or a control character", field="path")


def _clean_slug(slug: str) -> str:
    decoded = unquote(slug).strip()
    if "/" in decoded or "\x00" in decoded or decoded in (".", "..") or ".." in decoded or "\\" in decoded:
        raise BadDocument(f"Slug {slug!r} contains '/', '..', a backslash or NUL", field="Slug")
    cleaned = SLUG_UNSAFE.sub("-", decoded).strip("-.")[:100]
    return cleaned or uuid.uuid4().hex[:12]


def _same_content(stored: Sequence[Statement], triples: Sequence[Statement]) -> bool:
    """Whether a write would change nothing but the volatile triples. Literals are compared as written
    first, and by value only if that differs (the store may keep another form of the same date)."""
    old = [t for t in stored if t.predicate not in VOLATILE_OX]
    new = [t for t in triples if t.predicate not in VOLATILE_OX]
    return content_hash(old) == content_hash(new) or content_hash(old, by_value=True) == content_hash(
        new, by_value=True)


def _check_container_types(types: set) -> None:
    others = [t for t in types if t not in CONTAINER_TYPES_OX and t not in (named(LDP.RDFSource), named(LDP.Resource))]
    if others:
        raise Conflict(f"a container cannot take the type {others[0].value}: it would stop being a container")


def _match(search: Search) -> str:
    if search.method == "exact":
        return f"STR(?value) = {_literal(search.terms)}"
    words = search.terms.split() or [""]
    if search.method == "basic":
        return " && ".join(f"CONTAINS(STR(?value), {_literal(w)})" for w in words)
    return " && ".join(f"CONTAINS(LCASE(STR(?value)), LCASE({_literal(w)}))" for w in words)


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def _created(previous: Resource | None) -> ox.Literal | None:
    if previous is None:
        return None
    for triple in previous.triples:
        if triple.subject == previous.subject and triple.predicate == CREATED and isinstance(triple.object, ox.Literal):
            return triple.object
    return None


def _type_of(resource: Resource) -> str | None:
    types = sorted(value_of(t.object) for t in resource.triples
                   if t.subject == resource.subject and t.predicate == named(RDF.type))
    dds_types = [t for t in types if t.startswith(str(DDS))]
    return next(iter(dds_types or types), None)


@lru_cache(maxsize=256)
def _credential_iri(pod_url: str, number: int) -> ox.NamedNode:
    return ox.NamedNode(f"{pod_url}#credential-{number}")


def _version_quad(iri: str, version: ox.Literal) -> ox.Quad:
    """The version of a resource that has none yet (set_value replaces an existing one)."""
    return ox.Quad(ox.NamedNode(iri), VERSION, version, ox.NamedNode(META_GRAPH))


def _containment(container: str, member: str) -> ox.Quad:
    return ox.Quad(ox.NamedNode(container), named(LDP.contains), ox.NamedNode(member), ox.NamedNode(container))


def _parent(iri: str) -> str:
    trimmed = iri[:-1] if iri.endswith("/") else iri
    return trimmed.rsplit("/", 1)[0] + "/"


def _twin(iri: str) -> str:
    return iri[:-1] if iri.endswith("/") else iri + "/"


def _with_reactions(version: str, found: list[reactions.Reaction]) -> str:
    """A single resource's version as readers see it: it changes with the reactions it shows."""
    return f"{version}+{reactions.digest(found)}" if found else version


def _new_version() -> str:
    """A version no other write of any process has: the process's random prefix and a counter (``next``
    on an ``itertools.count`` is atomic), much cheaper than a uuid4 per write."""
    return f"{_RUN}{next(_WRITES):x}"
