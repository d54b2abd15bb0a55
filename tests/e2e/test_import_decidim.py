"""Importing a Decidim platform's dataspace API into a pod: the fixtures served by a real local server."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
import requests

from dds_pod.testing import TOKENS, Loopback, QuietHandler, free_port

from ..conftest import DATA, REPO
from .conftest import ACCEPT_JSONLD, auth, example, post

FIXTURES = DATA / "decidim-dataspace"
KEY = "a-test-pseudonymisation-key-of-some-length"


class DecidimPlatform:
    """Answers /api/v1/data/{containers,contributions,authors} from (a copy of) the fixtures."""

    def __init__(self) -> None:
        self.data = {
            "containers": json.loads((FIXTURES / "bordeaux_containers.json").read_text()),
            "contributions": json.loads((FIXTURES / "bordeaux_contributions_with_comments.json").read_text()),
            "authors": json.loads((FIXTURES / "bordeaux_authors.json").read_text()),
        }
        platform = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                name = urlsplit(self.path).path.removeprefix("/api/v1/data/")
                body = json.dumps(platform.data.get(name)).encode()
                self.send_response(200 if name in platform.data else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

        self.loopback = Loopback(Handler)
        self.url = self.loopback.url

    def close(self) -> None:
        self.loopback.close()


@pytest.fixture
def platform():
    served = DecidimPlatform()
    yield served
    served.close()


def _import(platform_url: str, pod: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dds_pod.cli", "import", "decidim-dataspace", platform_url, "--pod", pod,
         "--token", TOKENS["paris"], "--locale", "fr", *extra],
        cwd=REPO, capture_output=True, text=True, timeout=120, env={"DDS_PSEUDONYM_KEY": KEY, "PATH": "/usr/bin"})


def test_import_is_idempotent_incremental_and_pseudonymous(base, platform):
    pod = f"{base}paris/"
    first = _import(platform.url, pod)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "created 14, updated 0, unchanged 0" in first.stdout
    proposal = requests.get(f"{pod}proposals/bxm-prop-2025-4-101", headers=ACCEPT_JSONLD, timeout=5).json()
    assert proposal["status"] == "evaluating" and proposal["identifier"] == "BXM-PROP-2025-4-101"
    assert proposal["platform"] == "https://decidim.paris.example"
    comment = requests.get(f"{pod}comments/bxm-comm-2025-4-9002", headers=ACCEPT_JSONLD, timeout=5).json()
    assert comment["inReplyTo"] == f"{pod}comments/bxm-comm-2025-4-9001" and comment["stance"] == "neutral"
    assert requests.get(f"{pod}comments/bxm-comm-2025-4-9003", timeout=5).status_code == 404, "deleted upstream"
    people = requests.get(f"{pod}people/?limit=100", headers=ACCEPT_JSONLD, timeout=5).json()["ldp:contains"]
    names = json.dumps(people, ensure_ascii=False)
    assert "Camille Dupont" not in names and "Collectif Vélo Bastide" not in names
    assert all(p["name"].startswith("Participant ") for p in people)
    organisation = requests.get(f"{pod}organizations/bxm", headers=ACCEPT_JSONLD, timeout=5).json()
    assert organisation["name"] == "Bordeaux Métropole"

    again = _import(platform.url, pod)
    assert "created 0, updated 0, unchanged 14, deleted 0" in again.stdout, again.stdout

    changed = next(c for c in platform.data["contributions"] if c["reference"] == "BXM-PROP-2025-4-102")
    changed["updated_at"] = "2025-06-01T10:00:00.000+02:00"
    changed["metadata"]["state"]["state"] = "rejected"
    gone = next(c for c in platform.data["contributions"] if c["reference"] == "BXM-COMM-2025-4-9004")
    gone["deleted_at"] = "2025-06-02T10:00:00.000+02:00"
    third = _import(platform.url, pod)
    assert "created 0, updated 1, unchanged 12, deleted 1" in third.stdout, third.stdout
    rejected = requests.get(f"{pod}proposals/bxm-prop-2025-4-102", headers=ACCEPT_JSONLD, timeout=5).json()
    assert rejected["status"] == "rejected"
    assert requests.get(f"{pod}comments/bxm-comm-2025-4-9004", timeout=5).status_code == 410


def test_names_on_request_and_html_sanitised(base, platform):
    pod = f"{base}bordeaux/"
    hostile = copy.deepcopy(platform.data["contributions"][0])
    hostile["reference"] = "BXM-PROP-2025-4-666"
    hostile["content"] = ('<p onclick="steal()">Bonjour<script>alert(1)</script> '
                          '<a href="javascript:alert(2)">lien</a> <a href="https://ok.example">ok</a></p>')
    hostile["children"] = []
    platform.data["contributions"] = [hostile]
    result = subprocess.run(
        [sys.executable, "-m", "dds_pod.cli", "import", "decidim-dataspace", platform.url, "--pod", pod,
         "--token", TOKENS["bordeaux"], "--locale", "fr", "--authors", "names"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    body = requests.get(f"{pod}proposals/bxm-prop-2025-4-666", headers=ACCEPT_JSONLD, timeout=5).json()
    html = body["content"]["fr"]
    assert "script" not in html and "onclick" not in html and "javascript:" not in html
    assert 'href="https://ok.example"' in html
    assert body["contentText"]["fr"] == "Bonjour lien ok"
    person = requests.get(body["author"], headers=ACCEPT_JSONLD, timeout=5).json()
    assert person["name"] == "Collectif Vélo Bastide"


def test_rejections_make_the_command_fail(base, platform):
    platform.data["contributions"] = [dict(platform.data["contributions"][0], reference="BXM-PROP-2025-4-667",
                                           created_at="not a date", children=[])]
    result = _import(platform.url, f"{base}paris/")
    assert result.returncode == 1
    assert "rejected 1" in result.stdout and "published" in result.stdout


def test_pseudonyms_need_a_key(base, platform):
    result = subprocess.run(
        [sys.executable, "-m", "dds_pod.cli", "import", "decidim-dataspace", platform.url, "--pod", f"{base}paris/",
         "--token", TOKENS["paris"]], cwd=REPO, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin"})
    assert result.returncode == 2 and "DDS_PSEUDONYM_KEY" in result.stderr


KNOWN_DIFFERENCES = {
    # A comment deleted on its platform is not imported, so it is neither served nor listed as a child.
    "deleted": {"BXM-COMM-2025-4-9003"},
}


def _comparable(item: dict) -> dict:
    """A fixture object as a DDS node serves it back: deleted comments gone, citizens' HTML sanitised,
    and a withdrawn proposal's earlier answer state not kept (DDS keeps one status)."""
    from dds_pod.sanitize import clean_html

    item = copy.deepcopy(item)
    if isinstance(item.get("children"), list):
        item["children"] = [c if isinstance(c, str) else _comparable(c) for c in item["children"]
                            if (c if isinstance(c, str) else c["reference"]) not in KNOWN_DIFFERENCES["deleted"]]
    if item.get("content") and "reference" in item:
        item["content"] = clean_html(item["content"])
    if "description" in item:
        item["description"] = clean_html(item["description"])
    state = (item.get("metadata") or {}).get("state")
    if state and state.get("withdrawn"):
        state["state"] = None
    return item


