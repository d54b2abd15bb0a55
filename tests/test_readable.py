"""How terms and dates read on the pages for people."""

from __future__ import annotations

import pytest

from dds_pod.web.readable import XSD_DATE, XSD_DATE_TIME, readable_date, short_key, term_label

DDS = "https://w3id.org/dds/ns#"


@pytest.mark.parametrize(("iri", "language", "label"), [
    (DDS + "supportCount", "en", "support count"),
    (DDS + "supportCount", "fr", "nombre de soutiens"),
    (DDS + "evaluating", "en", "being evaluated"),
    (DDS + "inFavour", "fr", "pour"),
    ("https://www.w3.org/ns/activitystreams#attributedTo", "en", "author"),  # the context's key
    ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "fr", "type"),
])
def test_terms_read_by_the_ontology_label_else_the_context_key(iri, language, label):
    assert term_label(iri, language) == label


def test_an_unknown_term_reads_as_a_compact_iri_or_whole():
    assert short_key("http://purl.org/dc/terms/audience") == "dcterms:audience"
    assert term_label("http://example.org/x#y") == "http://example.org/x#y"


@pytest.mark.parametrize(("lexical", "datatype", "readable"), [
    ("2025-03-04T09:12:00Z", XSD_DATE_TIME, "4 March 2025, 09:12 UTC"),
    ("2025-03-04T09:12:30.250Z", XSD_DATE_TIME, "4 March 2025, 09:12:30 UTC"),
    ("2025-03-10T17:45:00+01:00", XSD_DATE_TIME, "10 March 2025, 17:45 UTC+01:00"),
    ("2025-03-10T17:45:00-03:30", XSD_DATE_TIME, "10 March 2025, 17:45 UTC-03:30"),
    ("2025-12-01T00:00:00", XSD_DATE_TIME, "1 December 2025, 00:00"),
    ("2026-03-31", XSD_DATE, "31 March 2026"),
])
def test_dates_read_as_dates(lexical, datatype, readable):
    assert readable_date(lexical, datatype) == readable


@pytest.mark.parametrize(("lexical", "datatype"), [
    ("2025-02-30T10:00:00Z", XSD_DATE_TIME), ("yesterday", XSD_DATE_TIME), ("2025-03-04", XSD_DATE_TIME + "x"),
    ("", XSD_DATE),
])
def test_what_is_not_a_date_is_not_formatted(lexical, datatype):
    assert readable_date(lexical, datatype) is None
