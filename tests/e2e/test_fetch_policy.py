"""The federation does not trust its members blindly, over HTTP against real servers.

A member whose name resolves to a loopback address is refused unless its network is allowed; a
member that trickles its answer fails within its fetch deadline; redirects stay under the member's
own URL. A canary server, which these members point to, must never see even a connection.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, URIRef

from dds_pod.testing import TOKENS, Loopback, QuietHandler, ServerProcess, free_port

from .conftest import ACCEPT_JSONLD, JSONLD, auth, example
from .test_federation import BrokenMember

DDS = "https://w3id.org/dds/ns#"
FETCH_TIMEOUT_S = 2
TRICKLE_PAUSE_S = 0.3


class Canary:
    """A loopback server that records every connection it accepts: none should come."""

    def __init__(self) -> None:
        self.connections = 0
        canary = self

        class Handler(QuietHandler):
            def setup(self) -> None:
                canary.connections += 1
                super().setup()

            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()

        self.loopback = Loopback(Handler)
        self.port = self.loopback.server.server_address[1]


class Member:
    """One loopback server, one misbehaviour per first path segment; it records the paths it is asked for."""

    def __init__(self, canary: Canary) -> None:
        self.seen: list[str] = []
        member = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                member.seen.append(self.path)
                fault = self.path.strip("/").split("/")[0].replace("-", "_")
                with contextlib.suppress(OSError):  # the node hung up, as it should on a trickle
                    getattr(member, f"_{fault}", member._missing)(self)

        self.canary = canary
        self.loopback = Loopback(Handler)
        self.url = self.loopback.url

    @staticmethod
    def _missing(handler) -> None:
        handler.send_response(404)
        handler.end_headers()

    @staticmethod
    def _plain(handler) -> None:
        body = BrokenMember.PLAIN.get(handler.path.split("?")[0])
        handler.send_response(200 if body else 404)
        handler.send_header("Content-Type", "text/turtle")
        handler.end_headers()
        handler.wfile.write((body or "").encode())

    @staticmethod
    def _trickle_body(handler) -> None:
        """Headers at once, then a body far longer than the deadline allows, one byte at a time."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/turtle")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(100000):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(TRICKLE_PAUSE_S)

    @staticmethod
    def _trickle_headers(handler) -> None:
        """A status line and headers that never end, one byte at a time: each read is quick, the whole is not."""
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/turtle\r\nX-Padding: " + b"a" * 100000:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(TRICKLE_PAUSE_S)

    @staticmethod
    def _redirect(handler, location: str) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.end_headers()

    def _out_of_path(self, handler) -> None:
        self._redirect(handler, "/elsewhere/")

    def _to_canary(self, handler) -> None:
        self._redirect(handler, f"http://localhost:{self.canary.port}/to-canary/")

    def _loop(self, handler) -> None:
        hops = handler.path.count("x")
        self._redirect(handler, f"/loop/{'x' * (hops + 1)}")


def _config(directory: Path, members: list[str], allow_networks: list[str] | None) -> tuple[Path, int]:
    port = free_port()
    lines = [f'base_url = "http://127.0.0.1:{port}/"', "[pods.bordeaux]", 'title = "Bordeaux"',
             'platform = "https://participation.bordeaux-metropole.example"', f'token = "{TOKENS["bordeaux"]}"',
             "[federation]", f"members = {json.dumps(members)}", "interval_s = 0.5",
             f"fetch_timeout_s = {FETCH_TIMEOUT_S}"]
    if allow_networks is not None:
        lines.append(f"allow_networks = {json.dumps(allow_networks)}")
    path = directory / f"node-{port}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, port


def _start(directory: Path, members: list[str], allow_networks: list[str] | None) -> ServerProcess:
    config, port = _config(directory, members, allow_networks)
    return ServerProcess(config, port, directory / f"node-{port}.log").start()


