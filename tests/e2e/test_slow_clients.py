"""Slow and broken clients against a real ``dds-pod serve``: they hold connections, never the node's threads."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from dds_pod.testing import TOKENS, ServerProcess, free_port, write_config

from .conftest import auth, example

SLOW_CLIENTS = 64


def _serve(directory: Path, server_table: str, max_body_bytes: int | None = None) -> ServerProcess:
    port = free_port()
    config = write_config(directory, port, max_body_bytes=max_body_bytes)
    config.write_text(config.read_text(encoding="utf-8") + f"[server]\n{server_table}\n", encoding="utf-8")
    return ServerProcess(config, port, directory / "server.log").start()


@pytest.fixture(scope="module")
def patient(tmp_path_factory) -> Iterator[ServerProcess]:
    """A node whose deadlines are far: slow clients stay connected for the whole test."""
    process = _serve(tmp_path_factory.mktemp("patient"), "header_timeout_s = 120\nbody_timeout_s = 120")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def strict(tmp_path_factory) -> Iterator[ServerProcess]:
    """A node with short deadlines and a small body limit."""
    process = _serve(tmp_path_factory.mktemp("strict"), "header_timeout_s = 2\nbody_timeout_s = 2",
                     max_body_bytes=20_000)
    yield process
    process.stop()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Drip:
    """Clients that each send their request one byte at a time, and never finish it, until stopped."""

    def __init__(self, port: int, count: int) -> None:
        self.sockets: list[socket.socket] = []
        self.pending: list[bytes] = []
        for index in range(count):
            sock = _connect(port)
            if index % 2:  # slow headers
                request = b"GET /bordeaux/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 100_000
            else:  # headers at once, then a slow body
                sock.sendall(b"POST /bordeaux/proposals/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             b"Content-Type: application/ld+json\r\nContent-Length: 100000\r\n\r\n")
                request = b"{" + b" " * 99_000
            self.sockets.append(sock)
            self.pending.append(request)
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for sock, request in zip(self.sockets, self.pending, strict=True):
                sock.send(request[self.sent:self.sent + 1])
            self.sent += 1
            self._stop.wait(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for sock in self.sockets:
            sock.close()


def test_normal_requests_are_served_while_64_slow_clients_hold_connections(patient):
    drip = Drip(patient.port, SLOW_CLIENTS)
    try:
        time.sleep(0.5)  # every slow client has its request started
        for _ in range(20):
            assert requests.get(patient.url, timeout=10).status_code == 200
            listed = requests.get(f"{patient.url}bordeaux/", headers={"Accept": "application/ld+json"}, timeout=10)
            assert listed.status_code == 200
        assert drip.sent > 1, "the slow clients were still sending"
        for sock in drip.sockets:  # none was answered or closed: they held their connections throughout
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        drip.close()
    assert patient.alive


def _answer(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection."""
    sock.settimeout(15)  # the deadline is 2 s; the server checks it every second
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.mark.parametrize("stalled", [
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/",
    b"POST /bordeaux/proposals/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n{\"title\":",
    b"POST /bordeaux/proposals/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"title\":",
])
def test_a_client_that_stalls_gets_408_and_is_disconnected(strict, stalled):
    with _connect(strict.port) as sock:
        sock.sendall(stalled)
        answer = _answer(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    problem = json.loads(body)
    assert problem["status"] == 408 and problem["field"] in ("headers", "body") and "2 s" in problem["detail"]
    assert requests.get(strict.url, timeout=10).status_code == 200


def _chunked(body: bytes, size: int = 4096) -> bytes:
    chunks = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


def _post_chunked(port: int, slug: str, framed: bytes) -> bytes:
    with _connect(port) as sock:
        sock.sendall(f"POST /bordeaux/proposals/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ld+json\r\n"
                     f"Authorization: Bearer {TOKENS['bordeaux']}\r\nSlug: {slug}\r\nTransfer-Encoding: chunked\r\n"
                     f"Connection: close\r\n\r\n".encode() + framed)
        return _answer(sock)


def _stored(base: str, slug: str) -> int:
    return requests.get(f"{base}bordeaux/proposals/{slug}", headers={"Accept": "application/ld+json"},
                        timeout=10).status_code


def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_stored(strict):
    document = example("proposal-community-garden")
    document["content"] = {"en": "x" * 30_000}
    answer = _post_chunked(strict.port, "too-long", _chunked(json.dumps(document).encode()))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body)["field"] == "body" and "20000" in json.loads(body)["detail"]
    assert _stored(strict.url, "too-long") == 404
    # the same document under the limit, chunked, is stored whole
    document["content"] = {"en": "x" * 1000}
    answer = _post_chunked(strict.port, "short", _chunked(json.dumps(document).encode(), size=100))
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
    stored = requests.get(f"{strict.url}bordeaux/proposals/short", headers={"Accept": "application/ld+json"},
                          timeout=10).json()
    assert stored["content"]["en"] == "x" * 1000


@pytest.mark.parametrize("framed", [
    b"zz\r\n{}\r\n0\r\n\r\n",  # not a hexadecimal size
    b"2\r\n{}XX\r\n0\r\n\r\n",  # a chunk longer than its size: no line end where it should end
    b"2;\x00bad\r\n{}\r\n0\r\n\r\n",  # an invalid chunk extension
])
def test_malformed_chunked_framing_is_400_and_nothing_is_stored(strict, framed):
    answer = _post_chunked(strict.port, "malformed", framed)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert json.loads(body)["status"] == 400
    assert _stored(strict.url, "malformed") == 404
    assert requests.get(strict.url, timeout=10).status_code == 200


def test_oversized_headers_are_431(strict):
    response = requests.get(strict.url, headers={"X-Padding": "a" * 100_000}, timeout=10)
    assert response.status_code == 431 and response.json()["field"] == "headers"
    assert requests.get(strict.url, timeout=10).status_code == 200


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_serving_process_that_dies_is_started_again(tmp_path):
    process = _serve(tmp_path, "threads = 2")
    try:
        [child] = _children(process.process.pid)
        document = example("proposal-community-garden")
        created = requests.post(f"{process.url}bordeaux/proposals/", data=json.dumps(document),
                                headers={"Content-Type": "application/ld+json", **auth()}, timeout=10)
        assert created.status_code == 201
        os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(process.url, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, process.log()
            time.sleep(0.2)
        assert process.alive and _children(process.process.pid) != [child]
        assert "starting it again" in process.log()
        # an in-memory node is for demos: its data went with the process
        assert requests.get(created.headers["Location"], timeout=10).status_code == 404
    finally:
        process.stop()
    assert "node stopped" in process.log(), "SIGTERM stops the node cleanly"
