"""CORS and the JSON-LD context in a real browser (headless Chromium), as Startin'blox uses them.

A page on another origin, listed in the node's ``cors_origins``, reads the ``bordeaux`` pod's ``proposals/``
container with the request Startin'blox sends (credentials included, headers that force a CORS preflight),
resolves the body's ``@context`` URL, renders the embedded members and reads the exposed ``ETag`` and ``Link``
headers.
The same page also reads a URL on a third origin that answers without CORS headers: the browser must
refuse it, which shows that the success above is owed to the pod's CORS headers, not to a lax browser.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from dds_pod.testing import ServerProcess, free_port, write_config

from .conftest import example, post

TITLES = ("Une piste cyclable protégée cours Victor-Hugo", "A community garden in La Bastide")
SIB_HEADERS = {"Accept": "application/ld+json", "Content-Type": "application/ld+json",
               "Cache-Control": "must-revalidate"}


class StaticOrigin:
    """A plain ``http.server`` on its own loopback port: an origin without any CORS header."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.paths: list[str] = []
        origin = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                origin.paths.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(directory)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StaticOrigin:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>sib-like reader</title></head>
<body>
<ul id="members"></ul>
<p>context: <span id="context"></span></p>
<p>etag: <span id="etag"></span></p>
<p>link: <span id="link"></span></p>
<p>control: <span id="control"></span></p>
<pre id="error"></pre>
<p id="done"></p>
<script>
const CONTAINER = __CONTAINER__;
const PLAIN = __PLAIN__;
const HEADERS = __HEADERS__;
const out = (id, text) => { document.getElementById(id).textContent = text; };

async function read(url) {
  const response = await fetch(url, {credentials: 'include', headers: HEADERS});
  if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
  return response;
}

async function main() {
  const response = await read(CONTAINER);
  out('etag', response.headers.get('ETag') || '');
  out('link', response.headers.get('Link') || '');
  const body = await response.json();
  const contextUrl = body['@context'];
  if (typeof contextUrl !== 'string') throw new Error('the container has no @context URL');
  const context = await (await read(contextUrl)).json();
  if (!context['@context']) throw new Error(contextUrl + ' has no @context');
  out('context', 'resolved ' + contextUrl);
  const list = document.getElementById('members');
  for (const member of body['ldp:contains'] || []) {
    const title = member.title;
    const li = document.createElement('li');
    li.dataset.id = member['@id'];
    li.textContent = title && typeof title === 'object' ? Object.values(title)[0] : String(title);
    list.append(li);
  }
}

async function control() {
  try {
    await fetch(PLAIN, {credentials: 'include'});
    out('control', 'readable');
  } catch (error) {
    out('control', 'blocked ' + error.name);
  }
}

main()
  .catch(error => out('error', String(error && error.stack || error)))
  .then(control)
  .finally(() => out('done', 'done'));
</script>
</body></html>
"""


def write_page(directory: Path, container: str, plain: str) -> Path:
    page = directory / "index.html"
    text = (PAGE.replace("__CONTAINER__", json.dumps(container)).replace("__PLAIN__", json.dumps(plain))
            .replace("__HEADERS__", json.dumps(SIB_HEADERS)))
    page.write_text(text, encoding="utf-8")
    return page


def element_text(dom: str, element_id: str) -> str:
    match = re.search(rf'<(\w+) id="{element_id}"[^>]*>(.*?)</\1>', dom, re.S)
    assert match, f"no #{element_id} in the dumped DOM:\n{dom}"
    return html.unescape(match.group(2))


@pytest.fixture
def origins(tmp_path) -> Iterator[tuple[StaticOrigin, StaticOrigin]]:
    """The page's origin and a third origin with a plain JSON file and no CORS headers."""
    page_dir, plain_dir = tmp_path / "page", tmp_path / "plain"
    page_dir.mkdir()
    plain_dir.mkdir()
    (plain_dir / "plain.json").write_text('{"readable": true}', encoding="utf-8")
    with StaticOrigin(page_dir) as page, StaticOrigin(plain_dir) as plain:
        yield page, plain


