"""The ontology, context and shapes are consistent with each other and with SHACL itself."""

from __future__ import annotations

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection

from dds_pod import jsonld, standard
from dds_pod.vocab import DCTERMS, DDS, OWL, RDF, RDFS, SH

CORE_CLASSES = [
    "Platform", "ParticipatorySpace", "Contribution", "Proposal", "Amendment", "Debate", "Comment",
    "BudgetProject", "Meeting", "Result", "Decision", "Support",
]


def test_shapes_pass_shacl_shacl():
    conforms, _, text = shacl_validate(Graph(), shacl_graph=standard.shapes_graph(), meta_shacl=True)
    assert conforms, text


def test_ontology_header_has_version_and_licence():
    onto = standard.ontology_graph()
    header = URIRef("https://w3id.org/dds/ns")
    assert (header, RDF.type, OWL.Ontology) in onto
    assert onto.value(header, OWL.versionIRI) is not None
    assert onto.value(header, OWL.versionInfo) is not None
    assert onto.value(header, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by-sa/4.0/")


def test_every_dds_class_and_property_is_labelled_and_defined_in_english_and_french():
    onto = standard.ontology_graph()
    defined = {s for s in onto.subjects(RDF.type, None) if isinstance(s, URIRef) and s.startswith(DDS)}
    terms = {s for s in defined if (s, RDF.type, OWL.Class) in onto
             or any((s, RDF.type, t) in onto for t in (OWL.ObjectProperty, OWL.DatatypeProperty))}
    assert {DDS[name] for name in CORE_CLASSES} <= terms
    for term in terms:
        for predicate in (RDFS.label, RDFS.comment):
            languages = {o.language for o in onto.objects(term, predicate) if isinstance(o, Literal)}
            assert {"en", "fr"} <= languages, f"{term} lacks an en/fr {predicate}"


def _terms_used_by_shapes(shapes: Graph) -> set[URIRef]:
    used: set[URIRef] = set()
    for predicate in (SH.path, SH.targetClass, SH.targetSubjectsOf, SH["class"]):
        used |= {o for o in shapes.objects(None, predicate) if isinstance(o, URIRef)}
    for head in shapes.objects(None, SH["in"]):
        used |= {o for o in Collection(shapes, head) if isinstance(o, URIRef)}
    return used


def test_every_term_the_shapes_use_is_declared_by_the_ontology():
    onto = standard.ontology_graph()
    declared = set(onto.subjects(RDF.type, None))
    missing = {t for t in _terms_used_by_shapes(standard.shapes_graph()) if t not in declared}
    assert not missing, f"terms used by the shapes but not declared: {sorted(missing)}"


def test_every_constraint_has_a_message_in_english_and_french():
    shapes = standard.shapes_graph()
    constraint_holders = {s for s in shapes.subjects(SH.path, None)} | set(shapes.subjects(RDF.type, SH.NodeShape))
    for shape in constraint_holders:
        constraints = {p for p in shapes.predicates(shape) if p.startswith(SH) and p not in (
            SH.path, SH.targetClass, SH.targetSubjectsOf, SH.property, SH.message, SH.severity, SH.name)}
        if shape in set(shapes.objects(None, SH["or"])) or not constraints:
            continue
        if _inside_logical_list(shapes, shape):
            continue
        languages = {m.language for m in shapes.objects(shape, SH.message)}
        assert {"en", "fr"} <= languages, f"shape {shape} has constraints {constraints} without en/fr messages"


def _inside_logical_list(shapes: Graph, node) -> bool:
    for head in shapes.objects(None, SH["or"]):
        if node in Collection(shapes, head):
            return True
    return any(node in set(shapes.objects(member, SH.property))
               for head in shapes.objects(None, SH["or"]) for member in Collection(shapes, head))


def test_warnings_are_used_for_advice_only():
    shapes = standard.shapes_graph()
    warned = {shapes.value(s, SH.path) for s in shapes.subjects(SH.severity, SH.Warning)}
    assert warned, "no advisory constraint at all"
    for shape in shapes.subjects(SH.severity, SH.Warning):
        assert (shape, SH.minCount, None) in shapes, "only the presence of advisable fields is a warning"


def test_every_context_key_expands_to_a_declared_term():
    onto = standard.ontology_graph()
    declared = set(onto.subjects(RDF.type, None))
    ldp = "http://www.w3.org/ns/ldp#"
    for iri, key in standard.term_names().items():
        if iri.startswith(ldp):
            continue
        assert iri in declared, f"context key {key!r} maps to {iri}, which the ontology does not declare"


def test_context_gives_short_keys_a_publisher_expects():
    context = standard.context_document()["@context"]
    for key in ("title", "content", "author", "published", "inReplyTo", "space", "topic", "location", "status"):
        assert key in context


def test_status_values_expand_to_the_skos_scheme():
    doc = {"@context": "https://w3id.org/dds/context.jsonld", "@id": "http://x/p", "status": "accepted",
           "stance": "against", "influence": {"role": "merged"}}
    graph = jsonld.to_graph(doc)
    onto = standard.ontology_graph()
    for concept in (graph.value(URIRef("http://x/p"), DDS.status), graph.value(URIRef("http://x/p"), DDS.stance)):
        assert (concept, URIRef("http://www.w3.org/2004/02/skos/core#inScheme"), None) in onto
