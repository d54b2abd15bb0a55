"""The public interface on a real node: home, contribution, languages, security headers and bad input.

One node with the Bordeaux and Paris pods harvests itself every half second; the tests publish through the pods'
HTTP API, as platforms do, and read the pages a browser gets.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests

from dds_pod.testing import ServerProcess, free_port, write_config

from .conftest import example, post

HTML = {"Accept": "text/html"}
BORDEAUX, PARIS = "https://participation.bordeaux-metropole.example", "https://decidim.paris.example"


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("interface")
    port = free_port()
    config = write_config(directory, port)
    with config.open("a", encoding="utf-8") as file:
        file.write('[federation]\ninterval_s = 0.5\n[interface]\nname = "Civic data of the test node"\n')
    process = ServerProcess(config, port, directory / "server.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def published(node) -> dict[str, str]:
    """A Bordeaux proposal, a Paris reply to it, a result it led to, and a hostile proposal, all harvested."""
    base = node.url
    proposal = _created(post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo"), slug="vh"))
    reply = _created(post(base, "comments/", {
        "@context": "https://w3id.org/dds/context.jsonld", "type": "Comment", "inReplyTo": proposal,
        "content": {"fr": "Bravo depuis Paris", "en": "Well done, from Paris"}, "stance": "inFavour",
        "published": "2025-03-06T18:30:00Z"}, pod="paris"))
    result = example("result-piste-cyclable")
    result["derivedFrom"] = [proposal]
    result["influence"] = [{"type": "Influence", "influencer": proposal, "role": "adopted"}]
    outcome = _created(post(base, "results/", result))
    hostile = example("proposal-piste-cyclable-victor-hugo")
    hostile["title"] = {"fr": "<script>alert('pwned')</script> Vélo"}
    hostile["content"] = {"fr": "<p onclick=\"steal()\">Texte</p><script>steal()</script>"}
    bad = _created(post(base, "proposals/", hostile, slug="hostile"))
    for iri in (proposal, reply, outcome, bad):
        _harvested(base, iri)
    return {"proposal": proposal, "reply": reply, "result": outcome, "hostile": bad}


def _created(response: requests.Response) -> str:
    assert response.status_code == 201, response.text
    return response.headers["Location"]


def _harvested(base: str, iri: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _page(base, iri).status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"{iri} was not harvested in {timeout} s")


def _page(base: str, iri: str, **params) -> requests.Response:
    return requests.get(f"{base}contribution", params={"id": iri, **params}, headers=HTML, timeout=10)


def _section(page: str, ident: str) -> str:
    match = re.search(rf'<section id="{ident}".*?</section>', page, re.S)
    assert match, f"no section#{ident}"
    return match.group(0)


def test_home_lists_the_platforms_by_name_with_their_counts(node, published):
    response = requests.get(node.url, headers=HTML, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert "Civic data of the test node" in page
    platforms = _section(page, "platforms")
    assert "Bordeaux Métropole (Decidim)" in platforms and "Paris (Decidim)" in platforms
    assert BORDEAUX not in re.sub(r'href="[^"]*"', "", platforms)  # names, not addresses
    bordeaux = platforms.split("Paris (Decidim)")[0] if platforms.index("Bordeaux") < platforms.index("Paris") \
        else platforms.split("Bordeaux Métropole (Decidim)")[1]
    assert re.search(r'<span class="count">2</span> Proposals', bordeaux)
    assert re.search(r'<span class="count">1</span> Results', bordeaux)
    assert '<form id="search"' in page and 'name="q"' in page and 'action="/explore"' in page
    assert "/explore?located=1" in page


def test_machines_still_get_the_json_ld_index(node):
    body = requests.get(node.url, headers={"Accept": "application/ld+json"}, timeout=10).json()
    assert {pod["platform"] for pod in body["pods"]} == {BORDEAUX, PARIS}


def test_a_contribution_shows_its_thread_across_platforms_its_influence_and_provenance(node, published):
    response = _page(node.url, published["proposal"])
    assert response.status_code == 200
    page = response.text
    assert '<article class="contribution">' in page
    replies = _section(page, "replies")
    reply = re.search(r'<li class="reply">.*?</li>', replies, re.S).group(0)
    assert "Paris (Decidim)" in reply and 'class="platform"' in reply
    assert re.search(r'class="stance stance-inFavour">In favour<', reply)
    assert '<span lang="en">Well done, from Paris</span>' in reply
    influence = _section(page, "influence")
    assert '<span lang="en">Cycle lane on cours Victor-Hugo</span>' in influence and "Adopted" in influence
    provenance = _section(page, "provenance")
    assert f"{node.url}bordeaux/" in provenance and "Content hash" in provenance
    assert re.search(r"<code class=\"iri\">[^<]*[0-9a-f]{16,}</code>", provenance)
    assert 'id="minimap" class="minimap" data-lat="44.8337" data-lon="-0.5716"' in page
    assert '<script src="/static/minimap.js"></script>' in page

    result = _page(node.url, published["result"]).text
    assert "What influenced it" in result and "Une piste cyclable protégée cours Victor-Hugo" in result


def test_the_provenance_links_give_the_harvested_copy(node, published):
    turtle = _page(node.url, published["proposal"], format="turtle")
    assert turtle.status_code == 200 and turtle.headers["Content-Type"].startswith("text/turtle")
    assert "Victor-Hugo" in turtle.text
    jsonld = _page(node.url, published["proposal"], format="jsonld")
    assert jsonld.json()["@id"] == published["proposal"]
    assert _page(node.url, published["proposal"], format="xml").status_code == 400


def test_switching_to_catalan_translates_the_interface_and_is_remembered(node, published):
    response = requests.get(node.url, params={"locale": "ca"}, headers=HTML, timeout=10)
    page = response.text
    assert '<html lang="ca">' in page
    assert "Plataformes" in page and "Salta al contingut" in page and "Activitat recent" in page
    assert re.search(r'<nav id="languages".*?hreflang="fr".*?</nav>', page, re.S)
    assert 'href="/explore?locale=ca"' in page  # links keep the language
    assert response.cookies.get("locale") == "ca"
    again = requests.get(node.url, headers=HTML, cookies={"locale": "ca"}, timeout=10)
    assert '<html lang="ca">' in again.text
    contribution = _page(node.url, published["proposal"], locale="ca").text
    assert "1 resposta" in contribution and "A favor" in contribution
    assert '<span lang="fr">Une piste cyclable protégée cours Victor-Hugo</span>' in contribution


def test_accept_language_chooses_the_language_and_the_parameter_wins(node):
    spanish = requests.get(node.url, headers={**HTML, "Accept-Language": "es-ES,es;q=0.9"}, timeout=10).text
    assert '<html lang="es">' in spanish and "Plataformas" in spanish
    unknown = requests.get(node.url, headers={**HTML, "Accept-Language": "de"}, timeout=10).text
    assert '<html lang="en">' in unknown
    chosen = requests.get(node.url, params={"locale": "fr"}, headers={**HTML, "Accept-Language": "es"}, timeout=10)
    assert '<html lang="fr">' in chosen.text and "Plateformes" in chosen.text


def test_every_interface_page_has_a_strict_content_security_policy(node, published):
    for response in (requests.get(node.url, headers=HTML, timeout=10), _page(node.url, published["proposal"]),
                     _page(node.url, "not an iri")):
        policy = response.headers["Content-Security-Policy"]
        for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
                          "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"):
            assert directive in policy
        assert "unsafe-inline" not in policy
        assert "<script>" not in response.text and " style=" not in response.text


def test_hostile_text_is_escaped_and_hostile_html_sanitised(node, published):
    page = _page(node.url, published["hostile"]).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page
    assert "onclick" not in page and "steal()" not in page
    home = requests.get(node.url, headers=HTML, timeout=10).text
    assert "<script>alert" not in home


def test_bad_and_unknown_ids_get_error_pages_not_500(node):
    malformed = _page(node.url, "not an iri")
    assert malformed.status_code == 400 and malformed.headers["Content-Type"].startswith("text/html")
    assert "id" in malformed.text
    missing = requests.get(f"{node.url}contribution", headers=HTML, timeout=10)
    assert missing.status_code == 400
    long_id = _page(node.url, "https://example.org/" + "a" * 5000)
    assert long_id.status_code == 400
    unknown = _page(node.url, "https://example.org/nothing")
    assert unknown.status_code == 404 and "main" in unknown.text
    for path in ("platform", "space"):
        assert requests.get(f"{node.url}{path}", params={"id": "https://example.org/x"}, headers=HTML,
                            timeout=10).status_code == 404
        assert requests.get(f"{node.url}{path}?id={quote('<bad>')}", headers=HTML, timeout=10).status_code == 400


def test_platform_and_space_pages_count_what_they_hold(node, published):
    page = requests.get(f"{node.url}platform", params={"id": BORDEAUX}, headers=HTML, timeout=10).text
    assert "Bordeaux Métropole (Decidim)" in page and re.search(r'<span class="count">2</span> Proposals', page)
    assert "Being evaluated" in page and "/explore?kind=proposals&amp;platform=" in page


def test_vendored_leaflet_is_served_locally(node):
    response = requests.get(f"{node.url}static/vendor/leaflet/leaflet.js", timeout=10)
    assert response.status_code == 200 and "Leaflet" in response.text[:400]
    assert requests.get(f"{node.url}static/vendor/leaflet.markercluster/leaflet.markercluster.js",
                        timeout=10).status_code == 200
    assert requests.get(f"{node.url}static/vendor/other/x.js", timeout=10).status_code == 404
    assert requests.get(f"{node.url}static/site.css", timeout=10).status_code == 200
