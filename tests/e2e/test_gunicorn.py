"""Plain gunicorn (``gunicorn dds_pod.wsgi:app``, no dds-pod command) runs the node's lifecycle too: the background
harvest runs once per node, in the worker, and stops when the worker exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Literal, Namespace, URIRef

from dds_pod.testing import TOKENS, Loopback, QuietHandler, free_port

from ..conftest import REPO

DDS = Namespace("https://w3id.org/dds/ns#")
CONTAINER = """@prefix ldp: <http://www.w3.org/ns/ldp#> .
    </pod/> a ldp:BasicContainer ; ldp:contains </pod/motion-1> ."""
MOTION = """@prefix schema: <http://schema.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    <> a <http://www.w3.org/ns/opengov#Motion> ; schema:headline "Planter des arbres"@fr ;
       schema:datePublished "2025-04-01T10:00:00Z"^^xsd:dateTime ;
       <https://w3id.org/dds/ns#sourcePlatform> <https://consul.madrid.example> ."""


class FakePod:
    """A plain LDP pod on loopback that counts the requests for its container."""

    def __init__(self) -> None:
        self.container_requests = 0
        pod = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                body = {"/pod/": CONTAINER, "/pod/motion-1": MOTION}.get(path)
                pod.container_requests += path == "/pod/"
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/turtle")
                self.end_headers()
                self.wfile.write((body or "").encode())

        self.loopback = Loopback(Handler)
        self.url = f"{self.loopback.url}pod/"


@pytest.fixture
def fake_pod():
    pod = FakePod()
    yield pod
    pod.loopback.close()


def _config(directory: Path, port: int, member: str) -> Path:
    path = directory / "node.toml"
    path.write_text("\n".join([
        f'base_url = "http://127.0.0.1:{port}/"',
        "[pods.bordeaux]", 'platform = "https://participation.bordeaux-metropole.example"',
        f'token = "{TOKENS["bordeaux"]}"',
        "[federation]", f"members = {json.dumps([member])}", "interval_s = 3600", "fetch_timeout_s = 5",
        'allow_networks = ["127.0.0.0/8"]',
    ]) + "\n", encoding="utf-8")
    return path


def _status(base: str, member: str) -> Literal | None:
    try:
        turtle = requests.get(f"{base}catalog", headers={"Accept": "text/turtle"}, timeout=5).text
    except requests.RequestException:
        return None
    return Graph().parse(data=turtle, format="turtle").value(URIRef(member), DDS.syncStatus)


def _until(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.3)
    return value


def _one_round_of_requests(directory: Path, member: str, pod: FakePod) -> int:
    """How many requests for the member's container one harvest round makes (``dds-pod harvest``)."""
    before = pod.container_requests
    subprocess.run([sys.executable, "-m", "dds_pod.cli", "harvest", "--config", str(_config(directory, 9, member))],
                   cwd=REPO, capture_output=True, timeout=120, check=True)
    return pod.container_requests - before


@pytest.mark.parametrize("options", [[], ["--preload"]], ids=["worker-loads", "master-preloads"])
def test_plain_gunicorn_harvests_once_and_stops_cleanly(tmp_path, fake_pod, options):
    per_round = _one_round_of_requests(tmp_path, fake_pod.url, fake_pod)
    assert per_round >= 1
    fake_pod.container_requests = 0
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4", "-b", f"127.0.0.1:{port}", *options,
         "dds_pod.wsgi:app"],
        cwd=REPO, stdout=log, stderr=log, start_new_session=True,
        env={**os.environ, "DDS_CONFIG": str(_config(tmp_path, port, fake_pod.url))})
    try:
        base = f"http://127.0.0.1:{port}/"
        assert _until(lambda: _status(base, fake_pod.url)) in (Literal("ok"), Literal("partial"))
        assert fake_pod.container_requests == per_round, "one harvest round: not in the master too, not twice"
        assert requests.get(f"{base}bordeaux/", timeout=5).status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()
    output = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert output.count("dds-pod: node stopped") == 1, output
