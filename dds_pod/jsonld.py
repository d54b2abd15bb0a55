"""JSON-LD in and out, fully offline.

Documents are processed with pyld (a spec-compliant JSON-LD 1.1 processor). Contexts are
resolved from local copies only: the DDS context under its public IRI (and any alias the
node adds, such as its own ``/ns/context.jsonld``) plus the well-known contexts pyld ships.
Any other remote context is refused, so reading a document never touches the network.
Bulk writes of documents in the DDS context take a faster road through oxigraph's parser.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox
from pyld import jsonld
from pyld.documentloader.frozen import BUNDLED_CONTEXTS, FrozenDocumentLoader
from rdflib import BNode, Graph, Literal, URIRef

from . import bounds
from .errors import BadDocument, ForbiddenContext
from .standard import context_document, context_prefixes, term_names
from .terms import checked_iri
from .vocab import DDS_CONTEXT_IRI, RDF, XSD

MAX_DEPTH = 64
XSD_DECIMAL = str(XSD.decimal)
_TERMS: dict = context_document()["@context"]
_LANGUAGE_MAPS = frozenset(k for k, v in _TERMS.items() if isinstance(v, dict) and v.get("@container") == "@language")
_GRAPH_KEYS = frozenset(["@graph"]) | frozenset(k for k, v in _TERMS.items() if v == "@graph")
_IRI_VALUED = frozenset(["id", "@id"]) | frozenset(
    k for k, v in _TERMS.items() if isinstance(v, dict) and v.get("@type") == "@id")


class ContextLoader(FrozenDocumentLoader):
    """Serves the contexts known to this node; refuses every other URL."""

    def __init__(self, aliases: Mapping[str, dict] | None = None) -> None:
        documents: dict[str, Any] = dict(BUNDLED_CONTEXTS)
        documents[DDS_CONTEXT_IRI] = context_document()
        documents.update(aliases or {})
        super().__init__(documents=documents)
        self.known = sorted(documents)


_default_loader = ContextLoader()


def loads(text: str) -> Any:
    """Parse JSON text, reporting syntax errors with their position and refusing deep nesting."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadDocument(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise BadDocument(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # a number of more than 4300 digits
        raise BadDocument(f"invalid JSON: {exc}") from None
    check_depth(value)
    return value


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise BadDocument(f"JSON nested deeper than {limit} levels")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def to_graph(document: Any, base: str | None = None, loader: ContextLoader | None = None,
             max_values: int | None = bounds.MAX_PROCESSOR_VALUES) -> Graph:
    """Convert a parsed JSON-LD document to an rdflib graph (all its graphs merged); ``max_values`` bounds the
    work asked of pyld (None: no bound, for a command run on one's own files)."""
    if max_values is not None:
        bounds.check_json_values(document, max_values)
    options: dict[str, Any] = {"documentLoader": loader or _default_loader}
    if base:
        options["base"] = base
    try:
        expanded = jsonld.expand(document, options)
        check_iris(expanded)
        dataset = jsonld.to_rdf(expanded, options)
    except jsonld.JsonLdError as exc:
        raise _explain(exc, loader or _default_loader) from None
    except RecursionError:
        raise BadDocument(f"JSON-LD nested deeper than {MAX_DEPTH} levels") from None
    graph = Graph()
    blank_nodes: dict[str, BNode] = {}
    for triples in dataset.values():
        for triple in triples:
            graph.add(
                (
                    _term(triple["subject"], blank_nodes),
                    _term(triple["predicate"], blank_nodes),
                    _term(triple["object"], blank_nodes),
                )
            )
    return graph


def check_iris(expanded: list) -> None:
    """Refuse an expanded document with an invalid IRI (a space, a control character, ``<>"{}|^`\\``...) as an
    ``@id``, a type, a datatype or a property: pyld passes them through, and RDF would drop or store them."""
    names = _property_names()
    stack: list[tuple[Any, str]] = [(item, "@id") for item in expanded]
    while stack:
        item, field = stack.pop()
        if isinstance(item, list):
            stack.extend((child, field) for child in item)
        elif isinstance(item, dict):
            entries: dict[str, Any] = item  # a JSON object: its keys are strings
            for key, value in entries.items():
                if key in ("@id", "@type"):
                    for text in value if isinstance(value, list) else [value]:
                        _check_iri(text, field if key == "@id" or "@value" in item else "type")
                elif not key.startswith("@"):
                    name = names.get(key, key)
                    _check_iri(key, name)
                    stack.append((value, name))
                elif key in ("@graph", "@list", "@set", "@reverse", "@included"):
                    stack.append((value, field))


