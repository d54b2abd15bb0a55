"""CORS over HTTP: a listed origin may send credentials; any other origin, ``null`` included, reads without them."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest
import requests

from dds_pod.testing import ServerProcess, free_port, write_config

from .conftest import CHROMIUM, JSONLD, auth, example
from .test_browser import StaticOrigin, element_text

TRUSTED = "https://app.bordeaux-metropole.example"
PREFLIGHT = {"Access-Control-Request-Method": "PUT",
             "Access-Control-Request-Headers": "authorization, content-type, if-match"}


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("cors")
    port = free_port()
    config = write_config(directory, port, cors_origins=[TRUSTED.upper() + "/"])
    server = ServerProcess(config, port, directory / "server.log").start()
    yield server.url
    server.stop()


def _names(value: str) -> set[str]:
    return {name.strip().lower() for name in value.split(",")}


@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
def test_a_listed_origin_gets_itself_back_with_credentials(node, method):
    headers = {"Origin": TRUSTED, **(PREFLIGHT if method == "OPTIONS" else {})}
    response = requests.request(method, f"{node}bordeaux/proposals/", headers=headers, timeout=5)
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "origin" in _names(response.headers["Vary"])
    assert {"location", "etag", "link"} <= _names(response.headers["Access-Control-Expose-Headers"])
    if method == "OPTIONS":
        assert "put" in _names(response.headers["Access-Control-Allow-Methods"])
        assert {"authorization", "content-type", "if-match"} <= _names(
            response.headers["Access-Control-Allow-Headers"])


@pytest.mark.parametrize("origin", ["https://elsewhere.example", "null", f"{TRUSTED}.evil.example",
                                    "http://app.bordeaux-metropole.example"])
@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
def test_any_other_origin_reads_without_credentials(node, origin, method):
    headers = {"Origin": origin, **(PREFLIGHT if method == "OPTIONS" else {})}
    response = requests.request(method, f"{node}bordeaux/proposals/", headers=headers, timeout=5)
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "origin" in _names(response.headers["Vary"])
    assert {"location", "etag", "link"} <= _names(response.headers["Access-Control-Expose-Headers"])


def test_without_origin_no_cors_headers(node):
    response = requests.get(f"{node}bordeaux/proposals/", timeout=5)
    assert response.status_code == 200
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]
    assert "origin" in _names(response.headers["Vary"])


def test_an_unlisted_origin_still_needs_the_token_to_write(node):
    """CORS decides what a page may read, not who may write: the bearer token does."""
    refused = requests.post(f"{node}bordeaux/proposals/", json=example("proposal-community-garden"),
                            headers={**JSONLD, "Origin": "null"}, timeout=5)
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    created = requests.post(f"{node}bordeaux/proposals/", json=example("proposal-community-garden"),
                            headers={**JSONLD, **auth(), "Origin": "https://elsewhere.example"}, timeout=5)
    assert created.status_code == 201, created.text
    assert created.headers["Access-Control-Allow-Origin"] == "*"


def test_an_invalid_cors_origins_setting_is_refused_at_start(tmp_path):
    port = free_port()
    config = write_config(tmp_path, port, cors_origins=["null"])
    with pytest.raises(RuntimeError, match="cors_origins must be a list of origins"):
        ServerProcess(config, port, tmp_path / "server.log").start()


UNLISTED_PAGE = """<!doctype html><html><body><p id="with"></p><p id="without"></p><p id="done"></p><script>
const CONTAINER = __CONTAINER__;
const out = (id, text) => { document.getElementById(id).textContent = text; };
async function attempt(id, credentials) {
  try {
    const response = await fetch(CONTAINER, {credentials, headers: {'Accept': 'application/ld+json'}});
    out(id, 'read ' + response.status);
  } catch (error) {
    out(id, 'blocked ' + error.name);
  }
}
attempt('with', 'include').then(() => attempt('without', 'omit')).finally(() => out('done', 'done'));
</script></body></html>
"""


def test_a_browser_on_an_unlisted_origin_reads_only_without_credentials(node, tmp_path):
    """In Chromium: the same read is refused with ``credentials: 'include'`` and allowed without."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing")
    (tmp_path / "index.html").write_text(
        UNLISTED_PAGE.replace("__CONTAINER__", json.dumps(f"{node}bordeaux/proposals/")), encoding="utf-8")
    with StaticOrigin(tmp_path) as page:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
             "--dump-dom", f"{page.url}index.html"],
            capture_output=True, text=True, timeout=60, check=False)
    dom = result.stdout
    assert result.returncode == 0 and element_text(dom, "done") == "done", result.stderr
    assert element_text(dom, "with") == "blocked TypeError", dom
    assert element_text(dom, "without") == "read 200", dom
