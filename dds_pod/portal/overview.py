"""The summaries the interface opens with: the home page, a platform's page and a space's page.

Each says what the merged graph holds (contributions counted by platform, kind and status), what happened last,
and where to start reading: topics (aligned topics of several platforms counted as one), spaces and places.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ..sanitize import clean_html, plain_text
from ..vocab import AS, DCTERMS, DDS, RDF
from .labels import Labeller, Named, kind_of, term
from .reads import CONTRIBUTION_KINDS, SPACE_CLASSES, PortalReads
from .texts import Text, pick, texts_of

SNIPPET_CHARS = 160
HOME_LATEST, PAGE_LATEST, HOME_ENTRIES = 10, 20, 12
_KIND_OF_CLASS = {cls: kind for kind, cls in CONTRIBUTION_KINDS}


@dataclass(frozen=True)
class Card:
    """A contribution in a list: enough to recognise it and open it."""

    iri: str
    kind: str | None
    title: Text | None
    platform: Named | None
    published: str | None
    status: str | None


@dataclass(frozen=True)
class PlatformSummary:
    platform: Named
    counts: tuple[tuple[str, int], ...]  # (kind, count), in the order of the kinds
    total: int


@dataclass(frozen=True)
class Topic:
    """A topic and the topics of other platforms aligned with it, with the contributions they hold together."""

    topic: Named
    aligned: tuple[Named, ...]
    count: int


@dataclass(frozen=True)
class SpaceEntry:
    space: Named
    platform: Named
    count: int


@dataclass(frozen=True)
class Home:
    platforms: tuple[PlatformSummary, ...]
    latest: tuple[Card, ...]
    topics: tuple[Topic, ...]
    spaces: tuple[SpaceEntry, ...]
    located: int


@dataclass(frozen=True)
class Holdings:
    """What one platform or one space holds."""

    subject: Named
    platform: Named | None  # a space's platform
    description: Text | None
    kinds: tuple[tuple[str, int], ...]
    statuses: tuple[tuple[str, int], ...]
    latest: tuple[Card, ...]
    spaces: tuple[SpaceEntry, ...]
    topics: tuple[Topic, ...]


def cards(reads: PortalReads, labeller: Labeller, iris: Iterable[str]) -> tuple[Card, ...]:
    """Cards for contributions, in the order given; a comment without a title shows the start of its text."""
    wanted = list(iris)
    described = reads.statements(wanted)
    return tuple(card(iri, described.get(iri, {}), labeller) for iri in wanted)


def card(iri: str, values: dict[str, list], labeller: Labeller) -> Card:
    reader = labeller.reader
    title = pick(texts_of(values.get(str(DCTERMS.title), ())), reader)
    if title is None:
        content = pick(texts_of(values.get(str(AS.content), ())), reader)
        title = snippet(content) if content else None
    platform = _first(values, DDS.sourcePlatform)
    published = _first(values, AS.published)
    return Card(iri, kind_of(v.value for v in values.get(str(RDF.type), ())), title,
                labeller.platform(platform) if platform else None, published, term(_first(values, DDS.status)))


def snippet(text: Text) -> Text:
    """The start of a text as plain words, cut at a word near :data:`SNIPPET_CHARS`."""
    plain = " ".join(plain_text(clean_html(text.value)).split())
    if len(plain) > SNIPPET_CHARS:
        plain = plain[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
    return Text(text.language, plain)


def _first(values: dict[str, list], predicate) -> str | None:
    found = values.get(str(predicate))
    return found[0].value if found else None


def home(reads: PortalReads, labeller: Labeller) -> Home:
    classes = [cls for _, cls in CONTRIBUTION_KINDS]
    per_platform: dict[str, Counter[str]] = {}
    for platform, cls, count in reads.class_counts(classes):
        per_platform.setdefault(platform, Counter())[_KIND_OF_CLASS[cls]] += count
    platforms = sorted((_summary(labeller.platform(p), counts) for p, counts in per_platform.items()),
                       key=lambda s: (-s.total, s.platform.label.value))
    return Home(tuple(platforms), cards(reads, labeller, reads.latest(HOME_LATEST)),
                topics(reads, labeller)[:HOME_ENTRIES], spaces(reads, labeller)[:HOME_ENTRIES],
                reads.located_count())


def _summary(platform: Named, counts: Counter[str]) -> PlatformSummary:
    ordered = tuple((kind, counts[kind]) for kind, _ in CONTRIBUTION_KINDS if counts[kind])
    return PlatformSummary(platform, ordered, sum(counts.values()))


def topics(reads: PortalReads, labeller: Labeller, platform: str | None = None) -> tuple[Topic, ...]:
    """Topics in use, aligned ones grouped, the most used first."""
    counts = reads.topic_counts(platform)
    groups = _aligned_groups(counts, reads.alignments())
    names = labeller.many(iri for group in groups for iri in group)
    found = []
    for group in groups:
        ordered = sorted(group, key=lambda iri: (-counts.get(iri, 0), iri))
        found.append(Topic(names[ordered[0]], tuple(names[iri] for iri in ordered[1:]),
                           sum(counts.get(iri, 0) for iri in group)))
    return tuple(sorted(found, key=lambda t: (-t.count, t.topic.label.value.lower())))


def _aligned_groups(counts: dict[str, int], pairs: list[tuple[str, str]]) -> list[set[str]]:
    """The used topics joined with every topic aligned to them, directly or through others."""
    parent: dict[str, str] = {}

    def root(iri: str) -> str:
        while parent.setdefault(iri, iri) != iri:
            parent[iri] = parent[parent[iri]]
            iri = parent[iri]
        return iri

    for a, b in pairs:
        parent[root(a)] = root(b)
    groups: dict[str, set[str]] = {}
    for iri in counts:
        groups.setdefault(root(iri), set()).add(iri)
    for iri in list(parent):  # aligned topics nobody used still name the group they belong to
        if root(iri) in groups:
            groups[root(iri)].add(iri)
    return list(groups.values())


def spaces(reads: PortalReads, labeller: Labeller, platform: str | None = None) -> tuple[SpaceEntry, ...]:
    rows = reads.spaces(platform)
    names = labeller.many(space for space, _, _ in rows)
    entries = [SpaceEntry(names[space], labeller.platform(owner), count) for space, owner, count in rows]
    return tuple(sorted(entries, key=lambda e: (-e.count, e.space.label.value.lower())))


def platform_holdings(reads: PortalReads, labeller: Labeller, platform: str) -> Holdings | None:
    """What a platform published, or None when the merged graph holds nothing of it."""
    rows = reads.class_counts([cls for _, cls in CONTRIBUTION_KINDS] + list(SPACE_CLASSES), platform=platform)
    if not rows:
        return None
    return Holdings(labeller.platform(platform), None, None, _kinds(rows),
                    _statuses(reads.status_counts(platform=platform)),
                    cards(reads, labeller, reads.latest(PAGE_LATEST, platform=platform)),
                    spaces(reads, labeller, platform), topics(reads, labeller, platform)[:HOME_ENTRIES])


def space_holdings(reads: PortalReads, labeller: Labeller, space: str) -> Holdings | None:
    """What a participatory space holds, or None when it is not a space of the merged graph."""
    values = reads.statements([space]).get(space, {})
    if not set(SPACE_CLASSES) & {v.value for v in values.get(str(RDF.type), ())}:
        return None
    reader = labeller.reader
    title = pick(texts_of(values.get(str(DCTERMS.title), ())), reader)
    shown = pick(texts_of([*values.get(str(AS.summary), ()), *values.get(str(AS.content), ())]), reader)
    description = Text(shown.language, plain_text(clean_html(shown.value))) if shown else None
    owner = _first(values, DDS.sourcePlatform)
    subject = Named(space, title or labeller.one(space).label)
    return Holdings(subject, labeller.platform(owner) if owner else None, description,
                    _kinds(reads.class_counts([cls for _, cls in CONTRIBUTION_KINDS], space=space)),
                    _statuses(reads.status_counts(space=space)),
                    cards(reads, labeller, reads.latest(PAGE_LATEST, space=space)), (), ())


def _kinds(rows: list[tuple[str, str, int]]) -> tuple[tuple[str, int], ...]:
    counts: Counter[str] = Counter()
    for _, cls, count in rows:
        counts[_KIND_OF_CLASS.get(cls, "spaces")] += count
    order = [kind for kind, _ in CONTRIBUTION_KINDS] + ["spaces"]
    return tuple((kind, counts[kind]) for kind in order if counts[kind])


def _statuses(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    named = ((term(iri), count) for iri, count in counts.items())
    return tuple(sorted(((name, count) for name, count in named if name), key=lambda item: -item[1]))