@lru_cache(maxsize=1)
def _property_names() -> dict[str, str]:
    return {str(iri): name for iri, name in term_names().items()}


def _check_iri(text: Any, field: str) -> None:
    if not isinstance(text, str) or text.startswith(("_:", "@")):  # blank nodes, keywords such as "@json"
        return
    checked_iri(text, field)


def _term(node: dict, blank_nodes: dict[str, BNode]) -> URIRef | BNode | Literal:
    kind, value = node["type"], node["value"]
    if kind == "IRI":
        return URIRef(value)
    if kind == "blank node":
        return blank_nodes.setdefault(value, BNode(value.removeprefix("_:")))
    datatype = node.get("datatype")
    if node.get("language"):
        try:
            return Literal(value, lang=node["language"])
        except ValueError:
            raise BadDocument(f"invalid language tag {node['language']!r}", field="@language") from None
    if datatype == str(XSD.string) or datatype is None:
        return Literal(value)
    if datatype == str(XSD.decimal):
        value = decimal_form(value)
    if datatype == str(RDF.langString):
        return Literal(value)
    return Literal(value, datatype=URIRef(datatype), normalize=False)


def decimal_form(value: str) -> str:
    """A JSON number coerced to xsd:decimal comes out in double notation (1.5E3): restore decimal form."""
    if "E" in value:
        with contextlib.suppress(InvalidOperation):
            return format(Decimal(value), "f")
    return value


def dds_triples(document: dict, base: str) -> list[ox.Triple]:
    """Triples of a document written with the DDS context, by oxigraph's JSON-LD parser.

    About fifteen times faster than pyld, which matters for bulk writes; the context is inlined,
    so the parser has nothing to fetch. Tests check that both parsers give the same triples for
    every example and for real imported documents. oxigraph drops a value with a malformed IRI or
    language tag where pyld refuses or keeps it, so such documents are refused here, as are all
    errors, with :class:`BadDocument` without detail: callers parse them again with :func:`to_graph`.
    """
    survey = _survey(document, base)
    inlined = {**document, "@context": _context_for(survey.terms)}
    try:
        quads = ox.parse(json.dumps(inlined), format=ox.RdfFormat.JSON_LD, base_iri=base)
        return [q.triple for q in _own_quads(quads, survey)]
    except (SyntaxError, ValueError, OSError) as exc:
        raise BadDocument(f"invalid JSON-LD: {exc}") from None


def dds_batch_quads(documents: Sequence[tuple[dict, str]]) -> list[list[ox.Quad] | None]:
    """:func:`dds_triples` of many documents (each with its base IRI) in ONE run of the parser, as quads
    in the graph named by the document's base.

    Each document becomes a named graph of one JSON-LD document, with its base in an embedded
    context, so that the context is processed once instead of once per document (about twice as
    fast for a batch of 500 proposals); the graphs give each document its statements back. None for
    a document that must be read alone: one :func:`dds_triples` refuses, one with a nested
    ``@graph`` (whose triples would land in other graphs), or all of them if the parser refuses
    the whole or the bases are not distinct.
    """
    surveys: list[_Survey | None] = []
    for document, base in documents:
        try:
            survey = _survey(document, base)
        except BadDocument:
            survey = None
        surveys.append(survey if survey is not None and survey.terms is not None and not survey.graphs else None)
    chosen = [i for i, survey in enumerate(surveys) if survey is not None]
    bases = [documents[i][1] for i in chosen]
    if not chosen or len(set(bases)) != len(bases):
        return [None] * len(documents)
    terms = frozenset[str]().union(*(s.terms for s in surveys if s is not None and s.terms is not None))  # the chosen
    graphs = [{"@context": {"@base": base}, "@id": base,
               "@graph": {key: value for key, value in documents[i][0].items() if key != "@context"}}
              for i, base in zip(chosen, bases, strict=True)]
    try:
        quads = list(ox.parse(json.dumps({"@context": _context_for(terms), "@graph": graphs}),
                              format=ox.RdfFormat.JSON_LD))
    except (SyntaxError, ValueError, OSError):
        return [None] * len(documents)
    by_graph: dict[str, list[ox.Quad]] = {base: [] for base in bases}
    for quad in quads:
        found = by_graph.get(quad.graph_name.value) if isinstance(quad.graph_name, ox.NamedNode) else None
        if found is None:  # a triple outside the documents' graphs: read each document alone
            return [None] * len(documents)
        found.append(quad)
    results: list[list[ox.Quad] | None] = [None] * len(documents)
    for i, base in zip(chosen, bases, strict=True):
        results[i] = _own_quads(by_graph[base], surveys[i])  # type: ignore[arg-type]
    return results


