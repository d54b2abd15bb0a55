"""Themes on Barcelona's budget projects agree with the city's own categories far better than chance; they are
the same on a rerun; bad input gives "not enough data", never an error."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from sklearn.metrics import normalized_mutual_info_score

from dds_pod.analysis import Corpus, NotEnoughData, Text
from dds_pod.analysis.themes import MAX_THEMES, ThemesResult, find_themes, place, theme_count
from dds_pod.analysis.translate import mode
from tests.analysis_data import PLATFORM, barcelona, categories


@pytest.fixture(scope="module")
def result() -> ThemesResult:
    found = find_themes(barcelona(), translate=False)
    assert isinstance(found, ThemesResult)
    return found


def _assignment(themes) -> dict[str, str]:
    return {iri: theme.key for theme in themes for iri in theme.members}


def _nmi(assignment: dict[str, str]) -> float:
    known = categories()
    iris = sorted(assignment)
    return normalized_mutual_info_score([known[iri] for iri in iris], [assignment[iri] for iri in iris])


def test_themes_agree_with_the_city_categories(result):
    assignment = _assignment(result.themes)
    assert len(assignment) == 220  # every project in exactly one theme
    shuffled = list(assignment.values())
    random.Random(1).shuffle(shuffled)
    chance = _nmi(dict(zip(sorted(assignment), shuffled, strict=True)))
    # measured: 0.53 for the themes, 0.2 for the same theme sizes drawn at random
    assert _nmi(assignment) > 0.45 > chance + 0.15


def test_a_theme_is_described(result):
    assert len(result.themes) == theme_count(220) == 10
    for theme in result.themes:
        assert len(theme.key) == 12 and len(theme.terms) == 10 and all(theme.terms)
        assert {"ca", "es"} <= set(theme.labels) and all(theme.labels.values())
        assert theme.platforms == {PLATFORM: len(theme.members)}
    sizes = [len(theme.members) for theme in result.themes]
    assert sizes == sorted(sizes, reverse=True)
    assert any(theme.topics for theme in result.themes)
    known = categories()
    for theme in result.themes:
        for topic in theme.topics:  # most of the topic's projects are in the theme
            members = [iri for iri, category in known.items() if f"category-{category}" == topic]
            assert sum(iri in theme.members for iri in members) / len(members) >= 0.5


def test_members_strongest_first(result):
    model = result.model
    for theme in result.themes:
        weights = [model.weights[iri][1] for iri in theme.members]
        assert weights == sorted(weights, reverse=True)


def test_the_run_says_how(result):
    run = result.run
    assert run.method == "tfidf-nmf" and run.parameters["themes"] == 10 and run.parameters["seed"] == 0
    assert run.parameters["pivot"] == "" and run.parameters["max_chars"] == 20_000
    assert "scikit-learn" in run.software and run.snapshot == barcelona().snapshot and run.started <= run.ended


def test_the_same_input_gives_the_same_themes(result):
    again = find_themes(barcelona(), translate=False)
    assert isinstance(again, ThemesResult) and again.themes == result.themes


def test_the_number_of_themes_is_a_parameter():
    found = find_themes(barcelona(), translate=False, n_themes=4)
    assert isinstance(found, ThemesResult) and len(found.themes) <= 4 and found.run.parameters["themes"] == 4
    assert theme_count(10) == 2 and theme_count(10_000_000) == MAX_THEMES


def test_placing_changed_contributions():
    found = find_themes(barcelona(), translate=False)
    assert isinstance(found, ThemesResult)
    before = _assignment(found.themes)
    changed = [text for text in barcelona().texts if text.iri in sorted(before)[:100]]
    removed = sorted(before)[-1]
    themes = place(found.model, changed, removed=[removed])
    after = _assignment(themes)
    assert removed not in after and len(after) == 219
    assert {theme.key for theme in themes} <= {theme.key for theme in found.themes}
    # the same texts placed again land in the theme the full run gave them
    assert sum(after[iri] == before[iri] for iri in after) / len(after) > 0.95


def test_a_contribution_moved_by_its_new_text():
    found = find_themes(barcelona(), translate=False)
    assert isinstance(found, ThemesResult)
    theme = found.themes[0]
    other = next(iri for each in found.themes[1:] for iri in each.members)
    text = next(text for text in barcelona().texts if text.iri == theme.members[0] and text.language == "ca")
    themes = place(found.model, [replace(text, iri=other)])
    assert other in next(each for each in themes if each.key == theme.key).members


@pytest.mark.skipif(mode("ca", "es") is None, reason="Apertium's Catalan-Spanish pair is not installed")
def test_read_through_the_pivot():
    catalan = barcelona(("ca",))
    found = find_themes(Corpus(texts=catalan.texts[:80]), translate=True)
    assert isinstance(found, ThemesResult) and found.run.parameters["pivot"] == "es"
    assert all({"es", "ca"} <= set(theme.labels) for theme in found.themes)


def _texts(*bodies: str, language: str = "ca") -> Corpus:
    return Corpus(texts=tuple(Text(iri=f"t{n}", kind="proposals", member="m", language=language, body=body)
                              for n, body in enumerate(bodies)))


@pytest.mark.parametrize(("corpus", "why"), [
    (Corpus(texts=()), "fewer than 4"),
    (_texts("", "", "", "", ""), "fewer than 4"),
    (_texts("La bicicleta", "El carrer", "La plaça"), "fewer than 4"),
    (_texts(*["bicicleta"] * 12), "too few words"),
    (_texts(*["el la de i"] * 12), "too few words"),
])
def test_not_enough_data(corpus, why):
    found = find_themes(corpus, translate=False)
    assert isinstance(found, NotEnoughData) and found.step == "themes" and why in found.reason


def test_one_word_texts_and_unknown_languages_do_not_break_it():
    words = ["bicicleta", "carrer", "escola", "parc"]
    corpus = _texts(*[words[n % 4] for n in range(16)], language="xx")
    found = find_themes(corpus, translate=False, n_themes=4)
    assert isinstance(found, ThemesResult)
    groups = {word: {f"t{n}" for n in range(16) if n % 4 == position} for position, word in enumerate(words)}
    assert {theme.terms: set(theme.members) for theme in found.themes} == {(word,): groups[word] for word in words}


def test_a_megabyte_text_is_cut():
    corpus = barcelona(("ca",))
    big = replace(corpus.texts[0], body="bicicleta carril segur " * 50_000)
    found = find_themes(replace(corpus, texts=(big, *corpus.texts[1:])), translate=False)
    assert isinstance(found, ThemesResult) and found.run.parameters["max_chars"] < len(big.body)
