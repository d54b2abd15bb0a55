"""The Linked Data Notifications a pod receives: other pods announcing reactions to its resources.

The :class:`Inbox` takes an activity from anyone (LDN senders are servers, not publishers) and
trusts none of it: the actor must be a member pod, the reaction must lie in that pod, and the
reaction is fetched from its own IRI, validated against the shapes and must really answer the
target. Only then is the notification stored in ``inbox/`` (under an IRI derived from what was
received, so a repeated delivery is stored once) and the reaction indexed for its target.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph, URIRef

from .. import jsonld, rdfio
from ..errors import BadDocument, BadGateway, DDSError, Forbidden, Gone, NotFound, Unprocessable
from ..ldp import reactions
from ..ldp.reactions import Reaction
from ..ldp.resources import Pod, ValidationFailed
from ..terms import date_time, named, utc_now
from ..validation import Validator
from ..vocab import AS, DCTERMS, DDS, RDF
from .fetch import Fetcher, FetchError

TURTLE = {"Accept": "text/turtle"}


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

    def __init__(self, members: Iterable[str], validator: Validator, loader: jsonld.ContextLoader, fetcher: Fetcher,
                 max_bytes: int) -> None:
        self.members = frozenset(members)
        self.validator = validator
        self.loader = loader
        self.fetcher = fetcher
        self.max_bytes = max_bytes

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
        graph = rdfio.parse(body, fmt, base=base, loader=self.loader, max_bytes=self.max_bytes)
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
        try:
            page = self.fetcher.get(iri, TURTLE)
        except FetchError as exc:
            raise BadGateway(f"cannot read the reaction: {exc}") from None
        if page.status in (404, 410):
            raise Unprocessable(f"{iri} does not exist (its pod answered {page.status})", field="object")
        if page.status >= 300:
            raise BadGateway(f"{iri}: its pod answered {page.status}")
        try:
            fmt = rdfio.format_for_media_type(page.media_type)
            return rdfio.parse(page.body, fmt, base=page.url, loader=self.loader,
                               max_bytes=self.max_bytes)
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
