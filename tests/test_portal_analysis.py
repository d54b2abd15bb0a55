"""The analysis's view models, on real analyses of real exports written into a real (in-memory) merged store.

Barcelona's budget projects are published twice, as two platforms would: the Catalan texts by the city's
platform, the Spanish ones by a second platform under their own IRIs, so every project has a known counterpart in
another language elsewhere. Barcelona's result comments bring stances and threads. The analysis runner runs every
step on that corpus as the node does; the views must then show what they found, by name, with their provenance.
"""

from __future__ import annotations

from dataclasses import replace

import pyoxigraph as ox
import pytest

from dds_pod.analysis import Analysis, Corpus, NotEnoughData, Stances, Text, Theme
from dds_pod.analysis.opinion import opinion_groups
from dds_pod.analysis.runner import analyse
from dds_pod.federation.merged import MergedGraph, MergedGraphs
from dds_pod.portal.analysis import Links, stance_bar, theme_label
from dds_pod.portal.service import Portal
from dds_pod.store import Change
from dds_pod.store.oxigraph import OxigraphStore
from dds_pod.vocab import AS, DCTERMS, DDS, RDF

from . import analysis_comments, analysis_data
from .test_analysis_opinion import POD, divided

BASE = "http://node.example/"
SECOND = "https://segona.example/"
PROJECTS = 40
CLASSES = {"budget-projects": DDS.BudgetProject, "comments": DDS.Comment, "proposals": DDS.Proposal}
LINKS = Links(theme=lambda key: f"{BASE}analysis/themes/{key}", run=lambda step, run: f"{BASE}analysis/runs/{step}")


def mirrored(iri: str) -> str:
    return f"{SECOND}projects/{iri.rstrip('/').rsplit('/', 1)[-1]}"


def corpus() -> Corpus:
    """The first projects in Catalan on the city's platform, in Spanish on the second, and the result comments."""
    projects = [text for text in analysis_data.barcelona().texts][: 2 * PROJECTS]
    catalan = [text for text in projects if text.language == "ca"]
    spanish = [replace(text, iri=mirrored(text.iri), platform=SECOND, member="segona")
               for text in projects if text.language == "es"]
    comments = [replace(text, platform=analysis_comments.BARCELONA_POD) for text in analysis_comments.barcelona().texts]
    return Corpus(texts=tuple(catalan + spanish + comments), reactions=analysis_comments.barcelona().reactions,
                  snapshot={"https://pods.example/barcelona/changes": 1})


def quads(text: Text) -> list[ox.Quad]:
    subject = ox.NamedNode(text.iri)

    def quad(predicate, value) -> ox.Quad:
        return ox.Quad(subject, ox.NamedNode(str(predicate)), value, subject)
    found = [quad(RDF.type, ox.NamedNode(str(CLASSES[text.kind]))), quad(RDF.type, ox.NamedNode(str(DDS.Contribution)))]
    if text.platform:
        found.append(quad(DDS.sourcePlatform, ox.NamedNode(text.platform)))
    if text.title:
        found.append(quad(DCTERMS.title, ox.Literal(text.title, language=text.language)))
    if text.body:
        found.append(quad(AS.content, ox.Literal(text.body, language=text.language)))
    if text.in_reply_to:
        found.append(quad(AS.inReplyTo, ox.NamedNode(text.in_reply_to)))
    return found


@pytest.fixture(scope="module")
def world() -> tuple[Corpus, Analysis, Portal]:
    data = corpus()
    merged = MergedGraph(OxigraphStore(), MergedGraphs(BASE))
    merged.commit(Change(add=[quad for text in data.texts for quad in quads(text)]))
    analysis = analyse(data)
    assert analysis.themes and analysis.similar and analysis.stances and analysis.summaries
    return data, analysis, Portal(merged, lambda iri: [], lambda: analysis, LINKS)


def test_a_node_never_analysed_has_no_views(world):
    _, _, portal = world
    assert Portal(portal.reads.merged, lambda iri: []).analysed("ca") is None
    assert Portal(portal.reads.merged, lambda iri: [], lambda: None, LINKS).analysed("ca") is None


