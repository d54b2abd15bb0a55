"""The analysis as readers see it: themes, similar contributions elsewhere, stance bars, cited summaries, opinion
groups and the statements that bridge them, and why a step found nothing.

An :class:`~dds_pod.analysis.Analysis` holds IRIs and keys; the views here turn them into what a page shows:
names in the reader's language, contribution cards (titles and platforms read from the merged graph, a few
dozen per page at most, whatever the size of a theme), and the addresses of the linked-data records behind each
result (:class:`Links`), so that every figure on a page leads to how it was computed. Lookups by contribution
are indexed once per analysis (:class:`Lookup`), not searched per page.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from ..analysis import Analysis, Bridge, NotEnoughData, Run, Similar, Stances, Summary, Theme
from ..analysis.runs import (
    STEP_LLM_SUMMARIES,
    STEP_LLM_THEMES,
    STEP_OPINION,
    STEP_SIMILAR,
    STEP_STANCES,
    STEP_SUMMARIES,
    STEP_THEMES,
)
from ..search import Grouping
from .labels import Labeller, Named
from .overview import Card, cards
from .reads import PortalReads
from .texts import Text

MEMBERS_SHOWN = 60  # member cards on a theme page; the theme facet of Explore lists them all
SIMILAR_SHOWN = 10
STATEMENTS_SHOWN = 10  # a group's agreements, and bridges
LABEL_FALLBACK = ("en", "fr", "es", "ca")
STANCE_ORDER = ("inFavour", "against", "neutral")
THEME_FACET = "theme"


@dataclass(frozen=True)
class Links:
    """The addresses of the analysis's linked-data records: a theme's LDP resource, and a step's PROV activity."""

    theme: Callable[[str], str]  # theme key -> its resource
    run: Callable[[str, Run], str]  # (step, run) -> the activity's resource


@dataclass(frozen=True)
class Computed:
    """How one result was made: the step, its method, when it ended, and the PROV record to read the rest in."""

    step: str
    method: str
    ended: str
    record: str


@dataclass(frozen=True)
class StanceShare:
    stance: str  # "inFavour", "against", "neutral"
    count: int
    percent: int


@dataclass(frozen=True)
class StanceBar:
    """Comment stances, as counts and rounded shares (the page draws the bar and writes the same in words)."""

    shares: tuple[StanceShare, ...]
    total: int


@dataclass(frozen=True)
class CitedSentence:
    text: str
    cites: tuple[Card, ...]


@dataclass(frozen=True)
class SummaryView:
    language: str
    sentences: tuple[CitedSentence, ...]
    abstractive: bool  # written by a language model (its citations were checked), not picked from the texts


@dataclass(frozen=True)
class ThemeCard:
    key: str
    label: Text
    terms: tuple[str, ...]
    size: int
    platforms: tuple[tuple[Named, int], ...]  # most members first
    labelled_by: str


@dataclass(frozen=True)
class ThemePage:
    card: ThemeCard
    members: tuple[tuple[Named | None, tuple[Card, ...]], ...]  # the strongest members, by platform
    shown: int
    topics: tuple[Named, ...]  # the platforms' own topics this theme coincides with
    summary: SummaryView | None
    stances: StanceBar | None
    resource: str
    computed: tuple[Computed, ...]


@dataclass(frozen=True)
class GroupView:
    key: str
    size: int
    agrees_with: tuple[Card, ...]


@dataclass(frozen=True)
class BridgeView:
    card: Card
    agreement: tuple[tuple[str, int], ...]  # (group key, percent of the group supporting it)


@dataclass(frozen=True)
class ThemesPage:
    themes: tuple[ThemeCard, ...]
    groups: tuple[GroupView, ...]
    bridges: tuple[BridgeView, ...]
    missing: tuple[NotEnoughData, ...]
    computed: tuple[Computed, ...]


@dataclass(frozen=True)
class SimilarView:
    card: Card
    language: str
    score: float
    near_duplicate: bool
    cross_language: bool

    @property
    def percent(self) -> int:
        return round(self.score * 100)


