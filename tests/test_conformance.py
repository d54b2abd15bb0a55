"""The compiled screen against pyshacl: it must flag whatever the reference refuses.

Besides every example, each valid example is mutated systematically (each triple dropped, each
value replaced by values of other kinds, forms and sizes, each value doubled) and the screen
must flag every mutant the reference refuses.
"""

from __future__ import annotations

import itertools
import json

import pyoxigraph as ox
import pytest
from rdflib import Graph

from dds_pod import jsonld, rdfio
from dds_pod.conformance import Unsupported, compile_shapes
from dds_pod.standard import shapes_graph
from dds_pod.terms import date_time, utc_now
from dds_pod.validation import MAX_BLANK_DEPTH, Validator, default_validator

from .conftest import EXAMPLES

BASE = "https://pod.example/bordeaux/examples/doc"
PLATFORM = "https://participation.example"
VALID = sorted([*(EXAMPLES / "valid").glob("*.jsonld"), *(EXAMPLES / "paris").glob("*.jsonld")])
EVERY = sorted([*VALID, *(EXAMPLES / "invalid").glob("*.jsonld")])
XSD = "http://www.w3.org/2001/XMLSchema#"


def _document(path, validator) -> list[ox.Triple]:
    triples = rdfio.to_oxigraph(jsonld.to_graph(json.loads(path.read_text(encoding="utf-8")), base=BASE))
    return validator.fill_server_managed(triples, PLATFORM, date_time(utc_now()))


def _reference_conforms(validator: Validator, triples: list[ox.Triple]) -> bool:
    return validator.validate(rdfio.to_rdflib(triples)).conforms


@pytest.fixture(scope="module")
def validator() -> Validator:
    return default_validator()


@pytest.fixture(scope="module")
def screen(validator):
    return compile_shapes(shapes_graph(), (str(t) for t in validator.known_terms), MAX_BLANK_DEPTH)


@pytest.mark.parametrize("path", EVERY, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_screen_agrees_with_the_reference_on_every_example(path, validator, screen):
    triples = _document(path, validator)
    report = validator.validate(rdfio.to_rdflib(triples))
    assert screen.may_violate(triples) == (not report.conforms)
    assert screen.may_report(triples) == bool(report.results)


def _replacements(term) -> list:
    """Values of other kinds, forms and sizes to put in the place of ``term``."""
    out = [ox.Literal("text"), ox.Literal("texte", language="fr"), ox.NamedNode("https://elsewhere.example/x"),
           ox.BlankNode(), ox.Literal("x" * 100_001, language="fr"), ox.Literal("not a value", datatype=term.datatype)
           if isinstance(term, ox.Literal) else ox.Literal(term.value)]
    for lexical, datatype in (("-1", "integer"), ("101", "decimal"), ("-91.5", "decimal"), ("1e3", "decimal"),
                              ("2025-02-30T10:00:00Z", "dateTime"), ("2025-04-03", "date"), ("12", "string"),
                              ("abc", "integer"), ("2025-04-03T10:00:00", "dateTime"), ("0", "boolean")):
        out.append(ox.Literal(lexical, datatype=ox.NamedNode(XSD + datatype)))
    return out


def _mutants(triples: list[ox.Triple]):
    for index, triple in enumerate(triples):
        others = triples[:index] + triples[index + 1:]
        yield others
        if triple.predicate.value.endswith("#type"):
            continue
        for value in _replacements(triple.object):
            yield [*others, ox.Triple(triple.subject, triple.predicate, value)]
        yield [*triples, ox.Triple(triple.subject, triple.predicate, ox.Literal("second", language="en"))]


@pytest.mark.parametrize("path", VALID, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_screen_flags_every_mutant_the_reference_refuses_or_warns_about(path, validator, screen):
    refused = missed = reported = unreported = 0
    for mutant in _mutants(_document(path, validator)):
        report = validator.validate(rdfio.to_rdflib(mutant))
        if not report.conforms:
            refused += 1
            missed += not screen.may_violate(mutant)
        if report.results:
            reported += 1
            unreported += not screen.may_report(mutant)
    assert refused > 10  # the mutations do reach the shapes
    assert (missed, unreported) == (0, 0)


def test_validator_screen_returns_the_reference_report_for_a_flagged_document(validator):
    triples = _document(EXAMPLES / "invalid" / "proposal-unknown-status.jsonld", validator)
    report = validator.validate_triples(triples, warnings=False)
    assert not report.conforms
    assert "status" in report.field_errors()


def test_validator_screen_clears_a_conforming_document(validator):
    triples = _document(EXAMPLES / "valid" / "proposal-community-garden.jsonld", validator)
    assert validator.validate_triples(triples, warnings=False).conforms


def test_shapes_beyond_the_compiled_subset_are_refused_and_the_reference_takes_over(validator):
    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix dds: <https://w3id.org/dds/ns#> .
        dds:ClosedShape a sh:NodeShape ; sh:targetClass dds:Proposal ; sh:closed true .
    """, format="turtle")
    with pytest.raises(Unsupported):
        compile_shapes(shapes, (), MAX_BLANK_DEPTH)
    fallback = Validator(shapes, Graph())
    document = [ox.Triple(ox.NamedNode(BASE), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                          ox.NamedNode("https://w3id.org/dds/ns#Proposal")),
                ox.Triple(ox.NamedNode(BASE), ox.NamedNode("http://purl.org/dc/terms/title"), ox.Literal("t"))]
    assert not fallback.validate_triples(document).conforms  # sh:closed, checked by pyshacl


def test_subclass_statements_in_the_data_are_flagged(validator, screen):
    triples = _document(EXAMPLES / "valid" / "proposal-community-garden.jsonld", validator)
    extra = ox.Triple(ox.NamedNode("https://elsewhere.example/C"),
                      ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
                      ox.NamedNode("https://w3id.org/dds/ns#Proposal"))
    assert screen.may_violate([*triples, extra])


def _proposal(validator) -> list[ox.Triple]:
    return _document(EXAMPLES / "valid" / "proposal-community-garden.jsonld", validator)


def test_a_type_written_as_text_is_no_type(validator, screen):
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    triples = [t if t.predicate.value != rdf_type else ox.Triple(t.subject, t.predicate, ox.Literal(t.object.value))
               for t in _proposal(validator)]
    assert not _reference_conforms(validator, triples)
    assert screen.may_violate(triples)


def test_blank_nodes_nested_deeper_than_the_limit_are_flagged(validator, screen):
    subject = next(t.subject for t in _proposal(validator))
    chain = [ox.BlankNode() for _ in range(33)]  # the last one only as an object: 33 levels
    link = ox.NamedNode("https://example.org/next")
    triples = [*_proposal(validator), ox.Triple(subject, link, chain[0]),
               *(ox.Triple(a, link, b) for a, b in itertools.pairwise(chain))]
    assert not _reference_conforms(validator, triples)
    assert screen.may_violate(triples)


def test_a_severity_other_than_warning_or_info_blocks(validator):
    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix dds: <https://w3id.org/dds/ns#> .
        dds:S a sh:NodeShape ; sh:targetClass dds:Proposal ;
            sh:property [ sh:path dds:status ; sh:minCount 1 ; sh:severity dds:Serious ] .
    """, format="turtle")
    screen = compile_shapes(shapes, ("https://w3id.org/dds/ns#Proposal",), MAX_BLANK_DEPTH)
    proposal = [ox.Triple(ox.NamedNode(BASE), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                          ox.NamedNode("https://w3id.org/dds/ns#Proposal"))]
    assert screen.may_violate(proposal)
