"""The catalogue lists member pods and the datasets their platforms describe in DCAT records."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph, Namespace, URIRef

from dds_pod.app import create_app
from dds_pod.config import ConfigError, from_dict

from .conftest import SHARED

DCAT = Namespace("http://www.w3.org/ns/dcat#")
RECORDS = SHARED / "data" / "real" / "madrid_dcat"


def _config(records):
    return from_dict({"base_url": "http://127.0.0.1:8000/",
                      "pods": {"madrid": {"platform": "https://decide.madrid.es", "token": "t"}},
                      "catalog": {"records": records}}, relative_to=RECORDS)


def test_dcat_records_describe_a_members_datasets():
    app = create_app(_config({"http://127.0.0.1:8000/madrid/": sorted(p.name for p in RECORDS.glob("*.dcat"))}))
    body = app.test_client().get("/catalog", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    graph = Graph().parse(data=body, format="turtle")
    catalog, member = URIRef("http://127.0.0.1:8000/catalog"), URIRef("http://127.0.0.1:8000/madrid/")
    datasets = set(graph.objects(catalog, DCAT.dataset))
    assert URIRef("https://datos.madrid.es/egob/catalogo/300114-0-madrid-decide") in datasets
    assert len(datasets) == 2
    assert set(graph.objects(member, DCAT.servesDataset)) == datasets
    distributions = {d for ds in datasets for d in graph.objects(ds, DCAT.distribution)}
    assert distributions and all((d, DCAT.accessURL, None) in graph for d in distributions)


def test_a_missing_record_is_a_configuration_error():
    with pytest.raises(ConfigError, match="no such file"):
        _config({"http://127.0.0.1:8000/madrid/": ["absent.dcat"]})


def test_batches_number_their_events_without_gaps_and_change_the_container_version():
    import json
    from pathlib import Path

    from dds_pod.changes import ChangeFeed

    app = create_app(from_dict({"base_url": "http://127.0.0.1:8000/",
                                "pods": {"b": {"platform": "https://p.example", "token": "t"}}}))
    node = app.extensions["dds.node"]
    pod = node.pods["b"]
    document = json.loads((Path(__file__).parents[1] / "examples/valid/proposal-community-garden.jsonld").read_text())
    before = pod.feed.last_sequence()
    versions = [pod.version("http://127.0.0.1:8000/b/proposals/")]
    for round_ in range(2):
        docs = []
        for i in range(5):
            iri = f"http://127.0.0.1:8000/b/proposals/p{round_}-{i}"
            docs.append((iri, node.intake.read_json_triples(dict(document, id=iri), iri, "fr")))
        pod.write_batch(docs, [], credential="t")
        versions.append(pod.version("http://127.0.0.1:8000/b/proposals/"))
    events = pod.feed.events(before, 100)
    assert [e.sequence for e in events] == list(range(before + 1, before + 11))
    assert pod.feed.last_sequence() == before + 10
    assert ChangeFeed(node.store, pod.url).last_sequence() == before + 10, "found again after a restart"
    assert len(set(versions)) == 3, "each batch changes the container's ETag"


def test_a_batch_of_new_resources_is_committed_as_insertions_and_creates_a_missing_container_once():
    from dds_pod.changes import META_GRAPH
    from dds_pod.ldp.resources import VERSION

    app = create_app(from_dict({"base_url": "http://127.0.0.1:8000/",
                                "pods": {"b": {"platform": "https://p.example", "token": "t"}}}))
    node = app.extensions["dds.node"]
    pod = node.pods["b"]
    committed = []
    commit = node.store.commit
    node.store.commit = lambda change: (committed.append(change), commit(change))[1]
    people = [f"http://127.0.0.1:8000/b/people/{name}" for name in ("ana", "ben")]
    docs = [(iri, node.intake.read_json_triples({"@context": "https://w3id.org/dds/context.jsonld", "id": iri,
                                                 "type": "Person", "name": iri[-3:]}, iri, "fr")) for iri in people]
    outcome = pod.write_batch(docs, [], credential="t")
    assert outcome.created == people
    assert [change.insert_only for change in committed] == [True]
    container = "http://127.0.0.1:8000/b/people/"
    assert len(list(node.store.quads(ox.NamedNode(container), VERSION, None, META_GRAPH))) == 1
    members = {q.object.value for q in node.store.quads(ox.NamedNode(container), None, None, container)
               if q.predicate.value.endswith("#contains")}
    assert members == set(people)
    assert pod.get(people[0]).version and pod.get(container).version
