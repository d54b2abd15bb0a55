"""Start-up smoke of the demo: `make run` in this checkout serves every platform's data, federated.

Run from the root of a checkout (CI runs it in a fresh clone): it builds the venv (`make install`), starts
`make run PORT=<a free port>` in its own process group, waits for the home page to answer 200 and for the
first harvest to fill the merged views, checks that Barcelona's people are served under pseudonyms only, then
stops the server. Standard library only, so any Python 3.11 runs it; exit status 0 when every check holds.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60  # for the home page to answer, and again for the first harvest to fill the merged views
ANALYSIS_TIMEOUT_S = 240  # for the background analysis of the first harvest to be published (about a minute here)
JSONLD = "application/ld+json"
# federation/proposals/ mixes these platforms; Barcelona's export holds budget projects, not proposals.
PROPOSAL_PLATFORMS = ("https://decide.madrid.es", "https://participation.bordeaux-metropole.example",
                      "https://decidim.paris.example")
BARCELONA = "https://www.decidim.barcelona"
BARCELONA_COMMENTS = REPO / "data/real/decidim_barcelona_open_data/www.decidim.barcelona-open-data-result_comments.csv"


class SmokeFailure(Exception):
    """A check of the running demo that did not hold."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, accept: str = JSONLD) -> tuple[int, str, bytes]:
    """(status, media type, body) of a GET; connection errors count as status 0."""
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), exc.read()
    except OSError:
        return 0, "", b""


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SmokeFailure(f"`make run` exited with status {server.returncode} before answering")
        if get(base, accept="text/html")[0] == 200:
            return
        time.sleep(1)
    raise SmokeFailure(f"{base} did not answer 200 within {START_TIMEOUT_S} s")


def eventually(check, base: str, timeout_s: float = START_TIMEOUT_S) -> None:
    """Run check until it holds: the node harvests its pods in the background once it is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return check(base)
        except SmokeFailure:
            if time.monotonic() > deadline:
                raise
        time.sleep(1)


def members(base: str, path: str, **query: str) -> list[dict]:
    """The embedded members of a container, fetched as JSON-LD."""
    url = f"{base}{path}?{urllib.parse.urlencode(query)}"
    status, media_type, body = get(url)
    if status != 200 or media_type != JSONLD:
        raise SmokeFailure(f"GET {url}: {status} {media_type}, expected 200 {JSONLD}")
    return json.loads(body).get("ldp:contains", [])


def check_merged_views(base: str) -> None:
    for platform in PROPOSAL_PLATFORMS:
        found = members(base, "federation/proposals/", platform=platform, limit="5")
        # Amendments are proposals too: the view holds them, so one plain Proposal is enough.
        if not any(m.get("@type") == "Proposal" for m in found) or any(m.get("platform") != platform for m in found):
            raise SmokeFailure(f"federation/proposals/ lists no proposal of {platform}: {found[:1]}")
    projects = members(base, "federation/budget-projects/", platform=BARCELONA, limit="5")
    if not projects or any(m.get("@type") != "BudgetProject" for m in projects):
        raise SmokeFailure(f"federation/budget-projects/ lists no budget project of {BARCELONA}")


def check_pseudonyms(base: str) -> None:
    """The Barcelona export names its commenters; the demo must serve none of those names."""
    with BARCELONA_COMMENTS.open(encoding="utf-8", newline="") as rows:
        real_names = {row["author/name"] for row in csv.DictReader(rows, delimiter=";")} - {""}
    people = members(base, "barcelona/people/", limit="1000")
    if not people:
        raise SmokeFailure("barcelona/people/ is empty")
    exposed = sorted({p.get("name") for p in people} & real_names)
    if exposed:
        raise SmokeFailure(f"barcelona/people/ serves {len(exposed)} real display names of the export")


def check_pages_for_people(base: str) -> None:
    """Every example question of the SPARQL form finds something in the demo's data; the statistics draw charts."""
    status, media_type, body = get(f"{base}sparql", accept="text/html")
    links = re.findall(r'<li><a href="(\?query=[^"]+)"', body.decode())
    if status != 200 or media_type != "text/html" or len(links) < 5:
        raise SmokeFailure(f"GET {base}sparql as a browser: {status} {media_type}, {len(links)} example questions")
    for link in links:
        status, _, answer = get(f"{base}sparql{html.unescape(link)}", accept="text/html")
        if status != 200 or b"<h2>Results</h2>" not in answer or b"matches the query" in answer:
            raise SmokeFailure(f"the example question {html.unescape(link)} found nothing in the demo ({status})")
    status, _, page = get(f"{base}statistics", accept="text/html")
    charts = page.count(b'role="img"')
    if status != 200 or charts != 3:
        raise SmokeFailure(f"GET {base}statistics: {status}, {charts} charts, expected 3")


def check_analysis(base: str) -> None:
    """The background job has analysed the harvest: themes of several platforms, each generated by a run."""
    themes = members(base, "analysis/themes/", limit="5")
    if not themes:
        raise SmokeFailure("analysis/themes/ is empty: the background analysis has published nothing")
    if not all(theme.get("wasGeneratedBy") and theme.get("prefLabel") for theme in themes):
        raise SmokeFailure(f"a theme without its label or its run: {themes[0]}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def main() -> int:
    subprocess.run(["make", "install"], cwd=REPO, check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    log_path = REPO / "var" / f"smoke-demo-{port}.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("wb") as log:
        server = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            wait_until_up(base, server)
            eventually(check_merged_views, base)
            check_pseudonyms(base)
            check_pages_for_people(base)
            eventually(check_analysis, base, ANALYSIS_TIMEOUT_S)
        except SmokeFailure as failure:
            print(f"demo smoke FAILED: {failure}\n--- make run output ---\n{log_path.read_text(errors='replace')}",
                  file=sys.stderr)
            return 1
        finally:
            stop(server)
    print(f"demo smoke passed: {base} served the merged views of four platforms, Barcelona pseudonymised, "
          "its example questions, statistics and analysis")
    return 0


if __name__ == "__main__":
    sys.exit(main())
