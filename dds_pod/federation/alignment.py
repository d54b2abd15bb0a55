"""Vocabulary alignment: what the ontology's axioms let the federation infer about harvested data.

OWL-RL reasoning (owlrl) runs once, on the ontology alone, to close its class and property
hierarchies (sub-classes, equivalences, sub-properties). Each harvested resource then only gets
the consequences that matter to DDS consumers — the classes and properties the shapes use — by
a lookup per triple, instead of running the reasoner over the merged store on every sync
(``benchmarks/federation.py`` measures both). A member publishing ``opengov:Motion`` or
``schema:Comment`` is thus found by ``?x a dds:Proposal`` / ``dds:Comment``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import owlrl
import pyoxigraph as ox
from rdflib import Graph, URIRef

from .. import standard
from ..vocab import OWL, RDF, RDFS, SH

RDF_TYPE = ox.NamedNode(str(RDF.type))


class Aligner:
    def __init__(self, ontology: Graph, shapes: Graph) -> None:
        closed = Graph()
        closed += ontology
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                               datatype_axioms=False).expand(closed)
        relevant = {o for p in (SH.targetClass, SH.path) for o in shapes.objects(None, p) if isinstance(o, URIRef)}
        self.super_classes = _hierarchy(closed, RDFS.subClassOf, relevant)
        self.super_properties = _hierarchy(closed, RDFS.subPropertyOf, relevant)

    def infer(self, triples: Sequence[ox.Triple]) -> list[ox.Triple]:
        """The triples the alignment axioms add to a resource (none for data already in DDS terms)."""
        present = set(triples)
        inferred: set[ox.Triple] = set()
        for triple in triples:
            if triple.predicate == RDF_TYPE and isinstance(triple.object, ox.NamedNode):
                for cls in self.super_classes.get(triple.object.value, ()):
                    inferred.add(ox.Triple(triple.subject, RDF_TYPE, ox.NamedNode(cls)))
            for prop in self.super_properties.get(triple.predicate.value, ()):
                inferred.add(ox.Triple(triple.subject, ox.NamedNode(prop), triple.object))
        return sorted(inferred - present, key=str)


def _hierarchy(graph: Graph, relation: URIRef, relevant: set[URIRef]) -> dict[str, tuple[str, ...]]:
    """For each term, its distinct ancestors that consumers query, reflexive and vocabulary-level pairs left out."""
    ancestors: dict[str, set[str]] = {}
    for child, parent in graph.subject_objects(relation):
        if child == parent or not isinstance(child, URIRef) or parent not in relevant:
            continue
        if str(child).startswith((str(OWL), str(RDFS), str(RDF))):
            continue
        ancestors.setdefault(str(child), set()).add(str(parent))
    return {child: tuple(sorted(parents)) for child, parents in ancestors.items()}


@cache
def default_aligner() -> Aligner:
    return Aligner(standard.ontology_graph(), standard.shapes_graph())
