"""The words of a text, as the index stores them and as a reader's query is read: one rule for both sides.

A word is a run of letters and digits (anything else, FTS5's syntax characters and control characters
included, only separates words), so a reader's text can never be read as index syntax. Word forms are
matched through Snowball stems, computed on the word without its accents so that "participacio" typed
without its accent finds "participació", and "cyclables" finds "cyclable".
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

from ..errors import BadDocument

# The languages whose word forms are matched, by BCP 47 primary subtag.
STEMMERS = {"fr": "french", "es": "spanish", "ca": "catalan", "en": "english"}
MAX_WORDS = 32
MAX_QUERY_CHARS = 1000
MAX_WORD_CHARS = 64  # longer runs of letters are no word a reader means; they are cut to this

_WORD = re.compile(r"[^\W_]+")
_local = threading.local()  # Snowball stemmers keep state between calls: one set per thread


def words(text: str) -> list[str]:
    """The lower-case words of a text, in order."""
    return [word[:MAX_WORD_CHARS] for word in _WORD.findall(text.lower())]


def query_words(text: str, field: str = "q") -> list[str]:
    """A reader's words, bounded: too long a text or too many words is a 400 naming ``field``."""
    if len(text) > MAX_QUERY_CHARS:
        raise BadDocument(f"{field} is longer than {MAX_QUERY_CHARS} characters", field=field)
    found = words(text)
    if len(found) > MAX_WORDS:
        raise BadDocument(f"{field} has more than {MAX_WORDS} words", field=field)
    return found


def query_terms(text: str, field: str = "q") -> list[list[str]]:
    """A reader's words as terms that are all required, each a list of alternatives: an upper-case ``OR``
    between two words joins them (``cyclable OR bicicleta``), as in the common search boxes. An ``OR`` with
    no word on one side is the word "or". Bounded as :func:`query_words`."""
    query_words(text, field)  # the bounds, on every word the text holds
    tokens = [match.group() for match in _WORD.finditer(text)]
    terms: list[list[str]] = []
    joining = False
    for position, token in enumerate(tokens):
        between = 0 < position < len(tokens) - 1 and token == "OR" and terms and tokens[position + 1] != "OR"
        if between and not joining:
            joining = True
            continue
        word = token.lower()[:MAX_WORD_CHARS]
        if joining:
            terms[-1].append(word)
            joining = False
        else:
            terms.append([word])
    return terms


def language_of(tag: str) -> str | None:
    """The stemmed language of a language tag (``fr-BE`` → ``fr``), None for one without a stemmer."""
    primary = tag.split("-", 1)[0].lower()
    return primary if primary in STEMMERS else None


@lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    """Cached: Snowball in pure Python costs far more than a look-up, and texts reuse a small vocabulary."""
    return _stemmer(language).stemWord(unaccented(word))


def stem_languages(tags: Iterable[str], reader_tag: str | None) -> set[str]:
    """The languages a query's words are stemmed in: those of the texts searched (every language when none is
    chosen, or none of the chosen has a stemmer), and the reader's."""
    chosen = {language for tag in tags if (language := language_of(tag))}
    languages = chosen or set(STEMMERS)
    reader = language_of(reader_tag or "")
    return languages | ({reader} if reader else set())


def stems(word: str, languages: Iterable[str]) -> set[str]:
    """The stems of a word in each of ``languages`` (codes of :data:`STEMMERS`)."""
    return {stem(word, language) for language in languages}


def stemmed_text(text: str, tag: str) -> str:
    """The stems of a text's words in its language, for the index's stemmed columns; a text of no known
    language is stemmed in every language the index knows (its stems then match a query in any of them)."""
    language = language_of(tag)
    languages = (language,) if language else tuple(STEMMERS)
    unique = dict.fromkeys(words(text))  # a text repeats its words: each is stemmed once
    return " ".join(dict.fromkeys(stem(word, each) for word in unique for each in languages))


def unaccented(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stemmer(language: str):
    cache = getattr(_local, "stemmers", None)
    if cache is None:
        cache = _local.stemmers = {}
    if language not in cache:
        cache[language] = snowballstemmer.stemmer(STEMMERS[language])
    return cache[language]
