"""Two web processes of one node on Oxigraph servers and one search index on PostgreSQL: the process that runs the
node's jobs harvests into the shared index and both processes search it; hostile searches are answered by both;
PostgreSQL stopped is a 503 problem for a search while the pods still answer, and the node finds the index again
(with the writes harvested meanwhile) when PostgreSQL is back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from dds_pod.testing import (
    OxigraphServer,
    PostgresServer,
    ServerProcess,
    free_port,
    oxigraph_command,
    postgres_bindir,
    postgres_search_table,
    sparql_store_table,
    write_config,
)

from ..conftest import tool_missing
from .conftest import auth, example, until
from .test_workers import JOBS_LINE, post_to

SCHEMA = "node_index"


class Node:
    """The engines, the index's server and the two processes (the first one alone runs the jobs)."""

    def __init__(self, directory: Path, postgres: PostgresServer) -> None:
        self.pods = OxigraphServer(directory / "pods", directory / "pods.log").start()
        self.federation = OxigraphServer(directory / "federation", directory / "federation.log").start()
        self.postgres = postgres
        ports = [free_port(), free_port()]
        config = write_config(directory, ports[0], data_dir=directory / "data", page_size=5)
        with config.open("a", encoding="utf-8") as file:
            file.write("\n".join([
                "[federation]", f'members = ["http://127.0.0.1:{ports[0]}/paris/"]', "interval_s = 0.5",
                "fetch_timeout_s = 2", 'allow_networks = ["127.0.0.0/8"]',
                sparql_store_table(self.pods, self.federation, lock_dir=directory / "locks"),
                postgres_search_table(postgres, SCHEMA, statement_timeout_s=2, connect_timeout_s=1)]))
        self.processes = [ServerProcess(config, port, directory / f"serve-{n}.log") for n, port in enumerate(ports)]
        self.processes[0].start()
        until(lambda: JOBS_LINE.search(self.processes[0].log()))
        self.processes[1].start()

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
        self.pods.stop()
        self.federation.stop()


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[Node]:
    if oxigraph_command() is None:
        tool_missing("the oxigraph command is missing: pip install oxigraph (a test extra of dds-pod)")
    if postgres_bindir() is None:
        tool_missing("PostgreSQL is not installed: make postgresql (Debian's postgresql package)")
    directory = tmp_path_factory.mktemp("search-postgres")
    postgres = PostgresServer(directory / "postgres.log").start()
    node = Node(directory, postgres)
    yield node
    node.stop()
    postgres.remove()


def search(process: ServerProcess, **params) -> requests.Response:
    return requests.get(f"{process.url}federation/proposals/", params={"limit": 100, **params},
                        headers={"Accept": "application/ld+json"}, timeout=10)


def found(process: ServerProcess, text: str) -> list[str]:
    response = search(process, q=text)
    if response.status_code != 200:
        return []
    return [member["@id"] for member in response.json().get("ldp:contains", [])]


def titled(title: str) -> dict:
    return dict(example("proposal-community-garden"), title={"fr": title})


def indexed_rows(postgres: PostgresServer) -> int:
    with psycopg.connect(postgres.dsn) as connection:
        row = connection.execute(f"SELECT count(*) FROM {SCHEMA}.docs").fetchone()
    return row[0] if row else 0


def test_both_processes_search_the_index_the_jobs_process_writes(node):
    jobs, other = node.processes
    created = post_to(other, "proposals/", titled("Une fontaine à boire square Vinet"), pod="paris")
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    until(lambda: location in found(other, "fontaines"))  # harvested by the first process, found by the second
    assert location in found(jobs, "FONTAINE boire")
    assert not JOBS_LINE.search(other.log()), "the second process runs no jobs: the index it reads is shared"
    assert indexed_rows(node.postgres) >= 1


@pytest.mark.parametrize("text", ["'&|!:*(", "fontaine:* & !square", "<-> fontaine", "\x00\x01\x1b[31m",
                                  "'; DROP TABLE node_index.docs; --", "fontaine\\"])
def test_hostile_searches_are_answered_by_both_processes(node, text):
    for process in node.processes:
        response = search(process, q=text)
        assert response.status_code == 200, response.text
        page = requests.get(f"{process.url}explore", params={"q": f"<script>{text}</script>"}, timeout=10)
        assert page.status_code == 200 and "<script>" + text not in page.text
    assert indexed_rows(node.postgres) >= 1


@pytest.mark.parametrize(("params", "field"), [({"q": "x" * 5000}, "q"), ({"q": " ".join(["mot"] * 40)}, "q")])
def test_a_huge_search_is_a_400_naming_the_parameter(node, params, field):
    for process in node.processes:
        response = search(process, **params)
        assert response.status_code == 400 and response.json()["field"] == field


def test_postgres_down_is_a_503_problem_and_the_node_recovers_with_what_was_harvested_meanwhile(node):
    jobs, other = node.processes
    node.postgres.stop()
    try:
        for process in node.processes:
            response = search(process, q="fontaine")
            assert response.status_code == 503, response.text
            problem = response.json()
            assert problem["status"] == 503 and problem["title"] == "Search index unavailable"
            assert re.search(r"PostgreSQL|in time", problem["detail"])
            page = requests.get(f"{process.url}explore", params={"q": "fontaine"}, timeout=10)
            assert page.status_code == 503  # Explore too: the page says so, nothing is half-shown
            pod = requests.get(f"{process.url}paris/proposals/", headers={"Accept": "application/ld+json"},
                               timeout=10)
            assert pod.status_code == 200  # the pods do not depend on the index
        meanwhile = post_to(jobs, "proposals/", titled("Un kiosque à musique"), pod="paris")
        assert meanwhile.status_code == 201
        until(lambda: "a listener of the merged graph failed" in jobs.log())
    finally:
        node.postgres.start()
    # Each process's pool connects again within seconds (its attempts back off).
    until(lambda: all(search(process, q="fontaine").status_code == 200 for process in node.processes))
    after = post_to(other, "proposals/", titled("Une ombrière au marché"), pod="paris")
    until(lambda: after.headers["Location"] in found(other, "ombriere"))
    assert meanwhile.headers["Location"] in found(jobs, "kiosque"), "the update missed while it was down"
    assert requests.get(f"{other.url}paris/proposals/", headers=auth("paris"), timeout=10).status_code == 200
