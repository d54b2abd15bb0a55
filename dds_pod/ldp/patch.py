"""The new state of a resource after a PATCH, computed without touching any store.

Two patch languages are accepted: SPARQL 1.1 Update (``application/sparql-update``) limited to the resource's own
graph, and the Solid Protocol's N3 Patch (``text/n3``). Both take the resource's triples and return the new triples;
the caller validates them against the shapes and stores them atomically, so a patch that fails changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef, Variable
from rdflib.graph import QuotedGraph
from rdflib.term import Node

from .. import sandbox
from ..errors import BadDocument, Conflict
from ..sparql_checks import Refused, Unparsable, check_resource_update
from ..terms import in_memory, value_of
from ..vocab import RDF

SOLID = Namespace("http://www.w3.org/ns/solid/terms#")

# What the update of one resource may take: it runs on that resource's triples alone.
UPDATE_LIMITS = sandbox.Limits(timeout_s=10.0, memory_mb=256, max_output_bytes=64 * 1024 * 1024)

# A triple pattern as rdflib's N3 parser reads it, once checked
N3Pattern = tuple[URIRef | BNode | Variable, URIRef | Variable, URIRef | BNode | Literal | Variable]
Term = ox.NamedNode | ox.BlankNode | ox.Literal
Pattern = tuple[Term | ox.Variable, Term | ox.Variable, Term | ox.Variable]


def apply_sparql_update(triples: Sequence[ox.Triple], update: str, resource_iri: str) -> list[ox.Triple]:
    """Apply a SPARQL 1.1 Update (media type application/sparql-update) to the resource's triples.

    The update is checked on its parsed form and applied in a sandboxed child without network access:
    pyoxigraph would fetch the IRI of a LOAD, or call the server of a SERVICE, if its reading of the text
    ever differed from the checker's; and parsing a large update takes long enough to need a time limit.
    """
    work = functools.partial(_updated, triples, update, resource_iri)
    try:
        updated = sandbox.run(work, UPDATE_LIMITS, errors=(BadDocument,))
    except sandbox.OverTime:
        raise sandbox.OverTime(f"the SPARQL Update could not be applied within {UPDATE_LIMITS.timeout_s:g} s; "
                               "send a smaller one") from None
    after = ox.parse(updated, format=ox.RdfFormat.N_TRIPLES)
    return _checked_result(triples, [quad.triple for quad in after], resource_iri)


def _updated(triples: Sequence[ox.Triple], update: str, resource_iri: str) -> bytes:
    """The resource's triples after the update, in N-Triples (which keeps blank node labels)."""
    try:
        check_resource_update(update)
    except Unparsable as exc:
        raise BadDocument(f"invalid SPARQL Update: {exc}") from None
    except Refused as exc:
        raise BadDocument(f"{exc.keyword} is not allowed in a PATCH: an update may only change the resource's "
                          "own triples") from None
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    try:
        store.update(update, base_iri=resource_iri)
    except (SyntaxError, ValueError) as exc:
        raise BadDocument(f"invalid SPARQL Update: {exc}") from None
    after = [q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())]
    return in_memory(ox.serialize(after, format=ox.RdfFormat.N_TRIPLES))


def apply_n3_patch(triples: Sequence[ox.Triple], patch: str, resource_iri: str) -> list[ox.Triple]:
    """Apply a Solid N3 Patch (media type text/n3) to the resource's triples."""
    where, inserts, deletes = _read_n3_patch(patch, resource_iri)
    binding = _single_binding(triples, where)
    removed = {_instantiate(p, binding) for p in deletes}
    absent = removed.difference(triples)
    if absent:
        raise Conflict(f"cannot delete triples the resource does not contain: {_describe(absent)}")
    added = [_instantiate(p, binding) for p in inserts]
    kept = [t for t in triples if t not in removed]
    return _checked_result(triples, kept + added, resource_iri)


def _checked_result(before: Sequence[ox.Triple], after: Iterable[ox.Triple], resource_iri: str) -> list[ox.Triple]:
    """The new triples, surviving ones in their original order then the new ones, so a small patch diffs small."""
    after = list(dict.fromkeys(after))
    after_set = set(after)
    kept = [t for t in dict.fromkeys(before) if t in after_set]
    kept_set = set(kept)
    result = kept + [t for t in after if t not in kept_set]
    for triple in result:
        _check_subject(triple.subject, resource_iri)
    return result


def _describe(triples: Iterable[ox.Triple], limit: int = 3) -> str:
    listed = sorted(str(t) for t in triples)
    more = f" and {len(listed) - limit} more" if len(listed) > limit else ""
    return "; ".join(listed[:limit]) + more


def _check_subject(subject: ox.NamedNode | ox.BlankNode | ox.Triple, resource_iri: str) -> None:
    """A resource describes itself and its fragments; statements about other IRIs belong to other resources."""
    if isinstance(subject, ox.BlankNode):
        return
    iri = value_of(subject)
    if iri != resource_iri and not iri.startswith(resource_iri + "#"):
        raise BadDocument(f"a PATCH may only change the resource itself: <{iri}>")


