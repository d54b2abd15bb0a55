"""Containers and merged views state their paging in their RDF (a Hydra partial view), not only in Link headers, so a
client that reads only documents, as Comunica does, lists every member of a container larger than a page."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from html import unescape

import pytest
import requests
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from dds_pod.testing import ServerProcess, free_port, write_config

from .conftest import JSONLD, auth, example
from .test_comunica import comunica, node_js  # noqa: F401 (the fixture finding node and Comunica)

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
LDP = Namespace("http://www.w3.org/ns/ldp#")
PAGE_SIZE = 40
PROPOSALS = 94
TURTLE = {"Accept": "text/turtle"}


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[ServerProcess]:
    """A node with pages of 40 whose bordeaux pod holds 94 proposals, harvested every half second."""
    directory = tmp_path_factory.mktemp("paging-rdf")
    port = free_port()
    config = write_config(directory, port, page_size=PAGE_SIZE)
    with config.open("a", encoding="utf-8") as file:
        file.write("[federation]\ninterval_s = 0.5\n")
    server = ServerProcess(config, port, directory / "server.log").start()
    pod = f"{server.url}bordeaux/"
    garden = example("proposal-community-garden")
    documents = [dict(garden, id=f"{pod}proposals/garden-{i:03}") for i in range(PROPOSALS)]
    answer = requests.post(f"{pod}batch", data=json.dumps({"put": documents}), headers={**JSONLD, **auth()},
                           timeout=120)
    assert answer.status_code == 200, answer.text
    yield server
    server.stop()


@pytest.fixture(scope="module")
def merged(node) -> str:
    """The merged proposals view, once it lists the pod's 94 proposals."""
    url = f"{node.url}federation/proposals/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        graph = Graph().parse(data=requests.get(url, headers=TURTLE, timeout=10).text, format="turtle")
        if graph.value(URIRef(url), HYDRA.totalItems) == Literal(PROPOSALS):
            return url
        time.sleep(0.3)
    raise AssertionError(f"not harvested in time:\n{node.log()}")


def walk(url: str) -> tuple[list[str], int]:
    """The members met by following ``hydra:next`` in the documents only (no header is read), and the pages read."""
    members, pages, seen = [], 0, set()
    collection = URIRef(url.split("?", 1)[0])
    while url:
        assert url not in seen, f"paging loops back to {url}"
        seen.add(url)
        response = requests.get(url, headers=TURTLE, timeout=10)
        assert response.status_code == 200, response.text
        graph = Graph().parse(data=response.text, format="turtle", publicID=url)
        pages += 1
        assert graph.value(collection, HYDRA.view) == URIRef(url), "the view is the page asked for"
        assert graph.value(collection, HYDRA.totalItems) == Literal(PROPOSALS)
        assert (URIRef(url), HYDRA.first, None) in graph and (URIRef(url), HYDRA.last, None) in graph
        members += [str(member) for member in graph.objects(collection, LDP.contains)]
        following = graph.value(URIRef(url), HYDRA.next)
        url = str(following) if following is not None else ""
    return members, pages


def test_following_hydra_next_in_a_pod_container_lists_every_member_once(node):
    container = f"{node.url}bordeaux/proposals/"
    members, pages = walk(container)
    assert len(members) == PROPOSALS == len(set(members)) and pages == 3
    assert all(member.startswith(container) for member in members)


def test_the_container_is_not_typed_as_a_page(node):
    """Asked without parameters, the first page is the container's own IRI: it links on but keeps its own types."""
    container = f"{node.url}bordeaux/proposals/"
    document = requests.get(container, headers={"Accept": "application/ld+json"}, timeout=10).json()
    types = document["@type"] if isinstance(document["@type"], list) else [document["@type"]]
    assert types and all("Container" in t for t in types), types
    paged = Graph().parse(data=requests.get(f"{container}?limit=5", headers=TURTLE, timeout=10).text,
                          format="turtle")
    assert (URIRef(f"{container}?limit=5"), RDF.type, HYDRA.PartialCollectionView) in paged


def test_following_hydra_next_in_a_merged_view_lists_every_member_once(merged):
    members, pages = walk(merged)
    assert len(members) == PROPOSALS == len(set(members)) and pages == 3


def test_a_later_page_links_back_and_the_last_links_nowhere(node):
    page = f"{node.url}bordeaux/proposals/?limit={PAGE_SIZE}&offset={2 * PAGE_SIZE}"
    graph = Graph().parse(data=requests.get(page, headers=TURTLE, timeout=10).text, format="turtle")
    assert graph.value(URIRef(page), HYDRA.next) is None
    assert str(graph.value(URIRef(page), HYDRA.previous)).endswith(f"limit={PAGE_SIZE}&offset={PAGE_SIZE}")


def test_the_json_ld_page_carries_its_view(node):
    page = f"{node.url}bordeaux/proposals/?limit={PAGE_SIZE}&offset=0"
    document = requests.get(page, headers={"Accept": "application/ld+json"}, timeout=10).json()
    graph = Graph().parse(data=json.dumps(document), format="json-ld", publicID=page)
    assert str(graph.value(URIRef(page), HYDRA.next)).endswith(f"offset={PAGE_SIZE}")
    assert len(document["ldp:contains"]) == PAGE_SIZE


def test_search_parameters_are_kept_in_the_next_link(node):
    page = f"{node.url}bordeaux/proposals/?search-terms=jardin&limit=10"
    graph = Graph().parse(data=requests.get(page, headers=TURTLE, timeout=10).text, format="turtle")
    following = str(graph.value(URIRef(page), HYDRA.next))
    assert "search-terms=jardin" in following and "offset=10" in following


def test_the_html_page_has_a_next_link(node, merged):
    for url in (f"{node.url}bordeaux/proposals/", merged):
        page = requests.get(url, headers={"Accept": "text/html"}, timeout=10)
        assert page.status_code == 200
        found = page.text.split('<nav aria-label="Pages of the container">', 1)
        assert len(found) == 2, page.text[-500:]
        target = unescape(found[1].split(">Next page</a>", 1)[0].rsplit('href="', 1)[1].split('"', 1)[0])
        assert target == f"{url}?limit={PAGE_SIZE}&offset={PAGE_SIZE}"


@pytest.mark.parametrize("path", ["bordeaux/proposals/", "federation/proposals/"])
@pytest.mark.parametrize(("query", "field"), [("limit=0", "limit"), ("limit=many", "limit"), ("offset=-1", "offset"),
                                              ("offset=1e3", "offset")])
def test_a_bad_limit_or_offset_is_a_problem_naming_it(node, path, query, field):
    response = requests.get(f"{node.url}{path}?{query}", headers=TURTLE, timeout=10)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["field"] == field


def test_comunica_lists_every_member_by_following_hydra_next(node_js, node, merged):  # noqa: F811
    for container in (f"{node.url}bordeaux/proposals/", merged):
        query = f"SELECT ?member WHERE {{ <{container}> <{LDP.contains}> ?member }}"
        rows = comunica(node_js, container, query)["results"]["bindings"]
        members = [row["member"]["value"] for row in rows]
        assert len(members) == PROPOSALS == len(set(members)), container
