"""Names for IRIs: what a reader sees instead of an address.

A platform is named by its harvested ``dds:Platform`` description or the title of the pod that speaks for it,
a space or a contribution by its title, a topic by its label; each in the reader's language when it exists.
Without any, the address is shortened to something readable (a host name, a last path segment) rather than
shown whole. Words of the standard's schemes (statuses, stances, roles) are passed on as their local names,
which the web layer translates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pyoxigraph as ox

from ..vocab import DDS
from .reads import CONTRIBUTION_KINDS, SPACE_CLASSES, PortalReads
from .texts import Text, pick, texts_of


@dataclass(frozen=True)
class Named:
    """An IRI with the text to show for it."""

    iri: str
    label: Text


def fallback(iri: str) -> Text:
    """A readable stand-in for an IRI that nothing names: its host for a site, else its last path segment."""
    parts = urlsplit(iri)
    segment = unquote(parts.fragment or parts.path.rstrip("/").rsplit("/", 1)[-1])
    return Text("", segment.replace("-", " ") if segment else parts.netloc or iri)


def term(iri: str | None) -> str | None:
    """The local name of a word of the standard (``accepted`` for ``dds:accepted``), or None."""
    if iri and iri.startswith(str(DDS)):
        return iri[len(str(DDS)):]
    return None


def kind_of(types: Iterable[str]) -> str | None:
    """The kind of contribution (a merged view's name) a resource declares, ``spaces`` for a space."""
    declared = set(types)
    for kind, cls in CONTRIBUTION_KINDS:
        if cls in declared:
            return kind
    return "spaces" if declared & set(SPACE_CLASSES) else None


class Labeller:
    """Names for one page in the reader's language; ``platforms`` are the platform names of
    :meth:`PortalReads.platform_names`, read once per version of the merged graph by the caller."""

    def __init__(self, reads: PortalReads, reader: str, platforms: Mapping[str, Sequence[ox.Literal]]) -> None:
        self.reads, self.reader, self.platforms = reads, reader, platforms

    def platform(self, iri: str) -> Named:
        names = texts_of(self.platforms.get(iri, ()))
        return Named(iri, pick(names, self.reader) or Text("", urlsplit(iri).netloc or iri))

    def many(self, iris: Iterable[str]) -> dict[str, Named]:
        wanted = list(dict.fromkeys(iris))
        found = self.reads.labels(wanted)
        return {iri: Named(iri, pick(texts_of(found.get(iri, ())), self.reader) or fallback(iri)) for iri in wanted}

    def one(self, iri: str) -> Named:
        return self.many([iri])[iri]