def _read_n3_patch(patch: str, resource_iri: str) -> tuple[list[Pattern], list[Pattern], list[Pattern]]:
    """The where, inserts and deletes patterns of the single solid:InsertDeletePatch, checked as the protocol asks.

    rdflib's N3 parser reads the patch; its terms become pyoxigraph terms here, once: variables renamed (N3 allows
    names SPARQL does not), blank nodes fresh for this patch so they never merge with stored data."""
    graph = Graph()
    try:
        graph.parse(data=patch, format="n3", publicID=resource_iri)
    except Exception as exc:  # rdflib's N3 parser raises BadSyntax, AssertionError, ValueError... on bad input
        raise BadDocument(f"invalid N3 Patch: {exc}") from None
    subjects = set(graph.subjects(RDF.type, SOLID.InsertDeletePatch))
    if len(subjects) != 1:
        raise BadDocument(f"an N3 Patch must have exactly one solid:InsertDeletePatch, this one has {len(subjects)}")
    subject = subjects.pop()
    where, inserts, deletes = (_formula(graph, subject, name) for name in ("where", "inserts", "deletes"))
    for name, patterns in (("where", where), ("deletes", deletes)):
        if any(isinstance(term, BNode) for pattern in patterns for term in pattern):
            raise BadDocument(f"solid:{name} may not contain blank nodes")
    bound = _variables(where)
    for name, patterns in (("inserts", inserts), ("deletes", deletes)):
        unbound = _variables(patterns) - bound
        if unbound:
            names = ", ".join(sorted(f"?{v}" for v in unbound))
            raise BadDocument(f"solid:{name} uses variables that solid:where does not bind: {names}")
    named_variables = sorted(bound | _variables(inserts) | _variables(deletes))
    variables = {v: ox.Variable(f"v{i}") for i, v in enumerate(named_variables)}
    blank_nodes: dict[BNode, ox.BlankNode] = {}

    def converted(patterns: list[N3Pattern]) -> list[Pattern]:
        return [_ox_pattern(p, variables, blank_nodes) for p in patterns]
    return converted(where), converted(inserts), converted(deletes)


def _formula(graph: Graph, patch: Node, name: str) -> list[N3Pattern]:
    values = list(graph.objects(patch, SOLID[name]))
    if len(values) > 1:
        raise BadDocument(f"an N3 Patch may have at most one solid:{name}")
    if not values:
        return []
    if not isinstance(values[0], QuotedGraph):
        raise BadDocument(f"solid:{name} must be a formula {{ ... }}")
    return [_checked_pattern(pattern, name) for pattern in values[0].triples((None, None, None))]


def _checked_pattern(pattern: tuple[Node, Node, Node], name: str) -> N3Pattern:
    """Refuse what cannot become an RDF triple whatever the binding: literal subjects, nested formulae..."""
    subject, predicate, obj = pattern
    if (
        isinstance(subject, URIRef | BNode | Variable)
        and isinstance(predicate, URIRef | Variable)
        and isinstance(obj, URIRef | BNode | Literal | Variable)
    ):
        return subject, predicate, obj
    shown = " ".join(term.n3() for term in pattern)
    raise BadDocument(f"solid:{name} holds something that is not a triple pattern: {shown}")


def _variables(patterns: Iterable[N3Pattern]) -> set[Variable]:
    return {term for pattern in patterns for term in pattern if isinstance(term, Variable)}


def _single_binding(triples: Sequence[ox.Triple], where: list[Pattern]) -> dict[ox.Variable, Term]:
    """The one solution of the where patterns: a patch that matches nothing or is ambiguous must not guess.

    The query stops at two solutions: that is enough to refuse, and a careless pattern cannot enumerate a product.
    """
    if not where:
        return {}
    body = " ".join(f"{s} {p} {o} ." for s, p, o in where)
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    results = store.query(f"SELECT * WHERE {{ {body} }} LIMIT 2")
    if not isinstance(results, ox.QuerySolutions):  # pyoxigraph types the results of every query form alike
        raise TypeError("a SELECT query gave no solutions")
    solutions = list(results)
    if len(solutions) != 1:
        count = "2 or more" if solutions else "0"
        raise Conflict(f"the where clause matched {count} times, it must match exactly once")
    variables = {term for pattern in where for term in pattern if isinstance(term, ox.Variable)}
    return {variable: solutions[0][variable] for variable in variables}


def _instantiate(pattern: Pattern, binding: Mapping[ox.Variable, Term]) -> ox.Triple:
    terms = [binding[t] if isinstance(t, ox.Variable) else t for t in pattern]
    subject, predicate, obj = terms
    if isinstance(subject, ox.NamedNode | ox.BlankNode) and isinstance(predicate, ox.NamedNode):
        return ox.Triple(subject, predicate, obj)
    # Only a binding can get here (patterns were checked): e.g. a variable bound to a literal used as subject.
    raise Conflict(f"the patch does not apply: {' '.join(map(str, terms))} is not an RDF triple")


def _ox_pattern(pattern: N3Pattern, variables: Mapping[Variable, ox.Variable],
                blank_nodes: dict[BNode, ox.BlankNode]) -> Pattern:
    def converted(term: URIRef | BNode | Literal | Variable) -> Term | ox.Variable:
        return variables[term] if isinstance(term, Variable) else _ox_term(term, blank_nodes)
    subject, predicate, obj = pattern
    return converted(subject), converted(predicate), converted(obj)


def _ox_term(term: URIRef | BNode | Literal, blank_nodes: dict[BNode, ox.BlankNode]) -> Term:
    """The pyoxigraph term for an rdflib one."""
    if isinstance(term, URIRef):
        try:
            return ox.NamedNode(str(term))
        except ValueError as exc:
            raise BadDocument(f"invalid IRI in an N3 Patch: {exc}") from None
    if isinstance(term, BNode):
        return blank_nodes.setdefault(term, ox.BlankNode())
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))
