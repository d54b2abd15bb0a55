""""Read in Catalan, Spanish, French, English": a contribution machine-translated with Apertium for one reader.

A translation is shown as such and never stored as the author's text: it lives in this process's memory only.
It is CPU work asked for by anonymous readers, so it is bounded three ways: the text translated is cut to
:data:`MAX_READ_CHARS`; results are kept (:data:`KEPT`, the least recently read forgotten first), so that a
translation read again costs nothing; and at most :data:`AT_ONCE` translations run at a time in a process, a
reader beyond that being told to come back (:class:`Busy`, a 503 with ``Retry-After``) rather than queued
behind others, so a flood of requests cannot slow the pages everyone else reads. Only the pairs the node has
installed are offered.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..analysis import translate
from ..errors import DDSError
from ..sanitize import clean_html, plain_text
from ..vocab import AS, DCTERMS
from .reads import PortalReads
from .texts import texts_of

MAX_READ_CHARS = 6_000  # of a contribution's title and text together
KEPT = 256  # translations kept in memory (a few MB at most)
AT_ONCE = 1  # translations running at a time in one process (the machine's cores serve the pages too)
RETRY_AFTER_S = 5
READER_LANGUAGES = ("ca", "es", "fr", "en")

Pairs = Callable[[], frozenset[tuple[str, str]]]
Translator = Callable[[list[str], str, str], list[str]]  # (texts, source, target) -> translations


class Busy(DDSError):
    """As many translations as the node allows are running: the reader is asked to come back shortly."""

    status = 503
    title = "Busy"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Original:
    """The author's texts in one language, as plain text, bounded."""

    language: str
    title: str
    body: str
    cut: bool  # the text was longer than what is translated


@dataclass(frozen=True)
class Reading:
    """A machine translation of a contribution: never the author's text."""

    iri: str
    source: str
    target: str
    title: str
    paragraphs: tuple[str, ...]
    cut: bool


class MachineReader:
    """Translations of contributions for readers: offered for the pairs installed, bounded, kept, few at a time."""

    def __init__(self, reads: PortalReads, pairs: Pairs = translate.pairs,
                 translator: Translator = translate.translate_many, at_once: int = AT_ONCE, kept: int = KEPT) -> None:
        self.reads, self._pairs, self._translator = reads, pairs, translator
        self._slots = threading.BoundedSemaphore(at_once)
        self._kept: OrderedDict[str, Reading] = OrderedDict()
        self._size = kept
        self._lock = threading.Lock()

    def offered(self, languages: Iterable[str]) -> tuple[str, ...]:
        """The reader languages a contribution with texts in ``languages`` can be read in by machine
        translation: those it has no text in, that an installed pair reaches from one it has."""
        have = {language.split("-")[0].lower() for language in languages if language}
        pairs = self._pairs()
        return tuple(target for target in READER_LANGUAGES
                     if target not in have and any((source, target) in pairs for source in have))

    def original(self, iri: str, target: str) -> Original | None:
        """The contribution's texts in the language to translate from (None: not held, or no pair to
        ``target`` from any of its languages)."""
        values = self.reads.statements([iri]).get(iri)
        if not values:
            return None
        by_language: dict[str, dict[str, str]] = {}
        for predicate in (DCTERMS.title, AS.summary, AS.content):
            for text in texts_of(values.get(str(predicate), ())):
                if text.language:
                    by_language.setdefault(text.language.split("-")[0].lower(), {})[str(predicate)] = text.value
        pairs = self._pairs()
        sources = sorted(language for language in by_language if (language, target) in pairs)
        if not sources:
            return None
        found = by_language[sources[0]]
        title = found.get(str(DCTERMS.title), "")
        body = "\n".join(plain_text(clean_html(found[str(p)])) for p in (AS.summary, AS.content) if str(p) in found)
        return _bounded(sources[0], title, body)

    def read(self, iri: str, original: Original, target: str) -> Reading:
        """The translation of ``original`` into ``target``: kept, or made now if a slot is free."""
        key = _key(iri, original, target)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                return kept
        if not self._slots.acquire(blocking=False):
            raise Busy("Other translations are running; try again in a few seconds.", RETRY_AFTER_S)
        try:
            title, body = self._translator([original.title, original.body], original.language, target)
        finally:
            self._slots.release()
        reading = Reading(iri, original.language, target, title,
                          tuple(line for line in body.splitlines() if line.strip()), original.cut)
        with self._lock:
            self._kept[key] = reading
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return reading


def _bounded(language: str, title: str, body: str) -> Original:
    title = title[:MAX_READ_CHARS]
    room = MAX_READ_CHARS - len(title)
    cut = len(body) > room
    if cut:
        body = body[:room].rsplit(" ", 1)[0]
    return Original(language, title, body, cut)


def _key(iri: str, original: Original, target: str) -> str:
    """Keyed by the text itself too: an edited contribution is translated again."""
    digest = hashlib.sha256("\x00".join((original.title, original.body)).encode()).hexdigest()
    return f"{iri}\x00{original.language}\x00{target}\x00{digest}"
