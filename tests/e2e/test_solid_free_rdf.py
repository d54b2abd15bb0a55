"""The free-RDF area of a pod over HTTP: generic Solid apps write profiles, settings and type indexes there, while
the civic containers stay validated."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from dds_pod.config import ConfigError, from_dict
from dds_pod.node import Node
from dds_pod.testing import TOKENS, ServerProcess, free_port, write_config

from .conftest import auth, example, until

TURTLE = {"Content-Type": "text/turtle"}
PROFILE = """@prefix foaf: <http://xmlns.com/foaf/0.1/> . @prefix solid: <http://www.w3.org/ns/solid/terms#> .
<> a foaf:PersonalProfileDocument ; foaf:primaryTopic <#me> .
<#me> a foaf:Person ; foaf:name "Alice" ; solid:publicTypeIndex <../settings/prefs/publicTypeIndex.ttl> ."""
TYPE_INDEX = """@prefix solid: <http://www.w3.org/ns/solid/terms#> .
<> a solid:TypeIndex , solid:ListedDocument .
<#proposals> a solid:TypeRegistration ; solid:forClass <https://w3id.org/dds/ns#Proposal> ;
    solid:instanceContainer </bordeaux/proposals/> ."""
CONSTRAINED_BY = 'rel="http://www.w3.org/ns/ldp#constrainedBy"'


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("free-rdf")
    port = free_port()
    config = write_config(directory, port, max_body_bytes=4096, free_rdf=["apps/", "settings/prefs/"])
    with config.open("a", encoding="utf-8") as toml:  # the merged graph harvests the node's own pods
        toml.write("[federation]\nmembers = []\ninterval_s = 0.5\n")
    process = ServerProcess(config, port, directory / "server.log").start()
    yield process.url
    process.stop()


def test_any_rdf_is_accepted_in_the_free_area(node):
    profile = requests.put(f"{node}bordeaux/apps/profile/card", data=PROFILE.encode(),
                           headers={**TURTLE, **auth()}, timeout=5)
    assert profile.status_code == 201, profile.text
    index = requests.put(f"{node}bordeaux/settings/prefs/publicTypeIndex.ttl", data=TYPE_INDEX.encode(),
                         headers={**TURTLE, **auth()}, timeout=5)
    assert index.status_code == 201, index.text
    read = requests.get(f"{node}bordeaux/apps/profile/card", headers={"Accept": "text/turtle"}, timeout=5)
    assert "Alice" in read.text and "PersonalProfileDocument" in read.text
    posted = requests.post(f"{node}bordeaux/apps/", data=b'<> <http://schema.org/name> "Reglages" .',
                           headers={**TURTLE, **auth()}, timeout=5)
    assert posted.status_code == 201, posted.text
    update = b'INSERT DATA { <#me> <http://xmlns.com/foaf/0.1/nick> "al" . }'
    patched = requests.patch(f"{node}bordeaux/apps/profile/card", data=update, timeout=5,
                             headers={**auth(), "Content-Type": "application/sparql-update"})
    assert patched.status_code == 204, patched.text


def test_json_ld_of_a_document_keeps_the_triples_about_its_fragments(node):
    url = f"{node}bordeaux/apps/profile/fragments"
    assert requests.put(url, data=PROFILE.encode(), headers={**TURTLE, **auth()}, timeout=5).status_code == 201
    body = requests.get(url, headers={"Accept": "application/ld+json"}, timeout=5).json()
    me = next(n for n in body["@included"] if n["@id"] == f"{url}#me")
    assert me["http://xmlns.com/foaf/0.1/name"] == "Alice"
    listed = requests.get(f"{node}bordeaux/apps/profile/", headers={"Accept": "application/ld+json"}, timeout=5)
    member = next(m for m in listed.json()["ldp:contains"] if m["@id"] == url)
    assert f"{url}#me" in {n["@id"] for n in member["@included"]}


def test_the_free_containers_exist_from_the_start_without_a_shape_link(node):
    for path in ("apps/", "settings/prefs/"):
        response = requests.get(f"{node}bordeaux/{path}", headers={"Accept": "text/turtle"}, timeout=5)
        assert response.status_code == 200
        assert CONSTRAINED_BY not in response.headers["Link"]
    civic = requests.head(f"{node}bordeaux/proposals/", timeout=5)
    assert CONSTRAINED_BY in civic.headers["Link"]
    assert CONSTRAINED_BY in requests.head(f"{node}bordeaux/settings/", timeout=5).headers["Link"]


def test_civic_containers_and_other_pods_stay_validated(node):
    for url in (f"{node}bordeaux/proposals/card", f"{node}bordeaux/settings/card", f"{node}paris/apps/card"):
        pod = "paris" if "/paris/" in url else "bordeaux"
        refused = requests.put(url, data=PROFILE.encode(), headers={**TURTLE, **auth(pod)}, timeout=5)
        assert refused.status_code == 422, url
        assert CONSTRAINED_BY in refused.headers["Link"]


