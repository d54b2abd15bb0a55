"""One line per contribution in a list of results: what a reader scans before opening one.

The lines are made from the search index's documents (the texts per language and the facet fields it already
holds), so a page of results costs one lookup in the index, not a query per contribution of the merged graph.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..search import IndexDocument, LocalizedText

EXCERPT_CHARS = 240


@dataclass(frozen=True)
class Shown:
    """A text as shown: in the reader's language when there is one, else another (``other_language``)."""

    text: str
    language: str
    other_language: bool = False


@dataclass(frozen=True)
class Listing:
    iri: str
    kind: str
    title: Shown
    excerpt: Shown | None
    platform: str | None
    platform_name: str
    status: str | None
    published: str | None
    place: str | None
    location: tuple[float, float] | None
    supports: int
    comments: int

    def as_json(self) -> dict:
        return {"id": self.iri, "kind": self.kind, "title": self.title.text, "language": self.title.language,
                "platform": self.platform, "platformName": self.platform_name, "status": self.status,
                "published": self.published, "place": self.place,
                "location": list(self.location) if self.location else None,
                "supports": self.supports, "comments": self.comments}


def lines(documents: Sequence[IndexDocument], reader_language: str,
          platform_name: Callable[[str | None], str]) -> list[Listing]:
    """The lines of ``documents``, in their order."""
    return [_line(document, reader_language, platform_name) for document in documents]


def _line(document: IndexDocument, language: str, platform_name: Callable[[str | None], str]) -> Listing:
    title = choose(document.texts, language, "title") or Shown(document.iri.rstrip("/").rsplit("/", 1)[-1], "")
    body = choose(document.texts, language, "body")
    excerpt = Shown(_shorten(body.text), body.language, body.other_language) if body else None
    return Listing(document.iri, document.kind, title, excerpt, document.platform, platform_name(document.platform),
                   document.status, document.published, document.place, document.location, document.supports,
                   document.comments)


def choose(texts: Sequence[LocalizedText], language: str, part: str) -> Shown | None:
    """The ``part`` ("title" or "body") in ``language``, else in the first language that has it."""
    present: Mapping[str, str] = {text.language: getattr(text, part) for text in texts if getattr(text, part)}
    if not present:
        return None
    if language in present:
        return Shown(present[language], language)
    if "" in present:  # untagged text: the platform did not say, so it is not marked as another language
        return Shown(present[""], "")
    other = sorted(present)[0]
    return Shown(present[other], other, other_language=True)


def _shorten(text: str) -> str:
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text[:EXCERPT_CHARS].rsplit(" ", 1)[0]
    return f"{cut}…"
