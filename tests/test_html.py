"""The HTML pages: everything escaped, only http(s) IRIs as links, members listed with their titles."""

from __future__ import annotations

import base64
import hashlib

import pyoxigraph as ox

from dds_pod.changes import Event
from dds_pod.vocab import AS, DCTERMS, DDS, LDP, RDF
from dds_pod.web.html import (
    CONTENT_SECURITY_POLICY,
    FORM_SECURITY_POLICY,
    STYLE,
    feed_page,
    label_of,
    resource_page,
)

POD = "http://127.0.0.1:8000/bordeaux/"
SUBJECT = ox.NamedNode(POD + "proposals/1")
XSD_NS = "http://www.w3.org/2001/XMLSchema#"


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
    assert f'<a href="{second.value}" title="{second.value}" class="url">{second.value}</a>' in members
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


def test_properties_read_by_their_ontology_label_and_concepts_by_theirs():
    triples = about((RDF.type, iri(DDS.Proposal)), (DDS.status, iri(DDS.evaluating)),
                    (DDS.supportCount, ox.Literal("3", datatype=iri(XSD_NS + "integer"))),
                    (AS.attributedTo, iri(POD + "p/1")))
    page = resource_page(triples, SUBJECT)
    assert f'title="{DDS.supportCount}">support count</a>' in page  # the ontology's label
    assert f'title="{AS.attributedTo}">author</a>' in page  # not in the ontology: the context's key
    assert f'<a href="{DDS.evaluating}" title="{DDS.evaluating}">being evaluated</a>' in page
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')


def test_linked_resources_are_named_by_the_titles_given():
    triples = about((DCTERMS.isPartOf, iri(POD + "spaces/bp")), (AS.attributedTo, iri(POD + "people/1")),
                    (DCTERMS.title, ox.Literal("Bancs", language="fr")))
    page = resource_page(triples, SUBJECT, labels={POD + "spaces/bp": ("Budget <2025>", "en")})
    assert f'<a href="{POD}spaces/bp" title="{POD}spaces/bp" lang="en">Budget &lt;2025&gt;</a>' in page
    assert f'>{POD}people/1</a>' in page  # no title known: the IRI itself
    assert '<h1 lang="fr">Bancs</h1>' in page and "<title>Bancs</title>" in page


def test_dates_are_time_elements_and_bad_dates_stay_text():
    triples = about((AS.published, ox.Literal("2025-03-10T17:45:00+01:00", datatype=iri(XSD_NS + 'dateTime'))),
                    (AS.startTime, ox.Literal("2025-13-45T00:00:00Z", datatype=iri(XSD_NS + 'dateTime'))),
                    ("http://schema.org/endDate", ox.Literal("2026-03-31", datatype=iri(XSD_NS + 'date'))))
    page = resource_page(triples, SUBJECT, "t")
    assert '<time datetime="2025-03-10T17:45:00+01:00">10 March 2025, 17:45 UTC+01:00</time>' in page
    assert '<time datetime="2026-03-31">31 March 2026</time>' in page
    assert '<span title="xsd:dateTime">2025-13-45T00:00:00Z</span>' in page


def test_rich_text_is_shown_as_sanitised_html_and_plain_text_stays_escaped():
    hostile = '<p>Un <em>jardin</em><script>alert(1)</script><img src=x onerror=alert(2)></p>'
    triples = about((AS.content, ox.Literal(hostile, language="fr")),
                    (DCTERMS.title, ox.Literal("<em>titre</em>", language="fr")))
    page = resource_page(triples, SUBJECT, "t")
    assert '<div class="rich" lang="fr"><p>Un <em>jardin</em></p></div>' in page
    assert "<script" not in page and "onerror" not in page and "<img" not in page
    assert '<span lang="fr">&lt;em&gt;titre&lt;/em&gt;</span>' in page


def test_server_managed_fields_are_a_section_of_their_own():
    triples = about((DCTERMS.title, ox.Literal("Bancs", language="fr")),
                    (DCTERMS.created, ox.Literal("2025-01-02T03:04:05Z", datatype=iri(XSD_NS + 'dateTime'))),
                    (DDS.sourcePlatform, iri("https://platform.example")))
    page = resource_page(triples, SUBJECT, "t")
    own, recorded = page.split("<h2>Recorded by the server</h2>")
    assert "Bancs" in own and "created" not in own and "source platform" not in own
    assert "2 January 2025, 03:04:05 UTC" in recorded and "source platform" in recorded and "Bancs" not in recorded


def test_pages_link_to_their_machine_representations():
    page = resource_page(about((DCTERMS.title, ox.Literal("x", language="fr"))), SUBJECT, "t")
    assert f'<a href="{SUBJECT.value}?format=jsonld" type="application/ld+json">JSON-LD</a>' in page
    assert f'<a href="{SUBJECT.value}?format=turtle" type="text/turtle">Turtle</a>' in page


def test_feed_page_lists_events_with_titles_and_paging_links():
    events = [Event(1, "create", POD + "proposals/1", "2025-03-04T09:12:00Z"),
              Event(2, "delete", 'javascript:alert("x")', "2025-03-05T10:00:00Z")]
    page = feed_page("Changes of <Bordeaux>", POD + "changes/", events, {POD + "proposals/1": ("Bancs <b>", "fr")},
                     [("Later changes", POD + "changes/?since=2&limit=2")])
    assert "<h1>Changes of &lt;Bordeaux&gt;</h1>" in page
    assert ('<tr><td><time datetime="2025-03-04T09:12:00Z">4 March 2025, 09:12 UTC</time></td><td>created</td>'
            f'<td><a href="{POD}proposals/1" title="{POD}proposals/1" lang="fr">Bancs &lt;b&gt;</a></td></tr>') in page
    assert "<td>deleted</td>" in page and 'href="javascript' not in page
    assert f'<a href="{POD}changes/?since=2&amp;limit=2"' in page and "Later changes" in page


def test_only_the_form_policy_lets_a_form_submit_and_only_here():
    assert "form-action 'none'" in CONTENT_SECURITY_POLICY
    assert "form-action 'self'" in FORM_SECURITY_POLICY and "script-src" not in FORM_SECURITY_POLICY
    assert FORM_SECURITY_POLICY.replace("'self'", "'none'") == CONTENT_SECURITY_POLICY


def test_an_untitled_resource_is_named_by_its_class_and_path():
    comment = iri(POD + "comments/1")
    triples = [ox.Triple(comment, iri(RDF.type), iri(DDS.Comment)),
               ox.Triple(comment, iri(AS.content), ox.Literal("<p>x</p>", language="fr"))]
    assert label_of(triples, comment, POD) == ("Comment comments/1", "")
    assert label_of(triples, comment) is None  # no base: nothing to shorten the IRI against
    assert label_of([], comment, POD) is None
    titled = [*triples, ox.Triple(comment, iri(DCTERMS.title), ox.Literal("Avis", language="fr"))]
    assert label_of(titled, comment, POD) == ("Avis", "fr")
