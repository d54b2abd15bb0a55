"""Representations built from pyoxigraph triples: compact JSON-LD that expands back to the same triples, and
expanded JSON-LD."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from dds_pod import jsonld, vocab
from dds_pod.ldp.representation import document, expanded, node_object
from dds_pod.vocab import AS, DCTERMS, DDS, DDS_CONTEXT_IRI, PROV, RDF

from .conftest import EXAMPLES

VALID = sorted((EXAMPLES / "valid").glob("*.jsonld"))
BASE = "http://127.0.0.1:8000/bordeaux/proposals/x"
POD = "http://127.0.0.1:8000/bordeaux/"
SUBJECT = ox.NamedNode(POD + "proposals/1")


def to_ox(term: URIRef | BNode | Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    datatype = ox.NamedNode(str(term.datatype)) if term.datatype else None
    return ox.Literal(str(term), language=term.language, datatype=datatype)


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> URIRef | BNode | Literal:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == str(vocab.XSD.string):
        return Literal(term.value)  # as jsonld.to_graph reads a plain string
    return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)


def ox_triples(graph: Graph) -> list[ox.Triple]:
    return [ox.Triple(*map(to_ox, triple)) for triple in graph]


def rdflib_graph(triples: list[ox.Triple]) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add(tuple(map(to_rdflib, triple)))
    return graph


def root_of(triples: list[ox.Triple]) -> ox.NamedNode | ox.BlankNode:
    """The one subject no other subject points to: the node the document describes."""
    referenced = {triple.object for triple in triples if triple.object != triple.subject}
    roots = {triple.subject for triple in triples} - referenced
    assert len(roots) == 1, roots
    return roots.pop()


def compact_graph(triples: list[ox.Triple], subject: ox.NamedNode | ox.BlankNode = SUBJECT) -> Graph:
    return jsonld.to_graph(document(node_object(triples, subject), DDS_CONTEXT_IRI))


def assert_round_trips(triples: list[ox.Triple], subject: ox.NamedNode | ox.BlankNode = SUBJECT) -> None:
    original = rdflib_graph(triples)
    assert isomorphic(compact_graph(triples, subject), original)
    assert isomorphic(jsonld.to_graph(expanded(triples)), original)


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(str(value))


def typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=iri(datatype))


def about(*pairs: tuple[str, ox.NamedNode | ox.BlankNode | ox.Literal]) -> list[ox.Triple]:
    return [ox.Triple(SUBJECT, iri(predicate), value) for predicate, value in pairs]


def load_example(name: str) -> tuple[Graph, list[ox.Triple]]:
    graph = jsonld.to_graph(json.loads((EXAMPLES / "valid" / name).read_text(encoding="utf-8")), base=BASE)
    return graph, ox_triples(graph)


@pytest.mark.parametrize("path", VALID, ids=[path.stem for path in VALID])
def test_every_valid_example_round_trips(path):
    graph, triples = load_example(path.name)
    node = node_object(triples, root_of(triples))
    assert isomorphic(jsonld.to_graph(document(node, DDS_CONTEXT_IRI)), graph)
    assert isomorphic(jsonld.to_graph(expanded(triples)), graph)
    assert "@included" not in node  # the examples' blank nodes are each referenced once, so all are embedded


def test_proposal_uses_the_context_terms():
    _, triples = load_example("proposal-piste-cyclable-victor-hugo.jsonld")
    node = node_object(triples, root_of(triples))
    assert node["@id"] == POD + "proposals/piste-cyclable-victor-hugo"
    assert node["@type"] == "Proposal"
    assert node["title"] == {"fr": "Une piste cyclable protégée cours Victor-Hugo"}
    assert node["status"] == "evaluating"
    assert node["supportCount"] == 212
    assert node["published"] == "2025-03-04T09:12:00Z"
    assert node["author"] == POD + "people/3f9c2a71"
    assert node["location"] == {
        "@type": "Place",
        "latitude": "44.8337",
        "longitude": "-0.5716",
        "name": "Cours Victor-Hugo, Bordeaux",
    }
    keys = list(node)
    assert keys[:2] == ["@id", "@type"]
    assert keys[2:] == sorted(keys[2:])
    assert not any(":" in key for key in keys)


def test_output_does_not_depend_on_triple_order():
    _, triples = load_example("result-piste-cyclable.jsonld")
    root = root_of(triples)
    assert node_object(triples, root) == node_object(triples[::-1], root)
    assert expanded(triples) == expanded(triples[::-1])


def test_several_types_and_types_without_a_term():
    triples = about((RDF.type, iri(DDS.Proposal)), (RDF.type, iri(AS.Note)), (RDF.type, iri("http://example.org/C")),
                    (RDF.type, iri(DDS.Unnamed)))
    assert node_object(triples, SUBJECT)["@type"] == ["Proposal", "as:Note", "dds:Unnamed", "http://example.org/C"]
    assert_round_trips(triples)


def test_untagged_title_goes_under_none_in_the_language_map():
    triples = about((DCTERMS.title, ox.Literal("Bancs")), (DCTERMS.title, ox.Literal("Des bancs", language="fr")))
    assert node_object(triples, SUBJECT)["title"] == {"@none": "Bancs", "fr": "Des bancs"}
    assert_round_trips(triples)
    alone = triples[:1]
    assert node_object(alone, SUBJECT)["title"] == {"@none": "Bancs"}
    assert_round_trips(alone)


def test_two_titles_in_one_language_fall_back_to_the_iri_key():
    triples = about((DCTERMS.title, ox.Literal("Bancs", language="fr")),
                    (DCTERMS.title, ox.Literal("Des bancs", language="fr")),
                    (DCTERMS.title, ox.Literal("Benches", language="en")))
    node = node_object(triples, SUBJECT)
    assert "title" not in node
    assert node["dcterms:title"] == [
        {"@language": "en", "@value": "Benches"},
        {"@language": "fr", "@value": "Bancs"},
        {"@language": "fr", "@value": "Des bancs"},
    ]
    assert_round_trips(triples)


def test_values_that_do_not_fit_a_language_map_fall_back_alone():
    triples = about((AS.content, ox.Literal("Texte", language="fr")), (AS.content, iri("http://example.org/doc")),
                    (AS.content, typed("<p/>", RDF.HTML)))
    node = node_object(triples, SUBJECT)
    assert node["content"] == {"fr": "Texte"}
    assert node["as:content"] == [{"@id": "http://example.org/doc"},
                                  {"@type": "http://www.w3.org/1999/02/22-rdf-syntax-ns#HTML", "@value": "<p/>"}]
    assert_round_trips(triples)


def test_literal_of_another_datatype_falls_back_beside_the_fitting_one():
    triples = about((AS.published, typed("2025-03-04T09:12:00Z", vocab.XSD.dateTime)),
                    (AS.published, typed("2025-03-04", vocab.XSD.date)))
    node = node_object(triples, SUBJECT)
    assert node["published"] == "2025-03-04T09:12:00Z"
    assert node["as:published"] == {"@value": "2025-03-04", "@type": "xsd:date"}
    assert_round_trips(triples)


def test_iri_where_a_literal_is_expected_and_literal_where_an_iri_is_expected():
    triples = about((AS.published, iri("http://example.org/when")), (AS.attributedTo, ox.Literal("Anonyme")),
                    (DDS.status, ox.Literal("evaluating")), (DDS.supportCount, ox.Literal("many")))
    node = node_object(triples, SUBJECT)
    assert node["as:published"] == {"@id": "http://example.org/when"}
    assert node["as:attributedTo"] == "Anonyme"
    assert node["dds:status"] == "evaluating"
    assert node["dds:supportCount"] == "many"
    assert not {"published", "author", "status", "supportCount"} & set(node)
    assert_round_trips(triples)


def test_only_canonical_integers_become_json_numbers():
    integer, decimal = vocab.XSD.integer, vocab.XSD.decimal
    triples = about((DDS.supportCount, typed("+07", integer)), (DDS.likeCount, typed("-3", integer)),
                    (DDS.dislikeCount, typed("0", integer)), (AS.latitude, typed("44.80", decimal)),
                    (DDS.progress, typed("60", decimal)))
    node = node_object(triples, SUBJECT)
    assert (node["supportCount"], node["likeCount"], node["dislikeCount"]) == ("+07", -3, 0)
    assert (node["latitude"], node["progress"]) == ("44.80", "60")
    assert_round_trips(triples)


def test_vocab_values_are_terms_vocab_names_or_compact_iris():
    triples = about((DDS.status, iri(DDS.accepted)), (DDS.stance, iri(DDS.title)), (PROV.hadRole, iri(DDS.Proposal)),
                    (AS.formerType, iri(AS.Note)), (DDS.status, iri("http://example.org/state")))
    node = node_object(triples, SUBJECT)
    assert node["status"] == ["accepted", "http://example.org/state"]
    assert node["stance"] == "dds:title"  # "title" would expand to dcterms:title
    assert node["role"] == "Proposal"
    assert node["formerType"] == "as:Note"
    assert_round_trips(triples)


def test_plain_terms_keep_non_string_literals_as_value_objects():
    triples = about((AS.name, ox.Literal("Bancs")), (AS.name, ox.Literal("Benches", language="en")),
                    (DCTERMS.identifier, typed("42", vocab.XSD.integer)))
    node = node_object(triples, SUBJECT)
    assert node["name"] == ["Bancs", {"@language": "en", "@value": "Benches"}]
    assert node["identifier"] == {"@value": "42", "@type": "xsd:integer"}
    assert_round_trips(triples)


def test_unknown_predicates_use_compact_or_full_iris():
    triples = about(("http://example.org/p", iri("http://example.org/o")), ("http://example.org/p", ox.Literal("x")),
                    ("http://example.org/q", typed("1", "http://example.org/dt")), (DDS.foo, ox.Literal("bar")))
    node = node_object(triples, SUBJECT)
    assert node["http://example.org/p"] == ["x", {"@id": "http://example.org/o"}]
    assert node["http://example.org/q"] == {"@value": "1", "@type": "http://example.org/dt"}
    assert node["dds:foo"] == "bar"
    assert_round_trips(triples)


def test_blank_node_types_and_literal_types_use_the_full_rdf_type_key():
    kind = ox.BlankNode("kind")
    triples = [*about((RDF.type, iri(DDS.Proposal)), (RDF.type, kind), (RDF.type, ox.Literal("odd"))),
               ox.Triple(kind, iri(AS.name), ox.Literal("anonymous class"))]
    node = node_object(triples, SUBJECT)
    assert node["@type"] == "Proposal"
    assert node[str(RDF.type)] == ["odd", {"name": "anonymous class"}]
    assert_round_trips(triples)


def test_shared_and_cyclic_blank_nodes_go_to_included():
    shared, loop, dangling = ox.BlankNode("shared"), ox.BlankNode("loop"), ox.BlankNode("dangling")
    triples = [
        *about((AS.location, shared), (DCTERMS.spatial, shared), (PROV.qualifiedInfluence, loop),
               ("http://example.org/p", dangling)),
        ox.Triple(shared, iri(RDF.type), iri(AS.Place)),
        ox.Triple(loop, iri(PROV.influencer), SUBJECT),
        ox.Triple(loop, iri("http://example.org/next"), loop),
        ox.Triple(iri("http://example.org/other"), iri(AS.location), shared),  # ignored, but counts as a reference
    ]
    node = node_object(triples, SUBJECT)
    assert node["location"] == node["spatial"] == {"@id": "_:shared"}
    assert node["influence"] == {"@id": "_:loop"}
    assert node["http://example.org/p"] == {}  # a blank node without properties, still a distinct node
    assert node["@included"] == [
        {"@id": "_:loop", "influencer": SUBJECT.value, "http://example.org/next": {"@id": "_:loop"}},
        {"@id": "_:shared", "@type": "Place"},
    ]
    assert list(node)[-1] == "@included"
    assert_round_trips(triples[:-1])


def test_blank_root_pointed_back_to_is_not_included_twice():
    root, child = ox.BlankNode("root"), ox.BlankNode("child")
    triples = [ox.Triple(root, iri(RDF.type), iri(DDS.Support)), ox.Triple(root, iri(PROV.qualifiedInfluence), child),
               ox.Triple(child, iri(PROV.influencer), root)]
    node = node_object(triples, root)
    assert node == {"@id": "_:root", "@type": "Support", "influence": {"influencer": {"@id": "_:root"}}}
    assert_round_trips(triples, root)


def test_triples_about_other_iris_are_ignored():
    triples = [*about((DCTERMS.title, ox.Literal("Bancs", language="fr"))),
               ox.Triple(iri(POD + "proposals/2"), iri(DCTERMS.title), ox.Literal("Autre", language="fr"))]
    assert node_object(triples, SUBJECT) == {"@id": SUBJECT.value, "title": {"fr": "Bancs"}}


def test_base_direction_is_kept_and_keeps_the_value_out_of_the_language_map():
    triples = about((DCTERMS.title, ox.Literal("مقعد", language="ar", direction=ox.BaseDirection.RTL)))
    assert node_object(triples, SUBJECT)["dcterms:title"] == {"@value": "مقعد", "@language": "ar",
                                                               "@direction": "rtl"}


def test_an_iri_the_context_would_misread_is_refused():
    triples = about((AS.url, iri("geo:44.8337,-0.5716")))
    with pytest.raises(ValueError, match="compact IRI"):
        node_object(triples, SUBJECT)
    assert expanded(triples)[0][str(AS.url)] == [{"@id": "geo:44.8337,-0.5716"}]


def test_expanded_shape():
    triples = about((RDF.type, iri(DDS.Proposal)), (DCTERMS.identifier, ox.Literal("P-1")),
                    (DCTERMS.title, ox.Literal("Bancs", language="fr")),
                    (DDS.supportCount, typed("3", vocab.XSD.integer)))
    assert expanded(triples) == [{
        "@id": SUBJECT.value,
        "@type": [str(DDS.Proposal)],
        str(DCTERMS.identifier): [{"@value": "P-1"}],
        str(DCTERMS.title): [{"@value": "Bancs", "@language": "fr"}],
        str(DDS.supportCount): [{"@value": "3", "@type": str(vocab.XSD.integer)}],
    }]
