"""The catalogue lists member pods and the datasets their platforms describe in DCAT records."""

from __future__ import annotations

import pytest
from rdflib import Graph, Namespace, URIRef

from dds_pod.app import create_app
from dds_pod.config import ConfigError, from_dict

from .conftest import DATA

DCAT = Namespace("http://www.w3.org/ns/dcat#")
RECORDS = DATA / "real" / "madrid_dcat"


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
