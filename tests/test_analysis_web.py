"""The analysis resources through the application: citizens' words in labels and summaries escaped in HTML, OPTIONS
and HEAD, a node never analysed, keys that need escaping, the Turtle and JSON-LD of one theme."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from dds_pod.analysis import Analysis, Run, Sentence, Summary, Theme
from dds_pod.analysis.graph import analysis_stamp, publish, theme_iri
from dds_pod.app import create_app
from dds_pod.config import from_dict
from dds_pod.ldp import representation

BASE = "http://127.0.0.1:8000/"
MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'
EXPANDED = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"'
RUN = Run("tfidf-nmf", {"seed": 0}, "dds-pod 0.1.0", {f"{BASE}bordeaux/": 3}, "2026-12-04T10:00:00Z",
          "2026-12-04T10:00:01Z")


@pytest.fixture
def app():
    application = create_app(from_dict({"base_url": BASE, "pods": {
        "bordeaux": {"platform": "https://participation.bordeaux-metropole.example", "token": "t"}}}))
    yield application
    application.extensions["dds.node"].close()


def published(app) -> None:
    node = app.extensions["dds.node"]
    theme = Theme("k1", (MARKUP,), {"fr": MARKUP}, (f"{BASE}bordeaux/proposals/a",), {})
    summary = Summary("k1", "fr", (Sentence(MARKUP, (f"{BASE}bordeaux/proposals/a",)),))
    publish(node.merged, Analysis(runs={"themes": RUN, "summaries": RUN}, themes=[theme], summaries=[summary]),
            BASE)


def test_citizens_words_are_escaped_in_html(app):
    published(app)
    client = app.test_client()
    for url in ("/analysis/themes/k1", "/analysis/themes/", "/analysis/summaries/"):
        page = client.get(url, headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.mimetype == "text/html"
        body = page.get_data(as_text=True)
        assert "<script>" not in body and "<img" not in body
    theme = client.get("/analysis/themes/k1", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "&lt;script&gt;alert(" in theme


def test_one_theme_as_json_ld_and_turtle(app):
    published(app)
    client = app.test_client()
    document = client.get("/analysis/themes/k1").get_json()
    assert document["@id"] == theme_iri(BASE, "k1") and document["prefLabel"] == {"fr": MARKUP}
    turtle = client.get("/analysis/themes/k1", headers={"Accept": "text/turtle"})
    triples = [quad.triple for quad in ox.parse(turtle.get_data(), format=ox.RdfFormat.TURTLE)]
    assert ox.Triple(ox.NamedNode(theme_iri(BASE, "k1")), ox.NamedNode("http://www.w3.org/2004/02/skos/core#notation"),
                     ox.Literal("k1")) in triples


def test_options_head_and_a_node_never_analysed(app):
    client = app.test_client()
    options = client.options("/analysis/themes/")
    assert options.status_code == 204 and options.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.get("/analysis/themes/").get_json()["ldp:contains"] == []
    missing = client.get("/analysis/themes/k1")
    assert missing.status_code == 404 and "not analysed" in missing.get_json()["detail"]
    published(app)
    head = client.head("/analysis/themes/k1")
    assert head.status_code == 200 and not head.get_data() and head.headers["ETag"]


def test_keys_and_paging_values_that_need_escaping_are_answered_cleanly(app):
    published(app)
    client = app.test_client()
    assert client.get("/analysis/themes/%3Cscript%3E").status_code == 404
    assert "<script>" not in client.get("/analysis/themes/%3Cscript%3E").get_data(as_text=True)
    assert client.get("/analysis/themes/?offset=-1").status_code == 400
    assert client.get("/analysis/themes/?limit=100000").status_code == 400
    assert client.get("/analysis/runs/?format=xml").status_code == 400


def test_a_page_of_themes_is_compacted_once_per_publication_and_never_served_stale(app):
    """Compacting a page of themes (each embeds its members) on every anonymous request costs far more CPU than
    any other container; the members' node objects are kept per publication, and a new publication is served."""
    published(app)
    client = app.test_client()
    first = client.get("/analysis/themes/").get_json()["ldp:contains"]
    node, memo = app.extensions["dds.node"], app.extensions["dds.analysis_memo"]
    stamp = analysis_stamp(node.merged, BASE)
    assert memo.get(stamp, theme_iri(BASE, "k1"), "compacted", dict) == first[0]
    theme = Theme("k1", ("other",), {"fr": "Autre thème"}, (f"{BASE}bordeaux/proposals/b",), {})
    publish(node.merged, Analysis(runs={"themes": RUN}, themes=[theme]), BASE)
    again = client.get("/analysis/themes/").get_json()["ldp:contains"]
    assert again[0]["prefLabel"] == {"fr": "Autre thème"} and again != first
    assert memo.get(analysis_stamp(node.merged, BASE), theme_iri(BASE, "k1"), "compacted", dict) == again[0]
    assert memo.get(stamp, theme_iri(BASE, "k1"), "compacted", dict) == {}  # the earlier publication's, not kept


def test_a_page_of_themes_in_expanded_json_ld_is_its_statements_with_each_theme_expanded_once(app):
    published(app)
    node = app.extensions["dds.node"]
    theme = Theme("k2", ("other",), {"fr": "Autre"}, tuple(f"{BASE}bordeaux/proposals/{n}" for n in range(30)), {})
    publish(node.merged, Analysis(runs={"themes": RUN}, themes=[theme, Theme("k1", (MARKUP,), {"fr": MARKUP},
                                                                              (f"{BASE}bordeaux/proposals/a",), {})]),
            BASE)
    client = app.test_client()
    expanded = client.get("/analysis/themes/?limit=5", headers={"Accept": EXPANDED})
    assert expanded.status_code == 200 and expanded.mimetype == "application/ld+json"
    turtle = client.get("/analysis/themes/?limit=5", headers={"Accept": "text/turtle"}).get_data()
    statements = [quad.triple for quad in ox.parse(turtle, format=ox.RdfFormat.TURTLE)]
    assert expanded.get_json() == representation.expanded(statements)
    cached = app.extensions["dds.analysis_memo"].get(analysis_stamp(node.merged, BASE), theme_iri(BASE, "k2"),
                                                     "expanded", list)
    assert cached == [n for n in expanded.get_json() if n["@id"].startswith(theme_iri(BASE, "k2"))]
