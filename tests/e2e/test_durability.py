"""Acknowledged writes survive a crash; concurrent writers never half-apply."""

from __future__ import annotations

import json
import threading
import time
from typing import ClassVar

import requests

from dds_pod.federation.outbox import OUTBOX_GRAPH
from dds_pod.store.oxigraph import OxigraphStore
from dds_pod.testing import Loopback, QuietHandler, ServerProcess, free_port, write_config

from .conftest import ACCEPT_JSONLD, JSONLD, auth, example, post


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
        body = requests.get(created.headers["Location"], headers=ACCEPT_JSONLD, timeout=5).json()
        assert body["supportCount"] == 999
        feed = requests.get(f"{server.url}bordeaux/changes/", headers={"Accept": "application/ld+json"},
                            timeout=5).json()
        kinds = [node["@type"] for node in feed["@graph"] if node.get("@type") in ("as:Create", "as:Update")]
        assert kinds == ["as:Create", "as:Update"]
    finally:
        server.stop()


def test_concurrent_writers_with_if_match_one_wins(base):
    location = post(base, "proposals/", example("proposal-community-garden")).headers["Location"]
    etag = requests.get(location, headers=ACCEPT_JSONLD, timeout=5).headers["ETag"]
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
    assert requests.get(location, headers=ACCEPT_JSONLD, timeout=5).json()["supportCount"] == winners[0]


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


class _RemotePod(QuietHandler):
    """A member pod on another node: down (503) until ``accepting`` is set, then an LDP resource with an inbox
    that records every notification it is sent."""

    accepting: ClassVar[threading.Event] = threading.Event()
    received: ClassVar[list[dict]] = []

    def do_HEAD(self) -> None:
        if not self._up():
            return
        self.send_response(200)
        self.send_header("Link", '</remote/inbox/>; rel="http://www.w3.org/ns/ldp#inbox"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self._up():
            self._answer(404)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not self._up():
            return
        if self.path != "/remote/inbox/":
            self._answer(404)
            return
        type(self).received.append(json.loads(body))
        self._answer(201)

    def _up(self) -> bool:
        if not self.accepting.is_set():
            self._answer(503)
        return self.accepting.is_set()

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_a_notification_queued_with_a_reply_survives_kill_9_and_arrives_once(tmp_path):
    """The reply and its notification are one commit: killed right after the 201, while the member is down,
    the node still owes the notification after its restart, delivers it once, and then owes nothing."""
    remote = Loopback(_RemotePod)
    port, store = free_port(), tmp_path / "store"
    config = write_config(tmp_path, port, data_dir=store)
    with config.open("a", encoding="utf-8") as toml:
        toml.write(f'[federation]\nmembers = ["{remote.url}remote/"]\ninterval_s = 3600\nretry_base_s = 0.05\n'
                   'allow_networks = ["127.0.0.0/8"]\n')
    target = f"{remote.url}remote/proposals/p1"
    server = ServerProcess(config, port, tmp_path / "server.log").start()
    try:
        reply = post(server.url, "comments/", dict(example("comment-on-proposal"), inReplyTo=target))
        assert reply.status_code == 201, reply.text
        server.kill()  # the member has refused every attempt so far: nothing can have been delivered
        assert _RemotePod.received == []
        _RemotePod.accepting.set()
        server = ServerProcess(config, port, tmp_path / "server.log").start()
        deadline = time.monotonic() + 20
        while not _RemotePod.received and time.monotonic() < deadline:
            time.sleep(0.05)
        server.stop()  # a clean stop: the outbox can be read, and it owes nothing more
        assert [(n["type"], n["object"], n["target"]) for n in _RemotePod.received] == [
            ("Create", reply.headers["Location"], target)]
        left = OxigraphStore(store)
        try:
            assert list(left.quads(graph=OUTBOX_GRAPH)) == []
        finally:
            left.close()
    finally:
        server.stop()
        remote.close()
