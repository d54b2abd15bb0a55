"""Linked Data Notifications between pods: an outbox that announces reactions, an inbox that checks them.

When a platform publishes a comment or a support whose ``as:inReplyTo`` or ``as:object`` is a
resource of another pod, the other platform only learns of it if told. The :class:`Outbox` keeps
one pending activity per (reaction, target) in the node's store, in the same kind of atomic change
as every write, so a crash or a restart loses nothing; a background thread discovers the target's
inbox (its ``Link: rel="http://www.w3.org/ns/ldp#inbox"``) and POSTs the activity there, retrying
with exponential backoff while the target's node is down. Every outgoing request goes through a
member-only :class:`Fetcher`: a reaction to a resource outside the federation is not announced.

The :class:`Inbox` takes an activity from anyone (LDN senders are servers, not publishers) and
trusts none of it: the actor must be a member pod, the reaction must lie in that pod, and the
reaction is fetched from its own IRI, validated against the shapes and must really answer the
target. Only then is the notification stored in ``inbox/`` (under an IRI derived from what was
received, so a repeated delivery is stored once) and the reaction indexed for its target.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

import pyoxigraph as ox
from rdflib import Graph, URIRef

from .. import jsonld, rdfio
from ..changes import INTERNAL
from ..config import Config
from ..errors import BadDocument, BadGateway, DDSError, Forbidden, Gone, NotFound, Unprocessable
from ..ldp.resources import Pod, Resource, ValidationFailed
from ..store import Change, Store
from ..terms import date_time, integer, named, utc_now
from ..validation import Validator
from ..vocab import ACTIVITYSTREAMS_CONTEXT_IRI, AS, DCTERMS, DDS, RDF
from . import reactions
from .fetch import AddressPolicy, Fetched, Fetcher, FetchError
from .reactions import Reaction

log = logging.getLogger(__name__)

OUTBOX_GRAPH = "urn:dds:outbox"
ATTEMPTS = ox.NamedNode(INTERNAL + "attempts")
LDP_INBOX = "http://www.w3.org/ns/ldp#inbox"
MAX_DELAY_S = 60.0
ACTIVITIES = {"Create": AS.Create, "Update": AS.Update}
RETRYABLE_STATUSES = frozenset({408, 425, 429})
TURTLE = {"Accept": "text/turtle"}


def member_pods(config: Config) -> tuple[str, ...]:
    """Pods this node talks to and hears from: its federation's members and its own pods."""
    own = (pod.url(config.base_url) for pod in config.pods.values())
    return tuple(dict.fromkeys([*config.federation.members, *own]))


def _fetcher(config: Config, max_bytes: int) -> Fetcher:
    return Fetcher(member_pods(config), timeout_s=config.federation.fetch_timeout_s, max_bytes=max_bytes,
                   user_agent="dds-pod notifications", policy=AddressPolicy.of(config))


# ------------------------------------------------------------------------------------------ outbox

@dataclass(frozen=True)
class Pending:
    """An activity waiting in the outbox; ``id`` is ``{pod}outbox#{uuid}``."""

    id: str
    activity: str
    actor: str
    object: str
    target: str
    published: str
    attempts: int = 0

    def document(self) -> dict:
        return {"@context": ACTIVITYSTREAMS_CONTEXT_IRI, "id": self.id, "type": self.activity, "actor": self.actor,
                "object": self.object, "target": self.target, "published": self.published}

    def quads(self) -> list[ox.Quad]:
        graph, subject = ox.NamedNode(OUTBOX_GRAPH), ox.NamedNode(self.id)
        values = [
            (named(RDF.type), named(ACTIVITIES[self.activity])),
            (named(AS.actor), ox.NamedNode(self.actor)),
            (named(AS.object), ox.NamedNode(self.object)),
            (named(AS.target), ox.NamedNode(self.target)),
            (named(AS.published), date_time(self.published)),
            (ATTEMPTS, integer(self.attempts)),
        ]
        return [ox.Quad(subject, p, o, graph) for p, o in values]


class Refused(Exception):
    """The target's node will never take this notification (not found, no inbox, 4xx): give up."""