def test_the_themes_page_lists_every_theme_with_its_label_platforms_and_provenance(world):
    _, analysis, portal = world
    page = portal.analysed("ca").themes_page()
    assert [card.key for card in page.themes] == [theme.key for theme in analysis.themes]
    for card, theme in zip(page.themes, analysis.themes, strict=True):
        assert card.size == len(theme.members)
        assert sum(count for _, count in card.platforms) == sum(theme.platforms.values())
        assert card.label.value and card.label.value in theme.labels.values()
    assert {computed.step for computed in page.computed} <= {"themes", "opinion"}
    assert page.computed[0].record == f"{BASE}analysis/runs/themes"
    assert page.computed[0].method == analysis.runs["themes"].method


def test_a_theme_page_shows_its_strongest_members_by_platform_with_their_titles(world):
    data, analysis, portal = world
    theme = max(analysis.themes, key=lambda t: len(t.platforms))
    page = portal.analysed("es").theme_page(theme.key)
    assert page is not None and page.resource == f"{BASE}analysis/themes/{theme.key}"
    shown = [card.iri for _, cards in page.members for card in cards]
    assert sorted(shown) == sorted(theme.members[:page.shown])
    titles = {text.iri: text.title for text in data.texts if text.title}
    for platform, cards in page.members:
        for card in cards:
            assert card.platform == platform
            if card.iri in titles:
                assert card.title is not None and card.title.value in {t.title for t in data.texts
                                                                         if t.iri == card.iri}
    assert portal.analysed("es").theme_page("no-such-theme") is None


def test_a_theme_summary_cites_contributions_by_title_and_its_stances_add_up(world):
    _, analysis, portal = world
    summarised = {summary.subject for summary in analysis.summaries}
    theme = next(t for t in analysis.themes if t.key in summarised)
    page = portal.analysed("ca").theme_page(theme.key)
    assert page.summary is not None
    expected = next(s for s in analysis.summaries if s.subject == theme.key and s.language == page.summary.language)
    assert [s.text for s in page.summary.sentences] == [s.text for s in expected.sentences]
    for shown, sentence in zip(page.summary.sentences, expected.sentences, strict=True):
        assert [card.iri for card in shown.cites] == list(sentence.cites)
        assert all(card.title is not None for card in shown.cites)
    counted = {s.subject: s for s in analysis.stances}
    if theme.key in counted:
        bar = page.stances
        assert bar.total == counted[theme.key].in_favour + counted[theme.key].against + counted[theme.key].neutral


def test_a_contribution_shows_its_counterpart_in_the_other_language_on_the_other_platform(world):
    data, analysis, portal = world
    project = next(text.iri for text in data.texts if text.kind == "budget-projects" and text.language == "ca")
    shown = portal.analysed("ca").contribution(project)
    assert shown.similar, "the Spanish text of the project is similar to its Catalan one"
    targets = [found.card.iri for found in shown.similar]
    assert mirrored(project) in targets
    counterpart = shown.similar[targets.index(mirrored(project))]
    assert counterpart.card.platform.iri == SECOND and counterpart.language == "es"
    assert [f.score for f in shown.similar] == sorted((f.score for f in shown.similar), reverse=True)
    assert all(f.card.platform.iri != analysis_data.PLATFORM or f.language != "ca" for f in shown.similar)
    assert {theme.key for theme in shown.themes} == {t.key for t in analysis.themes if project in t.members}
    assert "similar" in {computed.step for computed in shown.computed}


def test_a_commented_result_shows_the_stance_bar_and_summary_of_its_thread(world):
    data, analysis, portal = world
    counted = {s.subject: s for s in analysis.stances}
    summarised = {s.subject for s in analysis.summaries}
    subject = next(iri for iri in sorted(counted) if iri in summarised)
    shown = portal.analysed("ca").contribution(subject)
    expected = counted[subject]
    assert [(share.stance, share.count) for share in shown.stances.shares] == [
        ("inFavour", expected.in_favour), ("against", expected.against), ("neutral", expected.neutral)]
    assert shown.summary is not None and all(sentence.cites for sentence in shown.summary.sentences)
    cited = {iri for sentence in shown.summary.sentences for card in sentence.cites for iri in [card.iri]}
    assert cited <= {text.iri for text in data.texts}


