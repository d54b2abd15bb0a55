"""Bulk writes through ``Pod.write_batch``: numbering, containers, versions, blank nodes and twins."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from dds_pod.app import create_app
from dds_pod.changes import META_GRAPH, ChangeFeed
from dds_pod.config import from_dict
from dds_pod.errors import Conflict
from dds_pod.ldp.intake import Body
from dds_pod.ldp.resources import VERSION, Preconditions
from dds_pod.store import Change
from dds_pod.store.oxigraph import BULK_MIN_QUADS, OxigraphStore

BASE = "http://127.0.0.1:8000/b/"
CONTEXT = "https://w3id.org/dds/context.jsonld"
EXAMPLE = Path(__file__).parents[1] / "examples/valid/proposal-community-garden.jsonld"


@pytest.fixture
def node():
    app = create_app(from_dict({"base_url": "http://127.0.0.1:8000/",
                                "pods": {"b": {"platform": "https://p.example", "token": "t"}}}))
    yield app.extensions["dds.node"]
    app.extensions["dds.node"].close()


def _read(node, documents: list[dict]) -> list[tuple[str, list[ox.Triple]]]:
    return [(d["id"], node.intake.read_json_triples(d, d["id"], "fr")) for d in documents]


def test_batches_number_their_events_without_gaps_and_change_the_container_version(node):
    pod = node.pods["b"]
    document = json.loads(EXAMPLE.read_text())
    before = pod.feed.last_sequence()
    versions = [pod.version(f"{BASE}proposals/")]
    for round_ in range(2):
        docs = [dict(document, id=f"{BASE}proposals/p{round_}-{i}") for i in range(5)]
        pod.write_batch(_read(node, docs), [], credential="t")
        versions.append(pod.version(f"{BASE}proposals/"))
    events = pod.feed.events(before, 100)
    assert [e.sequence for e in events] == list(range(before + 1, before + 11))
    assert pod.feed.last_sequence() == before + 10
    assert ChangeFeed(node.store, pod.url).last_sequence() == before + 10, "found again after a restart"
    assert len(set(versions)) == 3, "each batch changes the container's ETag"


def test_a_batch_of_new_resources_is_committed_as_insertions_and_creates_a_missing_container_once(node):
    pod = node.pods["b"]
    committed = []
    commit = node.store.commit
    node.store.commit = lambda change: (committed.append(change), commit(change))[1]
    people = [f"{BASE}people/{name}" for name in ("ana", "ben")]
    docs = [{"@context": CONTEXT, "id": iri, "type": "Person", "name": iri[-3:]} for iri in people]
    outcome = pod.write_batch(_read(node, docs), [], credential="t")
    assert outcome.created == people
    assert [change.insert_only for change in committed] == [True]
    container = f"{BASE}people/"
    assert len(list(node.store.quads(ox.NamedNode(container), VERSION, None, META_GRAPH))) == 1
    members = {q.object.value for q in node.store.quads(ox.NamedNode(container), None, None, container)
               if q.predicate.value.endswith("#contains")}
    assert members == set(people)


def test_blank_node_labels_stay_within_their_document(node):
    pod = node.pods["b"]
    document = json.loads(EXAMPLE.read_text())
    docs = [dict(document, id=f"{BASE}proposals/q{i}",
                 location={"id": "_:place", "type": "Place", "name": f"Place {i}"}) for i in range(3)]
    pod.write_batch(_read(node, docs), [], credential="t")
    for i in range(3):
        places = {t.object for t in pod.get(f"{BASE}proposals/q{i}").triples
                  if t.predicate.value.endswith("#location")}
        names = {q.object.value for place in places for q in node.store.quads(place, None, None, None)
                 if q.predicate.value.endswith("#name")}
        assert names == {f"Place {i}"}


def test_a_batch_cannot_create_a_resource_and_a_container_of_the_same_name(node):
    pod = node.pods["b"]
    docs = [{"@context": CONTEXT, "id": f"{BASE}people/x", "type": "Person", "name": "x"},
            {"@context": CONTEXT, "id": f"{BASE}people/x/y", "type": "Person", "name": "y"}]
    with pytest.raises(Conflict):
        pod.write_batch(_read(node, docs), [], credential="t")
    assert pod.version(f"{BASE}people/x") is None


def test_a_container_written_by_put_answers_the_etag_a_get_gives(node):
    pod = node.pods["b"]
    container = f"{BASE}proposals/"
    title = Body(b'<> <http://purl.org/dc/terms/title> "Propositions"@fr .', "text/turtle")
    written = pod.put(container, title, preconditions=Preconditions(), credential="t")
    assert written.resource.version == pod.get(container).version
    pod.put(container, title, preconditions=Preconditions(if_match=(written.resource.version,)), credential="t")


def test_a_document_changed_while_its_batch_was_checked_is_checked_again(node):
    pod = node.pods["b"]
    iri = f"{BASE}proposals/moving"
    document = dict(json.loads(EXAMPLE.read_text()), id=iri)
    pod.write_batch(_read(node, [document]), [], credential="t")
    renamed = dict(document, title={"fr": "Renommée"})

    real = pod._writing

    class WriteFirst:
        """The pod's lock, taken once only after another write of the same resource."""

        def __enter__(self):
            del pod._writing  # the real lock again, for this write and the next
            pod.write_batch(_read(node, [renamed]), [], credential="t")
            self.lock = real()
            return self.lock.__enter__()

        def __exit__(self, *exc):
            return self.lock.__exit__(*exc)

    pod._writing = WriteFirst
    outcome = pod.write_batch(_read(node, [renamed]), [], credential="t")
    assert outcome.unchanged == [iri], "checked against the state written meanwhile, not the one before"


