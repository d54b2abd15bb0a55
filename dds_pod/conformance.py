"""A compiled screen of documents against the shapes, so that bulk writes need not run pyshacl on each.

pyshacl, the reference validator (:mod:`dds_pod.validation`), costs milliseconds per document even
in one merged run, which would cap a bulk import at a few hundred documents a second. This module
compiles the shapes graph once into plain Python checks over pyoxigraph triples and answers one
question per document: *might* it break a Violation-level constraint (or, for writes that report
warnings too, any constraint)?

The screen errs on one side only. Whatever the reference would refuse, it flags; where its own
reading of a value is narrower than rdflib's (strict XSD lexical forms, numbers compared only when
both are integers or decimals, any ``rdfs:subClassOf`` in the data), it flags too. A flagged
document then goes to pyshacl, whose report decides and explains. So the screen only ever saves
the reference's work on documents that conform; tests hold it to that on every example and on
systematic mutations of them.

It knows the SHACL Core subset the DDS shapes use. Shapes using anything else make
:func:`compile_shapes` raise :class:`Unsupported`, and the caller validates with pyshacl alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from .terms import Statement
from .vocab import DDS, RDF, RDFS, SERVER_MANAGED, SH, XSD

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Index = dict[Term, dict[str, list[Term]]]
ValueCheck = Callable[[Term, Index], bool]

# The only SHACL terms a shape may use here; annotations outside the sh: namespace are ignored.
SUPPORTED = frozenset(SH[name] for name in (
    "targetClass", "targetSubjectsOf", "property", "path", "severity", "message", "name", "description",
    "order", "group", "minCount", "maxCount", "datatype", "nodeKind", "pattern", "maxLength",
    "minInclusive", "maxInclusive", "in", "node", "or", "uniqueLang",
))
RDF_TYPE = str(RDF.type)
SUBCLASS_OF = str(RDFS.subClassOf)
LANG_STRING = str(RDF.langString)
XSD_STRING = str(XSD.string)
NO_VALUES: dict[str, list[Term]] = {}

_ZONE = r"(Z|[+-][0-9]{2}:[0-9]{2})?"
_DATE_TIME = re.compile(r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?" + _ZONE)
_DATE = re.compile(r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}" + _ZONE)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


class Unsupported(Exception):
    """The shapes use a SHACL feature this screen does not compile."""


def _parses(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _date_time_form(text: str) -> bool:
    return bool(_DATE_TIME.fullmatch(text)) and _parses(datetime.fromisoformat, text)


def _date_form(text: str) -> bool:
    return bool(_DATE.fullmatch(text)) and _parses(date.fromisoformat, text[:10])


# Lexical forms accepted without a second thought; any other datatype is checked only by IRI.
LEXICAL_FORMS: dict[str, Callable[[str], bool]] = {
    str(XSD.dateTime): _date_time_form,
    str(XSD.date): _date_form,
    str(XSD.integer): lambda text: bool(_INTEGER.fullmatch(text)),
    str(XSD.decimal): lambda text: bool(_DECIMAL.fullmatch(text)),
}
NUMERIC = frozenset((str(XSD.integer), str(XSD.decimal)))


@dataclass
class Shape:
    """One compiled node or property shape (``path`` set for a property shape)."""

    blocking: bool
    path: str | None = None
    min_count: int = 0
    max_count: int | None = None
    unique_lang: bool = False
    server_managed: bool = False
    value_checks: list[ValueCheck] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)

    def violated(self, focus: Term, index: Index, strict: bool) -> bool:
        """Whether ``focus`` may break this shape. ``strict`` (inside sh:node and sh:or) counts every
        severity, as conformance to a shape does; otherwise only Violations count."""
        # Plain loops: this runs some twenty times per document on the bulk path.
        if strict or self.blocking:
            if self.path is None:
                values: Sequence[Term] = (focus,)
            else:
                values = index.get(focus, NO_VALUES).get(self.path, ())
                if self._counts_wrong(values, strict):
                    return True
            for check in self.value_checks:
                for value in values:
                    if not check(value, index):
                        return True
        for child in self.properties:  # noqa: SIM110 (a generator here costs the screen dearly)
            if child.violated(focus, index, strict):
                return True
        return False

    def _counts_wrong(self, values: Sequence[Term], strict: bool) -> bool:
        count = len(values)
        if count < self.min_count and not (count == 0 and self.server_managed and not strict):
            return True
        if self.max_count is not None and count > self.max_count:
            return True
        if self.unique_lang:
            tags = [v.language.lower() for v in values if isinstance(v, ox.Literal) and v.language]
            return len(tags) != len(set(tags))
        return False


@dataclass
class Screen:
    """The compiled shapes with their targets, plus the ontology checks the reference adds."""

    by_class: dict[str, list[Shape]]
    by_subject_of: dict[str, list[Shape]]
    known_terms: frozenset[str]
    namespace: str
    max_blank_depth: int  # the reference's limit; with no more blank nodes than that, none nest deeper

    def may_violate(self, triples: Iterable[Statement]) -> bool:
        """True when the reference validator might find a blocking result in this document."""
        return self._flags(triples, every_severity=False)

    def may_report(self, triples: Iterable[Statement]) -> bool:
        """True when the reference validator might report anything at all, warnings included."""
        return self._flags(triples, every_severity=True)

    def _flags(self, triples: Iterable[Statement], every_severity: bool) -> bool:
        index: Index = {}
        typed = False
        blank_nodes = set()
        for triple in set(triples):
            subject, predicate, obj = triple.subject, triple.predicate.value, triple.object
            if isinstance(subject, ox.Triple) or isinstance(obj, ox.Triple):
                return True  # a triple term: no compiled check reads one, so the reference decides
            if predicate.startswith(self.namespace) and predicate not in self.known_terms:
                return True
            if predicate == RDF_TYPE:
                if obj.value.startswith(self.namespace) and obj.value not in self.known_terms:
                    return True
                typed = typed or (isinstance(obj, ox.NamedNode) and obj.value in self.by_class)
            elif predicate == SUBCLASS_OF:
                return True
            if isinstance(subject, ox.BlankNode):
                blank_nodes.add(subject)
            if isinstance(obj, ox.BlankNode):
                blank_nodes.add(obj)
            index.setdefault(subject, {}).setdefault(predicate, []).append(obj)
        if not typed or len(blank_nodes) > self.max_blank_depth:
            return True
        return any(shape.violated(focus, index, strict=every_severity) for focus, shape in self._targets(index))

    def _targets(self, index: Index) -> Iterable[tuple[Term, Shape]]:
        for focus, properties in index.items():
            for cls in properties.get(RDF_TYPE, ()):
                if isinstance(cls, ox.NamedNode):
                    for shape in self.by_class.get(cls.value, ()):
                        yield focus, shape
            for predicate in properties:
                for shape in self.by_subject_of.get(predicate, ()):
                    yield focus, shape


def compile_shapes(shapes: Graph, known_terms: Iterable[str], max_blank_depth: int) -> Screen:
    """Compile the shapes graph; raises :class:`Unsupported` if it uses features not handled here."""
    compiler = _Compiler(shapes)
    by_class: dict[str, list[Shape]] = {}
    by_subject_of: dict[str, list[Shape]] = {}
    for shape_node, target in shapes.subject_objects(SH.targetClass):
        by_class.setdefault(str(target), []).append(compiler.shape(shape_node))
    for shape_node, target in shapes.subject_objects(SH.targetSubjectsOf):
        by_subject_of.setdefault(str(target), []).append(compiler.shape(shape_node))
    return Screen(by_class, by_subject_of, frozenset(known_terms), str(DDS), max_blank_depth)


class _Compiler:
    def __init__(self, shapes: Graph) -> None:
        self.graph = shapes
        self.compiled: dict[Node, Shape] = {}
        self._refuse_unsupported()

    def _refuse_unsupported(self) -> None:
        for _, predicate, _ in self.graph:
            if str(predicate).startswith(str(SH)) and predicate not in SUPPORTED:
                raise Unsupported(f"{predicate} is not compiled")
        for kind in (RDFS.Class, SH.NodeShape, SH.PropertyShape):
            for node in self.graph.subjects(RDF.type, kind):
                if kind == RDFS.Class or (node, RDF.type, RDFS.Class) in self.graph:
                    raise Unsupported(f"{node} is both a shape and a class (implicit targets)")

    def shape(self, node: Node) -> Shape:
        if node in self.compiled:
            return self.compiled[node]
        graph = self.graph
        # As the reference reads results: any severity but Warning and Info blocks.
        severity = graph.value(node, SH.severity, default=SH.Violation)
        compiled = Shape(blocking=severity not in (SH.Warning, SH.Info))
        self.compiled[node] = compiled  # before the children: shapes may refer to each other
        path = graph.value(node, SH.path)
        if path is not None:
            if not isinstance(path, URIRef):
                raise Unsupported(f"only IRI paths are compiled, not {path}")
            compiled.path = str(path)
            compiled.server_managed = path in SERVER_MANAGED
        minimum = self._literal(node, SH.minCount)
        compiled.min_count = 0 if minimum is None else int(minimum)
        maximum = self._literal(node, SH.maxCount)
        compiled.max_count = None if maximum is None else int(maximum)
        unique_lang = self._literal(node, SH.uniqueLang)
        compiled.unique_lang = unique_lang is not None and bool(unique_lang.toPython())
        compiled.value_checks = list(self._value_checks(node))
        compiled.properties = [self.shape(child) for child in graph.objects(node, SH.property)]
        return compiled

    def _literal(self, node: Node, parameter: URIRef) -> Literal | None:
        value = self.graph.value(node, parameter)
        if value is not None and not isinstance(value, Literal):
            raise Unsupported(f"{parameter} of {node} is not a literal")
        return value

    def _value_checks(self, node: Node) -> Iterable[ValueCheck]:
        graph = self.graph
        for datatype in graph.objects(node, SH.datatype):
            yield _datatype_check(str(datatype))
        for kind in graph.objects(node, SH.nodeKind):
            yield _node_kind_check(kind)
        for pattern in graph.objects(node, SH.pattern):
            yield _pattern_check(re.compile(str(pattern)))
        for maximum in graph.objects(node, SH.maxLength):
            if not isinstance(maximum, Literal):
                raise Unsupported(f"sh:maxLength {maximum} is not a literal")
            yield _max_length_check(int(maximum))
        for bound in graph.objects(node, SH.minInclusive):
            yield _bound_check(bound, lower=True)
        for bound in graph.objects(node, SH.maxInclusive):
            yield _bound_check(bound, lower=False)
        for members in graph.objects(node, SH["in"]):
            yield _in_check(frozenset(_oxigraph(m) for m in Collection(graph, members)))
        for other in graph.objects(node, SH.node):
            yield _node_check(self.shape(other))
        for alternatives in graph.objects(node, SH["or"]):
            yield _or_check([self.shape(s) for s in Collection(graph, alternatives)])


def _datatype_check(datatype: str) -> ValueCheck:
    if datatype == LANG_STRING:
        return lambda v, _: isinstance(v, ox.Literal) and bool(v.language)
    if datatype == XSD_STRING:
        return lambda v, _: isinstance(v, ox.Literal) and not v.language and v.datatype.value == XSD_STRING
    form = LEXICAL_FORMS.get(datatype)
    if form is None and datatype.startswith(str(XSD)):
        return lambda v, _: False  # a type rdflib parses but this screen does not: let the reference decide
    return lambda v, _: (isinstance(v, ox.Literal) and v.datatype.value == datatype
                         and (form is None or form(v.value)))


def _node_kind_check(kind: Node) -> ValueCheck:
    kinds: dict[Node, tuple[type, ...]] = {
        SH.IRI: (ox.NamedNode,), SH.BlankNode: (ox.BlankNode,), SH.Literal: (ox.Literal,),
        SH.BlankNodeOrIRI: (ox.NamedNode, ox.BlankNode), SH.BlankNodeOrLiteral: (ox.BlankNode, ox.Literal),
        SH.IRIOrLiteral: (ox.NamedNode, ox.Literal),
    }
    allowed = kinds.get(kind)
    if allowed is None:
        raise Unsupported(f"unknown node kind {kind}")
    return lambda v, _: isinstance(v, allowed)


def _pattern_check(pattern: re.Pattern) -> ValueCheck:
    return lambda v, _: not isinstance(v, ox.BlankNode) and pattern.search(v.value) is not None


def _max_length_check(maximum: int) -> ValueCheck:
    return lambda v, _: not isinstance(v, ox.BlankNode) and len(v.value) <= maximum


def _bound_check(bound: Node, lower: bool) -> ValueCheck:
    if not isinstance(bound, Literal) or str(bound.datatype) not in NUMERIC:
        raise Unsupported(f"only integer and decimal bounds are compiled, not {bound!r}")
    limit = Decimal(str(bound))

    def check(value: Term, _: Index) -> bool:
        if not isinstance(value, ox.Literal) or value.datatype.value not in NUMERIC \
                or not LEXICAL_FORMS[value.datatype.value](value.value):
            return False
        try:
            number = Decimal(value.value)
        except InvalidOperation:
            return False
        return number >= limit if lower else number <= limit

    return check


def _in_check(members: frozenset[Term]) -> ValueCheck:
    return lambda v, _: v in members


def _node_check(shape: Shape) -> ValueCheck:
    return lambda v, index: not shape.violated(v, index, strict=True)


def _or_check(shapes: Sequence[Shape]) -> ValueCheck:
    return lambda v, index: any(not shape.violated(v, index, strict=True) for shape in shapes)


def _oxigraph(term: Node) -> Term:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        raise Unsupported("blank nodes in sh:in lists are not compiled")
    if not isinstance(term, Literal):
        raise Unsupported(f"only IRIs and literals in sh:in lists are compiled, not {term!r}")
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))