def test_a_contribution_the_analysis_says_nothing_of(world):
    _, _, portal = world
    shown = portal.analysed("fr").contribution("https://nowhere.example/x")
    assert shown.similar == () and shown.themes == () and shown.stances is None and shown.summary is None


def test_the_lookup_is_built_once_per_analysis(world):
    _, analysis, portal = world
    first = portal.analysed("ca").lookup
    assert portal.analysed("es").lookup is first
    other = Analysis(themes=list(analysis.themes))
    changing = Portal(portal.reads.merged, lambda iri: [], lambda: other, LINKS)
    assert changing.analysed("ca").lookup.analysis is other


def test_steps_without_data_are_listed_with_their_reason(world):
    *_, portal = world
    empty = Analysis(not_enough=[NotEnoughData("themes", "fewer than 4 contributions have a text")])
    page = Portal(portal.reads.merged, lambda iri: [], lambda: empty, LINKS).analysed("en").themes_page()
    assert page.themes == () and [gap.reason for gap in page.missing] == ["fewer than 4 contributions have a text"]


@pytest.mark.parametrize(("counts", "expected"), [
    ((2, 1, 1), [("inFavour", 2, 50), ("against", 1, 25), ("neutral", 1, 25)]),
    ((1, 2, 0), [("inFavour", 1, 33), ("against", 2, 67), ("neutral", 0, 0)]),
])
def test_stance_bars_count_and_share(counts, expected):
    bar = stance_bar(Stances("x", *counts))
    assert [(share.stance, share.count, share.percent) for share in bar.shares] == expected
    assert bar.total == sum(counts)


def test_no_stance_gives_no_bar():
    assert stance_bar(Stances("x")) is None


def test_a_label_falls_back_to_another_language_then_to_the_terms():
    theme = Theme("k", ("bici", "carril", "via"), {"es": "bici, carril"}, ("a",), {})
    assert theme_label(theme, "es").value == "bici, carril"
    assert theme_label(theme, "ca") == theme_label(theme, "es")
    assert theme_label(replace(theme, labels={}), "ca").value == "bici, carril, via"


def test_opinion_groups_and_the_statement_bridging_them_are_shown_by_title():
    reactions = divided()
    proposals = sorted({reaction.target for reaction in reactions.reactions})
    texts = [Text(iri=iri, kind="proposals", member=POD, language="en", title=f"Proposal {iri.rsplit('/', 1)[-1]}",
                  platform=SECOND) for iri in proposals]
    merged = MergedGraph(OxigraphStore(), MergedGraphs(BASE))
    merged.commit(Change(add=[quad for text in texts for quad in quads(text)]))
    found = opinion_groups(reactions)
    assert not isinstance(found, NotEnoughData)
    groups, bridges, run = found
    analysis = Analysis(groups=groups, bridges=bridges, runs={"opinion": run})
    views = Portal(merged, lambda iri: [], lambda: analysis, LINKS).analysed("en")
    page = views.themes_page()
    assert [(group.key, group.size) for group in page.groups] == [(group.key, group.size) for group in groups]
    for shown, group in zip(page.groups, groups, strict=True):
        assert [card.iri for card in shown.agrees_with] == list(group.agrees_with)
        assert all(card.title.value.startswith("Proposal ") for card in shown.agrees_with)
    park = f"{POD}proposals/park"
    assert [bridge.card.iri for bridge in page.bridges] == [park]
    assert page.bridges[0].agreement == tuple((group.key, 100) for group in sorted(groups, key=lambda g: g.key))
    assert views.contribution(park).bridge == page.bridges[0]
    assert views.contribution(f"{POD}proposals/l1").bridge is None  # one camp only
    assert [computed.step for computed in page.computed] == ["opinion"]