def test_documents_over_tombstones_are_checked_once(node):
    pod = node.pods["b"]
    document = json.loads(EXAMPLE.read_text())
    docs = [dict(document, id=f"{BASE}proposals/t{i}") for i in range(3)]
    pod.write_batch(_read(node, docs), [], credential="t")
    pod.write_batch([], [d["id"] for d in docs], credential="t")
    checks = []
    check = pod._check_document
    pod._check_document = lambda iri, *rest: (checks.append(iri), check(iri, *rest))[1]
    outcome = pod.write_batch(_read(node, docs), [], credential="t")
    assert outcome.created == [d["id"] for d in docs]  # again, over their tombstones
    assert sorted(checks) == sorted(d["id"] for d in docs)


def test_a_large_batch_is_bulk_loaded_on_disk_then_updated_deleted_and_found_again_after_a_restart(tmp_path):
    config = from_dict({"base_url": "http://127.0.0.1:8000/", "data_dir": str(tmp_path),
                        "pods": {"b": {"platform": "https://p.example", "token": "t"}}})
    people = [f"{BASE}people/p{i}" for i in range(250)]
    before, version = _bulk_load_then_change(config, people)
    gc.collect()  # RocksDB's lock goes with the last reference to the store

    node = create_app(config).extensions["dds.node"]
    try:
        pod = node.pods["b"]
        assert _names(pod, people[0]) == {"Renamed"} and pod.version(people[0]) == version
        assert pod.version(people[1]) is not None and pod._current(people[1]) is None, "a tombstone"
        assert _names(pod, people[249]) == {"Person 249"}
        container = f"{BASE}people/"
        members = {q.object.value for q in node.store.quads(ox.NamedNode(container), None, None, container)
                   if q.predicate.value.endswith("#contains")}
        assert members == set(people) - {people[1]}
        assert [e.sequence for e in pod.feed.events(before, 1000)] == list(range(before + 1, before + 253))
    finally:
        node.close()


def _bulk_load_then_change(config, people: list[str]) -> tuple[int, str]:
    """Create ``people`` in one batch large enough to be bulk-loaded, then rename the first and delete the second."""
    node = create_app(config).extensions["dds.node"]
    pod = node.pods["b"]
    committed = []
    commit = node.store.commit
    node.store.commit = lambda change: (committed.append(change), commit(change))[1]
    docs = [{"@context": CONTEXT, "id": iri, "type": "Person", "name": f"Person {i}"} for i, iri in enumerate(people)]
    before = pod.feed.last_sequence()
    assert pod.write_batch(_read(node, docs), [], credential="t").created == people
    assert committed[0].insert_only and len(committed[0].insertions()) >= BULK_MIN_QUADS, "took the bulk road"
    renamed = [dict(docs[0], name="Renamed")]
    assert pod.write_batch(_read(node, renamed), [people[1]], credential="t").updated == [people[0]]
    version = pod.version(people[0])
    node.close()
    return before, version


def _names(pod, iri: str) -> set[str]:
    return {t.object.value for t in pod.get(iri).triples if t.predicate.value.endswith("#name")}


