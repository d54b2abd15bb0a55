"""Themes: the contributions of every platform grouped around key terms, by non-negative matrix factorisation
(NMF, seeded) of TF-IDF over stemmed words.

One document per contribution: its texts in every language together (Barcelona's Catalan and Spanish texts of a
project are one document). With Apertium, each contribution is read in the pivot language (its own text in that
language, else its text translated), so that texts of different languages share their words; without it, each
text is stemmed in its own language and a theme may gather mostly one language.

A theme's ``key`` is a hash of its key stems: the same input gives the same themes and keys. Its label in each
interface language is made of its strongest terms that occur in that language's texts (or, read through the
pivot, the pivot's label translated). A platform's own topic coincides with a theme when most of the topic's
contributions are in the theme.

:class:`ThemeModel` keeps the fitted vectoriser and factorisation: :func:`place` puts new and changed
contributions into the existing themes without fitting again.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from . import Corpus, NotEnoughData, Run, Text, Theme
from .translate import COMMAND, TranslationError, mode, translate_many
from .vectors import (
    MAX_CHARS,
    PIVOT,
    Surfaces,
    document,
    make_run,
    pivoted,
    short_hash,
    stemmed,
    utc_now,
    word_vectoriser,
)

LABEL_LANGUAGES = ("fr", "en", "es", "ca")
MAX_THEMES = 40
MIN_CONTRIBUTIONS = 4
TOP_TERMS = 10
LABEL_TERMS = 3
TOPIC_SHARE = 0.5  # of a topic's contributions in a theme, for the theme to name the topic
SEED = 0


@dataclass
class ThemeModel:
    """What a theme run keeps to place changed contributions into its themes."""

    pivot: str | None  # the language contributions were read in, or None when each was stemmed in its own
    command: str
    vectoriser: TfidfVectorizer
    nmf: NMF
    themes: list[Theme]  # by component of the factorisation
    weights: dict[str, tuple[int, float]]  # contribution -> (its theme's component, weight)
    texts: dict[str, tuple[Text, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ThemesResult:
    themes: list[Theme]
    run: Run
    model: ThemeModel


def theme_count(contributions: int) -> int:
    """The number of themes when none is asked for: about the square root of half the contributions, so a
    theme holds a few more contributions as the corpus grows, within 2 to :data:`MAX_THEMES`."""
    return max(2, min(MAX_THEMES, round(math.sqrt(contributions / 2))))


def find_themes(corpus: Corpus, *, n_themes: int | None = None, translate: bool | None = None, pivot: str = PIVOT,
                command: str = COMMAND) -> ThemesResult | NotEnoughData:
    """Group the corpus's contributions into ``n_themes`` themes (:func:`theme_count` when None). ``translate``:
    read every contribution in ``pivot`` through Apertium (None: when it translates every language present)."""
    started = utc_now()
    by_iri = _by_iri(corpus.texts)
    if len(by_iri) < MIN_CONTRIBUTIONS:
        return NotEnoughData("themes", f"fewer than {MIN_CONTRIBUTIONS} contributions have a text")
    languages = {text.language for texts in by_iri.values() for text in texts}
    through = pivot if (_translatable(languages, pivot, command) if translate is None else translate) else None
    surfaces = Surfaces()
    iris = sorted(by_iri)
    documents = _documents([by_iri[iri] for iri in iris], through, command, surfaces)
    vectoriser = word_vectoriser(len(iris))
    try:
        matrix = sparse.csr_matrix(vectoriser.fit_transform(documents))
    except ValueError:
        return NotEnoughData("themes", "the texts have too few words in common")
    count = min(n_themes or theme_count(len(iris)), matrix.shape[1], len(iris) - 1)
    if count < 2 or matrix.nnz == 0:
        return NotEnoughData("themes", "the texts have too few words in common")
    nmf = NMF(n_components=count, init="nndsvda", random_state=SEED, max_iter=300)
    weights = _weights(iris, nmf.fit_transform(matrix))
    vocabulary = vectoriser.get_feature_names_out()
    stems = [_top_stems(component, vocabulary) for component in nmf.components_]
    model = ThemeModel(through, command, vectoriser, nmf, [], weights, by_iri)
    model.themes = _themes(stems, surfaces, model, _labels(stems, surfaces, through, command))
    parameters: dict[str, str | int | float | bool] = {
        "themes": count, "seed": SEED, "init": "nndsvda", "min_df": vectoriser.min_df, "max_df": vectoriser.max_df,
        "features": int(matrix.shape[1]), "max_chars": MAX_CHARS, "pivot": through or "", "top_terms": TOP_TERMS,
        "topic_share": TOPIC_SHARE}
    return ThemesResult(_present(model.themes), make_run("tfidf-nmf", parameters, corpus, started), model)


def place(model: ThemeModel, changed: Sequence[Text], removed: Collection[str] = ()) -> list[Theme]:
    """The themes once the ``changed`` contributions (new, or new versions) are placed in them and the ``removed``
    ones taken out; ``model`` then holds them. Themes keep their keys, terms and labels until the next full run."""
    for iri in removed:
        model.weights.pop(iri, None)
        model.texts.pop(iri, None)
    by_iri = _by_iri(changed)
    for iri in by_iri:
        model.weights.pop(iri, None)
    model.texts.update(by_iri)
    iris = sorted(by_iri)
    if iris:
        documents = _documents([by_iri[iri] for iri in iris], model.pivot, model.command, None)
        found = model.nmf.transform(model.vectoriser.transform(documents))
        model.weights.update(_weights(iris, found))
    model.themes = [_theme(theme, index, model) for index, theme in enumerate(model.themes)]
    return _present(model.themes)


def _documents(contributions: Sequence[tuple[Text, ...]], pivot: str | None, command: str,
               surfaces: Surfaces | None) -> list[str]:
    """Each contribution's stems: of all its texts, or of its text in (or translated to) the pivot language."""
    if pivot is None:
        return [" ".join(token for text in texts for token in stemmed(document(text), text.language, surfaces))
                for texts in contributions]
    chosen = [next((text for text in texts if text.language == pivot), texts[0]) for texts in contributions]
    return [" ".join(stemmed(body, language, surfaces)) for body, language in pivoted(chosen, pivot, command)]


