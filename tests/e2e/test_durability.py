"""Acknowledged writes survive a crash; concurrent writers never half-apply."""

from __future__ import annotations

import json
import threading

import requests

from dds_pod.testing import ServerProcess, free_port, write_config

from .conftest import JSONLD, auth, example, post


def test_acknowledged_write_survives_kill_9(tmp_path):
    port = free_port()
    config = write_config(tmp_path, port, data_dir=tmp_path / "store")
    server = ServerProcess(config, port, tmp_path / "server.log").start()
    try:
        created = post(server.url, "proposals/", example("proposal-piste-cyclable-victor-hugo"), slug="durable")
        assert created.status_code == 201
        patched = requests.patch(created.headers["Location"], data=json.dumps({"supportCount": 999}),
                                 headers={**auth(), "Content-Type": "application/merge-patch+json"}, timeout=5)
        assert patched.status_code == 204
        server.kill()  # SIGKILL right after the 2xx: no flush, no clean shutdown
        server = ServerProcess(config, port, tmp_path / "server.log").start()
        body = requests.get(created.headers["Location"], timeout=5).json()
        assert body["supportCount"] == 999
        feed = requests.get(f"{server.url}bordeaux/changes/", headers={"Accept": "application/ld+json"},
                            timeout=5).json()
        kinds = [node["@type"] for node in feed["@graph"] if node.get("@type") in ("as:Create", "as:Update")]
        assert kinds == ["as:Create", "as:Update"]
    finally:
        server.stop()


def test_concurrent_writers_with_if_match_one_wins(base):
    location = post(base, "proposals/", example("proposal-community-garden")).headers["Location"]
    etag = requests.get(location, timeout=5).headers["ETag"]
    results: list[tuple[int, int]] = []
    start = threading.Barrier(8)

    def writer(count: int) -> None:
        document = dict(example("proposal-community-garden"), supportCount=count)
        start.wait()
        response = requests.put(location, data=json.dumps(document), headers={**JSONLD, **auth(), "If-Match": etag},
                                timeout=10)
        results.append((count, response.status_code))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [count for count, status in results if status == 204]
    assert len(winners) == 1, results
    assert sorted(status for _, status in results) == [204] + [412] * 7
    assert requests.get(location, timeout=5).json()["supportCount"] == winners[0]


def test_concurrent_posts_get_distinct_names(base):
    responses: list[requests.Response] = []

    def create() -> None:
        responses.append(post(base, "proposals/", example("proposal-community-garden"), slug="same-slug"))

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.headers["Location"] for r in responses}) == 6
