"""The merged views searched through the index, on a real server: a write to a pod is harvested into the index,
found by its word forms, re-found after a change; bad searches are 400s naming the parameter; an index lost
while the node was down is rebuilt at start-up."""

from __future__ import annotations

import time

import pytest
import requests

from dds_pod.testing import TOKENS, ServerProcess, free_port

from .conftest import auth, example

JSONLD = {"Content-Type": "application/ld+json"}


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    directory = tmp_path_factory.mktemp("search")
    port = free_port()
    config = directory / "node.toml"
    config.write_text("\n".join([
        f'base_url = "http://127.0.0.1:{port}/"', f'data_dir = "{directory / "data"}"',
        "[pods.bordeaux]", 'platform = "https://participation.bordeaux-metropole.example"',
        f'token = "{TOKENS["bordeaux"]}"', "[federation]", "interval_s = 0.3"]) + "\n", encoding="utf-8")
    process = ServerProcess(config, port, directory / "server.log").start()
    yield {"process": process, "url": process.url, "data": directory / "data"}
    process.stop()


def listed(base: str, **params) -> list[str]:
    response = requests.get(f"{base}federation/proposals/", params={"limit": 100, **params},
                            headers={"Accept": "application/ld+json"}, timeout=10)
    assert response.status_code == 200, response.text
    return [member["@id"] for member in response.json().get("ldp:contains", [])]


def until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)
    return value


def put_proposal(base: str, slug: str, title: str, content: str) -> str:
    document = example("proposal-piste-cyclable-victor-hugo")
    document["title"], document["content"] = {"fr": title}, {"fr": f"<p>{content}</p>"}
    iri = f"{base}bordeaux/proposals/{slug}"
    response = requests.put(iri, json=document, headers={**JSONLD, **auth()}, timeout=10)
    assert response.status_code in (201, 204), response.text
    return iri


def test_a_write_is_harvested_into_the_index_and_found_by_its_word_forms(node):
    base = node["url"]
    iri = put_proposal(base, "ecoles-cyclables", "Des rues cyclables devant les écoles", "Pour les enfants à vélo")
    until(lambda: iri in listed(base, q="cyclable"))
    assert iri in listed(base, q="ECOLE")  # accents and case, and the plural
    assert iri in listed(base, q="enfant velo")  # the content, as plain text
    assert iri not in listed(base, q="cyclable piscine")  # every word is required
    sib = {"search-fields": "title", "search-terms": "écoles", "search-method": "ibasic"}
    assert iri in listed(base, **sib)
    assert iri not in listed(base, **{**sib, "search-terms": "enfants"})  # not in the title
    assert iri in listed(base, **{"search-fields": "title,content", "search-terms": "devant les écoles",
                                  "search-method": "exact"})
    assert iri not in listed(base, **{"search-terms": "les devant écoles", "search-method": "exact"})
    assert iri in listed(base, q="cyclables", status="evaluating", bbox="-0.6,44.8,-0.5,44.9")
    assert iri not in listed(base, q="cyclables", status="accepted")


def test_a_change_is_reindexed(node):
    base = node["url"]
    iri = put_proposal(base, "changing", "Un composteur de quartier", "Rue Judaïque")
    until(lambda: iri in listed(base, q="composteur"))
    put_proposal(base, "changing", "Une fontaine de quartier", "Rue Judaïque")
    until(lambda: iri in listed(base, q="fontaines"))
    assert iri not in listed(base, q="composteur")
    assert iri in listed(base, q="judaique")


@pytest.mark.parametrize(("params", "field"), [
    ({"q": " ".join(["mot"] * 33)}, "q"),
    ({"q": "x" * 1001}, "q"),
    ({"search-terms": " ".join(["mot"] * 500)}, "search-terms"),
    ({"search-terms": "velo", "search-fields": "colour"}, "search-fields"),
    ({"search-terms": "velo", "search-method": "regex"}, "search-method"),
])
def test_a_search_beyond_the_bounds_is_a_400_naming_the_parameter(node, params, field):
    response = requests.get(f"{node['url']}federation/proposals/", params=params, timeout=10)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


@pytest.mark.parametrize("text", ['"velo', "NEAR(velo", "velo*", "-velo", "velo AND OR NOT", "{title}: velo",
                                  "\x01\x02", "^"])
def test_index_syntax_in_a_search_is_only_words(node, text):
    response = requests.get(f"{node['url']}federation/proposals/", params={"q": text},
                            headers={"Accept": "application/ld+json"}, timeout=10)
    assert response.status_code == 200, response.text


def test_an_index_lost_while_the_node_was_down_is_rebuilt_at_start_up(node):
    base, process = node["url"], node["process"]
    iri = put_proposal(base, "kept", "Un banc public place Gambetta", "")
    until(lambda: iri in listed(base, q="gambetta"))
    process.stop()
    for path in node["data"].glob("search.sqlite3*"):
        path.unlink()
    process.start()
    assert until(lambda: iri in listed(base, q="gambetta"))  # built by the process that takes the jobs