class Outbox:
    """Pending notifications in the store, delivered by a background thread (started by ``dds-pod serve``)."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.fetcher = _fetcher(config, max_bytes=config.federation.max_response_bytes)
        self.retry_base_s = config.federation.retry_base_s
        self._due: dict[str, float] = {}  # monotonic time of the next attempt; absent means now
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ queueing

    def enqueue(self, pod_url: str, iri: str, answered: Iterable[str], created: bool) -> list[Pending]:
        """Queue one activity per resource ``iri`` answers that lies in another member pod than ``pod_url``."""
        targets = sorted({t for t in answered if not t.startswith(pod_url) and self.fetcher.allowed(t)})
        items = [Pending(f"{pod_url}outbox#{uuid.uuid4().hex}", "Create" if created else "Update", pod_url, iri,
                         target, utc_now()) for target in targets]
        if items:
            change = Change()
            for item in items:
                change.add.extend(item.quads())
            self.store.commit(change)
            self._wake.set()
        return items

    def pending(self) -> list[Pending]:
        fields: dict[str, dict[str, ox.NamedNode | ox.Literal]] = {}
        for quad in self.store.quads(graph=OUTBOX_GRAPH):
            fields.setdefault(quad.subject.value, {})[quad.predicate.value] = quad.object
        items = (_pending(subject, values) for subject, values in fields.items())
        return sorted((item for item in items if item is not None), key=lambda item: (item.published, item.id))

    # ------------------------------------------------------------------ delivering

    def deliver_due(self) -> float | None:
        """Try every pending activity that is due; the seconds until the next one is, or None if none waits."""
        waits = []
        for item in self.pending():
            if self._stopping.is_set():
                break
            wait = self._due.get(item.id, 0.0) - time.monotonic()
            if wait <= 0:
                self._attempt(item)
                wait = self._due.get(item.id, 0.0) - time.monotonic() if item.id in self._due else None
            if wait is not None:
                waits.append(max(wait, 0.0))
        return min(waits) if waits else None

    def _attempt(self, item: Pending) -> None:
        try:
            self._deliver(item)
        except Refused as exc:
            log.warning("notification %s to %s refused, dropped: %s", item.id, item.target, exc)
            self._forget(item)
        except FetchError as exc:
            self._postpone(item, str(exc))
        except Exception as exc:
            log.exception("notification %s to %s failed", item.id, item.target)
            self._postpone(item, repr(exc))
        else:
            self._forget(item)

    def _deliver(self, item: Pending) -> None:
        inbox = self._inbox_of(item.target)
        body = json.dumps(item.document()).encode("utf-8")
        answer = self.fetcher.request("POST", inbox, headers={"Content-Type": "application/ld+json"}, body=body)
        _check(answer)

    def _inbox_of(self, target: str) -> str:
        if not self.fetcher.allowed(target):
            raise Refused(f"{target} is no longer under a federation member's URL")
        answer = self.fetcher.request("HEAD", target)
        _check(answer)
        inbox = answer.links.get(LDP_INBOX)
        if not inbox:
            raise Refused(f"{target} names no inbox (Link rel=\"{LDP_INBOX}\")")
        return urljoin(answer.url, inbox)

    def _forget(self, item: Pending) -> None:
        change = Change()
        change.remove.extend(self.store.quads(ox.NamedNode(item.id), graph=OUTBOX_GRAPH))
        self.store.commit(change)
        self._due.pop(item.id, None)

    def _postpone(self, item: Pending, reason: str) -> None:
        attempts = item.attempts + 1
        change = Change()
        change.set_value(OUTBOX_GRAPH, ox.NamedNode(item.id), ATTEMPTS,
                         integer(attempts))
        self.store.commit(change)
        delay = min(self.retry_base_s * 2 ** (attempts - 1), max(MAX_DELAY_S, self.retry_base_s))
        self._due[item.id] = time.monotonic() + delay
        log.info("notification %s to %s: attempt %d failed (%s); next in %.1f s",
                 item.id, item.target, attempts, reason, delay)

    # ------------------------------------------------------------------ background thread

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="dds-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                delay = self.deliver_due()
            except Exception:
                log.exception("outbox delivery round failed")
                delay = self.retry_base_s
            self._wake.wait(MAX_DELAY_S if delay is None else delay)


def answered_by(resource: Resource) -> list[str]:
    """The IRIs a stored resource answers: its ``as:inReplyTo`` and ``as:object``."""
    predicates = {named(p) for p in reactions.ANSWERING}
    return [t.object.value for t in resource.triples
            if t.subject == resource.subject and t.predicate in predicates and isinstance(t.object, ox.NamedNode)]


def answered_in(triples: Iterable[ox.Triple], iri: str) -> list[str]:
    """The IRIs the resource ``iri`` answers in a document."""
    answering = {str(p) for p in reactions.ANSWERING}
    return [t.object.value for t in triples if t.subject.value == iri and t.predicate.value in answering
            and isinstance(t.object, ox.NamedNode)]


def _pending(subject: str, values: dict) -> Pending | None:
    names = {str(v): k for k, v in ACTIVITIES.items()}
    try:
        return Pending(subject, names[values[str(RDF.type)].value], values[str(AS.actor)].value,
                       values[str(AS.object)].value, values[str(AS.target)].value,
                       values[str(AS.published)].value, int(values[ATTEMPTS.value].value))
    except (KeyError, ValueError):
        log.warning("outbox entry %s is incomplete; skipped", subject)
        return None


def _check(answer: Fetched) -> None:
    """Accept a 2xx; a 5xx or a "try later" status is worth retrying; any other refusal is final."""
    if answer.status < 300:
        return
    detail = f"{answer.url} answered {answer.status}: {answer.body[:300].decode('utf-8', 'replace')}"
    if answer.status >= 500 or answer.status in RETRYABLE_STATUSES:
        raise FetchError(detail)
    raise Refused(detail)


# ------------------------------------------------------------------------------------------- inbox

@dataclass(frozen=True)
class Notice:
    """What an incoming activity claims; nothing of it is trusted yet."""

    activity: URIRef
    actor: str
    object: str
    target: str
    id: str | None


@dataclass(frozen=True)
class Received:
    iri: str
    created: bool


class Inbox:
    """Checks and stores the notifications POSTed to a pod's ``inbox/``."""

    def __init__(self, config: Config, validator: Validator, loader: jsonld.ContextLoader) -> None:
        self.config = config
        self.members = frozenset(member_pods(config))
        self.validator = validator
        self.loader = loader

    def receive(self, pod: Pod, body: bytes, media_type: str) -> Received:
        """Accept a notification about a reaction to one of ``pod``'s resources, or raise and store nothing."""
        notice = self._read(body, media_type, base=f"{pod.url}inbox/")
        self._check_sender(notice)
        self._check_target(pod, notice.target)
        reaction = self._fetch_reaction(notice)
        member = f"{pod.url}inbox/{_key(notice)}"
        created = pod.add_received(member, _record(member, notice), reactions.index_change(reaction, notice.target))
        return Received(member, created)

    def _read(self, body: bytes, media_type: str, base: str) -> Notice:
        if not media_type:
            raise BadDocument("a notification needs a Content-Type (application/ld+json)")
        fmt = rdfio.format_for_media_type(media_type)
        graph = rdfio.parse(body, fmt, base=base, loader=self.loader, max_bytes=self.config.max_body_bytes)
        subjects = set(graph.subjects(AS.actor, None))
        if len(subjects) != 1:
            raise BadDocument("a notification is one activity with an actor, an object and a target")
        subject = subjects.pop()
        types = set(graph.objects(subject, RDF.type))
        activity = next((t for t in (AS.Create, AS.Update) if t in types), None)
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

    def _fetch_reaction(self, notice: Notice) -> Reaction:
        graph = self._download(notice.object)
        report = self.validator.validate(graph)
        if not report.conforms:
            raise ValidationFailed(report)
        subject = URIRef(notice.object)
        if not any((subject, p, URIRef(notice.target)) in graph for p in reactions.ANSWERING):
            raise Unprocessable(f"{notice.object} does not answer {notice.target}: neither its inReplyTo nor its "
                                "object is that resource", field="object")
        kind = reactions.kind_of(str(t) for t in graph.objects(subject, RDF.type))
        platform = graph.value(subject, DDS.sourcePlatform)
        if kind is None or not isinstance(platform, URIRef):
            raise Unprocessable(f"{notice.object} is not a comment, support, like or dislike of a platform",
                                field="object")
        return Reaction(notice.object, kind, str(platform))

    def _download(self, iri: str) -> Graph:
        """The reaction's graph, read from its own pod (members only)."""
        fetcher = _fetcher(self.config, max_bytes=self.config.max_body_bytes)
        try:
            page = fetcher.get(iri, TURTLE)
        except FetchError as exc:
            raise BadGateway(f"cannot read the reaction: {exc}") from None
        finally:
            fetcher.session.close()
        if page.status in (404, 410):
            raise Unprocessable(f"{iri} does not exist (its pod answered {page.status})", field="object")
        if page.status >= 300:
            raise BadGateway(f"{iri}: its pod answered {page.status}")
        try:
            fmt = rdfio.format_for_media_type(page.media_type)
            return rdfio.parse(page.body, fmt, base=page.url, loader=self.loader,
                               max_bytes=self.config.max_body_bytes)
        except DDSError as exc:
            raise Unprocessable(f"{iri} cannot be read: {exc.message}", field="object") from None


