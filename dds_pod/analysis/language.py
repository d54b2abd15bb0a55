"""The language of texts their platform did not tag, with the ``py3langid`` model (shipped in the package: no
download), restricted to the languages the node reads.

A text shorter than ``min_chars`` letters, or whose most likely language has a probability under
``min_confidence``, is left unknown (``""``) rather than guessed: a wrong tag would stem it in the wrong language
and send it to a translator for the wrong pair. A text the full model reads as another language (German,
Portuguese) is unknown too, rather than tagged with the closest of the node's languages.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from . import Corpus, NotEnoughData, Run, Text
from .vectors import MAX_CHARS, document, make_run, utc_now

LANGUAGES = ("fr", "es", "ca", "en")
MIN_CHARS = 20
MIN_CONFIDENCE = 0.6
UNKNOWN = ""

_local = threading.local()  # an identifier restricted to some languages holds that choice: one per thread


def detect(text: str, languages: tuple[str, ...] = LANGUAGES, *, min_chars: int = MIN_CHARS,
           min_confidence: float = MIN_CONFIDENCE) -> str:
    """The language of ``text`` among ``languages``, or :data:`UNKNOWN` when too short or too unsure."""
    sample = text[:MAX_CHARS]
    if sum(char.isalpha() for char in sample) < min_chars:
        return UNKNOWN
    if _identifier(None).classify(sample)[0] not in languages:  # German is not English because English is closer
        return UNKNOWN
    language, confidence = _identifier(languages).classify(sample)
    return language if confidence >= min_confidence else UNKNOWN


def detect_languages(corpus: Corpus, languages: tuple[str, ...] = LANGUAGES, *, min_chars: int = MIN_CHARS,
                     min_confidence: float = MIN_CONFIDENCE) -> tuple[dict[str, str], Run] | NotEnoughData:
    """For :attr:`Analysis.languages`: each contribution with an untagged text, mapped to the language detected
    in it (:data:`UNKNOWN` when too short or too unsure). A tagged text keeps its platform's tag."""
    if not corpus.texts:
        return NotEnoughData("languages", "the corpus has no texts")
    started = utc_now()
    found: dict[str, str] = {}
    for text in sorted(corpus.texts, key=lambda each: each.iri):
        if text.language == "" and found.get(text.iri, UNKNOWN) == UNKNOWN:
            found[text.iri] = detect(document(text), languages, min_chars=min_chars, min_confidence=min_confidence)
    parameters: dict[str, str | int | float | bool] = {
        "languages": ",".join(languages), "min_chars": min_chars, "min_confidence": min_confidence,
        "max_chars": MAX_CHARS, "model": "py3langid"}
    return found, make_run("langid", parameters, corpus, started)


def tagged(corpus: Corpus, languages: dict[str, str]) -> Corpus:
    """The corpus with each untagged text given the language detected for its contribution, for the steps that
    stem and translate texts by language."""
    texts = tuple(_tag(text, languages) for text in corpus.texts)
    return replace(corpus, texts=texts)


def _tag(text: Text, languages: dict[str, str]) -> Text:
    if text.language or not languages.get(text.iri):
        return text
    return replace(text, language=languages[text.iri])


def _identifier(languages: tuple[str, ...] | None) -> LanguageIdentifier:
    """The model restricted to ``languages`` (all it knows when None), loaded once per thread and choice."""
    cache = getattr(_local, "identifiers", None)
    if cache is None:
        cache = _local.identifiers = {}
    if languages not in cache:
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(list(languages) if languages else None)
        cache[languages] = identifier
    return cache[languages]