@pytest.fixture
def trusting(tmp_path, origins) -> Iterator[str]:
    """A node that lists the page's origin in ``cors_origins``: only such origins may send credentials."""
    port = free_port()
    config = write_config(tmp_path, port, cors_origins=[origins[0].url.rstrip("/")])
    server = ServerProcess(config, port, tmp_path / "trusting.log").start()
    yield server.url
    server.stop()


def test_cross_origin_page_reads_container_in_chromium(chromium, trusting, origins, tmp_path):
    base = trusting
    page_origin, plain_origin = origins
    suffix = uuid.uuid4().hex[:8]
    created = {}
    for name in ("proposal-piste-cyclable-victor-hugo", "proposal-community-garden"):
        response = post(base, "proposals/", example(name), slug=f"browser-{name}-{suffix}")
        assert response.status_code == 201, response.text
        created[name] = response.headers["Location"]

    container = f"{base}bordeaux/proposals/"
    plain = f"{plain_origin.url}plain.json"
    assert requests.get(plain, timeout=5).json() == {"readable": True}
    write_page(page_origin.directory, container, plain)
    netlog = tmp_path / "netlog.json"

    started = time.monotonic()
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", f"--log-net-log={netlog}",
         "--virtual-time-budget=10000", "--dump-dom", f"{page_origin.url}index.html"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    elapsed = time.monotonic() - started
    dom = result.stdout
    assert result.returncode == 0 and "<html" in dom, f"chromium failed ({result.returncode}):\n{result.stderr}"
    assert element_text(dom, "done") == "done", f"the page did not finish in {elapsed:.1f}s:\n{dom}"
    assert element_text(dom, "error") == "", dom

    members = re.findall(r'<li data-id="([^"]*)">(.*?)</li>', dom)
    rendered = {html.unescape(member_id): html.unescape(title) for member_id, title in members}
    for name, title in zip(created, TITLES, strict=True):
        assert rendered.get(created[name]) == title, dom

    assert element_text(dom, "context") == f"resolved {base}ns/context.jsonld"
    current = requests.get(container, headers=SIB_HEADERS, timeout=5)
    # Chromium sends Accept-Language, so its ETag also names the languages the JSON-LD was narrowed to.
    assert element_text(dom, "etag").startswith(current.headers["ETag"].rstrip('"') + "-")
    link = element_text(dom, "link")
    assert '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"' in link
    assert '<http://www.w3.org/ns/ldp#Container>; rel="type"' in link

    # Negative control: the browser did reach the third origin, and refused the page its answer.
    assert "/plain.json" in plain_origin.paths
    assert element_text(dom, "control") == "blocked TypeError"

    # The browser preflighted the container read (its headers are not CORS-safelisted).
    preflights = [event for event in _url_requests(netlog) if event == ("OPTIONS", container)]
    assert preflights, "chromium sent no preflight for the container"


def _url_requests(netlog: Path) -> list[tuple[str, str]]:
    """(method, url) of the URL requests in a Chromium NetLog."""
    text = netlog.read_text(encoding="utf-8", errors="replace")
    try:
        events = json.loads(text)["events"]
    except ValueError:  # Chromium may leave the log unterminated; it is one event per line
        events = [json.loads(line.rstrip(",")) for line in text.splitlines() if line.startswith('{"params"')]
    return [(event["params"]["method"], event["params"]["url"]) for event in events
            if isinstance(event.get("params"), dict) and {"method", "url"} <= event["params"].keys()]


def test_preflight_from_an_unlisted_origin_allows_reads_without_credentials(base):
    response = requests.options(f"{base}bordeaux/proposals/", timeout=5, headers={
        "Origin": "http://127.0.0.1:9", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept, cache-control, content-type"})
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "get" in _names(response.headers["Access-Control-Allow-Methods"])
    assert {"accept", "cache-control", "content-type"} <= _names(response.headers["Access-Control-Allow-Headers"])
    assert {"location", "etag", "link"} <= _names(response.headers["Access-Control-Expose-Headers"])
    assert "origin" in _names(response.headers["Vary"])


def _names(value: str) -> set[str]:
    return {name.strip().lower() for name in value.split(",")}

