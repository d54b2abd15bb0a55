"""The pages for people on a real server: readable resources, the change feed, /sparql and /statistics in HTML.

The node harvests its own pods every half second, so the merged graph (what /sparql and /statistics read) follows
the small data set each test posts. One pod's title is hostile markup: every page must show it as text.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from dds_pod.testing import ServerProcess, free_port, write_config
from dds_pod.web.sparql_pages import EXAMPLES

from .conftest import example, post, tool_missing

AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
PHONE_WIDTH = 390
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HOSTILE_TITLE = "Paris <script>alert(1)</script>"
CONTENT = '<p>Un <em>jardin</em> partagé<script>alert(2)</script><img src=x onerror="alert(3)"></p>'


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("views")
    port = free_port()
    config = write_config(directory, port, page_size=50)
    text = config.read_text(encoding="utf-8").replace('title = "Paris (Decidim)"', f'title = "{HOSTILE_TITLE}"')
    config.write_text(text + "[federation]\ninterval_s = 0.5\n", encoding="utf-8")
    process = ServerProcess(config, port, directory / "server.log").start()
    _publish(process.url)
    yield process
    process.stop()


def _proposal(slug: str, published: str, status: str | None = None, **extra) -> dict:
    document = {**example("proposal-community-garden"), "title": {"fr": f"Proposition {slug}"},
                "published": published, **extra}
    document.pop("status")
    return {**document, "status": status} if status else document


def _comment(published: str, stance: str) -> dict:
    return {**example("comment-on-proposal"), "published": published, "stance": stance}


def _publish(base: str) -> None:
    """The small data set: bordeaux has 3 proposals (Jan, Jan, Mar 2025), 2 comments (Mar) and a result (Sep),
    paris 1 proposal and 1 comment (Feb)."""
    documents = [
        ("bordeaux", "proposals/", _proposal("a", "2025-01-05T10:00:00Z", "accepted", content={"fr": CONTENT}), "a"),
        ("bordeaux", "proposals/", _proposal("b", "2025-01-20T10:00:00Z", "rejected", supportCount=4), "b"),
        ("bordeaux", "proposals/", _proposal("c", "2025-03-01T10:00:00Z"), "c"),
        ("bordeaux", "comments/", _comment("2025-03-02T10:00:00Z", "inFavour"), "c1"),
        ("bordeaux", "comments/", _comment("2025-03-03T10:00:00Z", "against"), "c2"),
        ("paris", "proposals/", _proposal("d", "2025-02-10T10:00:00Z", "evaluating"), "d"),
        ("paris", "comments/", _comment("2025-02-11T10:00:00Z", "neutral"), "c3"),
        ("bordeaux", "results/", example("result-piste-cyclable"), "r"),  # influenced: the example questions ask
        ("bordeaux", "spaces/", example("space-budget-participatif-2025"), "s"),
    ]
    for pod, container, document, slug in documents:
        response = post(base, container, document, slug=slug, pod=pod)
        assert response.status_code == 201, response.text


def _until(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError("the merged graph did not catch up")


def _assert_html(response: requests.Response, status: int = 200) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'") and "unsafe" not in policy
    assert "script-src" not in policy or "script-src 'self';" in policy
    page = response.text
    assert '<html lang="en">' in page and "<script" not in page.lower() and "onerror" not in page
    return page


# ------------------------------------------------------------------ resource pages

def test_a_resource_page_reads_as_a_page_with_its_content_sanitised(node):
    page = _assert_html(requests.get(f"{node.url}bordeaux/proposals/a", headers=BROWSER, timeout=10))
    assert '<h1 lang="fr">Proposition a</h1>' in page
    assert "<em>jardin</em>" in page and "<img" not in page  # rich text shown as HTML, what is active dropped
    assert ">status</a></th><td><a" in page and ">accepted</a>" in page  # labels, not IRIs
    assert '<time datetime="2025-01-05T10:00:00Z">5 January 2025, 10:00 UTC</time>' in page
    own, recorded = page.split("<h2>Recorded by the server</h2>")
    assert ">source platform</a>" in recorded and ">source platform</a>" not in own
    assert ">created</a>" in recorded and "Proposition a" not in recorded


def test_a_resource_page_links_to_representations_that_machines_read(node):
    page = requests.get(f"{node.url}bordeaux/proposals/a", headers=BROWSER, timeout=10).text
    turtle = re.search(r'href="([^"]+\?format=turtle)"', page).group(1)
    response = requests.get(unescape(turtle), headers=BROWSER, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
    assert "Proposition a" in response.text
    jsonld = requests.get(f"{node.url}bordeaux/proposals/a?format=jsonld", headers=BROWSER, timeout=10)
    assert jsonld.json()["title"] == {"fr": "Proposition a"}


def test_an_unknown_format_is_a_problem_naming_the_field(node):
    response = requests.get(f"{node.url}bordeaux/proposals/a?format=exe", headers=BROWSER, timeout=10)
    assert response.status_code == 400
    assert response.json()["field"] == "format"


# ------------------------------------------------------------------ change feed

def test_the_change_feed_reads_as_a_table_of_events_with_titles(node):
    page = _assert_html(requests.get(f"{node.url}bordeaux/changes/", headers=BROWSER, timeout=10))
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", page)
    assert len(rows) == 7 and all(kind == "created" for _, kind, _ in rows)
    assert rows[0][0].startswith("<time datetime=")
    assert ">Proposition a</a>" in rows[0][2] and f'href="{node.url}bordeaux/proposals/a"' in rows[0][2]
    assert ">Comment comments/c1</a>" in rows[3][2]  # untitled: its class and its path


def test_the_change_feed_pages_link_to_each_other(node):
    first = _assert_html(requests.get(f"{node.url}bordeaux/changes/", params={"limit": 2}, headers=BROWSER,
                                      timeout=10))
    later = unescape(re.search(r'<a href="([^"]+)"[^>]*>Later changes</a>', first).group(1))
    assert "since=2" in later
    second = _assert_html(requests.get(later, headers=BROWSER, timeout=10))
    assert "Proposition c" in second and "Proposition a" not in second and "Earlier changes" in second


def test_a_hostile_pod_title_is_text_on_its_feed(node):
    page = _assert_html(requests.get(f"{node.url}paris/changes/", headers=BROWSER, timeout=10))
    assert "<h1>Changes of Paris &lt;script&gt;alert(1)&lt;/script&gt;</h1>" in page


def test_machines_still_get_the_feed_as_rdf(node):
    response = requests.get(f"{node.url}bordeaux/changes/", timeout=10)
    assert response.headers["Content-Type"].startswith("application/ld+json")


# ------------------------------------------------------------------ sparql

def _harvested(node: ServerProcess) -> bool:
    query = "ASK { ?c <https://w3id.org/dds/ns#stance> <https://w3id.org/dds/ns#neutral> }"
    answer = requests.get(f"{node.url}sparql", params={"query": query},
                          headers={"Accept": "application/sparql-results+json"}, timeout=10)
    return answer.status_code == 200 and answer.json()["boolean"]


def test_sparql_in_a_browser_is_a_form_with_example_questions(node):
    response = requests.get(f"{node.url}sparql", headers=BROWSER, timeout=10)
    page = _assert_html(response)
    assert "form-action 'self'" in response.headers["Content-Security-Policy"]
    assert '<label for="query">' in page and '<textarea id="query" name="query"' in page
    assert '<button type="submit">' in page
    assert len(re.findall(r'<li><a href="\?query=', page)) == len(EXAMPLES) >= 5


def test_every_example_question_runs_and_finds_something(node):
    _until(lambda: _harvested(node))
    page = requests.get(f"{node.url}sparql", headers=BROWSER, timeout=10).text
    for href in re.findall(r'<li><a href="(\?query=[^"]+)"', page):
        answer = _assert_html(requests.get(f"{node.url}sparql{unescape(href)}", headers=BROWSER, timeout=30))
        assert "<h2>Results</h2>" in answer and "matches the query" not in answer, href


def test_select_results_are_a_table(node):
    _until(lambda: _harvested(node))
    query = ("SELECT ?title WHERE { ?p <https://w3id.org/dds/ns#status> <https://w3id.org/dds/ns#accepted> ; "
             "<http://purl.org/dc/terms/title> ?title }")
    page = _assert_html(requests.get(f"{node.url}sparql", params={"query": query}, headers=BROWSER, timeout=30))
    assert '<th scope="col">title</th>' in page
    assert '<td><span lang="fr">Proposition a</span> <small>(fr)</small></td>' in page
    assert "1 row." in page and "&lt;http://purl.org/dc/terms/title&gt;" in page  # the query, back in the form


def test_ask_is_yes_or_no_and_construct_a_table_of_triples(node):
    _until(lambda: _harvested(node))
    def ask(pattern: str) -> str:
        return requests.get(f"{node.url}sparql", params={"query": f"ASK {{ {pattern} }}"}, headers=BROWSER,
                            timeout=30).text
    assert "The answer is <strong>yes</strong>" in ask("?s ?p ?o")
    assert "The answer is <strong>no</strong>" in ask("?s <http://example.org/never> ?o")
    query = ("CONSTRUCT { ?p <http://purl.org/dc/terms/title> ?t } WHERE { ?p <http://purl.org/dc/terms/title> ?t "
             'FILTER(STR(?t) = "Proposition d") }')
    page = _assert_html(requests.get(f"{node.url}sparql", params={"query": query}, headers=BROWSER, timeout=30))
    assert '<th scope="col">subject</th><th scope="col">predicate</th><th scope="col">object</th>' in page
    assert f'<td><a href="{node.url}paris/proposals/d"' in page and "1 triple." in page


@pytest.mark.parametrize(("query", "status", "says"), [
    ("SELEC ?x WHERE { ?x ?p ?o }", 400, "Expected"),
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", 403, "SERVICE"),
    ("SELECT * WHERE " + "{" * 100 + "}" * 100, 400, "nested"),
])
def test_a_bad_query_is_a_readable_message_with_its_status(node, query, status, says):
    response = requests.get(f"{node.url}sparql", params={"query": query}, headers=BROWSER, timeout=30)
    page = _assert_html(response, status)
    message = re.search(r'<div class="error" role="alert">(.*?)</div>', page, re.S).group(1)
    assert says in unescape(message)
    assert '<textarea id="query" name="query"' in page  # the form again, to correct the query


def test_machines_get_the_same_answers_as_before(node):
    description = requests.get(f"{node.url}sparql", timeout=10)
    assert description.headers["Content-Type"].startswith("text/turtle")
    answer = requests.get(f"{node.url}sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=10)
    assert answer.headers["Content-Type"].startswith("application/sparql-results+json")
    bad = requests.get(f"{node.url}sparql", params={"query": "SELEC"}, timeout=10)
    assert bad.status_code == 400 and bad.headers["Content-Type"].startswith("application/problem+json")


# ------------------------------------------------------------------ statistics

def _table(page: str, caption: str) -> dict[str, list[str]]:
    """A chart's data table: row heading -> its cells."""
    table = page[page.index(f"<caption>{caption}"):]
    table = table[:table.index("</table>")]
    return {heading: re.findall(r"<td>(\d+)</td>", cells)
            for heading, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table)}