@pytest.fixture
def federating_node(tmp_path):
    from dds_pod.testing import ServerProcess

    port = free_port()
    config = tmp_path / "node.toml"
    config.write_text("\n".join([
        f'base_url = "http://127.0.0.1:{port}/"', "[pods.bordeaux]", 'title = "Bordeaux"',
        'platform = "https://participation.bordeaux-metropole.example"', f'token = "{TOKENS["bordeaux"]}"',
        "[federation]", "interval_s = 0.3"]) + "\n")
    server = ServerProcess(config, port, tmp_path / "node.log").start()
    yield server
    server.stop()


def test_round_trip_fixtures_import_serve(federating_node, platform):
    node = federating_node.url
    result = subprocess.run(
        [sys.executable, "-m", "dds_pod.cli", "import", "decidim-dataspace", platform.url, "--pod",
         f"{node}bordeaux/", "--token", TOKENS["bordeaux"], "--locale", "fr", "--authors", "names"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    routes = {
        "bordeaux_data.json": "api/v1/data?preferred_locale=fr",
        "bordeaux_contributions_with_comments.json": "api/v1/data/contributions?preferred_locale=fr&with_comments=true",
        "bordeaux_contribution_BXM-PROP-2025-4-101_with_comments.json":
            "api/v1/data/contributions/BXM-PROP-2025-4-101?preferred_locale=fr&with_comments=true",
        "bordeaux_containers.json": "api/v1/data/containers?preferred_locale=fr",
        "bordeaux_authors.json": "api/v1/data/authors",
    }
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        served = requests.get(f"{node}{routes['bordeaux_contributions_with_comments.json']}", timeout=5).json()
        if len(served) >= 8:
            break
        time.sleep(0.3)
    for fixture, route in routes.items():
        expected = json.loads((FIXTURES / fixture).read_text())
        served = requests.get(f"{node}{route}", timeout=5).json()
        _assert_same(expected, served, fixture)


def _assert_same(expected, served, where: str) -> None:
    if isinstance(expected, dict) and "containers" in expected:
        for key in ("containers", "contributions", "authors"):
            _assert_same(expected[key], served[key], f"{where}/{key}")
        return
    if isinstance(expected, list):
        wanted = {item["reference"]: _comparable(item) for item in expected
                  if item["reference"] not in KNOWN_DIFFERENCES["deleted"]}
        got = {item["reference"]: item for item in served}
        assert set(got) == set(wanted), where
        for reference, item in wanted.items():
            assert got[reference] == item, f"{where}: {reference}"
        return
    assert served == _comparable(expected), where


def _until(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.3)
    return value


def test_served_api_follows_each_harvest(federating_node):
    """The answers come from a snapshot of the merged graph's current version: a proposal created, changed and
    deleted in a pod is served, served changed and no longer served after the harvests that follow."""
    node = federating_node.url
    document = dict(example("proposal-piste-cyclable-victor-hugo"), identifier="BXM-PROP-2025-9-001")
    proposal = post(node, "proposals/", document, slug="snapshot-velo").headers["Location"]
    route = f"{node}api/v1/data/contributions/BXM-PROP-2025-9-001?preferred_locale=fr"

    served = _until(lambda: (answer := requests.get(route, timeout=5)).status_code == 200 and answer.json())
    assert served["title"] == "Une piste cyclable protégée cours Victor-Hugo" and served["source"].endswith("/101")
    listed = requests.get(f"{node}api/v1/data/contributions", timeout=5).json()
    assert "BXM-PROP-2025-9-001" in {item["reference"] for item in listed}

    requests.patch(proposal, data=json.dumps({"title": {"fr": "Une piste cyclable, version deux"}}),
                   headers={**auth(), "Content-Type": "application/merge-patch+json"}, timeout=5).raise_for_status()
    _until(lambda: requests.get(route, timeout=5).json()["title"] == "Une piste cyclable, version deux")

    requests.delete(proposal, headers=auth(), timeout=5).raise_for_status()
    gone = _until(lambda: (answer := requests.get(route, timeout=5)).status_code == 404 and answer.headers)
    assert gone["Content-Type"] == "application/problem+json"
    assert "BXM-PROP-2025-9-001" in requests.get(route, timeout=5).json()["detail"]
    listed = requests.get(f"{node}api/v1/data/contributions", timeout=5).json()
    assert "BXM-PROP-2025-9-001" not in {item["reference"] for item in listed}
    assert federating_node.alive
