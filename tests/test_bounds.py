"""The cheap scans that bound a document before a parser sees it, and the limits applied while it parses."""

from __future__ import annotations

import pytest

from dds_pod import bounds
from dds_pod.errors import BadDocument, DocumentTooLarge


@pytest.mark.parametrize("text", [
    '<a> <b> "' + "[" * 100 + '" .',
    "# " + "(" * 100 + "\n<a> <b> <c> .",
    '<a> <b> """' + "{" * 100 + '\n"" ' + "[" * 100 + '""" .',
    "<a> <b> '" + "(" * 100 + "' .",
    "<http://en.wikipedia.example/wiki/Bordeaux_(France)> <b> <c> .\n" * 100,
    "ASK { FILTER(?a != ?b && ?a < ?b) }",
    "<a> <b> <c> . " + "[] " * 100,
    r"ex:a\( <b> <c> ." * 100,
], ids=["string", "comment", "long-string", "single-quotes", "iri", "comparisons", "siblings", "escapes"])
def test_brackets_that_are_no_nesting_pass(text):
    bounds.check_text_nesting(text, "turtle")


@pytest.mark.parametrize("text", [
    "[ " * 65 + "] " * 65,
    "( " * 65,
    "{" * 65,
    "<<( " * 65,
    '"a" ' + "[" * 65 + ' "b"',
    "x <= " + "{ " * 65,
    "FILTER(" + "! " * 65 + "true)",
    "FILTER(" + "!#\n" * 65 + "true)",
    "ASK { <http://x.example/#> ?p ?o FILTER(?o<" + "(" * 65 + "1" + ")" * 65 + ">0) }",
    "ASK { FILTER(?o<" + "!" * 65 + "true>0) }",
], ids=["blank-nodes", "unclosed", "groups", "triple-terms", "after-strings", "after-n3-implication", "negations",
        "negations-between-comments", "comparison-read-as-iri", "negations-read-as-iri"])
def test_deep_nesting_is_refused_naming_the_limit(text):
    with pytest.raises(BadDocument) as error:
        bounds.check_text_nesting(text, "turtle")
    assert "64" in error.value.message


def test_sixty_four_levels_are_accepted():
    bounds.check_text_nesting("[ " * 64 + "] " * 64, "turtle")


@pytest.mark.parametrize("data, words", [
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>', "DOCTYPE"),
    (b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/dtd"><r/>', "DOCTYPE"),
    (b"<r>" + b"<e>" * 65 + b"</e>" * 65 + b"</r>", "nested deeper than 64"),
    (b"<r><unclosed></r>", "invalid rdf-xml"),
])
def test_xml_with_a_doctype_or_deep_elements_is_refused(data, words):
    with pytest.raises(BadDocument) as error:
        bounds.check_xml(data)
    assert words in error.value.message


def test_xml_comments_and_cdata_are_no_elements():
    bounds.check_xml(b"<r><!-- <!DOCTYPE x> " + b"<e>" * 100 + b" --><![CDATA[" + b"<e>" * 100 + b"]]></r>")


def test_statements_past_the_limit_stop_the_parser():
    with pytest.raises(DocumentTooLarge) as error:
        list(bounds.bounded(iter(range(11)), "turtle", limit=10))
    assert "more than 10 statements" in error.value.message
    assert list(bounds.bounded(iter(range(10)), "turtle", limit=10)) == list(range(10))


def test_a_parser_past_its_time_budget_is_stopped():
    with pytest.raises(DocumentTooLarge) as error:
        list(bounds.bounded(iter(range(5000)), "rdf-xml", seconds=-1))
    assert "seconds to parse" in error.value.message
