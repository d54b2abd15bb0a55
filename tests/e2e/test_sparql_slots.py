"""The pool of query slots: with one slot, a heavy query holds it, a second query is told to come back later
(503 with Retry-After) while the pods answer as usual, and queries run again once the slot is free."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from dds_pod.testing import ServerProcess

from .test_sparql import EXPLOSIVE, _quads, start_with_merged_graph


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[ServerProcess]:
    server = start_with_merged_graph(tmp_path_factory.mktemp("slots"), _quads(),
                                     "query_timeout_s = 4\nquery_slots = 1")
    yield server
    server.stop()


def test_one_slot_held_by_a_heavy_query_makes_the_next_query_busy_but_not_the_pods(node):
    endpoint = f"{node.url}sparql"
    outcome: dict[str, requests.Response] = {}
    heavy = threading.Thread(target=lambda: outcome.update(
        heavy=requests.post(endpoint, data={"query": EXPLOSIVE}, timeout=30)))
    heavy.start()
    busy = None
    while heavy.is_alive() and busy is None:  # until the heavy query has taken the slot
        response = requests.get(endpoint, params={"query": "ASK {}"}, timeout=10)
        if response.status_code == 503:
            busy = response
        else:
            time.sleep(0.05)
    pod = requests.get(f"{node.url}bordeaux/", headers={"Accept": "application/ld+json"}, timeout=10)
    heavy_still_running = heavy.is_alive()
    heavy.join(30)

    assert busy is not None, "no query was ever refused while the heavy one ran"
    assert busy.headers["Content-Type"] == "application/problem+json"
    assert busy.json()["title"] == "Server busy"
    assert "slots" in busy.json()["detail"]
    assert int(busy.headers["Retry-After"]) > 0
    assert heavy_still_running and pod.status_code == 200
    assert outcome["heavy"].status_code == 503 and outcome["heavy"].json()["title"] == "Query timeout"
    after = requests.get(endpoint, params={"query": "ASK {}"}, timeout=10)
    assert after.status_code == 200, after.text
