"""A grouping (the analysis's themes) counted and filtered on as one more facet of each search backend (SQLite,
PostgreSQL), checked against counting by hand on a seeded random corpus, with and without words, and through the
path without facets."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from dds_pod.search import Grouping, SearchIndex, SearchQuery, open_index, read_settings
from dds_pod.search.sqlite import SqliteIndex

from .conftest import fresh_schema
from .test_search_bitsets import corpus

SIZE = 300


def empty_index(request: pytest.FixtureRequest, backend: str) -> SearchIndex:
    if backend == "sqlite":
        return SqliteIndex(":memory:")
    server = request.getfixturevalue("postgres")
    return open_index(read_settings({"backend": "postgres", "dsn": server.dsn, "schema": fresh_schema()}, None))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def indexed(request):
    documents = corpus(SIZE)
    rng = random.Random(5)
    iris = [document.iri for document in documents]
    members = {key: frozenset(rng.sample(iris, rng.randrange(10, 120))) for key in ("t-a", "t-b", "t-c")}
    members["t-gone"] = frozenset({"http://elsewhere.example/not-indexed"})
    index = empty_index(request, request.param)
    index.replace(documents)
    yield index, documents, Grouping("theme", "v1", members)
    index.close()


@pytest.mark.parametrize("text", ["", "vélo"])
def test_each_group_is_counted_among_the_documents_found(indexed, text):
    index, _, grouping = indexed
    query = SearchQuery(text=text, kinds=frozenset({"proposals"}), grouping=grouping, limit=0)
    found = index.search(query)
    matched = {hit.iri for hit in index.search(SearchQuery(text=text, kinds=frozenset({"proposals"}),
                                                            limit=SIZE)).hits}
    expected = {key: len(members & matched) for key, members in grouping.members.items() if members & matched}
    assert dict(found.facets["theme"]) == expected
    assert "t-gone" not in dict(found.facets["theme"])


def test_choosing_groups_narrows_the_results_and_the_other_facets(indexed):
    index, documents, grouping = indexed
    chosen = frozenset({"t-a", "t-b"})
    found = index.search(SearchQuery(grouping=grouping, groups=chosen, limit=SIZE))
    wanted = grouping.members["t-a"] | grouping.members["t-b"]
    assert {hit.iri for hit in found.hits} == wanted and found.total == len(wanted)
    kinds: dict[str, int] = {}
    for document in documents:
        if document.iri in wanted:
            kinds[document.kind] = kinds.get(document.kind, 0) + 1
    assert dict(found.facets["kind"]) == kinds
    # the grouping's own counts ignore its own choice: choosing another theme would give these
    assert dict(found.facets["theme"])["t-c"] == len(grouping.members["t-c"])


def test_the_sql_path_gives_the_same_results(indexed):
    index, _, grouping = indexed
    query = SearchQuery(grouping=grouping, groups=frozenset({"t-c"}), kinds=frozenset({"comments"}), limit=SIZE)
    faceted, plain = index.search(query), index.search(query, facets=False)
    assert plain.total == faceted.total and {h.iri for h in plain.hits} == {h.iri for h in faceted.hits}


def test_a_new_version_of_the_grouping_is_read_again(indexed):
    index, _, grouping = indexed
    first = index.search(SearchQuery(grouping=grouping, limit=0)).facets["theme"]
    changed = Grouping("theme", "v2", {"t-a": grouping.members["t-b"]})
    second = index.search(SearchQuery(grouping=changed, limit=0)).facets["theme"]
    assert dict(second) == {"t-a": len(grouping.members["t-b"])} != dict(first)


def test_without_a_grouping_there_is_no_such_facet(indexed):
    index, _, _ = indexed
    assert "theme" not in index.search(SearchQuery(limit=0)).facets


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_after_writes_the_groups_follow_the_documents_added_and_removed(request, backend):
    documents = corpus(60)
    members = {"t-a": frozenset(d.iri for d in documents[:20]), "t-new": frozenset({"http://pods.example/x/new"})}
    grouping = Grouping("theme", "v1", members)
    index = empty_index(request, backend)
    try:
        index.replace(documents)
        assert dict(index.search(SearchQuery(grouping=grouping, limit=0)).facets["theme"]) == {"t-a": 20}
        index.remove([documents[0].iri, documents[1].iri])
        index.upsert([replace(documents[30], iri="http://pods.example/x/new")])
        index.upsert([replace(documents[5], kind="debates")])  # replaced in place, still a member
        counted = dict(index.search(SearchQuery(grouping=grouping, limit=0)).facets["theme"])
        assert counted == {"t-a": 18, "t-new": 1}
        found = index.search(SearchQuery(grouping=grouping, groups=frozenset({"t-a"}), limit=100))
        assert {hit.iri for hit in found.hits} == {d.iri for d in documents[2:20]}
    finally:
        index.close()
