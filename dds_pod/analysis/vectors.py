"""Texts as the theme and similarity steps read them: one document per text, bounded, its words stemmed in its
language without stop words, and the TF-IDF vectorisers both steps share.

A text is cut to :data:`MAX_CHARS` before it is vectorised (a 1 MB text says no more about its theme than its
first pages, and would cost as much as a hundred others); the steps name the bound in their run's parameters.
Stems are those of the search index (``search/words.py``), so a theme's terms match what a reader searches for;
a term is shown as the most frequent word that gave its stem. Stop words come from the ``stopwordsiso`` package
(the stopwords-iso collection), compared without accents as the stems are.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from importlib import metadata

import numpy as np
import stopwordsiso
from sklearn.feature_extraction.text import TfidfVectorizer

from ..search.words import MAX_WORD_CHARS, STEMMERS, stem, unaccented, words
from . import Corpus, Run, Text
from .translate import COMMAND, TranslationError, mode, translate_many

MAX_CHARS = 20_000
PIVOT = "es"  # the language texts are translated to for comparison: Apertium pairs it with ca, fr and en
MIN_WORD_CHARS = 2  # one-letter words are articles and initials in every language the node reads
SOFTWARE = ("dds-pod", "scikit-learn", "numpy", "scipy", "snowballstemmer", "py3langid", "stopwordsiso")


def document(text: Text, max_chars: int = MAX_CHARS) -> str:
    """The title and body of a text as one document, cut to ``max_chars``."""
    joined = f"{text.title}\n{text.body}" if text.title and text.body else text.title or text.body
    return joined[:max_chars]


@lru_cache(maxsize=16)
def stop_words(language: str) -> frozenset[str]:
    """The stop words of a language (none for a language the collection lacks), lower case, without accents."""
    return frozenset(unaccented(word.lower()) for word in stopwordsiso.stopwords(language))


class Surfaces:
    """Which words gave each stem, per language: a stem is shown as the word that gave it most often."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], Counter[str]] = {}

    def add(self, language: str, stem_: str, word: str) -> None:
        self._counts.setdefault((language, stem_), Counter())[word] += 1

    def word(self, stem_: str, language: str | None = None) -> str | None:
        """The most frequent word of ``stem_`` in ``language`` (in any language when None); ties by the word."""
        if language is not None:
            counts = self._counts.get((language, stem_))
        else:
            counts = Counter()
            for (_, each), found in self._counts.items():
                if each == stem_:
                    counts.update(found)
        if not counts:
            return None
        return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]

    def languages(self, stem_: str) -> set[str]:
        return {language for (language, each) in self._counts if each == stem_}


def stemmed(text: str, language: str, surfaces: Surfaces | None = None) -> list[str]:
    """The stems of a text's words in ``language`` without its stop words; a text of no known language keeps its
    words unstemmed (stemming it in every language would split one word into several terms)."""
    known = language in STEMMERS
    stops = stop_words(language) if known else frozenset()
    found = []
    for word in words(text):
        plain = unaccented(word)
        if len(plain) < MIN_WORD_CHARS or plain.isdigit() or plain in stops:
            continue
        token = stem(word[:MAX_WORD_CHARS], language) if known else plain
        if surfaces is not None:
            surfaces.add(language, token, word)
        found.append(token)
    return found


def word_vectoriser(documents: int, max_features: int = 100_000) -> TfidfVectorizer:
    """TF-IDF over already stemmed documents (stems separated by spaces). A stem in one document only, or in
    more than half of them, tells no two documents apart; a small corpus keeps them all."""
    small = documents < 10
    return TfidfVectorizer(
        analyzer=str.split, lowercase=False, min_df=1 if small else 2, max_df=1.0 if small else 0.5,
        sublinear_tf=True, max_features=max_features, dtype=np.float32,
    )


def char_vectoriser(documents: int, max_features: int = 400_000) -> TfidfVectorizer:
    """TF-IDF over character 3- to 5-grams inside words, without accents: Catalan, Spanish and French share
    most of theirs ("bicicleta", "participació" / "participación"), so texts compare across these languages.
    On a large corpus an n-gram in more than 2 000 documents is dropped: it tells little apart and would make
    the comparison of every pair cost as much as a dense matrix."""
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), preprocessor=_plain, min_df=1 if documents < 10 else 2,
        max_df=1.0 if documents <= 4_000 else 2_000 / documents, sublinear_tf=True, max_features=max_features,
        dtype=np.float32,
    )


def pivoted(texts: Sequence[Text], pivot: str = PIVOT, command: str = COMMAND) -> list[tuple[str, str]]:
    """Each text's document in the pivot language (translated, one call per source language), with the language
    it is now in: a text whose language cannot be translated stays as it is."""
    result = [(document(text), text.language) for text in texts]
    by_language: dict[str, list[int]] = defaultdict(list)
    for position, text in enumerate(texts):
        if text.language and text.language != pivot and mode(text.language, pivot, command):
            by_language[text.language].append(position)
    for language, positions in sorted(by_language.items()):
        try:
            translations = translate_many([result[p][0] for p in positions], language, pivot, command)
        except TranslationError:
            continue  # the pair failed: those texts keep their language, compared by their own stems
        for position, translation in zip(positions, translations, strict=True):
            result[position] = (translation, pivot)
    return result


def software() -> str:
    """The versions of what computed a result, for its run."""
    return "; ".join(f"{name} {_version(name)}" for name in SOFTWARE)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def make_run(method: str, parameters: Mapping[str, str | int | float | bool], corpus: Corpus, started: str) -> Run:
    return Run(method=method, parameters=dict(parameters), software=software(), snapshot=dict(corpus.snapshot),
               started=started, ended=utc_now())


def short_hash(parts: Iterable[str], size: int = 12) -> str:
    """A key that is the same for the same parts, whatever the run."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:size]


def _plain(text: str) -> str:
    return unaccented(text.lower())


@cache
def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"
