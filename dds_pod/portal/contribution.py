"""One contribution as the interface shows it: its texts, where it comes from, what answered it, what it led to.

Replies are a thread across platforms: the comments of every platform harvested into the merged graph that answer
the contribution (or answer its replies), and the reactions this node's pods accepted through their inboxes from
platforms the node does not harvest (shown by their address and platform, the only things their notification
carries). A result or a decision shows what influenced it; any other contribution shows what it influenced.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..ldp.reactions import Reaction
from ..sanitize import clean_html
from ..vocab import AS, DCTERMS, DDS, PROV, RDF, SCHEMA
from .labels import Labeller, Named, kind_of, term
from .overview import Card, cards
from .reads import REACTION_KINDS, PortalReads
from .texts import Text, pick, ranked, texts_of

OUTCOME_KINDS = ("results", "decisions")
ATTACHMENTS_MAX = 20  # files one page lists
_REACTION_OF_CLASS = {cls: kind for kind, cls in REACTION_KINDS}
_COUNTERS = (("supports", DDS.supportCount), ("comments", SCHEMA.commentCount), ("likes", DDS.likeCount),
             ("dislikes", DDS.dislikeCount))


@dataclass(frozen=True)
class Place:
    name: Text | None
    latitude: float | None
    longitude: float | None


@dataclass
class Reply:
    iri: str
    text: Text | None  # None for a remote reply whose text stays on its platform
    stance: str | None
    platform: Named | None
    published: str | None
    author: str | None
    remote: bool = False
    replies: list[Reply] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """A contribution on the other side of an influence, with the role the influence had."""

    card: Card
    role: str | None
    progress: str | None


@dataclass(frozen=True)
class Provenance:
    retrieved: str | None
    source: str | None  # the member (pod) it was harvested from
    content_hash: str | None
    etag: str | None


@dataclass(frozen=True)
class Attachment:
    """A file the contribution attaches (``as:attachment``), and this node's copy of it when it harvested one."""

    iri: str
    copy: str | None

    @property
    def name(self) -> str:
        return self.iri.rstrip("/").rsplit("/", 1)[-1] or self.iri


@dataclass(frozen=True)
class Contribution:
    iri: str
    kind: str | None
    titles: tuple[Text, ...]  # the one to show first at the head
    contents: tuple[Text, ...]  # sanitised HTML
    summaries: tuple[Text, ...]
    answers: tuple[Text, ...]  # the official answer
    platform: Named | None
    original: str | None  # the page on its platform
    published: str | None
    status: str | None
    status_date: str | None
    author: str | None  # a pseudonym
    topics: tuple[Named, ...]
    space: Named | None
    place: Place | None
    counters: tuple[tuple[str, int], ...]  # what the platform counted
    reactions: tuple[tuple[Named, tuple[tuple[str, int], ...]], ...]  # published in the data space, per platform
    replies: tuple[Reply, ...]
    reply_count: int
    influenced: tuple[Outcome, ...]
    influenced_by: tuple[Outcome, ...]
    amendments: tuple[Card, ...]
    provenance: Provenance
    attachments: tuple[Attachment, ...] = ()

    @property
    def is_outcome(self) -> bool:
        return self.kind in OUTCOME_KINDS


def contribution(reads: PortalReads, labeller: Labeller, iri: str, received: list[Reaction]) -> Contribution | None:
    """The contribution at ``iri``, or None when the merged graph does not hold it."""
    values = reads.statements([iri]).get(iri)
    if not values:
        return None
    reader = labeller.reader

    def texts(predicate) -> tuple[Text, ...]:
        return tuple(ranked(texts_of(values.get(str(predicate), ())), reader))

    platform, space = _one(values, DDS.sourcePlatform), _one(values, DCTERMS.isPartOf)
    topics = [v.value for v in values.get(str(DCTERMS.subject), ()) if isinstance(v, ox.NamedNode)]
    names = labeller.many([*topics, *([space] if space else [])])
    kind = kind_of(v.value for v in values.get(str(RDF.type), ()))
    replies, count = _thread(reads, labeller, iri, received)
    outcome = kind in OUTCOME_KINDS
    return Contribution(
        iri, kind, texts(DCTERMS.title), tuple(Text(t.language, clean_html(t.value)) for t in texts(AS.content)),
        texts(AS.summary), texts(DDS.officialAnswer), labeller.platform(platform) if platform else None,
        _one(values, AS.url), _one(values, AS.published), term(_one(values, DDS.status)),
        _one(values, DDS.statusDate), _pseudonym(_one(values, AS.attributedTo)),
        tuple(names[t] for t in topics), names[space] if space else None, _place(reads, iri),
        _counters(values), _reactions(reads, labeller, iri, received), tuple(replies), count,
        () if outcome else _influenced(reads, labeller, iri), _influencers(reads, labeller, iri) if outcome else (),
        cards(reads, labeller, reads.amendments(iri)), _provenance(reads, iri), _attachments(reads, values))