def _one_iri(graph: Graph, subject, predicate: URIRef, name: str) -> str:
    values = set(graph.objects(subject, predicate))
    if len(values) != 1 or not isinstance(next(iter(values)), URIRef):
        raise BadDocument(f"the activity needs exactly one {name}, an IRI", field=name)
    return str(values.pop())


def _key(notice: Notice) -> str:
    """The inbox member's name, from what the notification says rather than the id its sender chose:
    the same announcement, delivered again or under another id, finds the same member, so a sender
    cannot grow the inbox by repeating itself."""
    identity = f"{notice.actor}\n{notice.activity}\n{notice.object}\n{notice.target}"
    return hashlib.sha256(identity.encode()).hexdigest()[:24]


def _record(member: str, notice: Notice) -> list[ox.Triple]:
    subject = ox.NamedNode(member)
    values: Iterable[tuple] = [
        (RDF.type, ox.NamedNode(str(notice.activity))),
        (AS.actor, ox.NamedNode(notice.actor)),
        (AS.object, ox.NamedNode(notice.object)),
        (AS.target, ox.NamedNode(notice.target)),
        (DCTERMS.created, date_time(utc_now())),
    ]
    if notice.id:
        values = [*values, (DCTERMS.identifier, ox.Literal(notice.id))]
    return [ox.Triple(subject, named(p), o) for p, o in values]