def _statuses(node: str, members: list[str], timeout: float = 60.0) -> dict[str, tuple[str, str]]:
    """Each member's sync status and message in the catalogue, once every member has one."""
    deadline = time.monotonic() + timeout
    while True:
        text = requests.get(f"{node}catalog", headers={"Accept": "text/turtle"}, timeout=5).text
        graph = Graph().parse(data=text, format="turtle")
        found = {m: (graph.value(URIRef(m), URIRef(DDS + "syncStatus")),
                     graph.value(URIRef(m), URIRef(DDS + "syncMessage"))) for m in members}
        if all(status is not None for status, _ in found.values()):
            return {m: (str(status), str(message or "")) for m, (status, message) in found.items()}
        if time.monotonic() > deadline:
            raise AssertionError(f"not every member was synced: {found}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[dict]:
    directory = tmp_path_factory.mktemp("fetch-policy")
    canary = Canary()
    member = Member(canary)
    faults = {name: f"{member.url}{name}/" for name in
              ("trickle-body", "trickle-headers", "out-of-path", "to-canary", "loop")}
    plain = f"{member.url}plain/"
    # The canary on loopback, by every spelling of a loopback address.
    disguised = [f"http://{host}:{canary.port}/pod/" for host in
                 ("localhost", "127.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]")]
    allowing = _start(directory, [*faults.values(), plain], ["127.0.0.0/8"])
    strict = _start(directory, [*disguised, plain], None)
    yield {"canary": canary, "member": member, "faults": faults, "plain": plain, "disguised": disguised,
           "allowing": allowing, "strict": strict}
    allowing.stop()
    strict.stop()
    member.loopback.close()
    canary.loopback.close()


def test_trickling_members_fail_on_the_deadline_and_the_others_still_sync(servers):
    faults = servers["faults"]
    statuses = _statuses(servers["allowing"].url, [*faults.values(), servers["plain"]])
    for name in ("trickle-body", "trickle-headers"):
        status, message = statuses[faults[name]]
        assert status == "failed", (name, message)
        assert f"no complete answer within {FETCH_TIMEOUT_S} s" in message, (name, message)
    assert statuses[servers["plain"]][0] in ("ok", "partial"), statuses[servers["plain"]]
    assert servers["allowing"].alive


def test_redirects_stay_under_the_members_own_url(servers):
    faults, member = servers["faults"], servers["member"]
    statuses = _statuses(servers["allowing"].url, list(faults.values()))
    status, message = statuses[faults["out-of-path"]]
    assert status == "failed" and "redirects outside the member's URL" in message, message
    status, message = statuses[faults["to-canary"]]
    assert status == "failed" and "redirects outside the member's URL" in message, message
    status, message = statuses[faults["loop"]]
    assert status == "failed" and "more than 5 redirects" in message, message
    assert not any(path.startswith("/elsewhere") for path in member.seen), member.seen
    assert max(path.count("x") for path in member.seen if path.startswith("/loop/")) == 5
    assert servers["canary"].connections == 0


def test_members_resolving_to_loopback_are_refused_without_the_allow_list(servers):
    strict = servers["strict"].url
    statuses = _statuses(strict, [*servers["disguised"], servers["plain"]])
    for member in servers["disguised"]:
        status, message = statuses[member]
        assert status == "failed", (member, message)
        assert "refused" in message and "is not public: loopback" in message, (member, message)
        assert "federation.allow_networks" in message, message
    # The member on 127.0.0.1 itself is refused too: the node reaches only public addresses by default.
    status, message = statuses[servers["plain"]]
    assert status == "failed" and "127.0.0.1 is not public: loopback" in message, message
    assert servers["canary"].connections == 0, "a refused address was connected to"
    # Its own pods, on the same loopback base URL, are always harvested.
    own = f"{strict}bordeaux/"
    assert _statuses(strict, [own])[own][0] == "ok"
    assert servers["strict"].alive


def test_the_node_reads_its_own_pods_over_http_without_the_allow_list(servers):
    """An inbox notification makes the node download the reaction from its pod: its own base URL, on loopback."""
    pod = f"{servers['strict'].url}bordeaux/"
    write = {**JSONLD, **auth()}
    proposal = requests.post(f"{pod}proposals/", data=json.dumps(example("proposal-community-garden")),
                             headers=write, timeout=10).headers["Location"]
    comment = requests.post(f"{pod}comments/", data=json.dumps({**example("comment-on-proposal"),
                                                                 "inReplyTo": proposal}),
                            headers=write, timeout=10).headers["Location"]
    notice = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Create", "actor": pod,
              "object": comment, "target": proposal}
    response = requests.post(f"{pod}inbox/", data=json.dumps(notice), headers=JSONLD, timeout=10)
    assert response.status_code == 202, response.text
    deadline, state = time.monotonic() + 30, {}
    while time.monotonic() < deadline:  # verified in the background: the download is what this test is about
        state = requests.get(response.headers["Location"], headers=ACCEPT_JSONLD, timeout=10).json()
        if state["state"] != "pending":
            break
        time.sleep(0.2)
    assert state["state"] == "accepted", state


def test_an_invalid_allow_list_is_refused_at_start(tmp_path):
    config, port = _config(tmp_path, [], ["127.0.0.0/33"])
    with pytest.raises(RuntimeError, match=r"federation\.allow_networks must be a list of networks"):
        ServerProcess(config, port, tmp_path / "server.log").start()
