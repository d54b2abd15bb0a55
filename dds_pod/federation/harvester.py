"""Harvesting member pods into the merged graph, with provenance.

A first sync walks a member's containers; later syncs apply only the events of its change feed
after the last sequence number applied. Each resource replaces its named graph (the pod's own
IRI: IRIs are never rewritten), its inferred graph and its provenance record in one atomic
change, so a repeated or interrupted sync never duplicates anything. Resources from other nodes
are validated with the same shapes first; a non-conforming one is kept out and reported in the
member's status. A member that fails (down, slow, garbage, too large) keeps its last good data
and its failure shows in the catalogue, without stopping the other members. A member whose feed
skips sequence numbers has lost events: its containers are walked again, as on a first sync, and
its status says so (``partial``, with the gap in ``dds:syncMessage``).

The harvester writes the merged store through the read model (:class:`MergedGraph`), which also
answers the few reads it needs (stored hashes and ETags, the last sequence applied).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..canonical import content_hash
from ..changes import Event
from ..errors import StoreUnavailable
from ..ldp import files
from ..ldp.resources import foreign_subject
from ..store import Change
from ..store.blobs import BlobStore, MemoryBlobs
from ..terms import ObjectTerm, date_time, integer, named, utc_now
from ..validation import Validator
from ..vocab import DCAT, DCTERMS, DDS, PROV, RDF
from .alignment import Aligner, default_aligner
from .fetch import FetchError
from .merged import MergedGraph
from .sources import FeedGap, Harvested, NotModifiedType, Source

log = logging.getLogger(__name__)
BATCH = 200


@dataclass
class SyncReport:
    member: str
    status: str = "ok"
    mode: str = "incremental"
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    rejected: dict[str, str] = field(default_factory=dict)
    gap: str | None = None
    error: str | None = None

    def summary(self) -> str:
        text = (f"{self.member}: {self.status} ({self.mode}) — {self.updated} updated, {self.deleted} deleted, "
                f"{self.unchanged} unchanged, {len(self.rejected)} rejected")
        return text + "".join(f"; {label}: {value}" for label, value in (("gap", self.gap), ("error", self.error))
                              if value)


class Harvester:
    """Syncs every member of a node's federation into its merged store."""

    def __init__(self, merged: MergedGraph, validator: Validator, sources: dict[str, Source],
                 aligner: Aligner | None = None, blobs: BlobStore | None = None, copies_url: str = "") -> None:
        self.merged = merged
        self.blobs = blobs or MemoryBlobs()  # the copies of members' files, served at copies_url + their hash
        self.copies_url = copies_url
        self._released: set[str] = set()  # hashes of copies whose description was replaced or removed
        self.graphs = merged.graphs
        self.validator = validator
        self.sources = sources
        self.aligner = aligner or default_aligner()
        self._lock = threading.Lock()

    def sync_all(self, progress: Callable[[str, int], None] | None = None) -> list[SyncReport]:
        with self._lock:
            return [self._sync(url, source, progress) for url, source in self.sources.items()]

    # ------------------------------------------------------------------ one member

    def _sync(self, url: str, source: Source, progress: Callable[[str, int], None] | None) -> SyncReport:
        report = SyncReport(url)
        last = self.merged.last_sequence(url)
        try:
            head = source.head()
            if last is None or head is None or head < last:
                # First sync, a member without a change feed, or one whose feed restarted (a pod
                # rebuilt from scratch): walk everything and drop what it no longer has.
                report.mode = "full"
                self._apply_all(source, source.walk(), report, progress, final_sequence=head)
            else:
                self._apply_events_or_walk(source, last, head, report, progress)
            title = source.title()
        except FetchError as exc:
            report.status, report.error, title = "failed", str(exc), None
            log.warning("harvest of %s failed: %s", url, exc)
        except StoreUnavailable as exc:  # a store of this node (a local member's, the merged graph's) is down
            report.status, report.error, title = "failed", exc.message, None
            log.warning("harvest of %s failed: %s", url, exc.message)
        except Exception as exc:  # a member answering something unforeseen must not stop the others
            report.status, report.error, title = "failed", f"{type(exc).__name__}: {exc}", None
            log.exception("harvest of %s failed", url)
        if report.status == "ok" and (report.rejected or report.gap):
            report.status = "partial"
        self._record_status(url, report, title)
        self._collect_copies()
        return report

    def _collect_copies(self) -> None:
        """Remove the copies of files that no description of the merged graph names any more (only the harvester
        writes copies, and it runs one sync at a time: none is being added meanwhile)."""
        with self.blobs.lock:
            for sha256 in self._released:
                if not files.referenced(self.merged.store, sha256):
                    self.blobs.remove(sha256)
        self._released.clear()

    def _release(self, iri: str) -> None:
        """Note the copy a stored description names, before the description is replaced or removed."""
        stored = files.file_info(self.merged.resource_triples(iri), iri)
        if stored is not None:
            self._released.add(stored.sha256)

    def _apply_all(self, source: Source, resources: Iterable[Harvested], report: SyncReport,
                   progress, final_sequence: int | None) -> None:
        """A full walk; afterwards, what the member no longer has is removed from the merged graph.

        Members without a change feed (plain LDP servers) are walked like this on every sync.
        """
        change, seen = Change(), set()
        for count, harvested in enumerate(resources, 1):
            seen.add(harvested.iri)
            self._apply(source, harvested, change, report)
            if count % self.batch_size == 0:
                self.merged.commit(change)
                change = Change()
                if progress:
                    progress(source.url, count)
        for gone in self.merged.harvested_from(source.url) - seen:
            self._remove(gone, change)
            report.deleted += 1
        if final_sequence is not None:
            self._set_sequence(change, source.url, final_sequence)
        self.merged.commit(change)

    def _apply_events_or_walk(self, source: Source, since: int, head: int, report: SyncReport, progress) -> None:
        """Follow the feed; if it skips sequence numbers, what the lost events changed is unknown, so walk the
        member again (from the head read before the walk: events after it are applied next time)."""
        try:
            self._apply_events(source, since, report, progress)
        except FeedGap as gap:
            log.warning("change feed of %s: %s; walking its containers again", source.url, gap)
            report.mode, report.gap = "full", f"{gap}: the containers were walked again"
            self._apply_all(source, source.walk(), report, progress, final_sequence=head)

    def _apply_events(self, source: Source, since: int, report: SyncReport, progress) -> None:
        """Apply the feed in batches; within a batch only a resource's last event counts, so a resource
        changed ten times is fetched once and its graph written once."""
        batch: list[Event] = []
        for event in source.events(since):
            batch.append(event)
            if len(batch) >= self.batch_size:
                self._apply_batch(source, batch, report)
                batch = []
                if progress:
                    progress(source.url, report.updated + report.deleted)
        if batch:
            self._apply_batch(source, batch, report)

    @property
    def batch_size(self) -> int:
        """The resources committed in one update: BATCH, or fewer where the store's engine limits an update."""
        return min(BATCH, self.merged.store.resources_per_update or BATCH)

    def _apply_batch(self, source: Source, events: list[Event], report: SyncReport) -> None:
        change = Change()
        last = {event.iri: event for event in events}
        for event in last.values():
            harvested = None
            if event.kind != "delete":
                harvested = source.fetch(event.iri, self.merged.stored_etag(event.iri))
            if isinstance(harvested, NotModifiedType):
                report.unchanged += 1
            elif harvested is None:
                self._remove(event.iri, change)
                report.deleted += 1
            else:
                self._apply(source, harvested, change, report)
        self._set_sequence(change, source.url, max(event.sequence for event in events))
        self.merged.commit(change)

    def _apply(self, source: Source, harvested: Harvested, change: Change, report: SyncReport) -> None:
        digest = content_hash(harvested.triples)
        if self.merged.stored_hash(harvested.iri) == digest:
            report.unchanged += 1
            return
        inferred = self.aligner.infer(harvested.triples)
        info = files.file_info(harvested.triples, harvested.iri)
        if info is not None or not getattr(source, "trusted", False):
            # A file's description is the server's own (no shape applies to it); its bytes must match it.
            problem = self._copy(source, harvested.iri, info) if info else self._validation_problem(harvested, inferred)
            if problem:
                report.rejected[harvested.iri] = problem
                self._remove(harvested.iri, change)
                return
        self._release(harvested.iri)
        change.replace_graph(harvested.iri, harvested.triples)
        change.replace_graph(self.graphs.inferred(harvested.iri), inferred)
        self._write_provenance(change, source, harvested, digest)
        if info is not None:
            copy = ox.NamedNode(self.copies_url + info.sha256)
            change.add.append(ox.Quad(self.graphs.record(harvested.iri), named(DDS.storedCopy), copy,
                                      ox.NamedNode(self.graphs.provenance)))
        report.updated += 1

    def _copy(self, source: Source, iri: str, info: files.FileInfo) -> str | None:
        """Keep a copy of a member's file, read with the member-only fetcher and its size cap; why not, if not."""
        try:
            data = source.file_bytes(iri, info.sha256)
        except FetchError as exc:
            return f"its bytes could not be read: {exc}"
        staged = self.blobs.stage([data], len(data))
        if staged.sha256 != info.sha256:
            staged.discard()
            return "its bytes do not have the SHA-256 its description states"
        with self.blobs.lock:
            self.blobs.keep(staged)
        return None

    def _validation_problem(self, harvested: Harvested, inferred: list[ox.Triple]) -> str | None:
        foreign = foreign_subject(harvested.triples, harvested.iri)
        if foreign is not None:
            return f"it describes {foreign}: a harvested document may only describe itself"
        report = self.validator.validate_triples([*harvested.triples, *inferred], warnings=False)
        if report.conforms:
            return None
        return "; ".join(f"{r.field}: {r.message('en')}" for r in report.results if r.blocking)

    def _remove(self, iri: str, change: Change) -> None:
        self._release(iri)
        change.drop_graphs.update((iri, self.graphs.inferred(iri)))
        change.clear_subjects.append((self.graphs.record(iri), self.graphs.provenance))

    # ------------------------------------------------------------------ provenance and status

    def _write_provenance(self, change: Change, source: Source, harvested: Harvested, digest: str) -> None:
        record = self.graphs.record(harvested.iri)
        graph = ox.NamedNode(self.graphs.provenance)
        change.clear_subjects.append((record, self.graphs.provenance))
        platform = next((t.object for t in harvested.triples if t.predicate.value == str(DDS.sourcePlatform)), None)
        values: list[tuple[ox.NamedNode, ObjectTerm]] = [
            (named(RDF.type), named(PROV.Entity)),
            (named(PROV.wasDerivedFrom), ox.NamedNode(harvested.iri)),
            (named(PROV.hadPrimarySource), ox.NamedNode(source.url)),
            (named(PROV.generatedAtTime), date_time(utc_now())),
            (named(DDS.contentHash), ox.Literal(digest)),
        ]
        if platform is not None:
            values.append((named(DDS.sourcePlatform), platform))
        if harvested.etag:
            values.append((named(DDS.etag), ox.Literal(harvested.etag)))
        change.add.extend(ox.Quad(record, p, o, graph) for p, o in values)

    def _set_sequence(self, change: Change, member: str, sequence: int) -> None:
        change.set_value(self.graphs.members, ox.NamedNode(member), named(DDS.lastSequence),
                         integer(sequence))

    def _record_status(self, member: str, report: SyncReport, title: str | None) -> None:
        subject, graph = ox.NamedNode(member), ox.NamedNode(self.graphs.members)
        change = Change()
        keep = {str(DDS.lastSequence)}
        if report.status == "failed":  # the last good title and sync time stay visible
            keep |= {str(DCTERMS.title), str(DDS.lastSync)}
        for triple in self.merged.member_statements(member):
            if triple.predicate.value not in keep:
                change.remove.append(ox.Quad(triple.subject, triple.predicate, triple.object, graph))
        values: list[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]] = [
            (named(RDF.type), named(DCAT.DataService)),
            (named(RDF.type), named(DDS.Pod)),
            (named(DCAT.endpointURL), subject),
            (named(DDS.syncStatus), ox.Literal(report.status)),
        ]
        if report.status != "failed":
            values.append((named(DDS.lastSync), date_time(utc_now())))
        if title and report.status != "failed":
            values.append((named(DCTERMS.title), ox.Literal(title)))
        values += [(named(DDS.syncMessage), ox.Literal(text)) for text in (report.error, report.gap) if text]
        values += [(named(DDS.syncMessage), ox.Literal(f"{iri} kept out: {why}"))
                   for iri, why in report.rejected.items()]
        platform = self.sources[member].platform or self.merged.platform_seen_from(member)
        if platform:
            values.append((named(DDS.sourcePlatform), ox.NamedNode(platform)))
        change.add.extend(ox.Quad(subject, p, o, graph) for p, o in values)
        self.merged.commit(change)


class BackgroundSync:
    """Runs ``sync_all`` every ``interval_s`` in a daemon thread (started by ``dds-pod serve``)."""

    def __init__(self, harvester: Harvester, interval_s: float) -> None:
        self.harvester = harvester
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dds-harvest", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for report in self.harvester.sync_all():
                    log.info("%s", report.summary())
            except StoreUnavailable as exc:  # the engine is down: the next round tries again
                log.warning("harvest round skipped: %s", exc.message)
            except Exception:  # a bug in one round must not end background syncing
                log.exception("harvest round failed")
            self._stop.wait(self.interval_s)



