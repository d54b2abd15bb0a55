"""The Linked Data Notifications a pod receives: other pods announcing reactions to its resources.

The :class:`Inbox` takes an activity from anyone (LDN senders are servers, not publishers) and
trusts none of it. Answering a POST costs only what needs no other server: the activity is read,
its actor must be a member pod, its object must lie in that pod and its target must be a resource
of this one. The notification then waits, persisted in the store (graph ``urn:dds:inbox``) in the
commit that answers 202, until one of a fixed number of worker threads verifies it: the reaction
is fetched from its own IRI, validated against the shapes and must really answer the target. Only
then is the notification stored in ``inbox/`` (under an IRI derived from what was received, so a
repeated delivery is stored once) and the reaction indexed for its target. A flood of
notifications therefore waits in a bounded queue (limited per member pod and in total) instead
of holding the server's threads while slow members are read.

Each notification has a status resource saying whether it is pending, accepted, or refused and
why. A reaction is counted for the platform of the member pod it was fetched from, never for the
platform its document names: a document claiming another platform is refused.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

import pyoxigraph as ox
from rdflib import Graph, URIRef

from .. import jsonld, rdfio
from ..changes import INTERNAL
from ..errors import BadDocument, DDSError, Forbidden, Gone, NotFound, Unprocessable
from ..ldp import reactions
from ..ldp.reactions import Reaction
from ..ldp.resources import Pod, ValidationFailed
from ..store import Change, Store
from ..terms import date_time, integer, named, utc_now, value_of
from ..validation import Report, Validator
from ..vocab import AS, DCTERMS, DDS, RDF
from .fetch import Fetcher, FetchError
from .members import MAX_RETRY_DELAY_S, MemberPlatforms, retry_delay

log = logging.getLogger(__name__)

TURTLE = {"Accept": "text/turtle"}
INBOX_GRAPH = "urn:dds:inbox"
STATE = ox.NamedNode(INTERNAL + "inboxState")
ATTEMPTS = ox.NamedNode(INTERNAL + "inboxAttempts")
REASON = ox.NamedNode(INTERNAL + "inboxReason")
REFUSAL = ox.NamedNode(INTERNAL + "inboxRefusal")
STORED_AS = ox.NamedNode(INTERNAL + "inboxMember")
PENDING, ACCEPTED, REFUSED = "pending", "accepted", "refused"
ACTIVITIES = {str(AS.Create): "Create", str(AS.Update): "Update"}
MAX_ATTEMPTS = 10  # a member unreachable (or a platform unknown) for this long: the notification is refused
RETRY_AFTER_S = 10  # what a sender over a limit is told to wait
KEY = re.compile(r"[0-9a-f]{24}")


@dataclass(frozen=True)
class Notice:
    """What an incoming activity claims; nothing of it is trusted yet."""

    activity: str
    actor: str
    object: str
    target: str
    id: str | None


@dataclass(frozen=True)
class Entry:
    """A notification waiting for verification."""

    key: str
    notice: Notice
    received: str
    attempts: int = 0


@dataclass(frozen=True)
class Received:
    status: str  # the IRI of the notification's status resource
    created: bool
    document: dict


@dataclass(frozen=True)
class InboxLimits:
    queue: int  # notifications waiting, all senders together
    per_actor: int  # notifications one member pod may have waiting
    workers: int
    retry_base_s: float  # first delay before a member that could not be read is read again
    max_bytes: int


class InboxBusy(DDSError):
    """Too many notifications wait already: the sender should come back after ``retry_after_s``."""

    title = "Too many notifications"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message, field="actor")
        self.status = status
        self.retry_after_s = RETRY_AFTER_S


class Unverifiable(Exception):
    """The reaction cannot be verified now (its pod unreachable, its platform not known yet): try later."""


class Inbox:
    """Admits the notifications POSTed to the pods' ``inbox/`` and verifies them in background threads."""

    def __init__(self, pods: Iterable[Pod], store: Store, members: Iterable[str], platforms: MemberPlatforms,
                 validator: Validator, loader: jsonld.ContextLoader, fetcher: Fetcher, limits: InboxLimits,
                 status_base: str) -> None:
        self.pods = {pod.url: pod for pod in pods}
        self.store = store
        self.members = frozenset(members)
        self.platforms = platforms
        self.validator = validator
        self.loader = loader
        self.fetcher = fetcher
        self.limits = limits
        self.status_base = status_base
        self._work = threading.Condition()
        self._pending: dict[str, Entry] = {}
        self._per_actor: Counter[str] = Counter()
        self._due: list[tuple[float, int, str]] = []  # (monotonic time, tie-breaker, key), a heap
        self._order = itertools.count()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ admitting (the HTTP request)

    def receive(self, pod: Pod, body: bytes, media_type: str) -> Received:
        """Queue a notification about a reaction to one of ``pod``'s resources, or raise and store nothing.

        The same notification again finds its status (``created`` is then False) and is not queued twice."""
        notice = self._read(body, media_type, base=f"{pod.url}inbox/")
        self._check_sender(notice)
        self._check_target(pod, notice.target)
        key = _key(notice)
        with self._work:
            created = self.status(key) is None
            if created:
                self._admit(notice.actor)
                entry = Entry(key, notice, utc_now())
                self.store.commit(self._pending_change(entry))
                self._queue(entry, delay_s=0.0)
        return Received(self.status_iri(key), created, self.status(key) or {})

    def status_iri(self, key: str) -> str:
        return f"{self.status_base}{key}"

    def status(self, key: str) -> dict | None:
        """The status document of a notification: pending, accepted or refused (with the reason), or None."""
        if not KEY.fullmatch(key):
            return None
        values = self._stored(self.status_iri(key))
        if STATE.value not in values:
            return None
        document = {"id": self.status_iri(key), "type": ACTIVITIES.get(values[str(RDF.type)], ""),
                    "actor": values[str(AS.actor)], "object": values[str(AS.object)],
                    "target": values[str(AS.target)], "received": values[str(DCTERMS.created)],
                    "state": values[STATE.value], "attempts": int(values.get(ATTEMPTS.value, "0"))}
        if REASON.value in values:
            document["reason"] = values[REASON.value]
        if REFUSAL.value in values:
            document["refusal"] = int(values[REFUSAL.value])
        if STORED_AS.value in values:
            document["notification"] = values[STORED_AS.value]
        return document

    def _admit(self, actor: str) -> None:
        if self._per_actor[actor] >= self.limits.per_actor:
            raise InboxBusy(f"{actor} has {self._per_actor[actor]} notifications waiting for verification, "
                            f"the most a member pod may have", status=429)
        if len(self._pending) >= self.limits.queue:
            raise InboxBusy(f"{len(self._pending)} notifications are waiting for verification, the most this "
                            "node keeps", status=503)

    def _read(self, body: bytes, media_type: str, base: str) -> Notice:
        if not media_type:
            raise BadDocument("a notification needs a Content-Type (application/ld+json)")
        fmt = rdfio.format_for_media_type(media_type)
        graph = rdfio.parse(body, fmt, base=base, loader=self.loader, max_bytes=self.limits.max_bytes)
        subjects = set(graph.subjects(AS.actor, None))
        if len(subjects) != 1:
            raise BadDocument("a notification is one activity with an actor, an object and a target")
        subject = subjects.pop()
        types = {str(t) for t in graph.objects(subject, RDF.type)}
        activity = next((t for t in ACTIVITIES if t in types), None)
        if activity is None:
            raise Unprocessable("this inbox takes Create and Update activities announcing a reaction", field="type")
        actor, reaction = _one_iri(graph, subject, AS.actor, "actor"), _one_iri(graph, subject, AS.object, "object")
        return Notice(activity, actor, reaction, _one_iri(graph, subject, AS.target, "target"),
                      str(subject) if isinstance(subject, URIRef) else None)

    def _check_sender(self, notice: Notice) -> None:
        if notice.actor not in self.members:
            raise Forbidden(f"{notice.actor} is not a pod of this node's federation", field="actor")
        if not notice.object.startswith(notice.actor) or notice.object == notice.actor:
            raise Forbidden(f"{notice.object} is not in {notice.actor}: a pod only announces its own resources",
                            field="object")

    def _check_target(self, pod: Pod, target: str) -> None:
        if not target.startswith(pod.url) or target.endswith("/"):
            raise Unprocessable(f"the target {target} is not a resource of {pod.url}", field="target")
        try:
            pod.get(target)
        except (NotFound, Gone):
            raise Unprocessable(f"there is no resource {target} to react to", field="target") from None

    # ------------------------------------------------------------------ verifying (the worker threads)

    def start(self) -> None:
        self._stopping.clear()
        self._threads = [threading.Thread(target=self._run, name=f"dds-inbox-{n}", daemon=True)
                         for n in range(self.limits.workers)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._work:
            self._work.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self) -> None:
        while (entry := self._next()) is not None:
            try:
                self.verify(entry)
            except Exception:  # the store failed to record the outcome: the entry is still pending, try later
                log.exception("recording the verification of notification %s failed", entry.key)
                with self._work:
                    self._queue(entry, MAX_RETRY_DELAY_S)

    def _next(self) -> Entry | None:
        """The next notification due, waiting for one; None when stopping."""
        with self._work:
            while not self._stopping.is_set():
                if self._due and self._due[0][0] <= time.monotonic():
                    return self._pending[heapq.heappop(self._due)[2]]
                self._work.wait(self._due[0][0] - time.monotonic() if self._due else None)
            return None

    def verify(self, entry: Entry) -> None:
        """Accept, refuse or postpone one waiting notification."""
        try:
            self._accept(entry, self._verified(entry.notice))
        except Unverifiable as exc:
            self._postpone(entry, str(exc))
        except ValidationFailed as exc:
            self._refuse(entry, exc.status, f"{entry.notice.object} does not conform to the DDS shapes: "
                                            f"{_summary(exc.report)}")
        except DDSError as exc:
            self._refuse(entry, exc.status, exc.message)
        except Exception as exc:
            log.exception("verifying the notification %s failed", entry.key)
            self._postpone(entry, repr(exc))

    def _verified(self, notice: Notice) -> Reaction:
        platform = self.platforms.of(notice.actor)
        if platform is None:
            raise Unverifiable(f"the platform of {notice.actor} is not known yet (the member was never harvested)")
        pod = self._pod_of(notice.target)
        self._check_target(pod, notice.target)
        graph = self._download(notice.object)
        report = self.validator.validate(graph)
        if not report.conforms:
            raise ValidationFailed(report)
        subject = URIRef(notice.object)
        if not any((subject, p, URIRef(notice.target)) in graph for p in reactions.ANSWERING):
            raise Unprocessable(f"{notice.object} does not answer {notice.target}: neither its inReplyTo nor its "
                                "object is that resource", field="object")
        kind = reactions.kind_of(str(t) for t in graph.objects(subject, RDF.type))
        claimed = graph.value(subject, DDS.sourcePlatform)
        if kind is None or not isinstance(claimed, URIRef):
            raise Unprocessable(f"{notice.object} is not a comment, support, like or dislike of a platform",
                                field="object")
        if str(claimed) != platform:
            raise Unprocessable(f"{notice.object} claims the platform {claimed}, but {notice.actor} publishes for "
                                f"{platform}", field="platform")
        return Reaction(notice.object, kind, platform)

    def _pod_of(self, target: str) -> Pod:
        pod = next((pod for url, pod in self.pods.items() if target.startswith(url)), None)
        if pod is None:
            raise Unprocessable(f"the target {target} is in none of this node's pods", field="target")
        return pod

    def _download(self, iri: str) -> Graph:
        """The reaction's graph, read from its own pod (members only)."""
        try:
            page = self.fetcher.get(iri, TURTLE)
        except FetchError as exc:
            raise Unverifiable(f"cannot read the reaction: {exc}") from None
        if page.status in (404, 410):
            raise Unprocessable(f"{iri} does not exist (its pod answered {page.status})", field="object")
        if page.status >= 300:
            raise Unverifiable(f"{iri}: its pod answered {page.status}")
        try:
            fmt = rdfio.format_for_media_type(page.media_type)
            return rdfio.parse(page.body, fmt, base=page.url, loader=self.loader, max_bytes=self.limits.max_bytes)
        except DDSError as exc:
            raise Unprocessable(f"{iri} cannot be read: {exc.message}", field="object") from None

    def _accept(self, entry: Entry, reaction: Reaction) -> None:
        """Store the notification in ``inbox/`` and index the reaction, in the commit that marks it accepted."""
        notice, pod = entry.notice, self._pod_of(entry.notice.target)
        member = f"{pod.url}inbox/{entry.key}"
        change = reactions.index_change(reaction, notice.target)
        self._set_state(change, entry, ACCEPTED, reason=None)
        change.set_value(INBOX_GRAPH, ox.NamedNode(self.status_iri(entry.key)), STORED_AS, ox.NamedNode(member))
        pod.add_received(member, _record(member, notice), change)
        self._done(entry)

    def _refuse(self, entry: Entry, status: int, reason: str) -> None:
        log.info("notification %s refused (%d): %s", entry.key, status, reason)
        change = Change()
        self._set_state(change, entry, REFUSED, reason)
        change.set_value(INBOX_GRAPH, ox.NamedNode(self.status_iri(entry.key)), REFUSAL, integer(status))
        self.store.commit(change)
        self._done(entry)

    def _postpone(self, entry: Entry, reason: str) -> None:
        later = replace(entry, attempts=entry.attempts + 1)
        if later.attempts >= MAX_ATTEMPTS:
            self._refuse(later, 502, f"gave up after {later.attempts} attempts: {reason}")
            return
        change = Change()
        self._set_state(change, later, PENDING, reason)
        self.store.commit(change)
        delay = retry_delay(self.limits.retry_base_s, later.attempts)
        log.info("notification %s: attempt %d failed (%s); next in %.1f s", entry.key, later.attempts, reason, delay)
        with self._work:
            self._queue(later, delay)

    def _done(self, entry: Entry) -> None:
        with self._work:
            del self._pending[entry.key]
            self._per_actor[entry.notice.actor] -= 1

    # ------------------------------------------------------------------ the waiting notifications

    def _queue(self, entry: Entry, delay_s: float) -> None:
        """Schedule ``entry`` (the caller holds the lock)."""
        if entry.key not in self._pending:
            self._per_actor[entry.notice.actor] += 1
        self._pending[entry.key] = entry
        heapq.heappush(self._due, (time.monotonic() + delay_s, next(self._order), entry.key))
        self._work.notify()

    def resume(self) -> None:
        """Queue again what was waiting when the node stopped: a 202 told its sender not to send it again. Called
        by the node once its store answers (each process serving the node queues what it finds: verifying an
        entry twice records one outcome)."""
        subjects = {value_of(quad.subject) for quad in self.store.quads(None, STATE, ox.Literal(PENDING), INBOX_GRAPH)}
        with self._work:
            for subject in sorted(subjects):
                entry = self._entry(subject)
                if entry is not None:
                    self._queue(entry, delay_s=0.0)

    def _entry(self, subject: str) -> Entry | None:
        values = self._stored(subject)
        try:
            notice = Notice(values[str(RDF.type)], values[str(AS.actor)], values[str(AS.object)],
                            values[str(AS.target)], values.get(str(DCTERMS.identifier)))
            return Entry(subject.removeprefix(self.status_base), notice, values[str(DCTERMS.created)],
                         int(values.get(ATTEMPTS.value, "0")))
        except (KeyError, ValueError):
            log.warning("inbox entry %s is incomplete; skipped", subject)
            return None

    def _stored(self, subject: str) -> dict[str, str]:
        return {quad.predicate.value: value_of(quad.object)
                for quad in self.store.quads(ox.NamedNode(subject), None, None, INBOX_GRAPH)}

    def _pending_change(self, entry: Entry) -> Change:
        notice, subject, graph = entry.notice, ox.NamedNode(self.status_iri(entry.key)), ox.NamedNode(INBOX_GRAPH)
        values: list[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]] = [
            (named(RDF.type), ox.NamedNode(notice.activity)),
            (named(AS.actor), ox.NamedNode(notice.actor)),
            (named(AS.object), ox.NamedNode(notice.object)),
            (named(AS.target), ox.NamedNode(notice.target)),
            (named(DCTERMS.created), date_time(entry.received)),
        ]
        if notice.id:
            values.append((named(DCTERMS.identifier), ox.Literal(notice.id)))
        change = Change()
        change.add.extend(ox.Quad(subject, p, o, graph) for p, o in values)
        self._set_state(change, entry, PENDING, reason=None)
        return change

    def _set_state(self, change: Change, entry: Entry, state: str, reason: str | None) -> None:
        subject = ox.NamedNode(self.status_iri(entry.key))
        change.set_value(INBOX_GRAPH, subject, STATE, ox.Literal(state))
        change.set_value(INBOX_GRAPH, subject, ATTEMPTS, integer(entry.attempts))
        if reason is None:
            change.remove_values.append((subject, REASON, INBOX_GRAPH))
        else:
            change.set_value(INBOX_GRAPH, subject, REASON, ox.Literal(reason))


