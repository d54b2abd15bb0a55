"""Extractive summaries of themes and long comment threads, and the sentence splitter they rest on."""

from __future__ import annotations

import pytest

from dds_pod.analysis import Corpus, NotEnoughData, Text, Theme
from dds_pod.analysis.sentences import split
from dds_pod.analysis.summaries import SummarySettings, passage_sets, summarise

from .analysis_comments import barcelona, madrid, madrid_proposal, madrid_proposal_of

POD = "https://pod.example/"


def text(ident: str, body: str, language: str = "en", kind: str = "proposals", **extra) -> Text:
    return Text(iri=f"{POD}{kind}/{ident}", kind=kind, member=POD, language=language, body=body, **extra)


def theme(key: str, *members: str) -> Theme:
    return Theme(key=key, terms=("x",), labels={"en": key}, members=members, platforms={})


# Sentences


@pytest.mark.parametrize(("language", "body", "expected"), [
    ("es", "El Sr. García pide más bancos. ¿Por qué no? Hay 3 plazas.",
     ["El Sr. García pide más bancos.", "¿Por qué no?", "Hay 3 plazas."]),
    ("ca", "La Sra. Puig ho demana. Cal fer-ho, etc. Ara mateix!",
     ["La Sra. Puig ho demana.", "Cal fer-ho, etc. Ara mateix!"]),
    ("fr", "M. Dupont habite ici. Il veut un parc ! Oui.", ["M. Dupont habite ici.", "Il veut un parc !", "Oui."]),
    ("en", "Dr. Smith met J. Doe. They agreed.\nA new line", ["Dr. Smith met J. Doe.", "They agreed.", "A new line"]),
    ("en", "", []),
])
def test_sentences_split_at_ends_not_at_abbreviations(language, body, expected):
    assert split(body, language) == expected


def test_lower_case_after_a_full_stop_continues_the_sentence():
    assert split("Use the bus e.g. line 5. Then walk.", "en") == ["Use the bus e.g. line 5.", "Then walk."]


# Built corpora


PARK = [
    "The park needs more trees and shade for the summer.",
    "Children play in the park every afternoon after school.",
    "More trees in the park would give shade to children and families in summer.",
    "Families want benches near the playground of the park.",
    "The fountain near the playground has been broken for a year.",
    "Shade and trees make the park usable for families in summer.",
]


def park_corpus() -> Corpus:
    texts = tuple(text(f"p{i}", f"{sentence} {PARK[(i + 1) % len(PARK)]}") for i, sentence in enumerate(PARK))
    return Corpus(texts=texts, snapshot={POD: 3})


def test_a_theme_summary_cites_where_each_sentence_comes_from():
    corpus = park_corpus()
    members = tuple(t.iri for t in corpus.texts)
    result = summarise(corpus, [theme("park", *members)])
    assert not isinstance(result, NotEnoughData)
    (summary,), run = result
    assert summary.subject == "park" and summary.language == "en" and not summary.abstractive
    assert len(summary.sentences) == SummarySettings().sentences
    bodies = {t.iri: t.body for t in corpus.texts}
    for sentence in summary.sentences:
        assert sentence.cites and all(sentence.text in bodies[iri] for iri in sentence.cites)
    # Each sentence is said twice (in its own proposal and its neighbour's): one sentence citing both.
    assert all(len(s.cites) == 2 for s in summary.sentences)
    assert run.method == "extractive" and run.snapshot == {POD: 3} and run.parameters["sentences"] == 3


def test_the_central_sentence_is_chosen_and_near_repeats_are_not():
    corpus = park_corpus()
    (summary,), _ = summarise(corpus, [theme("park", *(t.iri for t in corpus.texts))])  # type: ignore[misc]
    chosen = {s.text for s in summary.sentences}
    trees = {PARK[0], PARK[2], PARK[5]}  # trees, shade, summer: the idea most sentences share
    assert len(chosen & trees) == 1  # the central idea is taken, and only once
    assert PARK[1] not in chosen  # the least central sentence (it resembles one other only)


def test_sentences_come_back_in_the_order_they_were_written():
    corpus = park_corpus()
    (summary,), _ = summarise(corpus, [theme("park", *(t.iri for t in corpus.texts))])  # type: ignore[misc]
    order = [PARK.index(s.text) for s in summary.sentences]
    first_seen = {PARK[i]: i for i in range(len(PARK))}
    assert order == sorted(order, key=lambda i: first_seen[PARK[i]])


def test_one_summary_per_language_of_a_theme():
    corpus = park_corpus()
    spanish = tuple(text(f"s{i}", f"{body} {body}", "es") for i, body in enumerate([
        "El parque necesita más árboles y sombra para el verano.", "Los niños juegan en el parque cada tarde.",
        "Más árboles en el parque darían sombra a los niños y a las familias en verano.",
        "Las familias quieren bancos junto a la zona de juegos del parque.",
        "La fuente junto a la zona de juegos lleva un año rota.",
        "La sombra y los árboles hacen el parque útil para las familias en verano.",
        "Hace falta un parque más verde y con más sombra para las familias del barrio en verano."]))
    both = Corpus(texts=corpus.texts + spanish)
    result = summarise(both, [theme("park", *(t.iri for t in both.texts))])
    assert not isinstance(result, NotEnoughData)
    summaries = result[0]
    assert [s.language for s in summaries] == ["en", "es"]
    spanish_iris = {t.iri for t in spanish}
    assert all(set(s.cites) <= spanish_iris for s in summaries[1].sentences)