def _own_quads(quads: Iterable[ox.Quad], survey: _Survey) -> list[ox.Quad]:
    """Parsed quads with the document's blank-node labels its own (not the store's, not another document's)
    and decimals in decimal form."""
    if not (survey.large_numbers or survey.blank_labels):
        return list(quads)
    fresh: dict[ox.BlankNode, ox.BlankNode] = {}
    return [ox.Quad(_own(q.subject, fresh), q.predicate, _decimal_literal(_own(q.object, fresh)), q.graph_name)
            for q in quads]


@dataclass(frozen=True)
class _Survey:
    terms: frozenset[str] | None  # the context's terms the document may use; None: all of them
    large_numbers: bool  # a JSON number written as a double (fraction or ≥ 10^21): see decimal_form
    blank_labels: bool  # a key or string that may be a blank-node label
    graphs: bool  # a nested "@graph"


def _survey(document: dict, base: str) -> _Survey:
    """One walk over a document: the terms it names, and what oxigraph would read otherwise than pyld."""
    context = context_document()["@context"]
    names: set[str] = set()
    large = False
    stack: list = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "@context" in item and item is not document:
                return _Survey(None, True, True, True)
            for key, value in item.items():
                if key in _LANGUAGE_MAPS and isinstance(value, dict):
                    _check_languages(value)
                elif key == "@language" and isinstance(value, str):
                    _check_languages({value: None})
                elif key in _IRI_VALUED:
                    _check_iris(value, base, context)
                elif key in ("type", "@type"):
                    _check_types(value, context)
            names.update(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            names.add(item)
        elif isinstance(item, float) or (type(item) is int and abs(item) >= 10**21):
            large = True
    return _Survey(frozenset(names & context.keys()), large, any(name.startswith("_:") for name in names),
                   not names.isdisjoint(_GRAPH_KEYS))


_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")


def _check_languages(language_map: dict) -> None:
    if not all(_LANGUAGE_TAG.fullmatch(tag) for tag in language_map if tag != "@none"):
        raise BadDocument("a language tag the reference parser must judge")


_NOT_IN_IRIS = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _check_iris(value: Any, base: str, context: dict) -> None:
    for text in value if isinstance(value, list) else [value]:
        if not isinstance(text, str):
            continue
        if text in context:
            raise BadDocument("an IRI value that is also a term")
        if _is_iri(text):  # absolute and valid: the parser keeps it as it is (the usual case, and cheap)
            continue
        if _NOT_IN_IRIS.search(text):  # urljoin drops tabs and line ends where pyld keeps them
            raise BadDocument("an IRI the reference parser must judge")
        try:
            ox.NamedNode(urljoin(base, text))
        except ValueError:
            raise BadDocument("an IRI the reference parser must judge") from None


def _check_types(value: Any, context: dict) -> None:
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str) and text not in context and not _is_iri(text):
            raise BadDocument("a type the reference parser must judge")


def _is_iri(text: str) -> bool:
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


def _own(term, fresh: dict):
    return fresh.setdefault(term, ox.BlankNode()) if isinstance(term, ox.BlankNode) else term


@lru_cache(maxsize=256)
def _context_for(names: frozenset[str] | None) -> dict:
    """The DDS context cut down to the terms a document can use, so that the parser processes ten
    terms rather than a hundred: keywords, prefixes, and the terms ``names`` (all with None)."""
    context = context_document()["@context"]
    if names is None:
        return context
    return {key: value for key, value in context.items()
            if key.startswith("@") or key in names or key in context_prefixes()}


def _decimal_literal(term):
    if isinstance(term, ox.Literal) and term.datatype.value == XSD_DECIMAL:
        return ox.Literal(decimal_form(term.value), datatype=term.datatype)
    return term


def _explain(exc: jsonld.JsonLdError, loader: ContextLoader) -> BadDocument:
    """Turn pyld's chained errors into one sentence naming what went wrong."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(chain) < 20:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for error in chain:
        details = getattr(error, "details", None)
        if isinstance(details, dict) and details.get("url"):
            known = ", ".join(k for k in loader.known if "dds" in k or "activitystreams" in k)
            return ForbiddenContext(
                f"remote context {details['url']!r} is not resolved: only contexts known offline are "
                f"accepted ({known})",
                field="@context",
            )
    deepest = chain[-1]
    code = getattr(deepest, "code", None)
    message = deepest.args[0] if deepest.args else type(deepest).__name__
    # "invalid scoped context", "protected term redefinition", ...: what is at fault is the document's @context.
    field = "@context" if code and ("context" in code or "term" in code) else None
    return BadDocument(f"invalid JSON-LD ({code}): {message}" if code else f"invalid JSON-LD: {message}", field=field)
