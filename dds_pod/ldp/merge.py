"""Merge-patch semantics for JSON-LD PATCH bodies (what Startin'blox forms send).

Only the properties the patch names change: each replaces all values of that property, except
language maps, where a patch in one language leaves the other languages alone, as a JSON merge
patch of ``{"title": {"en": ...}}`` would.
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from ..rdfio import to_oxigraph, to_rdflib
from ..terms import named
from .intake import language_mapped
from .resources import name_root


def merge_patch(current: Graph, patch: Graph, subject: URIRef, removed: set[URIRef]) -> Graph:
    """The state after applying ``patch`` (already parsed against the resource IRI) to ``current``."""
    patch = to_rdflib(name_root(to_oxigraph(patch), named(subject)))
    result = Graph()
    result += current
    for predicate in removed:
        _drop_values(result, subject, predicate, language=None)
    for node in {s for s in patch.subjects() if not isinstance(s, BNode)}:
        for predicate in set(patch.predicates(node)):
            languages = {o.language for o in patch.objects(node, predicate) if isinstance(o, Literal)}
            if predicate in language_mapped() and None not in languages:
                for language in languages:
                    _drop_values(result, node, predicate, language=language)
            else:
                _drop_values(result, node, predicate, language=None)
    result += patch
    return result


def _drop_values(graph: Graph, subject: Node, predicate: URIRef, language: str | None) -> None:
    for value in list(graph.objects(subject, predicate)):
        if language is not None and (not isinstance(value, Literal) or value.language != language):
            continue
        graph.remove((subject, predicate, value))
        if isinstance(value, BNode) and (None, None, value) not in graph:
            _drop_tree(graph, value)


def _drop_tree(graph: Graph, node: BNode) -> None:
    for _, predicate, value in list(graph.triples((node, None, None))):
        graph.remove((node, predicate, value))
        if isinstance(value, BNode) and (None, None, value) not in graph:
            _drop_tree(graph, value)
