"""The index's documents, built from the merged graph: what a search and its facets need of each contribution.

The whole graph is read in a handful of queries (:class:`MergedGraph`'s index reads), never one query per
resource, so that a rebuild of a large federation takes seconds; an update reads the resources a harvest touched
through the same queries, restricted to them. HTML is reduced to its text; a platform's plain-text version of
its content (``dds:contentText``) is preferred when there is one.

Aligned topics (``skos:exactMatch``, in either direction and through any chain) count as one: each group's key is
its smallest IRI, so a proposal on Bordeaux's "Mobilité" and one on Madrid's "Movilidad" share a topic facet value.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from ..federation.merged import MergedGraph
from ..federation.views import INDEXED_KINDS, KINDS, kind_of
from ..sanitize import clean_html, plain_text
from ..vocab import AS, DCTERMS, DDS, SCHEMA
from . import IndexDocument, LocalizedText

TITLE, CONTENT, SUMMARY = str(DCTERMS.title), str(AS.content), str(AS.summary)
CONTENT_TEXT, ANSWER = str(DDS.contentText), str(DDS.officialAnswer)
TEXTS = (TITLE, CONTENT, SUMMARY, CONTENT_TEXT, ANSWER)
PLATFORM, SPACE, TOPIC, STATUS = str(DDS.sourcePlatform), str(DCTERMS.isPartOf), str(DCTERMS.subject), str(DDS.status)
PUBLISHED, SUPPORTS, COMMENTS = str(AS.published), str(DDS.supportCount), str(SCHEMA.commentCount)
IN_REPLY_TO = str(AS.inReplyTo)
VALUES = (PLATFORM, SPACE, TOPIC, STATUS, PUBLISHED, SUPPORTS, COMMENTS, IN_REPLY_TO)


@dataclass
class _Draft:
    """A document being gathered from the rows of several queries."""

    iri: str
    kind: str
    values: dict[str, list[str]] = field(default_factory=dict)
    texts: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # language -> predicate -> texts
    location: tuple[float, float] | None = None
    place: str | None = None
    member: str = ""
    counted: dict[str, int] = field(default_factory=dict)


class DocumentBuilder:
    """Builds :class:`IndexDocument`\\ s from a merged graph."""

    def __init__(self, merged: MergedGraph) -> None:
        self.merged = merged

    def all(self) -> list[IndexDocument]:
        """Every indexed resource of the graph."""
        return self._build(None)

    def build(self, iris: Collection[str]) -> list[IndexDocument]:
        """The documents of these resources; those that are gone or not indexed are left out."""
        return self._build(set(iris)) if iris else []

    def topic_key(self, topic: str) -> str:
        """The key of a topic in the index: its alignment group's smallest IRI."""
        return topic_keys(self.merged.alignments()).get(topic, topic)

    def _build(self, iris: set[str] | None) -> list[IndexDocument]:
        drafts = self._drafts(iris)
        if not drafts:
            return []
        wanted = set(drafts) if iris is not None else None
        for iri, predicate, text, language in self.merged.literal_rows(TEXTS, wanted):
            if iri in drafts:
                drafts[iri].texts.setdefault(language, {}).setdefault(predicate, []).append(text)
        for iri, predicate, value in self.merged.value_rows(VALUES, wanted):
            if iri in drafts:
                drafts[iri].values.setdefault(predicate, []).append(value)
        for iri, latitude, longitude in self.merged.location_rows(wanted):
            if iri in drafts:
                drafts[iri].location = (latitude, longitude)
        for iri, name in self.merged.place_names(wanted):
            if iri in drafts:
                drafts[iri].place = name
        for iri, member in self.merged.member_rows(wanted):
            if iri in drafts:
                drafts[iri].member = member
        for iri, what, count in self.merged.reaction_counts(wanted):
            if iri in drafts:
                drafts[iri].counted[what] = count
        decided = self.merged.influencing(wanted)
        keys = topic_keys(self.merged.alignments())
        return [_document(draft, iri in decided, keys) for iri, draft in sorted(drafts.items())]

    def _drafts(self, iris: set[str] | None) -> dict[str, _Draft]:
        classes: dict[str, set[str]] = {}
        for iri, cls in self.merged.typed_rows([str(KINDS[kind]) for kind in INDEXED_KINDS], iris):
            classes.setdefault(iri, set()).add(cls)
        drafts = {}
        for iri, found in classes.items():
            kind = kind_of(found)
            if kind is not None:
                drafts[iri] = _Draft(iri, kind)
        return drafts


def topic_keys(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each aligned topic's key: the smallest IRI of the group that exactMatch links it to (union-find)."""
    parent: dict[str, str] = {}

    def root(topic: str) -> str:
        parent.setdefault(topic, topic)
        while parent[topic] != topic:
            parent[topic] = parent[parent[topic]]
            topic = parent[topic]
        return topic

    for first, second in pairs:
        a, b = root(first), root(second)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {topic: root(topic) for topic in list(parent)}


def _document(draft: _Draft, decided: bool, keys: dict[str, str]) -> IndexDocument:
    values = draft.values

    def first(predicate: str) -> str | None:
        found = sorted(values.get(predicate, ()))
        return found[0] if found else None

    status = first(STATUS)
    return IndexDocument(
        iri=draft.iri,
        kind=draft.kind,
        member=draft.member,
        platform=first(PLATFORM),
        space=first(SPACE),
        topics=tuple(sorted({keys.get(topic, topic) for topic in values.get(TOPIC, ())})),
        status=status.rsplit("#", 1)[-1] if status else None,
        published=first(PUBLISHED),
        location=draft.location,
        place=draft.place,
        answered=any(ANSWER in texts for texts in draft.texts.values()),
        decided=decided,
        supports=max(_number(values.get(SUPPORTS)), draft.counted.get("supports", 0)),
        comments=max(_number(values.get(COMMENTS)), draft.counted.get("comments", 0)),
        in_reply_to=first(IN_REPLY_TO),
        texts=tuple(_texts(language, texts) for language, texts in sorted(draft.texts.items())),
    )


def _texts(language: str, texts: dict[str, list[str]]) -> LocalizedText:
    """One language's texts: the title, and as body the content (its plain text), the summary and the answer."""
    content = texts.get(CONTENT_TEXT) or [plain_text(clean_html(html)) for html in texts.get(CONTENT, ())]
    body = [*content, *texts.get(SUMMARY, ()), *texts.get(ANSWER, ())]
    return LocalizedText(language, "\n".join(sorted(texts.get(TITLE, ()))), "\n".join(body))


def _number(values: list[str] | None) -> int:
    """The largest count a platform declared (a malformed one counts as none)."""
    best = 0
    for value in values or ():
        try:
            best = max(best, int(float(value)))
        except ValueError:
            continue
    return best
