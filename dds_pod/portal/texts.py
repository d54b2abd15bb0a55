"""Choosing, among the language-tagged versions of a text, the one a reader sees first.

Platforms publish texts as language-tagged literals; a reader chose an interface language. The version in that
language wins, then one in a regional variant of it (``ca-ES`` for ``ca``), then an untagged one, then the
others in a stable order, so that a text is never hidden because it lacks a translation. The page marks the
language of what it shows (``lang``), and offers the other versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True, order=True)
class Text:
    """One version of a text; ``language`` is ``""`` when the platform did not tag it."""

    language: str
    value: str


def texts_of(terms: Iterable[object]) -> tuple[Text, ...]:
    """The literals among ``terms`` as texts, sorted by language (other terms are not texts)."""
    found = {Text(term.language or "", term.value) for term in terms if isinstance(term, ox.Literal)}
    return tuple(sorted(found))


def ranked(texts: Iterable[Text], reader: str) -> list[Text]:
    """Every version, the one to show first at the head."""
    def rank(text: Text) -> tuple[int, str, str]:
        language = text.language.lower()
        if language == reader:
            return 0, language, text.value
        if language.split("-")[0] == reader:
            return 1, language, text.value
        return (2 if not language else 3), language, text.value
    return sorted(texts, key=rank)


def pick(texts: Iterable[Text], reader: str) -> Text | None:
    """The version to show, or None when there is no text at all."""
    ordered = ranked(texts, reader)
    return ordered[0] if ordered else None
