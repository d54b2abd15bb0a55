"""One line per contribution in a list of results: what a reader scans before opening one.

The lines are made from the search index's documents (the texts per language and the facet fields it already
holds), so a page of results costs one lookup in the index, not a query per contribution of the merged graph.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..search import IndexDocument
from .labels import fallback
from .overview import snippet
from .texts import Text, pick


@dataclass(frozen=True)
class Listing:
    iri: str
    kind: str
    title: Text
    other_language: bool  # the title is not in the reader's language (the page says which it is)
    excerpt: Text | None
    platform: str | None
    platform_name: str
    status: str | None
    published: str | None
    place: str | None
    location: tuple[float, float] | None
    supports: int
    comments: int

    def as_json(self) -> dict:
        return {"id": self.iri, "kind": self.kind, "title": self.title.value, "language": self.title.language,
                "platform": self.platform, "platformName": self.platform_name, "status": self.status,
                "published": self.published, "place": self.place,
                "location": list(self.location) if self.location else None,
                "supports": self.supports, "comments": self.comments}


def lines(documents: Sequence[IndexDocument], reader: str, platform_name: Callable[[str | None], str]) -> list[Listing]:
    """The lines of ``documents``, in their order."""
    return [_line(document, reader, platform_name) for document in documents]


def _line(document: IndexDocument, reader: str, platform_name: Callable[[str | None], str]) -> Listing:
    titles = [Text(text.language, text.title) for text in document.texts if text.title]
    bodies = [Text(text.language, text.body) for text in document.texts if text.body]
    body = pick(bodies, reader)
    title = pick(titles, reader) or (snippet(body) if body else fallback(document.iri))
    other = bool(title.language) and title.language.split("-")[0] != reader
    return Listing(document.iri, document.kind, title, other, snippet(body) if body and titles else None,
                   document.platform, platform_name(document.platform), document.status, document.published,
                   document.place, document.location, document.supports, document.comments)
