"""Checking documents against the DDS shapes.

The shapes graph is parsed and harvested once per :class:`Validator`; each call then only
walks the (small) data graph. Besides SHACL Core, two checks need the ontology rather than
shapes: every ``dds:`` term used must be declared (a misspelt key maps to an unknown term
through the context's ``@vocab``), and a document must type at least one node with a class
the shapes know, or nothing in it would be checked.

pyshacl is the reference. Writes go through :meth:`Validator.validate_triples`, which first asks
the shapes compiled by :mod:`dds_pod.conformance` whether pyshacl could report anything, and runs
pyshacl only when it could.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import pyoxigraph as ox
import pyshacl.shape
from pyshacl import Validator as ShaclValidator
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from pyshacl.graph_abstraction import DataGraph
from pyshacl.shapes_graph import ShapesGraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from . import conformance, rdfio, standard
from .terms import Statement, named
from .vocab import DCTERMS, DDS, RDF, SERVER_MANAGED, SH

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
RDF_TYPE, SOURCE_PLATFORM = named(RDF.type), named(DDS.sourcePlatform)
CREATED, MODIFIED = named(DCTERMS.created), named(DCTERMS.modified)
log = logging.getLogger(__name__)
KNOWN_TERM_COMPONENT = DDS.KnownTermConstraintComponent
TYPED_DOCUMENT_COMPONENT = DDS.TypedDocumentConstraintComponent


class _ParameterList(list):
    """pyshacl tests every predicate of every shape for membership in a plain list of ~40
    constraint parameters, on every run; a set lookup makes validation noticeably cheaper."""

    def __init__(self, items) -> None:
        super().__init__(items)
        self._members = frozenset(items)

    def __contains__(self, item) -> bool:
        return item in self._members


# pyshacl sets this module attribute itself, with setattr on first use, so no type declares it.
pyshacl.shape.CONSTRAINT_PARAMS = (  # type: ignore[attr-defined]
    _ParameterList(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP)


@dataclass(frozen=True)
class ValidationResult:
    """One finding: which node, which property, how serious, and what to do, in English and French."""

    focus: str
    path: str | None
    severity: str
    messages: dict[str, str]
    value: str | None = None
    constraint: str | None = None
    shape: str | None = None
    server_managed: bool = False

    @property
    def blocking(self) -> bool:
        return self.severity == "Violation" and not self.server_managed

    @property
    def field(self) -> str:
        """The JSON key a publisher wrote (``title``), or ``non_field_errors`` for node-level results."""
        return standard.short_name(self.path) if self.path else "non_field_errors"

    def message(self, lang: str = "en") -> str:
        return self.messages.get(lang) or next(iter(self.messages.values()), "")

    def as_json(self) -> dict:
        return {
            "focusNode": self.focus,
            "path": self.path,
            "field": self.field,
            "severity": self.severity,
            "serverManaged": self.server_managed,
            "message": dict(sorted(self.messages.items())),
            "value": self.value,
            "constraint": self.constraint,
            "shape": self.shape,
        }


@dataclass
class Report:
    results: list[ValidationResult] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(r.blocking for r in self.results)

    @property
    def warnings(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Warning"]

    def field_errors(self, lang: str = "en") -> dict[str, list[str]]:
        """Blocking results as DRF-style ``{"field": ["message"]}``, what browser forms display."""
        errors: dict[str, list[str]] = {}
        for result in self.results:
            if result.blocking:
                errors.setdefault(result.field, []).append(result.message(lang))
        return errors

    def as_json(self) -> dict:
        return {"conforms": self.conforms, "results": [r.as_json() for r in self.results]}

    def to_graph(self) -> Graph:
        """The report as a SHACL ``sh:ValidationReport`` graph."""
        graph = Graph()
        graph.bind("sh", SH)
        graph.bind("dds", DDS)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms)))
        for result in self.results:
            node = BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.focusNode, _node(result.focus)))
            severity = SH.Info if result.server_managed else SH[result.severity]
            graph.add((node, SH.resultSeverity, severity))
            if result.path:
                graph.add((node, SH.resultPath, URIRef(result.path)))
            if result.value is not None:
                graph.add((node, SH.value, Literal(result.value)))
            if result.constraint:
                graph.add((node, SH.sourceConstraintComponent, URIRef(result.constraint)))
            if result.shape:
                graph.add((node, SH.sourceShape, _node(result.shape)))
            for lang, text in result.messages.items():
                graph.add((node, SH.resultMessage, Literal(text, lang=lang)))
        return graph


def _index(shapes: Graph, target_predicate: URIRef) -> dict[Node, set[str]]:
    index: dict[Node, set[str]] = {}
    for shape, target in shapes.subject_objects(target_predicate):
        index.setdefault(target, set()).add(str(shape))
    return index


def _node(text: str) -> Node:
    return BNode(text[2:]) if text.startswith("_:") else URIRef(text)


def _label(term: Node) -> str:
    return f"_:{term}" if isinstance(term, BNode) else str(term)


class Validator:
    """Validates data graphs against a shapes graph and an ontology, both loaded once."""

    def __init__(self, shapes: Graph, ontology: Graph) -> None:
        self._shapes_graph = shapes
        self._shapes = ShapesGraph(shapes)
        _ = self._shapes.shapes  # harvest now, not on the first request
        self._lock = threading.Lock()
        self.known_terms = {s for s in ontology.subjects() if isinstance(s, URIRef) and s.startswith(DDS)}
        self.shapes_by_class = _index(shapes, SH.targetClass)
        self.shapes_by_predicate = _index(shapes, SH.targetSubjectsOf)
        self.managed_classes = {
            cls
            for shape in shapes.subjects(SH.property, DDS.sourcePlatformRequired)
            for cls in shapes.objects(shape, SH.targetClass)
        }
        self._managed_types = {named(cls) for cls in self.managed_classes}
        try:
            self._screen: conformance.Screen | None = conformance.compile_shapes(
                shapes, (str(term) for term in self.known_terms), MAX_BLANK_DEPTH)
        except conformance.Unsupported as exc:
            log.warning("shapes not compiled (%s): every document goes through pyshacl", exc)
            self._screen = None

    def validate(self, data: Graph, *, require_type: bool = True) -> Report:
        """Check a graph; ``require_type=False`` for graphs that need no DDS class (LDP containers)."""
        if blank_depth(data) > MAX_BLANK_DEPTH:
            return Report([_too_deep()])
        results = list(self._shacl_results(data))
        results.extend(self._unknown_terms(data))
        if require_type and not self.typed(data):
            results.append(_untyped_document())
        return Report(results)

    def validate_triples(self, triples: Sequence[Statement], *, require_type: bool = True,
                         warnings: bool = True) -> Report:
        """:meth:`validate` for pyoxigraph triples, cheaply: the compiled screen clears the documents
        about which pyshacl would report nothing, and only the others go through pyshacl, whose report
        is returned. Without ``warnings`` (bulk writes and harvests, which report only what they
        refuse), it clears every document without a blocking result, warnings left unlooked for.
        """
        if self._screen is not None:
            flags = self._screen.may_report if warnings else self._screen.may_violate
            if not flags(triples):
                return Report()
        return self.validate(rdfio.to_rdflib(triples), require_type=require_type)

    def typed(self, data: Graph) -> bool:
        """Whether some node of the graph has a class the shapes check."""
        return any(cls in self.shapes_by_class for cls in data.objects(None, RDF.type))

    def fill_server_managed(self, triples: Sequence[Statement], platform: str, stamp: ox.Literal,
                            graph: ox.NamedNode | None = None) -> list[Statement]:
        """Set what a pod sets on publication: the source platform and the storage dates.

        Values sent by the client for these properties are replaced, never trusted; ``created`` is
        kept when present (a pod puts the stored creation date there before calling this). What is
        added are triples, or quads of ``graph``.
        """
        managed = {t.subject for t in triples if t.predicate == RDF_TYPE and t.object in self._managed_types}
        if not managed:
            return list(triples)
        replaced = (SOURCE_PLATFORM, MODIFIED)
        kept = [t for t in triples if not (t.subject in managed and t.predicate in replaced)]
        dated = {t.subject for t in kept if t.predicate == CREATED}
        source = named(platform)
        for node in managed:
            values: list[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]] = [
                (SOURCE_PLATFORM, source), (MODIFIED, stamp)]
            if node not in dated:
                values.append((CREATED, stamp))
            kept += [ox.Triple(node, p, o) if graph is None else ox.Quad(node, p, o, graph) for p, o in values]
        return kept

    def _applicable_shapes(self, data: Graph) -> list[str]:
        """The node shapes whose target classes occur in the data: running only these is several
        times faster than letting pyshacl look for the targets of every shape."""
        by_type = (self.shapes_by_class.get(cls, ()) for cls in set(data.objects(None, RDF.type)))
        by_predicate = (self.shapes_by_predicate.get(p, ()) for p in set(data.predicates()))
        return sorted({shape for group in (*by_type, *by_predicate) for shape in group})

    def _shacl_results(self, data: Graph) -> Iterable[ValidationResult]:
        shapes = self._applicable_shapes(data)
        if not shapes:
            return
        options = {"inference": "none", "inplace": True, "advanced": False, "use_shapes": shapes}
        engine = ShaclValidator(DataGraph.from_rdflib(data), shacl_graph=self._shapes_graph, options=options)
        engine.shacl_graph = self._shapes
        with self._lock:
            _, report, _ = engine.run()
        seen = set()
        for node in report.subjects(RDF.type, SH.ValidationResult):
            result = self._result(report, node, data)
            # A node reached both by its own target and through sh:node is reported twice.
            key = (result.focus, result.path, result.value, result.message())
            if key not in seen:
                seen.add(key)
                yield result

    def _result(self, report: Graph, result: Node, data: Graph) -> ValidationResult:
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        component = report.value(result, SH.sourceConstraintComponent)
        messages = {m.language or "en": str(m) for m in report.objects(result, SH.resultMessage)
                    if isinstance(m, Literal)}
        server_managed = (
            path in SERVER_MANAGED
            and component == SH.MinCountConstraintComponent
            and (focus, path, None) not in data
        )
        shape = report.value(result, SH.sourceShape)
        severity = report.value(result, SH.resultSeverity)
        return ValidationResult(
            focus="" if focus is None else _label(focus),
            path=str(path) if isinstance(path, URIRef) else None,
            severity=SEVERITIES.get(severity, "Violation") if isinstance(severity, URIRef) else "Violation",
            messages=messages,
            value=None if value is None else str(value),
            constraint=str(component) if component else None,
            shape=None if shape is None or isinstance(shape, BNode) else str(shape),
            server_managed=server_managed,
        )

    def _unknown_terms(self, data: Graph) -> Iterable[ValidationResult]:
        seen: set[tuple[Node, Node]] = set()
        for subject, predicate, obj in data:
            term: URIRef
            if isinstance(predicate, URIRef) and predicate.startswith(DDS) and predicate not in self.known_terms:
                term = predicate
            elif predicate == RDF.type and isinstance(obj, URIRef) and obj.startswith(DDS) \
                    and obj not in self.known_terms:
                term = obj
            else:
                continue
            if (subject, term) in seen:
                continue
            seen.add((subject, term))
            name = term[len(DDS):]
            yield ValidationResult(
                focus=_label(subject),
                path=str(predicate),
                severity="Violation",
                messages={
                    "en": f"Unknown term '{name}': the DDS ontology does not define it (check its spelling).",
                    "fr": f"Terme inconnu « {name} » : il n'est pas défini par l'ontologie DDS "
                          "(vérifier son orthographe).",
                },
                value=str(term),
                constraint=str(KNOWN_TERM_COMPONENT),
            )


MAX_BLANK_DEPTH = 32


def blank_depth(data: Graph) -> int:
    """How deep blank nodes nest (a place in a location is 1). Deep nesting is refused: nothing civic
    needs it, and every reader that walks the structure would pay for it."""
    referenced = {o for o in data.objects() if isinstance(o, BNode)}
    deepest, level = 0, [s for s in set(data.subjects()) if s not in referenced]
    seen: set[Node] = set(level)
    while level:
        following: list[Node] = []
        for node in level:
            for child in data.objects(node, None):
                if isinstance(child, BNode) and child not in seen:
                    seen.add(child)
                    following.append(child)
        if following:
            deepest += 1
        level = following
    return deepest


def _too_deep() -> ValidationResult:
    return ValidationResult(
        focus="",
        path=None,
        severity="Violation",
        messages={
            "en": f"Blank nodes are nested deeper than {MAX_BLANK_DEPTH} levels.",
            "fr": f"Les nœuds anonymes sont imbriqués sur plus de {MAX_BLANK_DEPTH} niveaux.",
        },
        constraint=str(DDS.NestingDepthConstraintComponent),
    )


def _untyped_document() -> ValidationResult:
    return ValidationResult(
        focus="",
        path=str(RDF.type),
        severity="Violation",
        messages={
            "en": "No node has a DDS type (type), so nothing could be checked: say what the document is, "
                  "e.g. \"type\": \"Proposal\".",
            "fr": "Aucun nœud n'a de type DDS (type), rien n'a donc pu être vérifié : indiquer ce qu'est le "
                  "document, par exemple \"type\": \"Proposal\".",
        },
        constraint=str(TYPED_DOCUMENT_COMPONENT),
    )


@cache
def default_validator() -> Validator:
    """The validator for the DDS shapes and ontology shipped with this package."""
    return Validator(standard.shapes_graph(), standard.ontology_graph())