@dataclass(frozen=True)
class ContributionAnalysis:
    similar: tuple[SimilarView, ...]
    themes: tuple[ThemeCard, ...]
    stances: StanceBar | None
    summary: SummaryView | None
    bridge: BridgeView | None
    missing: tuple[NotEnoughData, ...]  # the steps that found nothing for lack of data
    computed: tuple[Computed, ...]


class Lookup:
    """An analysis indexed by what pages ask for: a theme by key, a contribution's themes, similar ones, stances,
    summaries and bridge; and its themes as a grouping of the search index (Explore's theme facet)."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.themes = {theme.key: theme for theme in analysis.themes}
        self.grouping = Grouping(THEME_FACET, uuid.uuid4().hex,
                                 {theme.key: frozenset(theme.members) for theme in analysis.themes})
        self.themes_of: dict[str, list[Theme]] = defaultdict(list)
        for theme in analysis.themes:
            for member in theme.members:
                self.themes_of[member].append(theme)
        self.similar: dict[str, list[Similar]] = defaultdict(list)
        for found in analysis.similar:
            self.similar[found.source].append(found)
        self.stances = {stances.subject: stances for stances in analysis.stances}
        self.summaries: dict[str, list[Summary]] = defaultdict(list)
        for summary in analysis.summaries:
            self.summaries[summary.subject].append(summary)
        self.bridges = {bridge.contribution: bridge for bridge in analysis.bridges}


class AnalysisViews:
    """The views of one analysis for one reader's page."""

    def __init__(self, lookup: Lookup, reads: PortalReads, labeller: Labeller, links: Links) -> None:
        self.lookup, self.reads, self.labeller, self.links = lookup, reads, labeller, links

    @property
    def analysis(self) -> Analysis:
        return self.lookup.analysis

    @property
    def grouping(self) -> Grouping:
        return self.lookup.grouping

    def theme_labels(self) -> dict[str, Text]:
        """Each theme's label in the reader's language, by key."""
        return {theme.key: theme_label(theme, self.labeller.reader) for theme in self.analysis.themes}

    def themes_page(self) -> ThemesPage:
        analysis = self.analysis
        themes = tuple(self.theme_card(theme) for theme in analysis.themes)
        described = self._cards([*(iri for group in analysis.groups for iri in group.agrees_with[:STATEMENTS_SHOWN]),
                                 *(bridge.contribution for bridge in analysis.bridges[:STATEMENTS_SHOWN])])
        groups = tuple(GroupView(group.key, group.size,
                                 tuple(described[iri] for iri in group.agrees_with[:STATEMENTS_SHOWN]))
                       for group in analysis.groups)
        bridges = tuple(_bridge(bridge, described[bridge.contribution])
                        for bridge in analysis.bridges[:STATEMENTS_SHOWN])
        return ThemesPage(themes, groups, bridges, tuple(analysis.not_enough),
                          self._computed((STEP_THEMES, STEP_LLM_THEMES, STEP_OPINION)))

    def theme_page(self, key: str) -> ThemePage | None:
        """The theme of ``key``, or None when the analysis has none of that key."""
        theme = self.lookup.themes.get(key)
        if theme is None:
            return None
        strongest = theme.members[:MEMBERS_SHOWN]
        described = self._cards(strongest)
        by_platform: dict[str, list[Card]] = defaultdict(list)
        for iri in strongest:
            card = described[iri]
            by_platform[card.platform.iri if card.platform else ""].append(card)
        members = tuple((self.labeller.platform(platform) if platform else None, tuple(found))
                        for platform, found in sorted(by_platform.items(), key=lambda item: -len(item[1])))
        return ThemePage(self.theme_card(theme), members, len(strongest), self._topics(theme.topics),
                         self._summary(key), self._stances(key), self.links.theme(key),
                         self._computed((STEP_THEMES, STEP_LLM_THEMES, STEP_SUMMARIES, STEP_LLM_SUMMARIES,
                                         STEP_STANCES)))

    def contribution(self, iri: str) -> ContributionAnalysis:
        """What the analysis says of one contribution (every part empty when it says nothing of it)."""
        lookup = self.lookup
        found = sorted(lookup.similar.get(iri, ()), key=lambda s: (-s.score, s.target))[:SIMILAR_SHOWN]
        bridge = lookup.bridges.get(iri)
        described = self._cards([*(s.target for s in found), *([iri] if bridge else [])])
        similar = tuple(SimilarView(described[s.target], self._language(described[s.target]), s.score,
                                    s.near_duplicate, s.cross_language) for s in found)
        missing = tuple(gap for gap in self.analysis.not_enough
                        if gap.step in (STEP_SIMILAR, STEP_STANCES, STEP_SUMMARIES))
        return ContributionAnalysis(similar, tuple(self.theme_card(t) for t in lookup.themes_of.get(iri, ())),
                                    self._stances(iri), self._summary(iri),
                                    _bridge(bridge, described[iri]) if bridge else None, missing,
                                    self._computed((STEP_SIMILAR, STEP_THEMES, STEP_STANCES, STEP_SUMMARIES,
                                                    STEP_LLM_SUMMARIES, STEP_OPINION)))

    def theme_card(self, theme: Theme) -> ThemeCard:
        platforms = sorted(theme.platforms.items(), key=lambda item: (-item[1], item[0]))
        return ThemeCard(theme.key, theme_label(theme, self.labeller.reader), theme.terms, len(theme.members),
                         tuple((self.labeller.platform(iri), count) for iri, count in platforms), theme.labelled_by)

    def _topics(self, topics: Sequence[str]) -> tuple[Named, ...]:
        """The topics named in the reader's language; a key that is not an IRI (data from elsewhere) is shown
        as it is rather than looked up."""
        iris = [topic for topic in topics if _is_iri(topic)]
        named = self.labeller.many(iris)
        return tuple(named[topic] if topic in named else Named(topic, Text("", topic)) for topic in topics)

    def _cards(self, iris: Iterable[str]) -> dict[str, Card]:
        wanted = list(dict.fromkeys(iris))
        return {card.iri: card for card in cards(self.reads, self.labeller, wanted)}

    def _language(self, card: Card) -> str:
        return self.analysis.languages.get(card.iri) or (card.title.language if card.title else "")

    def _summary(self, subject: str) -> SummaryView | None:
        """The subject's summary in the reader's language, else in the first language it has one in."""
        found = self.lookup.summaries.get(subject, [])
        if not found:
            return None
        summary = next((s for s in found if s.language.split("-")[0] == self.labeller.reader), found[0])
        described = self._cards(iri for sentence in summary.sentences for iri in sentence.cites)
        sentences = tuple(CitedSentence(sentence.text, tuple(described[iri] for iri in sentence.cites))
                          for sentence in summary.sentences)
        return SummaryView(summary.language, sentences, summary.abstractive)

    def _stances(self, subject: str) -> StanceBar | None:
        found = self.lookup.stances.get(subject)
        return stance_bar(found) if found else None

    def _computed(self, steps: Sequence[str]) -> tuple[Computed, ...]:
        runs = self.analysis.runs
        return tuple(Computed(step, runs[step].method, runs[step].ended, self.links.run(step, runs[step]))
                     for step in steps if step in runs)


def theme_label(theme: Theme, reader: str) -> Text:
    """The theme's label in the reader's language, else in the first other language it has one in, else its
    key terms."""
    for language in (reader, *LABEL_FALLBACK):
        if theme.labels.get(language):
            return Text(language, theme.labels[language])
    return Text("", ", ".join(theme.terms[:3]) or theme.key)


def stance_bar(stances: Stances) -> StanceBar | None:
    """The bar of these counts; None when there is no stance at all (an empty bar says nothing)."""
    counts = {"inFavour": stances.in_favour, "against": stances.against, "neutral": stances.neutral}
    total = sum(counts.values())
    if total <= 0:
        return None
    return StanceBar(tuple(StanceShare(stance, counts[stance], round(100 * counts[stance] / total))
                           for stance in STANCE_ORDER), total)


def _is_iri(value: str) -> bool:
    try:
        ox.NamedNode(value)
    except ValueError:
        return False
    return value.startswith(("http://", "https://"))


def _bridge(bridge: Bridge, card: Card) -> BridgeView:
    return BridgeView(card, tuple((group, round(share * 100)) for group, share in sorted(bridge.agreement.items())))
