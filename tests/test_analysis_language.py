"""Language detection of untagged texts: right on Barcelona's Catalan and Spanish texts, unknown when unsure."""

from __future__ import annotations

from dataclasses import replace

from dds_pod.analysis import Corpus, NotEnoughData, Text
from dds_pod.analysis.language import UNKNOWN, detect, detect_languages, tagged
from tests.analysis_data import barcelona


def _text(iri: str, body: str, language: str = "") -> Text:
    return Text(iri=iri, kind="proposals", member="m", language=language, body=body)


def test_barcelona_texts_are_read_in_their_language():
    texts = barcelona().texts
    right = sum(detect(f"{text.title}\n{text.body}") == text.language for text in texts)
    # a few of the city's "Spanish" texts are in Catalan: 95 % of tags are matched, far above a guess
    assert right / len(texts) > 0.9


def test_untagged_contributions_get_their_language():
    corpus = barcelona(("ca",), tagged=False)
    result = detect_languages(corpus)
    assert not isinstance(result, NotEnoughData)
    languages, run = result
    assert set(languages) == {text.iri for text in corpus.texts}
    assert sum(language == "ca" for language in languages.values()) / len(languages) > 0.9
    assert run.method == "langid" and run.parameters["languages"] == "fr,es,ca,en"
    assert run.snapshot == corpus.snapshot and "py3langid" in run.software
    assert detect_languages(corpus)[0] == languages  # the same input, the same output


def test_tagged_texts_keep_their_tag():
    corpus = Corpus(texts=(_text("a", "Les pistes cyclables du quartier sont dangereuses", "es"),
                           _text("b", "Les pistes cyclables du quartier sont dangereuses")))
    languages, _ = detect_languages(corpus)  # type: ignore[misc]
    assert languages == {"b": "fr"}
    filled = tagged(corpus, languages)
    assert [text.language for text in filled.texts] == ["es", "fr"]


def test_short_unsure_and_other_languages_are_unknown():
    assert detect("") == UNKNOWN
    assert detect("hola") == UNKNOWN
    assert detect("12345 67890 12345 67890 12345 67890") == UNKNOWN
    assert detect("Die Fahrradwege in der Stadt sind gefährlich und müssen dringend verbessert werden") == UNKNOWN
    assert detect("Les pistes cyclables du quartier sont dangereuses", ("ca", "es")) in {"ca", "es", UNKNOWN}


def test_the_threshold_is_a_parameter():
    text = "Les pistes cyclables du quartier"
    assert detect(text) == "fr"
    assert detect(text, min_chars=1000) == UNKNOWN
    assert detect(text, min_confidence=1.01) == UNKNOWN


def test_a_megabyte_text_is_read_from_its_start():
    body = "La participació ciutadana als barris de la ciutat és important. " * 16_000
    assert len(body) > 1_000_000
    corpus = Corpus(texts=(_text("big", body),))
    languages, run = detect_languages(corpus)  # type: ignore[misc]
    assert languages == {"big": "ca"} and run.parameters["max_chars"] < len(body)


def test_empty_corpus_is_not_enough_data():
    result = detect_languages(Corpus(texts=()))
    assert isinstance(result, NotEnoughData) and result.step == "languages"


def test_an_empty_text_is_unknown_not_an_error():
    corpus = Corpus(texts=(_text("a", ""), replace(_text("b", "x"), title="")))
    languages, _ = detect_languages(corpus)  # type: ignore[misc]
    assert languages == {"a": UNKNOWN, "b": UNKNOWN}