def test_the_free_area_still_refuses_broken_big_or_unauthorised_bodies(node):
    url = f"{node}bordeaux/apps/broken"
    broken = requests.put(url, data=b"<> a <unterminated", headers={**TURTLE, **auth()}, timeout=5)
    assert broken.status_code == 400
    big = requests.put(url, data=b"<> <http://schema.org/name> \"" + b"x" * 5000 + b"\" .",
                       headers={**TURTLE, **auth()}, timeout=5)
    assert big.status_code == 413
    anonymous = requests.put(url, data=PROFILE.encode(), headers=TURTLE, timeout=5)
    assert anonymous.status_code == 401
    assert requests.get(url, timeout=5).status_code == 404


def test_a_dds_document_in_the_free_area_is_held_to_its_shape(node):
    bad = '<> a <https://w3id.org/dds/ns#Proposal> ; <https://w3id.org/dds/ns#status> "nonsense" .'
    response = requests.put(f"{node}bordeaux/apps/proposal", data=bad.encode(), headers={**TURTLE, **auth()},
                            timeout=5)
    assert response.status_code == 422


@pytest.mark.parametrize("value", ["apps/", ["/apps/"], ["apps"], ["../x/"], ["a/./b/"], ["proposals/"], ["inbox/"],
                                   ["changes/"], ["proposals/apps/"], [""], [3]])
def test_a_bad_free_rdf_setting_is_refused_naming_it(value):
    raw = {"base_url": "http://127.0.0.1:8000/",
           "pods": {"p": {"platform": "https://p.example", "token": "t", "free_rdf": value}}}
    with pytest.raises(ConfigError, match=r"pods\.p\.free_rdf"):
        Node(from_dict(raw, relative_to=Path()))


def test_a_node_with_a_civic_container_as_free_rdf_does_not_start(tmp_path):
    port = free_port()
    config = write_config(tmp_path, port, free_rdf=["comments/"])
    result = subprocess.run([sys.executable, "-m", "dds_pod.cli", "serve", "--config", str(config), "--port",
                             str(port)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DDS_TEST_TOKEN_PARIS": TOKENS["paris"]})
    assert result.returncode != 0 and "pods.bordeaux.free_rdf: 'comments/'" in result.stderr


def test_a_deleted_resource_is_404_in_the_free_area_and_410_in_civic_containers(node):
    free = f"{node}bordeaux/apps/deleted-soon"
    assert requests.put(free, data=PROFILE.encode(), headers={**TURTLE, **auth()}, timeout=5).status_code == 201
    assert requests.delete(free, headers=auth(), timeout=5).status_code in (200, 204)
    gone = requests.get(free, headers={"Accept": "text/turtle"}, timeout=5)
    assert gone.status_code == 404
    assert requests.put(free, data=PROFILE.encode(), headers={**TURTLE, **auth()}, timeout=5).status_code == 201
    civic = requests.post(f"{node}bordeaux/proposals/", json=example("proposal-community-garden"), timeout=5,
                          headers={**auth(), "Content-Type": "application/ld+json"})
    assert civic.status_code == 201, civic.text
    assert requests.delete(civic.headers["Location"], headers=auth(), timeout=5).status_code in (200, 204)
    assert requests.get(civic.headers["Location"], headers={"Accept": "text/turtle"}, timeout=5).status_code == 410


def test_the_free_area_takes_a_document_about_any_iri_and_a_civic_container_does_not(node):
    store = b'{"@id": "http://store.example.com/", "@type": "http://store.example.com/Store", ' \
            b'"http://store.example.com/name": "Links Bike Shop"}'
    put = requests.put(f"{node}bordeaux/apps/shops/example.json", data=store, timeout=5,
                       headers={**auth(), "Content-Type": "application/ld+json"})
    assert put.status_code == 201, put.text
    read = requests.get(f"{node}bordeaux/apps/shops/example.json", headers={"Accept": "text/turtle"}, timeout=5)
    assert "Links Bike Shop" in read.text and "store.example.com" in read.text
    civic = requests.put(f"{node}bordeaux/proposals/about-a-shop", data=store, timeout=5,
                         headers={**auth(), "Content-Type": "application/ld+json"})
    assert civic.status_code == 400 and civic.json()["field"] == "@id"


def _in_merged_graph(node: str, subject: str) -> bool:
    query = f"ASK {{ GRAPH ?g {{ <{subject}> ?p ?o }} }}"
    answer = requests.post(f"{node}sparql", data={"query": query}, timeout=15,
                           headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.text
    return answer.json()["boolean"]


def test_the_free_area_stays_out_of_the_merged_graph(node):
    """Apps' documents are not civic data: once a proposal written after them is harvested, they are still not."""
    note = b'<#it> <http://schema.org/name> "an app setting" .'
    assert requests.put(f"{node}bordeaux/apps/settings-note", data=note, timeout=5,
                        headers={**TURTLE, **auth()}).status_code == 201
    proposal = requests.post(f"{node}bordeaux/proposals/", json=example("proposal-community-garden"), timeout=5,
                             headers={**auth(), "Content-Type": "application/ld+json"})
    assert proposal.status_code == 201, proposal.text
    assert until(lambda: _in_merged_graph(node, proposal.headers["Location"]), 30), "the proposal was never harvested"
    assert not _in_merged_graph(node, f"{node}bordeaux/apps/settings-note#it")