def _one_iri(graph: Graph, subject, predicate: URIRef, name: str) -> str:
    values = set(graph.objects(subject, predicate))
    if len(values) != 1 or not isinstance(next(iter(values)), URIRef):
        raise BadDocument(f"the activity needs exactly one {name}, an IRI", field=name)
    return str(values.pop())


def _summary(report: Report) -> str:
    return "; ".join(f"{field}: {', '.join(messages)}" for field, messages in report.field_errors("en").items())


def _key(notice: Notice) -> str:
    """The notification's name, from what it says rather than the id its sender chose: the same
    announcement, delivered again or under another id, finds the same status and inbox member, so a
    sender cannot grow the inbox (or the queue) by repeating itself."""
    identity = f"{notice.actor}\n{notice.activity}\n{notice.object}\n{notice.target}"
    return hashlib.sha256(identity.encode()).hexdigest()[:24]


def _record(member: str, notice: Notice) -> list[ox.Triple]:
    subject = ox.NamedNode(member)
    values: Iterable[tuple] = [
        (RDF.type, ox.NamedNode(notice.activity)),
        (AS.actor, ox.NamedNode(notice.actor)),
        (AS.object, ox.NamedNode(notice.object)),
        (AS.target, ox.NamedNode(notice.target)),
        (DCTERMS.created, date_time(utc_now())),
    ]
    if notice.id:
        values = [*values, (DCTERMS.identifier, ox.Literal(notice.id))]
    return [ox.Triple(subject, named(p), o) for p, o in values]
