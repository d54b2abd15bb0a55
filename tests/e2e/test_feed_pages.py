"""A change-feed page holds at most FEED_PAGE_MAX events: a larger ``limit`` gets that many and the link to
the rest, and following the links reads every event once, in JSON-LD as in Turtle."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from dds_pod.testing import ServerProcess, free_port, write_config
from dds_pod.web.ldp import FEED_PAGE_MAX

from .conftest import JSONLD, auth

CONTEXT = "https://w3id.org/dds/context.jsonld"
EVENTS = FEED_PAGE_MAX + 7


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("feed-pages")
    port = free_port()
    process = ServerProcess(write_config(directory, port), port, directory / "server.log").start()
    pod = f"{process.url}paris/"
    people = [{"@context": CONTEXT, "id": f"{pod}people/p{i}", "type": "Person", "name": f"P{i}"}
              for i in range(EVENTS)]
    answer = requests.post(f"{pod}batch", data=json.dumps({"put": people}), headers={**JSONLD, **auth("paris")},
                           timeout=120)
    assert answer.status_code == 200 and len(answer.json()["created"]) == EVENTS, answer.text
    yield pod
    process.stop()


def _sequences(page: dict) -> list[int]:
    fragments = [n["@id"].rsplit("#", 1)[1] for n in page["@graph"] if "/changes/#" in n["@id"]]
    return [int(fragment) for fragment in fragments if fragment.isdigit()]  # not #retention, the policy


def test_a_larger_limit_gets_a_capped_page_that_links_to_the_rest(node):
    url, seen, pages = f"{node}changes/?since=0&limit={10 * FEED_PAGE_MAX}", [], []
    while url:
        response = requests.get(url, headers={"Accept": "application/ld+json"}, timeout=30)
        assert response.status_code == 200, response.text
        pages.append(_sequences(response.json()))
        seen += pages[-1]
        url = response.links.get("next", {}).get("url")
    stream = next(n for n in response.json()["@graph"] if n["@id"] == f"{node}changes/")
    last = int(stream["dds:lastSequence"]["@value"])
    assert len(pages[0]) == FEED_PAGE_MAX and len(pages) == 2
    assert sorted(seen) == list(range(1, last + 1)) and last >= EVENTS


def test_a_capped_turtle_page_says_where_the_next_one_starts(node):
    response = requests.get(f"{node}changes/", params={"since": 0, "limit": FEED_PAGE_MAX + 1},
                            headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200
    assert response.links["next"]["url"] == f"{node}changes/?since={FEED_PAGE_MAX}&limit={FEED_PAGE_MAX}"
    assert f"<{node}changes/#{FEED_PAGE_MAX}>" in response.text
    assert f"<{node}changes/#{FEED_PAGE_MAX + 1}>" not in response.text
