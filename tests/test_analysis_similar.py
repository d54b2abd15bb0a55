"""Similar contributions: the Spanish text of a Barcelona project is the nearest of its Catalan text; only other
platforms or languages are paired; blocks give what the whole matrix gives; bad input is "not enough data"."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dds_pod.analysis import Corpus, NotEnoughData, Text
from dds_pod.analysis import similar as similar_module
from dds_pod.analysis.similar import (
    SimilarResult,
    choose_method,
    find_similar,
    nearest,
    update_similar,
    vectorise,
)
from dds_pod.analysis.translate import mode
from tests.analysis_data import barcelona

ABSENT = "dds-pod-no-such-translator"


def _recall(method: str, texts: list[Text]) -> tuple[float, float]:
    """Of each project's Catalan text, how often its Spanish text is the nearest, and among the five nearest,
    of all the Spanish texts."""
    _, matrix = vectorise(texts, method)
    catalan = [row for row, text in enumerate(texts) if text.language == "ca"]
    spanish_rows = [row for row, text in enumerate(texts) if text.language == "es"]
    spanish = {texts[row].iri: column for column, row in enumerate(spanish_rows)}
    found, _ = nearest(matrix[catalan], matrix[spanish_rows], 5)
    wanted = np.array([spanish[texts[row].iri] for row in catalan])
    return float((found[:, 0] == wanted).mean()), float((found == wanted[:, None]).any(axis=1).mean())


@pytest.fixture(scope="module")
def texts() -> list[Text]:
    return sorted(barcelona().texts, key=lambda text: (text.iri, text.language))


def test_the_spanish_text_is_nearest_to_the_catalan_one_by_char_ngrams(texts):
    at_1, at_5 = _recall("char", texts)
    assert at_1 > 0.9 and at_5 > 0.95  # chance: 1 / 220 and 5 / 220


@pytest.mark.skipif(mode("ca", "es") is None, reason="Apertium's Catalan-Spanish pair is not installed")
def test_the_spanish_text_is_nearest_through_the_pivot(texts):
    at_1, _ = _recall("pivot", texts[:120])
    assert at_1 > 0.9


def test_only_other_platforms_or_languages_are_paired():
    result = find_similar(barcelona(), method="char", command=ABSENT)
    assert isinstance(result, SimilarResult)
    assert result.similar and all(each.cross_language and each.source != each.target for each in result.similar)
    assert result.run.method == "tfidf-char-cosine" and result.run.parameters["k"] == 5
    sources = [each.source for each in result.similar]
    assert sources == sorted(sources)
    for source in set(sources):
        scores = [each.score for each in result.similar if each.source == source]
        assert len(scores) <= 5 and scores == sorted(scores, reverse=True) and min(scores) >= 0.25


def _text(iri: str, body: str, platform: str, language: str = "ca") -> Text:
    return Text(iri=iri, kind="proposals", member=platform, language=language, body=body, platform=platform)


BIKES = "Volem un carril bici segur al carrer Gran de Gràcia per anar a l'escola en bicicleta"
TREES = "Plantar arbres i fer un jardí a la plaça del barri per tenir més ombra a l'estiu"


def _platforms() -> Corpus:
    return Corpus(texts=(
        _text("a1", BIKES, "A"), _text("a2", TREES, "A"), _text("a3", BIKES + " i als parcs", "A"),
        _text("b1", BIKES + " cada dia", "B"), _text("b2", "Més arbres a la plaça del barri", "B"),
        _text("c1", "Queremos un carril bici seguro en la calle Gran de Gràcia", "C", "es"),
    ))


def test_near_duplicates_on_another_platform_are_flagged():
    result = find_similar(_platforms(), method="char", command=ABSENT)
    assert isinstance(result, SimilarResult)
    pairs = {(each.source, each.target): each for each in result.similar}
    assert ("a1", "a3") not in pairs  # the same platform, the same language
    assert pairs[("a1", "b1")].near_duplicate and not pairs[("a1", "b1")].cross_language
    assert not pairs[("a2", "b2")].near_duplicate
    assert pairs[("a1", "c1")].cross_language and ("a1", "a2") not in pairs


def test_the_same_input_gives_the_same_pairs():
    first = find_similar(barcelona(), method="char", command=ABSENT)
    second = find_similar(barcelona(), method="char", command=ABSENT)
    assert isinstance(first, SimilarResult) and isinstance(second, SimilarResult)
    assert first.similar == second.similar


def test_blocks_give_what_the_whole_matrix_gives(monkeypatch, texts):
    _, matrix = vectorise(texts, "char")
    whole = (matrix @ matrix.T).toarray()
    monkeypatch.setattr(similar_module, "BLOCK_CELLS", 3 * matrix.shape[0])  # blocks of three rows
    found, scores = nearest(matrix, matrix, 4)
    expected = np.argsort(-whole, axis=1, kind="stable")[:, :4]
    assert np.allclose(scores, np.take_along_axis(whole, expected, axis=1), atol=1e-5)
    assert np.allclose(np.take_along_axis(whole, found, axis=1), scores, atol=1e-5)  # the indices name them
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)  # each text is its own nearest (or as near as a copy)


def test_excluded_labels_are_skipped(texts):
    _, matrix = vectorise(texts[:20], "char")
    labels = np.arange(20) // 2  # the two texts of each project share a label
    found, _ = nearest(matrix, matrix, 3, [(labels, labels)])
    assert all(labels[column] != labels[row] for row in range(20) for column in found[row] if column >= 0)


def test_changed_texts_against_the_rest():
    result = find_similar(_platforms(), method="char", command=ABSENT)
    assert isinstance(result, SimilarResult)
    changed = [_text("b2", TREES + " nous", "B")]
    found = update_similar(result.index, changed, removed=["c1"])
    assert {each.source for each in found} == {"b2"}
    assert found[0].target == "a2" and found[0].near_duplicate
    assert "c1" not in {text.iri for text in result.index.texts}
    assert result.index.matrix.shape[0] == len(result.index.texts) == 5


def test_auto_takes_char_ngrams_without_apertium():
    assert choose_method("auto", {"ca", "es"}, command=ABSENT) == "char"
    assert choose_method("word", {"ca"}) == "word"
    with pytest.raises(ValueError, match="unknown similarity method"):
        choose_method("magic", {"ca"})


@pytest.mark.parametrize("corpus", [
    Corpus(texts=()),
    Corpus(texts=(_text("a", BIKES, "A"),)),
    Corpus(texts=(_text("a", "", "A"), _text("b", "", "B"))),
])
def test_not_enough_data(corpus):
    found = find_similar(corpus, method="char", command=ABSENT)
    assert isinstance(found, NotEnoughData) and found.step == "similar"


def test_stop_words_only_is_not_enough_data():
    corpus = Corpus(texts=(_text("a", "el la de", "A"), _text("b", "i el de", "B")))
    found = find_similar(corpus, method="word")
    assert isinstance(found, NotEnoughData) and "no words" in found.reason


def test_one_word_megabyte_and_unknown_language_texts():
    big = _text("big", "bicicleta carril " * 70_000, "A")
    corpus = Corpus(texts=(big, _text("one", "bicicleta", "B"), _text("xx", "carril bicicleta", "C", "xx")))
    found = find_similar(corpus, method="char", command=ABSENT)
    assert isinstance(found, SimilarResult) and found.run.parameters["max_chars"] < len(big.body)
    assert {(each.source, each.target) for each in found.similar} >= {("big", "xx"), ("xx", "big")}
    words = find_similar(replace(corpus), method="word")
    assert isinstance(words, SimilarResult)


def test_reduced_vectors_still_find_the_translation():
    """The path a corpus above EXACT_UP_TO texts takes, forced on a small one."""
    corpus = barcelona()
    result = find_similar(corpus, method="char", command=ABSENT, dimensions=64)
    assert isinstance(result, SimilarResult) and result.run.parameters["dimensions"] == 64
    assert isinstance(result.index.matrix, np.ndarray) and result.index.matrix.shape == (440, 64)
    again = find_similar(corpus, method="char", command=ABSENT, dimensions=64)
    assert isinstance(again, SimilarResult) and again.similar == result.similar
    text = next(text for text in corpus.texts if text.language == "ca")
    found = update_similar(result.index, [replace(text, iri="new", platform="other")])
    assert found and found[0].source == "new" and found[0].target == text.iri and found[0].near_duplicate
    assert result.index.matrix.shape == (441, 64)
