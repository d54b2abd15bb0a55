"""Seeding pods at start-up goes through the pod's own write calls, as HTTP clients do."""

from __future__ import annotations

import shutil

import pytest

from dds_pod.config import from_dict
from dds_pod.demo import seed
from dds_pod.errors import DDSError
from dds_pod.node import Node

from .conftest import EXAMPLES

BASE = "http://127.0.0.1:8000/"


@pytest.fixture
def node():
    config = from_dict({"base_url": BASE, "pods": {
        "bordeaux": {"platform": "https://participation.bordeaux-metropole.example", "token": "t"}}})
    built = Node(config)
    yield built
    built.close()


def test_seeding_writes_every_example_of_the_pod_where_it_names_itself(node):
    written = seed(node, "bordeaux", EXAMPLES / "valid")
    pod = node.pods["bordeaux"]
    assert f"{BASE}bordeaux/proposals/piste-cyclable-victor-hugo" in written
    assert len(written) == len(set(written)) == len(list((EXAMPLES / "valid").glob("*.jsonld"))) - 1  # the platform
    assert all(pod.get(iri).triples for iri in written)


def test_seeding_an_invalid_document_names_its_file_and_stores_it_not(node, tmp_path):
    shutil.copy(EXAMPLES / "invalid" / "comment-unknown-stance.jsonld", tmp_path)
    pod = node.pods["bordeaux"]
    sequence = pod.feed.last_sequence()
    with pytest.raises(DDSError, match=r"comment-unknown-stance\.jsonld"):
        seed(node, "bordeaux", tmp_path)
    assert pod.feed.last_sequence() == sequence