def test_statistics_show_charts_with_the_right_numbers(node):
    def ready() -> str | None:
        page = requests.get(f"{node.url}statistics", headers=BROWSER, timeout=10).text
        return page if "Stance of comments (comments)" in page and "Paris &lt;script&gt;" in page else None
    page = _until(ready)
    _assert_html(requests.get(f"{node.url}statistics", headers=BROWSER, timeout=10))
    assert page.count('role="img"') == 3 and page.count("<title id=") == 3
    paris, bordeaux = "Paris &lt;script&gt;alert(1)&lt;/script&gt;", "Bordeaux Métropole (Decidim)"
    # months as rows, platforms as columns (in the order of their names: Bordeaux, then Paris)
    quiet = {f"{month} 2025": ["0", "0"] for month in ("Apr", "May", "Jun", "Jul", "Aug")}
    assert _table(page, "Contributions over time") == {"Jan 2025": ["2", "0"], "Feb 2025": ["0", "2"],
                                                       "Mar 2025": ["3", "0"], **quiet, "Sep 2025": ["1", "0"]}
    assert _table(page, "Status funnel") == {bordeaux: ["3", "2", "1", "0", "0"], paris: ["1", "1", "0", "0", "0"]}
    assert _table(page, "Stance of comments") == {bordeaux: ["1", "1", "0"], paris: ["0", "0", "1"]}