def _weights(iris: Sequence[str], found: np.ndarray) -> dict[str, tuple[int, float]]:
    """Each contribution's strongest component; one with no weight on any (no known word) is in no theme."""
    best = found.argmax(axis=1)
    return {iri: (int(best[row]), round(float(found[row, best[row]]), 6))
            for row, iri in enumerate(iris) if found[row, best[row]] > 0}


def _top_stems(component: np.ndarray, vocabulary: np.ndarray, size: int = 3 * TOP_TERMS) -> list[str]:
    order = np.lexsort((vocabulary, -component))[:size]
    return [str(vocabulary[column]) for column in order if component[column] > 0]


def _themes(stems: list[list[str]], surfaces: Surfaces, model: ThemeModel,
            labels: list[dict[str, str]]) -> list[Theme]:
    keys: set[str] = set()
    themes = []
    for index, top in enumerate(stems):
        key = short_hash(top[:TOP_TERMS] or [str(index)])
        while key in keys:  # two components with the same key stems: told apart by their order
            key = short_hash([key, str(index)])
        keys.add(key)
        terms = tuple(surfaces.word(each) or each for each in top[:TOP_TERMS])
        empty = Theme(key=key, terms=terms, labels=labels[index], members=(), platforms={})
        themes.append(_theme(empty, index, model))
    return themes


def _theme(theme: Theme, index: int, model: ThemeModel) -> Theme:
    """The theme with the members the model places in it, their platforms and the topics it coincides with."""
    members = sorted((iri for iri, (component, _) in model.weights.items() if component == index),
                     key=lambda iri: (-model.weights[iri][1], iri))
    platforms = Counter(text.platform or text.member for iri in members for text in model.texts[iri][:1])
    return Theme(key=theme.key, terms=theme.terms, labels=theme.labels, members=tuple(members),
                 platforms=dict(sorted(platforms.items())), topics=_topics(set(members), model.texts))


def _topics(members: set[str], texts: Mapping[str, tuple[Text, ...]]) -> tuple[str, ...]:
    """The topics most of whose contributions (at least two) are in the theme, the closest match first."""
    topic_members: dict[str, set[str]] = defaultdict(set)
    for iri, each in texts.items():
        for text in each:
            for topic in text.topics:
                topic_members[topic].add(iri)
    scored = []
    for topic, found in topic_members.items():
        common = len(found & members)
        if common >= 2 and common / len(found) >= TOPIC_SHARE:
            scored.append((-common / len(found | members), topic))
    return tuple(topic for _, topic in sorted(scored))


def _labels(stems: list[list[str]], surfaces: Surfaces, pivot: str | None, command: str) -> list[dict[str, str]]:
    """Each theme's label per interface language: its strongest terms found in that language's texts; read
    through a pivot, the pivot's label translated where Apertium has the pair."""
    if pivot is None:
        return [{language: label for language in LABEL_LANGUAGES
                 if (label := _label(top, surfaces, language))} for top in stems]
    labels = [{pivot: label} if (label := _label(top, surfaces, pivot)) else {} for top in stems]
    for language in LABEL_LANGUAGES:
        named = [index for index, label in enumerate(labels) if pivot in label]
        if language == pivot or not named or not mode(pivot, language, command):
            continue
        try:
            translated = translate_many([labels[index][pivot] for index in named], pivot, language, command)
        except TranslationError:
            continue
        for index, label in zip(named, translated, strict=True):
            if label:
                labels[index][language] = _like(label, labels[index][pivot])
    return labels


def _label(top: list[str], surfaces: Surfaces, language: str) -> str:
    found = [word for each in top if (word := surfaces.word(each, language))]
    return ", ".join(dict.fromkeys(found[:LABEL_TERMS]))


def _like(translated: str, source: str) -> str:
    """A translated label as its source is: Apertium capitalises what it reads as a sentence, and may give two
    source terms the same translation."""
    if source[:1].islower():
        translated = translated[:1].lower() + translated[1:]
    return ", ".join(dict.fromkeys(part.strip() for part in translated.split(",") if part.strip()))


def _translatable(languages: Collection[str], pivot: str, command: str) -> bool:
    others = {language for language in languages if language and language != pivot}
    return bool(others) and all(mode(language, pivot, command) for language in others)


def _present(themes: list[Theme]) -> list[Theme]:
    """The themes with members, the largest first (ties by key)."""
    return sorted((theme for theme in themes if theme.members), key=lambda theme: (-len(theme.members), theme.key))


def _by_iri(texts: Sequence[Text]) -> dict[str, tuple[Text, ...]]:
    grouped: dict[str, list[Text]] = defaultdict(list)
    for text in sorted(texts, key=lambda each: (each.iri, each.language, each.kind)):
        if document(text).strip():
            grouped[text.iri].append(text)
    return {iri: tuple(each) for iri, each in grouped.items()}
