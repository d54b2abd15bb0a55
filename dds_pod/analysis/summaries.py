"""Extractive summaries, offline: a few sentences picked from a theme's members or from a long comment thread.

What is summarised is a *passage set*: the texts of one language about one subject (a theme's key, or the IRI of
what a thread answers), in a stable order. Its sentences are scored by TextRank over their TF-IDF cosine
similarity (a sentence is central when it resembles many others), the best are taken while skipping those too
close to one already chosen, and they are given back in the order they were written. Each sentence cites the
contribution it comes from, or all of them when several contributions say the very same sentence. The passage
sets are also what the language model, when configured, is asked to summarise (``analysis/llm.py``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from . import Corpus, NotEnoughData, Run, Sentence, Summary, Text, Theme, runs, sentences, threads

WORD = re.compile(r"\w+")
SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class SummarySettings:
    """How long summaries are and how much text they need; every value is recorded in the run."""

    sentences: int = 3  # per summary
    min_sentences: int = 5  # candidate sentences a passage set needs
    min_characters: int = 600  # of text in one language
    min_theme_members: int = 2  # contributions of a theme in that language
    min_thread_comments: int = 3  # a long thread has this many comments in the language...
    min_thread_characters: int = 1500  # ...and this much text
    min_words: int = 4  # a shorter sentence is not a candidate (greetings, "Totally agree.")
    max_words: int = 80  # nor a longer one (a list run together, a text without punctuation)
    max_candidates: int = 1500  # sentences scored per summary, the first in order (similarity is quadratic)
    redundancy: float = 0.5  # a sentence this similar to one already chosen is skipped
    damping: float = 0.85  # TextRank's


@dataclass(frozen=True)
class Passages:
    """The texts of one language about one subject, in the order their sentences are given back."""

    subject: str
    language: str
    texts: tuple[Text, ...]
    kind: str  # "theme" or "thread"


def summarise(corpus: Corpus, themes: Sequence[Theme] = (), languages: Mapping[str, str] | None = None,
              settings: SummarySettings | None = None) -> tuple[list[Summary], Run] | NotEnoughData:
    """A summary per theme and per long comment thread, per language with enough text (themes first, in the
    given order, then threads by IRI). ``languages`` are the detected languages of untagged texts."""
    settings = settings or SummarySettings()
    started = runs.now()
    results = [summary for passages in passage_sets(corpus, themes, languages or {}, settings)
               if (summary := extract(passages, settings)) is not None]
    if not results:
        return NotEnoughData("summaries", "no theme or comment thread has enough text in one language "
                             f"({settings.min_sentences} sentences of {settings.min_words} words or more, "
                             f"{settings.min_characters} characters)")
    parameters = {**asdict(settings), "themes": len(themes), "scoring": "textrank-tfidf"}
    return results, runs.finish("extractive", parameters, corpus, started, ("scikit-learn", "numpy"))


def passage_sets(corpus: Corpus, themes: Sequence[Theme], languages: Mapping[str, str],
                 settings: SummarySettings) -> list[Passages]:
    """What there is to summarise: each theme's members and each long thread's comments, per language."""
    by_iri: dict[str, list[Text]] = defaultdict(list)
    for text in corpus.texts:
        by_iri[text.iri].append(text)
    sets = []
    for theme in themes:
        members = [t for iri in dict.fromkeys(theme.members) for t in by_iri.get(iri, ())]
        sets += [p for p in _per_language(theme.key, members, languages, "theme")
                 if len({t.iri for t in p.texts}) >= settings.min_theme_members]
    threads_of: dict[str, list[Text]] = defaultdict(list)
    for comment, root in threads.roots(corpus.texts).items():
        threads_of[root] += by_iri[comment]
    for root in sorted(threads_of):
        comments = sorted(threads_of[root], key=lambda t: (t.published or "", t.iri))
        sets += [p for p in _per_language(root, comments, languages, "thread")
                 if len({t.iri for t in p.texts}) >= settings.min_thread_comments
                 and sum(len(_content(t)) for t in p.texts) >= settings.min_thread_characters]
    return sets


def extract(passages: Passages, settings: SummarySettings) -> Summary | None:
    """The extractive summary of one passage set, or ``None`` when it has too little text."""
    if sum(len(_content(t)) for t in passages.texts) < settings.min_characters:
        return None
    candidates = _candidates(passages, settings)
    if len(candidates) < settings.min_sentences:
        return None
    similarity = _similarity([text for text, _ in candidates])
    chosen = _choose(_textrank(similarity, settings.damping), similarity, settings)
    return Summary(subject=passages.subject, language=passages.language,
                   sentences=tuple(Sentence(candidates[i][0], candidates[i][1]) for i in sorted(chosen)))


def _per_language(subject: str, texts: Sequence[Text], languages: Mapping[str, str], kind: str) -> list[Passages]:
    grouped: dict[str, list[Text]] = defaultdict(list)
    for text in texts:
        language = text.language or languages.get(text.iri, "")
        if language:
            grouped[language].append(text)
    return [Passages(subject, language, tuple(grouped[language]), kind) for language in sorted(grouped)]


def _content(text: Text) -> str:
    return (text.body or text.title)[:sentences.MAX_CHARACTERS]


def _candidates(passages: Passages, settings: SummarySettings) -> list[tuple[str, tuple[str, ...]]]:
    """Distinct sentences of a fitting length in order of appearance, each with the contributions saying it."""
    found: dict[str, tuple[str, list[str]]] = {}
    for text in passages.texts:
        for sentence in sentences.split(_content(text), passages.language):
            if not settings.min_words <= len(WORD.findall(sentence)) <= settings.max_words:
                continue
            key = SPACES.sub(" ", sentence).casefold()
            if key not in found:
                if len(found) >= settings.max_candidates:
                    break
                found[key] = (sentence, [])
            if text.iri not in found[key][1]:
                found[key][1].append(text.iri)
    return [(sentence, tuple(cites)) for sentence, cites in found.values()]


def _similarity(texts: list[str]) -> np.ndarray:
    """Cosine similarity of the sentences' TF-IDF vectors, no sentence similar to itself."""
    try:
        vectors = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    except ValueError:  # no word of two letters or more in any sentence
        return np.zeros((len(texts), len(texts)))
    similarity = (vectors @ vectors.T).toarray()
    np.fill_diagonal(similarity, 0.0)
    return similarity


def _textrank(similarity: np.ndarray, damping: float, iterations: int = 100) -> np.ndarray:
    """Each sentence's stationary weight in a random walk over the similarity graph (PageRank's)."""
    n = len(similarity)
    totals = similarity.sum(axis=1, keepdims=True)
    transition = np.where(totals > 0, similarity / np.where(totals > 0, totals, 1.0), 1.0 / n)
    scores = np.full(n, 1.0 / n)
    for _ in range(iterations):
        updated = (1 - damping) / n + damping * (transition.T @ scores)
        if np.abs(updated - scores).sum() < 1e-10:
            return updated
        scores = updated
    return scores


def _choose(scores: np.ndarray, similarity: np.ndarray, settings: SummarySettings) -> list[int]:
    """The best-scored sentences (the earlier on a tie), none too similar to another chosen one."""
    chosen: list[int] = []
    for i in sorted(range(len(scores)), key=lambda i: (-round(float(scores[i]), 12), i)):
        if all(similarity[i, j] < settings.redundancy for j in chosen):
            chosen.append(i)
        if len(chosen) == settings.sentences:
            break
    return chosen
