"""Machine translation for readers: the pairs offered, the text bounded, translations kept, and at most one at a
time (a reader beyond it is told to come back, not queued). Apertium translates for real where it is installed."""

from __future__ import annotations

import threading

import pyoxigraph as ox
import pytest

from dds_pod.analysis.translate import pairs, translate_many
from dds_pod.federation.merged import MergedGraph, MergedGraphs
from dds_pod.portal.reading import MAX_READ_CHARS, Busy, MachineReader
from dds_pod.portal.reads import PortalReads
from dds_pod.store import Change
from dds_pod.store.oxigraph import OxigraphStore
from dds_pod.vocab import AS, DCTERMS

BASE = "http://node.example/"
PROJECT = f"{BASE}bordeaux/proposals/horts"
LONG = f"{BASE}bordeaux/proposals/long"
BODY = "<p>Volem més horts urbans al barri.</p><p>Els veïns els cuidaran cada setmana.</p>"


@pytest.fixture(scope="module")
def reads() -> PortalReads:
    merged = MergedGraph(OxigraphStore(), MergedGraphs(BASE))

    def said(iri: str, predicate, text: str, language: str) -> ox.Quad:
        return ox.Quad(ox.NamedNode(iri), ox.NamedNode(str(predicate)), ox.Literal(text, language=language),
                       ox.NamedNode(iri))
    merged.commit(Change(add=[said(PROJECT, DCTERMS.title, "Horts urbans", "ca"),
                              said(PROJECT, AS.content, BODY, "ca"),
                              said(PROJECT, DCTERMS.title, "Jardins partagés", "fr"),
                              said(LONG, DCTERMS.title, "Llarg", "ca"),
                              said(LONG, AS.content, "paraula " * 2000, "ca")]))
    return PortalReads(merged)


def needs(source: str, target: str) -> None:
    if (source, target) not in pairs():
        pytest.skip(f"Apertium's {source}-{target} pair is not installed")


def test_only_installed_pairs_into_languages_it_lacks_are_offered(reads):
    installed = frozenset({("ca", "es"), ("es", "en")})
    reader = MachineReader(reads, pairs=lambda: installed)
    assert reader.offered({"ca-ES"}) == ("es",)
    assert reader.offered({"ca", "es"}) == ("en",)
    assert reader.offered({"fr"}) == ()
    assert reader.offered(set()) == ()


def test_the_text_to_translate_is_the_authors_in_a_language_a_pair_reaches(reads):
    reader = MachineReader(reads, pairs=lambda: frozenset({("ca", "es"), ("fr", "en")}))
    catalan = reader.original(PROJECT, "es")
    assert catalan is not None and catalan.language == "ca" and catalan.title == "Horts urbans"
    assert catalan.body == "Volem més horts urbans al barri.\nEls veïns els cuidaran cada setmana."
    assert reader.original(PROJECT, "en").language == "fr"
    assert reader.original(PROJECT, "ca") is None
    assert reader.original(f"{BASE}nothing", "es") is None


def test_a_long_text_is_cut_and_says_so(reads):
    reader = MachineReader(reads, pairs=lambda: frozenset({("ca", "es")}))
    found = reader.original(LONG, "es")
    assert found.cut and len(found.title) + len(found.body) <= MAX_READ_CHARS
    assert not reader.original(PROJECT, "es").cut


def test_a_translation_is_made_by_apertium_once_then_kept(reads):
    needs("ca", "es")
    calls = []

    def counted(texts: list[str], source: str, target: str) -> list[str]:
        calls.append((source, target))
        return translate_many(texts, source, target)
    reader = MachineReader(reads, translator=counted)
    original = reader.original(PROJECT, "es")
    first = reader.read(PROJECT, original, "es")
    assert first.source == "ca" and first.target == "es" and first.title and first.title != "Horts urbans"
    assert len(first.paragraphs) == 2 and "huertos" in " ".join(first.paragraphs).lower()
    assert reader.read(PROJECT, original, "es") == first
    assert calls == [("ca", "es")]


def test_beyond_the_translations_running_at_once_a_reader_is_told_to_come_back(reads):
    started, release = threading.Event(), threading.Event()

    def slow(texts: list[str], source: str, target: str) -> list[str]:
        started.set()
        release.wait(10)
        return [text.upper() for text in texts]
    reader = MachineReader(reads, pairs=lambda: frozenset({("ca", "es"), ("ca", "en")}), translator=slow)
    original = reader.original(PROJECT, "es")
    running = threading.Thread(target=reader.read, args=(PROJECT, original, "es"))
    running.start()
    assert started.wait(10)
    with pytest.raises(Busy) as refused:
        reader.read(PROJECT, reader.original(PROJECT, "en"), "en")
    assert refused.value.status == 503 and refused.value.retry_after_s > 0
    release.set()
    running.join(10)
    assert reader.read(PROJECT, original, "es").title == "HORTS URBANS"  # kept: no slot needed
    assert reader.read(PROJECT, reader.original(PROJECT, "en"), "en").title == "HORTS URBANS"


def test_kept_translations_are_bounded_the_least_recently_read_forgotten(reads):
    calls = []

    def marked(texts: list[str], source: str, target: str) -> list[str]:
        calls.append(target)
        return [f"{target}:{text}" for text in texts]
    reader = MachineReader(reads, pairs=lambda: frozenset({("ca", "es"), ("ca", "en"), ("ca", "fr")}),
                           translator=marked, kept=2)

    def read(target: str) -> None:
        reader.read(PROJECT, reader.original(PROJECT, target), target)
    for target in ("es", "en", "fr", "fr", "es"):
        read(target)
    assert calls == ["es", "en", "fr", "es"]
