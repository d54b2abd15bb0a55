"""The CSV importers on the real Barcelona (Decidim) and Madrid (Consul) files: everything imported,
everything valid once the pod fills its fields, nobody's name published, no active HTML."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterable

import pytest
from rdflib import BNode, Graph, URIRef

from dds_pod import jsonld
from dds_pod.canonical import content_hash
from dds_pod.importers import consul_csv, decidim_csv
from dds_pod.importers.common import Settings
from dds_pod.importers.pseudonyms import Pseudonymiser
from dds_pod.rdfio import to_oxigraph, to_rdflib
from dds_pod.terms import date_time, utc_now

from .conftest import DATA

REAL = DATA / "real"
BARCELONA = REAL / "decidim_barcelona_open_data"
PROJECTS = BARCELONA / "www.decidim.barcelona-open-data-projects.csv"
RESULT_COMMENTS = BARCELONA / "www.decidim.barcelona-open-data-result_comments.csv"
MADRID = REAL / "decide_madrid_dgov_visual_analytics"
PROPOSALS = MADRID / "proposals.csv"
COMMENTS = MADRID / "comments.csv"
ACTIVE_HTML = re.compile(r"<script|onerror\s*=|javascript:", re.IGNORECASE)

pytestmark = pytest.mark.skipif(not (PROJECTS.exists() and COMMENTS.exists()),
                                reason=f"the real data files are not in {REAL}")


def _settings(pod: str, platform: str, locale: str) -> Settings:
    return Settings(pod_url=f"http://127.0.0.1:8000/{pod}/", platform=platform, locale=locale,
                    pseudonymiser=Pseudonymiser("a test key of enough length"))


BARCELONA_SETTINGS = _settings("barcelona", "https://www.decidim.barcelona", "ca")
MADRID_SETTINGS = _settings("madrid", "https://decide.madrid.es", "es")


@pytest.fixture(scope="module")
def barcelona():
    # The file order must not matter: comments first.
    return decidim_csv.read([RESULT_COMMENTS, PROJECTS], BARCELONA_SETTINGS)


@pytest.fixture(scope="module")
def madrid():
    return consul_csv.read([COMMENTS, PROPOSALS], MADRID_SETTINGS)


def _column(path, column: str, delimiter: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle, delimiter=delimiter)]


def _types(documents: Iterable[dict]) -> Counter:
    return Counter(document["type"] for document in documents)


def _by_type(documents: Iterable[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for document in documents:
        groups.setdefault(document["type"], []).append(document)
    return groups


def _merged(documents: list[dict]) -> Graph:
    """Each document converted on its own, as a pod receives it, then merged with its blank nodes kept apart."""
    graph = Graph()
    for document in documents:
        part = jsonld.to_graph(document)
        subjects = {s for s in part.subjects() if not isinstance(s, BNode)}
        assert subjects == {URIRef(document["id"])}, f"{document['id']} describes other resources: {subjects}"
        fresh: dict[BNode, BNode] = {}
        for triple in part:
            graph.add(tuple(fresh.setdefault(t, BNode()) if isinstance(t, BNode) else t for t in triple))
    return graph


def _assert_all_valid(documents: list[dict], platform: str, validator) -> None:
    for kind, group in _by_type(documents).items():
        graph = _merged(group)
        graph = to_rdflib(validator.fill_server_managed(to_oxigraph(graph), platform, date_time(utc_now())))
        report = validator.validate(graph)
        blocking = [r.as_json() for r in report.results if r.blocking]
        assert report.conforms, f"{kind}: {len(blocking)} violations, e.g. {blocking[:3]}"


# ---------------------------------------------------------------------------------------------- Barcelona


def test_every_barcelona_project_and_comment_is_imported(barcelona):
    batch, problems = barcelona
    assert problems == []
    types = _types(batch.documents.values())
    assert types["BudgetProject"] == 220
    assert types["Comment"] == 87
    assert types["Process"] == 3  # the three participatory_space/id values
    assert types["Concept"] == 24  # the 24 categories
    assert types["Person"] == len(set(_column(RESULT_COMMENTS, "author/id", ";")))


def test_every_barcelona_document_is_valid(barcelona, validator):
    _assert_all_valid(list(barcelona[0].documents.values()), BARCELONA_SETTINGS.platform, validator)


def test_a_budget_project_keeps_cost_votes_space_topic_and_origins(barcelona):
    documents = barcelona[0].documents
    project = documents[f"{BARCELONA_SETTINGS.pod_url}proposals/decidim-project-1"]
    assert project["estimatedCost"] == 18000 and project["currency"] == "EUR"
    assert project["supportCount"] == 60 and project["published"] == "2017-02-07T07:58:01Z"
    assert set(project["title"]) == {"ca", "es"} and set(project["content"]) == {"ca", "es"}
    space = documents[project["space"]]
    assert space["type"] == "Process" and space["title"] == {"ca": "coproduccio-de-projectes-a-gracia"}
    assert documents[project["topic"]]["prefLabel"]["ca"].startswith("Foment de la cultura")
    linked = [d for d in documents.values() if d.get("derivedFrom")]
    expected = [u for u in _column(PROJECTS, "related_proposal_urls", ";") if u]
    assert len(linked) == len(expected)
    assert all(link.startswith("https://www.decidim.barcelona/") for d in linked for link in d["derivedFrom"])


def test_barcelona_replies_answer_their_parent_comment(barcelona):
    documents = barcelona[0].documents
    comments = [d for d in documents.values() if d["type"] == "Comment"]
    replies = [c for c in comments if "/comments/" in c["inReplyTo"]]
    assert len(replies) == _column(RESULT_COMMENTS, "commentable_type", ";").count("Decidim::Comments::Comment")
    assert all(documents[r["inReplyTo"]]["type"] == "Comment" for r in replies)
    roots = set(_column(RESULT_COMMENTS, "root_commentable_url", ";"))
    assert {c["inReplyTo"] for c in comments if c not in replies} <= roots


def test_no_barcelona_participant_name_is_published(barcelona):
    dump = json.dumps(list(barcelona[0].documents.values()), ensure_ascii=False)
    names = {name for name in _column(RESULT_COMMENTS, "author/name", ";") if name.strip()}
    assert names
    # Whole words: a short name may be the start of an ordinary word (a name "Ann" in "Annual").
    # Only a count is shown on failure: the names must not reach any log either.
    leaked = sum(bool(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", dump)) for name in names)
    assert leaked == 0, f"{leaked} participants' names found in the documents"
    assert "Participant " in dump


def test_barcelona_html_is_inactive(barcelona):
    documents = barcelona[0].documents.values()
    assert any("<iframe" in text for text in _column(PROJECTS, "description/ca", ";"))  # the source has some
    for document in documents:
        for key in ("content", "title", "contentText"):
            for text in (document.get(key) or {}).values():
                assert not ACTIVE_HTML.search(text) and "<iframe" not in text, document["id"]


# ---------------------------------------------------------------------------------------------- Madrid


def test_every_madrid_proposal_and_comment_is_imported(madrid):
    batch, problems = madrid
    assert problems == []
    types = _types(batch.documents.values())
    assert types["Proposal"] == 80
    assert types["Comment"] == 5633
    users = set(_column(PROPOSALS, "userId", ",")) | set(_column(COMMENTS, "userId", ","))
    assert types["Person"] + types["Organization"] == len(users)


def test_every_madrid_document_is_valid(madrid, validator):
    _assert_all_valid(list(madrid[0].documents.values()), MADRID_SETTINGS.platform, validator)


def test_madrid_threads_follow_parent_ids(madrid):
    documents = madrid[0].documents
    pod = MADRID_SETTINGS.pod_url
    with COMMENTS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = {row["id"] for row in rows}
    for row in rows:
        comment = documents[f"{pod}comments/consul-comment-{row['id']}"]
        if row["parentId"] in ids:
            assert comment["inReplyTo"] == f"{pod}comments/consul-comment-{row['parentId']}"
        else:  # top level, or a reply whose parent the scrape missed
            assert documents[comment["inReplyTo"]]["type"] == "Proposal"
    assert sum(row["parentId"] != "-1" and row["parentId"] not in ids for row in rows) > 0  # the case is real


def test_a_madrid_proposal_and_comment(madrid):
    documents = madrid[0].documents
    pod = MADRID_SETTINGS.pod_url
    proposal = documents[f"{pod}proposals/mad-2015-09-7"]
    assert proposal["identifier"] == "MAD-2015-09-7" and proposal["title"] == {"es": "Limpiar las calles"}
    assert proposal["url"] == "https://decide.madrid.es/proposals/7-limpiar-las-calles"
    assert proposal["status"] == "notSelected" and proposal["supportCount"] == 6560
    assert proposal["published"] == "2015-09-15T00:00:00+02:00"
    comment = documents[f"{pod}comments/consul-comment-17092"]
    assert comment["inReplyTo"] == proposal["id"] and comment["published"] == "2015-09-15T10:50:19+02:00"
    assert comment["likeCount"] == 1 and comment["dislikeCount"] == 0
    statuses = Counter(d.get("status") for d in documents.values() if d["type"] == "Proposal")
    assert statuses == {"notSelected": 75, "submitted": 5}


def test_madrid_authors_are_pseudonymous(madrid):
    documents = madrid[0].documents
    agents = [d for d in documents.values() if d["type"] in ("Person", "Organization")]
    assert all(re.fullmatch(r"Participant [0-9a-f]{8}", a["name"]) for a in agents)
    assert all("identifier" not in a for a in agents)  # the account number would identify the person
    association = next(r for r in csv.DictReader(PROPOSALS.open(encoding="utf-8")) if r["isAssociation"] == "1")
    author = documents[f"{MADRID_SETTINGS.pod_url}proposals/{association['code'].lower()}"]["author"]
    assert documents[author]["type"] == "Organization"


@pytest.mark.parametrize("city", ["barcelona", "madrid"])
def test_the_bulk_parser_reads_real_documents_as_pyld_does(city, request):
    """Publishing goes through oxigraph's parser with the context cut to the terms in use."""
    batch, _ = request.getfixturevalue(city)
    documents = list(batch.documents.values())
    sample = [d for kind in _by_type(documents).values() for d in kind[:150]]
    for document in sample:
        by_pyld = to_oxigraph(jsonld.to_graph(document))
        assert content_hash(jsonld.dds_triples(document, document["id"])) == content_hash(by_pyld), document["id"]
