"""The public interface in a real browser (Debian's headless Chromium driven by Playwright) over the demo data:
a citizen's tasks, axe-core on every kind of page, the phone width, and no request to another origin."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests

from dds_pod.testing import ServerProcess

from .browser_demo import demo_node, missing_tools, run_script

JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[ServerProcess]:
    problem = missing_tools()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    with demo_node(tmp_path_factory.mktemp("demo")) as node:
        yield node


@pytest.fixture(scope="module")
def visit(demo) -> dict:
    report = run_script("tasks", demo.url)
    assert "error" not in report, f"the visit stopped at {report.get('failedAt')}: {report.get('error')}"
    return report


def test_cycling_proposals_of_three_platforms_are_found_at_once(visit):
    found = visit["steps"]["search"]
    assert len(found["platforms"]) >= 3, found
    assert found["kinds"] == ["Proposal"], found


def test_narrowing_to_one_platform_and_one_status_keeps_only_them(visit):
    before, narrowed = visit["steps"]["search"], visit["steps"]["narrowed"]
    assert len(narrowed["platforms"]) == 1 and len(narrowed["statuses"]) == 1, narrowed
    assert 1 <= narrowed["total"] < before["total"]


def test_zooming_the_map_to_a_district_narrows_the_list(visit):
    seen = visit["steps"]["map"]
    assert "bbox=" in seen["url"]
    assert 1 <= seen["total"] < seen["before"]["total"], seen
    assert set(seen["platforms"]) < set(seen["before"]["platforms"]), seen


def test_a_proposal_shows_a_reply_from_another_platform(visit):
    seen = visit["steps"]["contribution"]
    assert seen["platform"], seen
    assert any(reply["platform"] and reply["platform"] != seen["platform"] for reply in seen["replies"]), seen
    assert seen["minimap"] == 1


def test_the_interface_switches_to_catalan_and_keeps_it(visit):
    catalan = visit["steps"]["catalan"]
    assert catalan["lang"] == "ca"
    assert visit["steps"]["catalanExplore"] == {"lang": "ca", "heading": "Explora les contribucions"}


def test_the_visit_asks_nothing_of_another_origin_and_runs_without_errors(visit):
    assert visit["requests"] > 10
    assert visit["foreign"] == []
    assert visit["problems"] == []


def _pages(base: str) -> dict[str, int]:
    """One address of every kind of page, with the status it must answer."""
    listing = requests.get(f"{base}explore?kind=proposals", headers=JSON, timeout=10).json()
    contribution = listing["results"][0]["id"]
    platform = listing["facets"]["platform"][0]["value"]
    space = next(value["value"] for value in
                 requests.get(f"{base}explore", headers=JSON, timeout=10).json()["facets"]["space"])
    sparql = ("SELECT ?p ?title WHERE { ?p a <https://w3id.org/dds/ns#Proposal> ; "
              "<http://purl.org/dc/terms/title> ?title } LIMIT 5")
    return {
        "": 200, "explore": 200, "explore?" + urlencode({"q": "bicicleta", "located": "yes"}): 200,
        "explore?kind=petitions": 400, "contribution?" + urlencode({"id": contribution}): 200,
        "platform?" + urlencode({"id": platform}): 200, "space?" + urlencode({"id": space}): 200,
        "statistics": 200, "sparql": 200, "sparql?" + urlencode({"query": sparql}): 200,
        "bordeaux/changes/": 200, "bordeaux/proposals/": 200, "bordeaux/proposals/piste-cyclable-victor-hugo": 200,
        "contribution?id=http%3A%2F%2F127.0.0.1%3A1%2Fnothing": 404,
    }


def test_every_kind_of_page_passes_axe_and_fits_a_phone(demo):
    expected = _pages(demo.url)
    report = run_script("audit", demo.url, *expected)
    assert report["foreign"] == []
    for page in report["pages"]:
        assert page["status"] == expected[page["path"]], page
        assert page["lang"], page
        assert page["violations"] == [], page
        assert page["width"]["scroll"] <= page["width"]["client"], page