def test_feed_events_carry_their_sequence_once_whether_stored_or_not(node):
    pod = node.pods["b"]
    docs = [{"@context": CONTEXT, "id": f"{BASE}people/p{i}", "type": "Person", "name": "P"} for i in range(2)]
    pod.write_batch(_read(node, docs), [], credential="t")
    last = pod.feed.last_sequence()
    event = ox.NamedNode(f"{pod.feed.url}#{last}")
    sequence = ox.NamedNode("https://w3id.org/dds/ns#sequence")
    assert not list(node.store.quads(event, sequence, None, pod.feed.url)), "derived from the IRI, not stored"
    older = ox.Quad(event, sequence, ox.Literal(str(last), datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer")), ox.NamedNode(pod.feed.url))
    node.store.commit(Change(add=[older]))  # as a store written by an earlier version holds it
    triples = pod.feed.page(last - 2, 10, None, pod.feed.page_url(0, 10)).triples
    for number in (last - 1, last):
        values = [t.object.value for t in triples
                  if t.subject == ox.NamedNode(f"{pod.feed.url}#{number}") and t.predicate == sequence]
        assert values == [str(number)]


def test_files_of_a_bulk_load_a_crash_interrupted_are_removed_when_the_store_opens(tmp_path):
    store = OxigraphStore(tmp_path)
    quad = ox.Quad(ox.NamedNode(f"{BASE}a"), ox.NamedNode(f"{BASE}p"), ox.Literal("v"), ox.NamedNode(f"{BASE}a"))
    store.commit(Change(add=[quad]))
    store.close()
    del store
    gc.collect()
    leftover = tmp_path / "bulk-12345678901234567890.sst"  # as oxigraph's loader names the files it writes
    leftover.write_bytes(b"\0" * 4096)
    store = OxigraphStore(tmp_path)
    assert not leftover.exists()
    assert list(store.quads(graph=f"{BASE}a")) == [quad], "what the store holds is untouched"


def test_a_batch_names_the_first_bad_document_in_its_order():
    app = create_app(from_dict({"base_url": "http://127.0.0.1:8000/",
                                "pods": {"b": {"platform": "https://p.example", "token": "t"}}}))
    bad_language = {"@context": CONTEXT, "id": f"{BASE}proposals/x", "type": "Proposal",
                    "title": {"fr": {"@value": "x"}}}
    no_id = {"@context": CONTEXT, "type": "Proposal"}
    try:
        for put, expected in (([bad_language, no_id], "invalid JSON-LD"), ([no_id, bad_language], "needs its")):
            response = app.test_client().post("/b/batch", json={"put": put, "delete": []},
                                              headers={"Authorization": "Bearer t"})
            assert response.status_code == 400 and expected in response.get_json()["detail"], response.get_json()
    finally:
        app.extensions["dds.node"].close()


def test_a_dry_run_reports_what_would_be_refused_and_stores_nothing(node):
    pod = node.pods["b"]
    good = {"@context": CONTEXT, "id": f"{BASE}people/dry", "type": "Person", "name": "Dry"}
    untitled = {"@context": CONTEXT, "id": f"{BASE}proposals/dry", "type": "Proposal"}
    before = pod.feed.last_sequence()
    outcome = pod.write_batch(_read(node, [good, untitled]), [], credential="t", dry_run=True)
    assert list(outcome.rejected) == [untitled["id"]] and not outcome.created
    assert pod.version(good["id"]) is None and pod.feed.last_sequence() == before


def test_a_dry_run_refuses_a_name_clash_and_a_deletion_the_pod_refuses_and_stores_nothing(node):
    pod = node.pods["b"]
    folder = {"@context": CONTEXT, "id": f"{BASE}proposals/clash/", "title": "A folder"}
    pod.put(folder["id"], Body(json.dumps(folder).encode(), "application/ld+json"), preconditions=Preconditions(),
            credential="t")
    clash = {"@context": CONTEXT, "id": f"{BASE}proposals/clash", "type": "Person", "name": "C"}
    fresh = {"@context": CONTEXT, "id": f"{BASE}people/fresh", "type": "Person", "name": "F"}
    before = pod.feed.last_sequence()
    with pytest.raises(Conflict):
        pod.write_batch(_read(node, [fresh, clash]), [], credential="t", dry_run=True)
    with pytest.raises(Conflict):  # the root container is never empty
        pod.write_batch(_read(node, [fresh]), [f"{BASE}proposals/"], credential="t", dry_run=True)
    assert pod.version(fresh["id"]) is None and pod.feed.last_sequence() == before


def test_batch_flags_must_be_booleans():
    app = create_app(from_dict({"base_url": "http://127.0.0.1:8000/",
                                "pods": {"b": {"platform": "https://p.example", "token": "t"}}}))
    try:
        for key in ("dry_run", "atomic"):
            response = app.test_client().post("/b/batch", json={"put": [], key: "false"},
                                              headers={"Authorization": "Bearer t"})
            assert response.status_code == 400 and key in response.get_data(as_text=True)
    finally:
        app.extensions["dds.node"].close()