# ------------------------------------------------------------------ accessibility, in a real browser

# Run at the end of the page: axe-core's WCAG 2.1 A/AA and best-practice rules, and the right edge of the
# furthest element outside a scrolling region (and an SVG, which clips what it draws), the page being laid out
# 390 px wide.
WIDTH = f"<style>html{{width:{PHONE_WIDTH}px}}</style>"
AUDIT = """<script src="%s"></script><script>
axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
  .then(result => {
    const outside = [...document.querySelectorAll("main *")].filter(e => !e.parentElement.closest(".scroll, svg"));
    const out = document.createElement("pre");
    out.id = "audit";
    out.textContent = JSON.stringify({
      violations: result.violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(" "))})),
      right: Math.max(...outside.map(e => e.getBoundingClientRect().right))});
    document.body.appendChild(out);
  });
</script>"""


@pytest.fixture(scope="module")
def axe() -> Path:
    if not AXE.is_file():
        tool_missing(f"{AXE} is missing: install it with `npm ci --prefix tests/e2e/js` (`make test` does it)")
    return AXE


def _audit(chromium: str, axe: Path, url: str, directory: Path) -> dict:
    """axe-core's verdict on the page at ``url``, run on a copy of its markup (its policy forbids every script,
    axe's included)."""
    page = requests.get(url, headers=BROWSER, timeout=30).text
    copy = directory / "page.html"
    page = page.replace("</head>", WIDTH + "</head>", 1).replace("</body>", AUDIT % axe.as_uri() + "</body>", 1)
    copy.write_text(page, encoding="utf-8")
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--allow-file-access-from-files",
         f"--user-data-dir={directory / 'profile'}", "--virtual-time-budget=20000", "--dump-dom", copy.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="audit">(.*?)</pre>', result.stdout, re.S)
    assert found, f"the audit did not finish ({result.returncode}): {result.stderr[-2000:]}"
    return json.loads(unescape(found.group(1)))


def test_every_page_passes_axe_and_fits_a_phone(node, chromium, axe, tmp_path):
    _until(lambda: _harvested(node))
    query = "SELECT ?s ?title WHERE { ?s <http://purl.org/dc/terms/title> ?title } LIMIT 20"
    pages = [f"{node.url}bordeaux/proposals/a", f"{node.url}bordeaux/proposals/", f"{node.url}bordeaux/changes/",
             f"{node.url}sparql", f"{node.url}sparql?{urlencode({'query': query})}",
             f"{node.url}sparql?query=SELEC", f"{node.url}statistics", node.url]
    for url in pages:
        audit = _audit(chromium, axe, url, tmp_path)
        assert audit["violations"] == [], url
        assert audit["right"] <= PHONE_WIDTH, f"{url} is {audit['right']} px wide at {PHONE_WIDTH} px"