def _attachments(reads: PortalReads, values: dict[str, list]) -> tuple[Attachment, ...]:
    """The files a contribution attaches, linked to this node's copy (``dds:storedCopy``) when it has one."""
    files = sorted(v.value for v in values.get(str(AS.attachment), ()) if isinstance(v, ox.NamedNode))
    return tuple(Attachment(iri, reads.provenance(iri).get(str(DDS.storedCopy))) for iri in files[:ATTACHMENTS_MAX])


def _one(values: dict[str, list], predicate) -> str | None:
    found = values.get(str(predicate))
    return found[0].value if found else None


def _counters(values: dict[str, list]) -> tuple[tuple[str, int], ...]:
    counted = []
    for name, predicate in _COUNTERS:
        value = _one(values, predicate)
        if value is not None and value.isdigit():
            counted.append((name, int(value)))
    return tuple(counted)


def _pseudonym(author: str | None) -> str | None:
    """The name a pseudonymous author is shown by: the last segment of its address."""
    return author.rstrip("/").rsplit("/", 1)[-1] if author else None


def _place(reads: PortalReads, iri: str) -> Place | None:
    found = reads.place(iri)
    if not found:
        return None
    name = found.get("name")
    return Place(Text(name.language or "", name.value) if isinstance(name, ox.Literal) else None,
                 _float(found.get("lat")), _float(found.get("lon")))


def _float(value) -> float | None:
    try:
        return float(value.value) if value is not None else None
    except ValueError:
        return None


def _thread(reads: PortalReads, labeller: Labeller, iri: str,
            received: list[Reaction]) -> tuple[list[Reply], int]:
    """The replies to ``iri`` as a tree, oldest first at each level, and how many there are."""
    edges = reads.thread(iri)
    described = reads.statements(reply for reply, _ in edges)
    replies = {reply: _reply(reply, described.get(reply, {}), labeller) for reply, _ in edges}
    roots: list[Reply] = []
    for reply, parent in edges:
        (replies[parent].replies if parent in replies else roots).append(replies[reply])
    harvested = set(replies) | {iri}
    for reaction in received:  # accepted through an inbox, from a platform this node does not harvest
        if reaction.kind == str(DDS.Comment) and reaction.iri not in harvested:
            roots.append(Reply(reaction.iri, None, None, labeller.platform(reaction.platform) if reaction.platform
                               else None, None, None, remote=True))
    for branch in [roots, *(reply.replies for reply in replies.values())]:
        branch.sort(key=lambda r: (r.published or "", r.iri))
    return roots, len(replies) + sum(1 for r in roots if r.remote)


def _reply(iri: str, values: dict[str, list], labeller: Labeller) -> Reply:
    platform = _one(values, DDS.sourcePlatform)
    return Reply(iri, pick(texts_of(values.get(str(AS.content), ())), labeller.reader),
                 term(_one(values, DDS.stance)), labeller.platform(platform) if platform else None,
                 _one(values, AS.published), _pseudonym(_one(values, AS.attributedTo)))


def _reactions(reads: PortalReads, labeller: Labeller, iri: str,
               received: list[Reaction]) -> tuple[tuple[Named, tuple[tuple[str, int], ...]], ...]:
    """Supports, likes and dislikes per platform: harvested ones, and remote ones a pod's inbox accepted."""
    counts: dict[str, Counter[str]] = {}
    for platform, cls, count in reads.reactions(iri):
        counts.setdefault(platform, Counter())[_REACTION_OF_CLASS[cls]] += count
    remote = [r for r in received if r.kind in _REACTION_OF_CLASS and r.platform]
    harvested = reads.statements(r.iri for r in remote)
    for reaction in remote:
        if reaction.iri not in harvested and reaction.kind is not None:
            counts.setdefault(reaction.platform, Counter())[_REACTION_OF_CLASS[reaction.kind]] += 1
    order = [kind for kind, _ in REACTION_KINDS]
    return tuple((labeller.platform(platform), tuple((k, counted[k]) for k in order if counted[k]))
                 for platform, counted in sorted(counts.items()))


def _influenced(reads: PortalReads, labeller: Labeller, iri: str) -> tuple[Outcome, ...]:
    found = reads.influenced(iri)
    return _outcomes(reads, labeller, [(outcome, role) for outcome, role in found])


def _influencers(reads: PortalReads, labeller: Labeller, iri: str) -> tuple[Outcome, ...]:
    return _outcomes(reads, labeller, [(found.contribution, found.role) for found in reads.influencers(iri)])


def _outcomes(reads: PortalReads, labeller: Labeller, pairs: list[tuple[str, str | None]]) -> tuple[Outcome, ...]:
    described = reads.statements(iri for iri, _ in pairs)
    listed = cards(reads, labeller, [iri for iri, _ in pairs])
    return tuple(Outcome(card, term(role), _one(described.get(card.iri, {}), DDS.progress))
                 for card, (_, role) in zip(listed, pairs, strict=True))


def _provenance(reads: PortalReads, iri: str) -> Provenance:
    record = reads.provenance(iri)
    return Provenance(record.get(str(PROV.generatedAtTime)), record.get(str(PROV.hadPrimarySource)),
                      record.get(str(DDS.contentHash)), record.get(str(DDS.etag)))
