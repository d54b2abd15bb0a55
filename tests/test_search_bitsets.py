"""Facet counts from bitsets, checked against counting by hand, and pages checked against the SQL-only path.

The corpus is random (seeded) so that values, flags, dates and places mix in every combination; the pages of a
search with facets (bitsets, cached word matches) must be those of the same search without (plain SQL).
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from dds_pod.search import FACETS, IndexDocument, LocalizedText, SearchQuery
from dds_pod.search import sqlite as backend
from dds_pod.search.bitsets import FacetBitsets, bitset, ids, members
from dds_pod.search.sqlite import SqliteIndex

WORDS = ["vélo", "vélos", "piste", "cyclable", "école", "arbre", "jardin", "parc", "rue", "marché"]
PLATFORMS = ["https://a.example", "https://b.example", "https://c.example"]


def corpus(size: int, seed: int = 3) -> list[IndexDocument]:
    rng = random.Random(seed)
    documents = []
    for i in range(size):
        kind = rng.choice(["proposals", "proposals", "comments", "debates"])
        documents.append(IndexDocument(
            iri=f"http://pods.example/x/{i}", kind=kind, member="http://pods.example/x/",
            platform=rng.choice([*PLATFORMS, None]), space=f"s{rng.randrange(4)}" if rng.random() < 0.8 else None,
            topics=tuple(rng.sample(["t1", "t2", "t3"], rng.randrange(3))),
            status=rng.choice(["accepted", "rejected", None]) if kind == "proposals" else None,
            published=f"202{rng.randrange(3, 6)}-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T10:00:00Z",
            location=(rng.uniform(40, 50), rng.uniform(-5, 5)) if rng.random() < 0.5 else None,
            answered=rng.random() < 0.3, decided=rng.random() < 0.1, supports=rng.randrange(50),
            comments=rng.randrange(10),
            texts=(LocalizedText(rng.choice(["fr", "en"]), " ".join(rng.choices(WORDS, k=3)),
                                 " ".join(rng.choices(WORDS, k=8))),)))
    return documents


def counted_by_hand(documents: list[IndexDocument], query: SearchQuery, index: SqliteIndex) -> dict:
    """Each facet's counts over the documents the same query finds when that facet's filter is left out."""
    fields = {"kind": "kinds", "platform": "platforms", "space": "spaces", "topic": "topics", "status": "statuses",
              "language": "languages", "located": "located", "answered": "answered", "decided": "decided"}
    by_iri = {document.iri: document for document in documents}
    counts = {}
    for name in FACETS:
        empty = None if name in ("located", "answered", "decided") else frozenset()
        wider = replace(query, **{fields[name]: empty}, limit=len(documents), offset=0)
        tally: dict[str, int] = {}
        for hit in index.search(wider, facets=False).hits:
            for value in values_of(by_iri[hit.iri], name):
                tally[value] = tally.get(value, 0) + 1
        counts[name] = tuple(sorted(tally.items(), key=lambda pair: (-pair[1], pair[0])))
    return counts


def values_of(document: IndexDocument, name: str) -> list[str]:
    if name == "topic":
        return list(document.topics)
    if name == "language":
        return list(document.languages)
    if name in ("located", "answered", "decided"):
        held = document.location is not None if name == "located" else getattr(document, name)
        return ["true" if held else "false"]
    value = getattr(document, name)
    return [] if value is None else [value]


QUERIES = [
    SearchQuery(),
    SearchQuery(text="vélo"),
    SearchQuery(text="piste jardin", sort="newest"),
    SearchQuery(text="arbre OR marché", platforms=frozenset(PLATFORMS[:2]), statuses=frozenset({"accepted"})),
    SearchQuery(kinds=frozenset({"proposals", "debates"}), topics=frozenset({"t2"}), located=True,
                sort="supported"),
    SearchQuery(text="parc", bbox=(-2.0, 42.0, 3.0, 48.0), since="2024-01-01T00:00:00Z", sort="commented"),
    SearchQuery(answered=False, decided=True, languages=frozenset({"en"}), sort="newest", offset=3, limit=7),
    SearchQuery(text="rue", spaces=frozenset({"s1", "s3"}), offset=40, limit=15),
    SearchQuery(text="école", until="2024-06-01T00:00:00Z", limit=500),
    SearchQuery(since="2024-03-15T12:00:00+02:00", until="2025-02-10T00:00:00Z", bbox=(-1.5, 43.25, 2.75, 47.5),
                sort="newest", limit=50),
    SearchQuery(bbox=(-4.2, 40.0, -0.1, 41.9), limit=100),
]


@pytest.fixture(scope="module")
def filled():
    documents = corpus(600)
    index = SqliteIndex(":memory:")
    index.upsert(documents)
    yield documents, index
    index.close()


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_facet_counts_total_and_page_agree_with_counting_by_hand(filled, query):
    documents, index = filled
    with_facets = index.search(query)
    plain = index.search(query, facets=False)
    assert with_facets.total == plain.total
    assert [hit.iri for hit in with_facets.hits] == [hit.iri for hit in plain.hits]
    assert dict(with_facets.facets) == counted_by_hand(documents, query, index)


def test_a_search_asked_again_pages_and_narrows_from_what_it_kept(filled):
    documents, index = filled
    first = index.search(SearchQuery(text="cyclable", limit=10))
    second = index.search(SearchQuery(text="cyclable", limit=10, offset=10))
    narrowed = index.search(SearchQuery(text="cyclable", kinds=frozenset({"comments"})))
    everything = index.search(SearchQuery(text="cyclable", limit=len(documents)), facets=False)
    assert [hit.iri for hit in first.hits + second.hits] == [hit.iri for hit in everything.hits[:20]]
    assert narrowed.total == dict(first.facets["kind"])["comments"]


@pytest.fixture
def two_processes(tmp_path):
    """Two indexes on one file, as two web workers have: one writes, the other reads."""
    path = str(tmp_path / "search.sqlite3")
    writer, reader = SqliteIndex(path), SqliteIndex(path)
    yield writer, reader
    writer.close()
    reader.close()


def test_a_reader_patches_its_bitsets_with_what_another_wrote(two_processes, monkeypatch):
    writer, reader = two_processes
    documents = corpus(200)
    writer.replace(documents)
    assert reader.search(SearchQuery()).total == 200
    loads = []
    real_load = FacetBitsets.load.__func__
    monkeypatch.setattr(FacetBitsets, "load", classmethod(lambda cls, *a: loads.append(a) or real_load(cls, *a)))
    changed = [replace(documents[0], kind="meetings", platform="https://new.example", topics=("t9",))]
    writer.upsert(changed)
    writer.remove([documents[1].iri, "http://pods.example/never-indexed"])
    result = reader.search(SearchQuery())
    assert loads == []  # patched, not loaded again
    assert result.total == 199
    assert dict(result.facets["kind"])["meetings"] == 1
    assert dict(result.facets["platform"])["https://new.example"] == 1
    assert dict(result.facets["topic"])["t9"] == 1
    assert result.facets == counted_by_hand([*changed, *documents[2:]], SearchQuery(), reader)
    assert writer.stored(documents[0].iri)["id"] == 1  # a replaced document keeps its id


def test_a_reader_left_behind_by_the_log_or_a_rebuild_loads_everything_again(two_processes, monkeypatch):
    writer, reader = two_processes
    monkeypatch.setattr(backend, "LOGGED_GENERATIONS", 4)
    documents = corpus(50)
    writer.replace(documents)
    reader.search(SearchQuery())
    for round_ in range(6):
        writer.upsert([replace(documents[round_], kind="meetings")])
    assert writer._connection().execute("SELECT min(generation) FROM changes").fetchone()[0] > 2
    assert dict(reader.search(SearchQuery()).facets["kind"])["meetings"] == 6
    writer.replace(documents[:10])
    result = reader.search(SearchQuery())
    assert result.total == 10
    assert "meetings" not in dict(result.facets["kind"])


def test_bitsets_round_trip_ids():
    chosen = [0, 7, 8, 9, 63, 64, 1000, 99_999]
    bits = bitset(chosen)
    assert ids(bits) == chosen
    assert bits.bit_count() == len(chosen)
    inside = members(bits)
    assert [doc for doc in range(100_010) if inside(doc)] == chosen
    assert bitset([]) == 0 and ids(0) == []


def test_kept_word_matches_are_bounded_in_number_and_in_documents():
    from dds_pod.search.bitsets import WordMatch, WordMatches

    kept = WordMatches(size=3, weight=250)
    made = []

    def load(size: int):
        def make() -> WordMatch:
            match = WordMatch(bitset(list(range(size))))
            match.rank([(doc, 1.0) for doc in range(size)])
            made.append(size)
            return match
        return make

    for name in "abcd":
        kept.get(name, load(10))
    kept.get("d", load(10))
    assert made == [10] * 4  # "d" was kept
    kept.get("a", load(10))
    assert len(made) == 5  # "a", the oldest, was forgotten past three
    kept.get("big", load(240))  # over the weight with the others: they go first
    kept.get("d", load(10))
    assert len(made) == 7
