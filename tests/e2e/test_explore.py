"""Explore on a real server over the examples of two pods: results, facets and counts, the word search, the map's
points, paging, and every bad input refused with a message (HTML) or a 400 problem (JSON), never a 500."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from dds_pod.testing import ServerProcess, free_port, write_config

from ..conftest import EXAMPLES

HTML, JSON = {"Accept": "text/html"}, {"Accept": "application/json"}
BORDEAUX, PARIS = "https://participation.bordeaux-metropole.example", "https://decidim.paris.example"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    directory = tmp_path_factory.mktemp("explore")
    port = free_port()
    config = write_config(directory, port)
    with config.open("a", encoding="utf-8") as file:
        file.write('[federation]\ninterval_s = 0.5\n[import]\npseudonym_key = "explore-tests-pseudonym-key"\n')
    seeds = ["--seed", f"bordeaux={EXAMPLES / 'valid'}", "--seed", f"paris={EXAMPLES / 'paris'}",
             "--seed", f"bordeaux=decidim-dataspace:{EXAMPLES.parent / 'data' / 'decidim-dataspace'}"]
    server = ServerProcess(config, port, directory / "server.log", seeds).start()
    deadline = time.monotonic() + 30
    while len(explore(server.url)["facets"].get("platform", [])) < 2:
        assert time.monotonic() < deadline, "the examples were not harvested into the index in time"
        time.sleep(0.3)
    yield server.url
    server.stop()


def explore(base: str, **params) -> dict:
    response = requests.get(f"{base}explore", params=params, headers=JSON, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def page(base: str, query: str = "", status: int = 200) -> str:
    response = requests.get(f"{base}explore{query}", headers=HTML, timeout=10)
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/html")
    return response.text


def counts(found: dict, facet: str) -> dict[str, int]:
    return {entry["value"]: entry["count"] for entry in found["facets"][facet]}


def test_every_platform_is_listed_with_facet_counts_that_add_up(base):
    found = explore(base)
    platforms = counts(found, "platform")
    assert set(platforms) == {BORDEAUX, PARIS}
    assert sum(platforms.values()) == found["total"] == sum(counts(found, "kind").values())


def test_a_facet_is_counted_without_its_own_filter_so_other_values_stay_offered(base):
    narrowed = explore(base, platform=PARIS)
    assert {row["platform"] for row in narrowed["results"]} == {PARIS}
    assert counts(narrowed, "platform") == counts(explore(base), "platform")
    assert narrowed["total"] == counts(explore(base), "platform")[PARIS]


def test_words_are_found_across_accents_and_word_forms(base):
    titles = [row["title"] for row in explore(base, q="CYCLABLES")["results"]]
    assert any("cyclable" in title.lower() for title in titles)
    assert explore(base, q="pistes velo")["total"] >= 1


def test_the_page_lists_results_with_platform_kind_status_and_facet_links(base):
    text = page(base, "?kind=proposals")
    assert 'section class="facet" data-facet="platform"' in text
    assert 'class="platform">Paris (Decidim)</span>' in text or "Paris (Decidim)" in text
    assert '<ol id="results"' in text and 'class="kind">Proposal</span>' in text
    assert 'id="total" data-total="' in text


def test_paging_links_keep_the_filters(base):
    everything = explore(base, platform=BORDEAUX)
    assert everything["total"] > 20, "the examples hold more than one page of Bordeaux's contributions"
    assert dict(parse_qsl(urlsplit(everything["next"]).query)) == {"platform": BORDEAUX, "page": "2"}
    second = requests.get(base.rstrip("/") + everything["next"], headers=JSON, timeout=10).json()
    assert {r["id"] for r in second["results"]}.isdisjoint({r["id"] for r in everything["results"]})
    assert {r["platform"] for r in second["results"]} == {BORDEAUX}
    assert 'rel="next"' in page(base, f"?platform={BORDEAUX}")


def test_the_map_gets_the_located_results_as_geojson_and_bbox_narrows_the_list(base):
    points = requests.get(f"{base}explore/map.json", params={"located": "yes"}, timeout=10).json()
    assert points["type"] == "FeatureCollection" and points["features"]
    longitudes = [feature["geometry"]["coordinates"][0] for feature in points["features"]]
    assert all(feature["properties"]["url"].startswith("/contribution?id=") for feature in points["features"])
    paris_only = explore(base, bbox="2.2,48.8,2.5,48.9")
    assert paris_only["total"] >= 1 and {row["platform"] for row in paris_only["results"]} == {PARIS}
    assert len(longitudes) > paris_only["total"]


@pytest.mark.parametrize(("query", "field"), [
    ("?kind=petitions", "kind"), ("?status=approved", "status"), ("?platform=https://nowhere.example", "platform"),
    ("?platform=not%20an%20iri", "platform"), ("?language=klingon!", "language"), ("?bbox=1,2", "bbox"),
    ("?bbox=10,10,0,0", "bbox"), ("?from=yesterday", "from"), ("?from=2025-06-01&to=2025-01-01", "from"),
    ("?located=maybe", "located"), ("?sort=random", "sort"), ("?page=0", "page"), ("?page=99999", "page"),
    ("?q=" + "mot+" * 10000, "q"), ("?q=" + "a" * 600, "q"), ("?sort=newest&sort=supported", "sort"),
])
def test_bad_input_is_a_message_on_the_page_and_a_400_problem_for_machines(base, query, field):
    text = page(base, query, status=400)
    assert 'role="alert"' in text and f"<code>{field}</code>" in text
    response = requests.get(f"{base}explore{query}", headers=JSON, timeout=10)
    assert response.status_code == 400 and response.json()["field"] == field


@pytest.mark.parametrize("words", ['"NEAR(piste', "piste*", "title:piste", "^piste -vélo", "OR", "AND OR NOT",
                                   "(((", "'; DROP TABLE docs; --", "\x00\x07piste\x1b"])
def test_search_syntax_in_the_words_is_only_words(base, words):
    assert requests.get(f"{base}explore", params={"q": words}, headers=JSON, timeout=10).status_code == 200
    page(base, "?" + requests.compat.urlencode({"q": words}))


def test_markup_in_the_words_is_escaped_on_the_page(base):
    text = page(base, "?" + requests.compat.urlencode({"q": '<script>alert(1)</script>"><img src=x>'}))
    assert "<script>alert(1)" not in text and "<img src=x>" not in text
    assert "&lt;script&gt;" in text
