"""The HTML pages: everything escaped, only http(s) IRIs as links, members listed with their titles."""

from __future__ import annotations

import base64
import hashlib

import pyoxigraph as ox

from dds_pod.vocab import AS, DCTERMS, DDS, LDP, RDF
from dds_pod.web.html import CONTENT_SECURITY_POLICY, STYLE, resource_page

POD = "http://127.0.0.1:8000/bordeaux/"
SUBJECT = ox.NamedNode(POD + "proposals/1")


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(str(value))


def about(*pairs: tuple[str, ox.NamedNode | ox.BlankNode | ox.Literal]) -> list[ox.Triple]:
    return [ox.Triple(SUBJECT, iri(predicate), value) for predicate, value in pairs]


def test_html_page_escapes_data_and_links_iris():
    place = ox.BlankNode("place")
    triples = [
        *about((RDF.type, iri(DDS.Proposal)), (DCTERMS.title, ox.Literal("<script>alert(1)</script>", language="fr")),
               (AS.attributedTo, iri(POD + "people/1")), (AS.url, iri("javascript:alert(2)")),
               (AS.location, place)),
        ox.Triple(place, iri(AS.name), ox.Literal("Place \"<b>\" & co")),
    ]
    page = resource_page(triples, SUBJECT, "<script>alert(3)</script>")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page
    assert '<span lang="fr">&lt;script&gt;alert(1)&lt;/script&gt;</span>' in page
    assert f'<a href="{POD}people/1"' in page
    assert f'<a href="{AS.attributedTo}" title="{AS.attributedTo}">author</a>' in page
    assert 'href="javascript:' not in page
    assert "Place &quot;&lt;b&gt;&quot; &amp; co" in page
    assert page.count("<table>") == 2  # the place is a nested table


def test_html_page_lists_members_with_their_titles():
    container = ox.NamedNode(POD + "proposals/")
    first, second = iri(POD + "proposals/a"), iri(POD + "proposals/b")
    triples = [
        ox.Triple(container, iri(RDF.type), iri(LDP.BasicContainer)),
        ox.Triple(container, iri(LDP.contains), second),
        ox.Triple(container, iri(LDP.contains), first),
        ox.Triple(first, iri(DCTERMS.title), ox.Literal("Bancs", language="fr")),
        ox.Triple(first, iri(DCTERMS.title), ox.Literal("Benches", language="en")),
    ]
    page = resource_page(triples, container, "Proposals")
    assert "<h1>Proposals</h1>" in page
    members = page[page.index("<ul>"):]
    assert f'<a href="{first.value}" title="{first.value}" lang="en">Benches</a>' in members
    assert f'<a href="{second.value}" title="{second.value}">{second.value}</a>' in members
    assert members.index(first.value) < members.index(second.value)
    assert f'title="{LDP.contains}"' not in page  # members are listed once, not also as a table row
    assert f'<a href="{LDP.BasicContainer}"' in page


def test_the_policy_allows_the_page_style_by_hash_and_no_script():
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in CONTENT_SECURITY_POLICY
    assert CONTENT_SECURITY_POLICY.startswith("default-src 'none'")
    assert "script-src" not in CONTENT_SECURITY_POLICY and "unsafe" not in CONTENT_SECURITY_POLICY


def test_quotes_in_iris_and_titles_cannot_leave_their_attribute():
    hostile = iri('http://x.example/"onmouseover="alert(1)'.replace('"', "%22"))
    triples = about((AS.url, hostile), (DCTERMS.title, ox.Literal('" onclick="alert(1)', language="fr")))
    page = resource_page(triples, SUBJECT, '"><img src=x onerror=alert(1)>')
    assert "<img" not in page and 'onclick="' not in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
