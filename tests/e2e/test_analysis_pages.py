"""The analysis in the public interface, on a real node: theme pages, a contribution's similar ones elsewhere,
stance bars, cited summaries, the PROV links, "read in" by Apertium, and their failure states.

The node keeps its stores on two Oxigraph servers; the Bordeaux pod publishes Barcelona budget projects in
Catalan and the Paris pod the same projects in Spanish (two platforms, two languages), with comments carrying
stances, through the pods' HTTP API as platforms do. Once harvested, the corpus is read from the merged store,
analysed by the analysis runner and published into the store's analysis graph, where the node reads it.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import requests

from dds_pod import config as node_config
from dds_pod.analysis import Analysis
from dds_pod.analysis.corpus import Pseudonyms, read_corpus
from dds_pod.analysis.graph import publish, run_iri, theme_iri
from dds_pod.analysis.runner import analyse
from dds_pod.analysis.translate import pairs
from dds_pod.federation.merged import MergedGraph, MergedGraphs
from dds_pod.sanitize import clean_html
from dds_pod.store import open_store
from dds_pod.testing import (
    TOKENS,
    OxigraphServer,
    ServerProcess,
    free_port,
    oxigraph_command,
    sparql_store_table,
    write_config,
)

from .. import analysis_data
from .browser_demo import missing_tools, run_script
from .conftest import auth, tool_missing

HTML = {"Accept": "text/html"}
PROJECTS = 12
COMMENTS = (("inFavour", "Molt necessari: cada dia hi passen centenars de veïns i els carrers estan plens."),
            ("inFavour", "Estic d'acord, el barri ho necessita i els veïns ho demanen des de fa anys."),
            ("against", "No hi estic d'acord: el pressupost hauria d'anar a les escoles del barri."),
            ("neutral", "Caldria saber quant costarà el manteniment dels propers anys."))
HOSTILE = "<script>alert('pwned')</script> Horts urbans"


@dataclass
class World:
    node: ServerProcess
    catalan: list[str]  # the Bordeaux projects, in Catalan
    spanish: dict[str, str]  # Catalan project -> its Spanish counterpart on Paris
    comments: list[str]
    hostile: str
    analysis: Analysis


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> Iterator[tuple[OxigraphServer, OxigraphServer]]:
    if oxigraph_command() is None:
        tool_missing("the analysis pages' tests need the oxigraph command: pip install oxigraph")
    directory = tmp_path_factory.mktemp("analysis-engines")
    started = [OxigraphServer(directory / name, directory / f"{name}.log").start() for name in ("pods", "merged")]
    yield started[0], started[1]
    for engine in started:
        engine.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory, engines) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("analysis-pages")
    port = free_port()
    path = write_config(directory, port)
    with path.open("a", encoding="utf-8") as file:
        file.write("[federation]\ninterval_s = 0.5\n" + sparql_store_table(*engines))
    with pytest.MonkeyPatch.context() as patch:  # the configuration names the Paris pod's token by variable
        patch.setenv("DDS_TEST_TOKEN_PARIS", TOKENS["paris"])
        settings = node_config.load(path)
    node = ServerProcess(path, port, directory / "server.log").start()
    try:
        yield _published(node, settings)
    finally:
        node.stop()


def _published(node: ServerProcess, settings: node_config.Config) -> World:
    """The projects, their comments and a hostile one posted and harvested, then the analysis published."""
    rows = analysis_data.projects()[:PROJECTS]
    catalan, spanish = [], {}
    for row in rows:
        ca = _post(node.url, "bordeaux", _project(row, "ca"))
        catalan.append(ca)
        spanish[ca] = _post(node.url, "paris", _project(row, "es"))
    comments = []
    for stance, body in COMMENTS:
        iri = _post(node.url, "bordeaux", {"@context": "https://w3id.org/dds/context.jsonld", "type": "Comment",
                                           "inReplyTo": catalan[0], "content": {"ca": body}, "stance": stance,
                                           "published": "2025-06-02T10:00:00Z"},
                    container="comments/")
        comments.append(iri)
    hostile_row = {**rows[1], "title/ca": HOSTILE}
    hostile = _post(node.url, "bordeaux", _project(hostile_row, "ca"))
    posted = {*catalan, *spanish.values(), *comments, hostile}
    for iri in posted:
        _harvested(node.url, iri)
    store = open_store(settings.store, part="federation")
    corpus = read_corpus(MergedGraph(store, MergedGraphs(settings.base_url)), Pseudonyms(b"test key"))
    assert {text.iri for text in corpus.texts} == posted
    analysis = analyse(corpus)
    assert analysis.themes and analysis.similar and analysis.stances
    publish(store, analysis, settings.base_url)
    return World(node, catalan, spanish, comments, hostile, analysis)


def _project(row: dict[str, str], language: str) -> dict:
    return {"@context": "https://w3id.org/dds/context.jsonld", "type": "BudgetProject",
            "title": {language: row[f"title/{language}"]},
            "content": {language: clean_html(row[f"description/{language}"])[:3000]},
            "published": "2025-06-01T09:00:00Z"}


def _post(base: str, pod: str, document: dict, container: str = "proposals/") -> str:
    response = requests.post(f"{base}{pod}/{container}", data=json.dumps(document),
                             headers={"Content-Type": "application/ld+json", **auth(pod)}, timeout=20)
    assert response.status_code == 201, response.text
    return response.headers["Location"]


def _harvested(base: str, iri: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _get(base, "contribution", id=iri).status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"{iri} was not harvested in {timeout} s")


def _get(base: str, path: str, **params) -> requests.Response:
    return requests.get(f"{base}{path}", params=params, headers=HTML, timeout=30)


def _section(page: str, ident: str) -> str:
    match = re.search(rf'<section id="{ident}".*?</section>', page, re.S)
    assert match, f"no section#{ident}"
    return match.group(0)


def _text_of(fragment: str) -> str:
    """The words a reader sees: inline elements run on, blocks are apart."""
    inline = re.sub(r"</?(span|a|code|time|strong|small|q)\b[^>]*>", "", fragment)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def _link(iri: str) -> str:
    return f"/contribution?id={html.escape(iri)}"


# Never analysed: the session's node (no analysis was ever published there)


def test_a_node_never_analysed_says_so(base):
    page = _get(base, "themes")
    assert page.status_code == 200
    assert "has not analysed its contributions yet" in page.text
    missing = _get(base, "theme", key="abc123")
    assert missing.status_code == 404 and "not analysed" in missing.text


# Published


def test_the_themes_page_lists_the_themes_with_their_platforms_and_provenance(world):
    page = _get(world.node.url, "themes", locale="en")
    assert page.status_code == 200, page.text
    for theme in world.analysis.themes:
        assert f"/theme?key={theme.key}" in page.text
        assert html.escape(theme.labels.get("en") or next(iter(theme.labels.values())), quote=False) in page.text
    assert run_iri(world.node.url, "themes", world.analysis.runs["themes"]) in page.text
    assert "Content-Security-Policy" in page.headers


def test_a_theme_page_shows_members_by_platform_summary_stances_and_its_records(world):
    theme = max(world.analysis.themes, key=lambda t: len(t.members))
    page = _get(world.node.url, "theme", key=theme.key, locale="en")
    assert page.status_code == 200, page.text
    members = _text_of(_section(page.text, "theme-members"))
    assert "Bordeaux" in members or "Paris" in members
    for iri in theme.members[:5]:
        assert _link(iri) in page.text
    assert theme_iri(world.node.url, theme.key) in page.text
    assert run_iri(world.node.url, "themes", world.analysis.runs["themes"]) in page.text
    summary = next((s for s in world.analysis.summaries if s.subject == theme.key), None)
    if summary is not None:
        cited = _section(page.text, "theme-summary")
        for sentence in summary.sentences[:2]:
            assert html.escape(sentence.text, quote=False) in cited or html.escape(sentence.text) in cited
    assert "All of them in Explore" in page.text


def test_a_project_shows_its_spanish_counterpart_on_the_other_platform(world):
    project = world.catalan[2]
    page = _get(world.node.url, "contribution", id=project, locale="en")
    analysis = _section(page.text, "analysis")
    assert _link(world.spanish[project]) in analysis
    words = _text_of(analysis)
    assert "Similar on other platforms" in words and "similarity" in words
    assert "How this was computed" in words
    assert run_iri(world.node.url, "similar", world.analysis.runs["similar"]) in analysis


def test_the_commented_project_shows_its_stance_bar_in_words(world):
    page = _get(world.node.url, "contribution", id=world.catalan[0], locale="en")
    words = _text_of(_section(page.text, "analysis"))
    assert "In favour: 2 (50 %)" in words
    assert "Against: 1 (25 %)" in words and "Neutral: 1 (25 %)" in words
    assert 'aria-hidden="true"' in page.text  # the drawn bar; the words above say the same


def test_catalan_readers_get_the_pages_in_catalan(world):
    page = _get(world.node.url, "themes", locale="ca")
    assert "Temes" in page.text
    contribution = _get(world.node.url, "contribution", id=world.catalan[2], locale="ca")
    assert "Semblants en altres plataformes" in contribution.text


def test_hostile_titles_are_escaped_on_the_analysis_pages(world):
    pages = [_get(world.node.url, "theme", key=theme.key).text for theme in world.analysis.themes]
    pages.append(_get(world.node.url, "contribution", id=world.hostile).text)
    for page in pages:
        assert "<script>alert" not in page
    assert any("&lt;script&gt;alert" in page for page in pages)


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"key": "<script>"}, 400, "key"), ({"key": "x" * 65}, 400, "key"), ({}, 400, "key"),
    ({"key": "0000000000"}, 404, "key"),
])
def test_bad_and_unknown_theme_keys(world, params, status, field):
    page = _get(world.node.url, "theme", **params)
    assert page.status_code == status
    assert f"<code>{field}</code>" in page.text and "<script>" not in page.text


# Read in another language


def _needs_apertium(source: str, target: str) -> None:
    if (source, target) not in pairs():
        tool_missing(f"Apertium's {source}-{target} pair is not installed (Debian: apertium-spa-cat ...)")


def test_read_in_spanish_is_a_marked_machine_translation(world):
    _needs_apertium("ca", "es")
    project = world.catalan[3]
    contribution = _get(world.node.url, "contribution", id=project, locale="en")
    assert "to=es" in contribution.text and "Read in Spanish" in contribution.text
    page = _get(world.node.url, "translation", id=project, to="es", locale="en")
    assert page.status_code == 200, page.text
    assert "Machine translation" in page.text and "It is not the author" in page.text
    assert "from Catalan into Spanish" in page.text
    assert 'lang="es"' in page.text
    again = _get(world.node.url, "translation", id=project, to="es", locale="en")
    assert again.text == page.text


def test_a_flood_of_translations_is_refused_with_retry_after_while_pages_answer(world):
    _needs_apertium("ca", "es")
    targets = [(iri, language) for iri in world.catalan[4:10] for language in ("es", "en", "fr")
               if ("ca", language) in pairs()]
    with ThreadPoolExecutor(len(targets) + 1) as pool:
        asked = [pool.submit(_get, world.node.url, "translation", id=iri, to=language) for iri, language in targets]
        time.sleep(0.3)
        themes = _get(world.node.url, "themes")  # while translations run
        answers = [future.result() for future in asked]
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 503} and 503 in statuses and 200 in statuses
    refused = next(answer for answer in answers if answer.status_code == 503)
    assert int(refused.headers["Retry-After"]) > 0
    assert themes.status_code == 200


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"to": "de"}, 400, "to"), ({"to": ""}, 400, "to"), ({"to": "ca"}, 404, "to"),
])
def test_bad_translation_requests(world, params, status, field):
    page = _get(world.node.url, "translation", id=world.catalan[0], **params)
    assert page.status_code == status
    assert f"<code>{field}</code>" in page.text


def test_a_translation_of_an_unknown_contribution_is_404(world):
    page = _get(world.node.url, "translation", id="https://nowhere.example/x", to="es")
    assert page.status_code == 404


# The theme facet of Explore


def test_explore_counts_and_filters_by_theme(world):
    answer = requests.get(f"{world.node.url}explore", headers={"Accept": "application/json"}, timeout=30).json()
    counted = {entry["value"]: entry["count"] for entry in answer["facets"]["theme"]}
    assert counted == {theme.key: len(theme.members) for theme in world.analysis.themes}
    theme = max(world.analysis.themes, key=lambda t: len(t.members))
    narrowed = requests.get(f"{world.node.url}explore", params={"theme": theme.key},
                            headers={"Accept": "application/json"}, timeout=30).json()
    assert narrowed["total"] == len(theme.members)
    assert {row["id"] for row in narrowed["results"]} <= set(theme.members)
    page = _get(world.node.url, "explore", locale="en")
    assert 'data-facet="theme"' in page.text
    label = theme.labels.get("en") or next(iter(theme.labels.values()))
    assert html.escape(label, quote=False) in page.text


@pytest.mark.parametrize("key", ["0000000000", "<script>", "x" * 65])
def test_an_unknown_or_malformed_theme_is_refused_naming_the_parameter(world, key):
    page = _get(world.node.url, "explore", theme=key)
    assert page.status_code == 400 and "<code>theme</code>" in page.text and "<script>" not in page.text
    data = requests.get(f"{world.node.url}explore", params={"theme": key}, headers={"Accept": "application/json"},
                        timeout=30)
    assert data.status_code == 400 and "theme" in data.text


# In a real browser


def test_the_analysis_pages_pass_axe_and_fit_a_phone(world):
    problem = missing_tools()
    if problem:
        tool_missing(problem)
    theme = max(world.analysis.themes, key=lambda t: len(t.members))
    expected = {"themes": 200, "theme?" + urlencode({"key": theme.key}): 200,
                "contribution?" + urlencode({"id": world.catalan[0]}): 200,
                "contribution?" + urlencode({"id": world.catalan[2], "locale": "ca"}): 200,
                "explore?" + urlencode({"theme": theme.key}): 200, "theme?key=0000000000": 404}
    if ("ca", "es") in pairs():
        expected["translation?" + urlencode({"id": world.catalan[3], "to": "es"})] = 200
    report = run_script("audit", world.node.url, *expected)
    assert report["foreign"] == []
    for page in report["pages"]:
        assert page["status"] == expected[page["path"]], page
        assert page["violations"] == [], page
        assert page["width"]["scroll"] <= page["width"]["client"], page


def test_the_how_this_was_computed_links_lead_to_the_prov_run_and_the_theme_resource(world):
    theme = max(world.analysis.themes, key=lambda t: len(t.members))
    page = _get(world.node.url, "theme", key=theme.key).text
    computed = re.search(r'<details class="how-computed">.*?</details>', page, re.S).group(0)
    links = [html.unescape(link) for link in re.findall(r'href="([^"]+)"', computed)]
    run = run_iri(world.node.url, "themes", world.analysis.runs["themes"])
    assert run in links and theme_iri(world.node.url, theme.key) in links
    record = requests.get(run, headers={"Accept": "text/turtle"}, timeout=30)
    assert record.status_code == 200, record.text
    assert "prov" in record.text.lower() and world.analysis.runs["themes"].method in record.text
    resource = requests.get(theme_iri(world.node.url, theme.key), headers={"Accept": "text/turtle"}, timeout=30)
    assert resource.status_code == 200 and theme.members[0] in resource.text