def test_untagged_texts_take_their_detected_language_else_are_left_out():
    corpus = park_corpus()
    untagged = Corpus(texts=tuple(Text(t.iri, t.kind, t.member, "", body=t.body) for t in corpus.texts))
    themes = [theme("park", *(t.iri for t in corpus.texts))]
    assert isinstance(summarise(untagged, themes), NotEnoughData)
    result = summarise(untagged, themes, languages={t.iri: "en" for t in corpus.texts})
    assert not isinstance(result, NotEnoughData) and result[0][0].language == "en"


def test_summaries_are_the_same_on_the_same_input():
    corpus = barcelona()
    first, again = summarise(corpus), summarise(corpus)
    assert not isinstance(first, NotEnoughData) and not isinstance(again, NotEnoughData)
    assert first[0] == again[0]


# Real threads


def test_madrid_long_threads_are_summarised_from_their_own_comments():
    corpus = madrid()
    result = summarise(corpus)
    assert not isinstance(result, NotEnoughData)
    summaries, _ = result
    by_subject = {s.subject: s for s in summaries}
    assert madrid_proposal("1419") in by_subject  # 592 comments
    comments = {t.iri: t for t in corpus.texts if t.kind == "comments"}
    settings = SummarySettings()
    for summary in summaries:
        assert summary.language == "es" and 1 <= len(summary.sentences) <= settings.sentences
        for sentence in summary.sentences:
            assert all(sentence.text in comments[iri].body for iri in sentence.cites)
            assert settings.min_words <= len(sentence.text.split())
    written_under = madrid_proposal_of()
    for sentence in by_subject[madrid_proposal("1419")].sentences:
        assert {written_under[iri] for iri in sentence.cites} == {madrid_proposal("1419")}


def test_only_long_threads_are_summarised():
    proposal = text("p", "A proposal.")
    long = [text(f"c{i}", f"{PARK[i]} {PARK[i + 1]} {PARK[i + 2]}" * 3, kind="comments", in_reply_to=proposal.iri)
            for i in range(3)]
    settings = SummarySettings(min_thread_characters=1000)
    result = summarise(Corpus(texts=(proposal, *long)), settings=settings)
    assert not isinstance(result, NotEnoughData) and [s.subject for s in result[0]] == [proposal.iri]
    assert isinstance(summarise(Corpus(texts=(proposal, *long[:2])), settings=settings), NotEnoughData)
    too_long = SummarySettings(min_thread_characters=sum(len(t.body) for t in long) + 1)
    assert isinstance(summarise(Corpus(texts=(proposal, *long)), settings=too_long), NotEnoughData)


def test_a_reply_counts_in_the_thread_of_what_its_parent_answers():
    proposal = text("p", "A proposal.")
    first = text("c0", " ".join(PARK), kind="comments", in_reply_to=proposal.iri)
    replies = [text(f"c{i}", " ".join(PARK[i:] + PARK[:i]), kind="comments", in_reply_to=f"{POD}comments/c{i - 1}")
               for i in range(1, 3)]
    result = summarise(Corpus(texts=(proposal, first, *replies)), settings=SummarySettings(min_thread_characters=900))
    assert not isinstance(result, NotEnoughData) and [s.subject for s in result[0]] == [proposal.iri]


def test_barcelona_threads_are_summarised_per_language():
    corpus = barcelona()
    sets = passage_sets(corpus, (), {}, SummarySettings(min_thread_comments=2, min_thread_characters=300))
    assert sets and all({t.language for t in s.texts} == {s.language} for s in sets)
    assert {s.language for s in sets} <= {"ca", "es"}
    assert all(s.subject.startswith("https://www.decidim.barcelona/") for s in sets)  # results, not comments


# Bad input


@pytest.mark.parametrize("bodies", [
    [""] * 5,
    ["Sí"] * 20,
    ["Word. " * 3] * 10,
    ["Short one here. Another short one."] * 2,
])
def test_too_little_text_is_not_enough_data(bodies):
    texts = tuple(text(str(i), body) for i, body in enumerate(bodies))
    result = summarise(Corpus(texts=texts), [theme("t", *(t.iri for t in texts))])
    assert isinstance(result, NotEnoughData) and result.step == "summaries"


def test_a_platform_without_comments_and_themes_is_not_enough_data():
    corpus = park_corpus()
    assert isinstance(summarise(corpus), NotEnoughData)
    assert isinstance(summarise(Corpus(texts=())), NotEnoughData)


def test_a_megabyte_text_is_read_up_to_the_bound():
    huge = text("huge", "The park needs more trees and shade for families. " * 21_000)
    assert len(huge.body) > 1_000_000
    corpus = park_corpus()
    both = Corpus(texts=(*corpus.texts, huge, text("bare", "parkparkpark" * 100_000)))
    result = summarise(both, [theme("park", *(t.iri for t in both.texts))])
    assert not isinstance(result, NotEnoughData)
    (summary,), _ = result
    assert len(summary.sentences) == 3
    assert all(len(s.text) < 1000 for s in summary.sentences)
