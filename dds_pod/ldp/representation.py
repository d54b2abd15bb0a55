"""Representations of stored resources (compact JSON-LD, expanded JSON-LD) built from pyoxigraph triples.

A container page may hold a thousand members, so this path avoids pyld and rdflib entirely: the DDS context
is read once into lookup tables, and each triple costs a few dictionary look-ups. Compaction is not the
general JSON-LD algorithm but a direct mapping that only uses a context term when the value fits the term's
definition exactly; every other value is written under its compact (or full) IRI with an explicit value object,
so the output always expands back to the same triples.

The functions read their triples once, so their cost is linear in ``len(triples)``: pass the triples that
describe the resource (its own and its blank nodes'), not a whole pod.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache
from typing import Any, NamedTuple

import pyoxigraph as ox

from ..standard import context_document, context_prefixes
from ..vocab import RDF, XSD

_Subject = ox.NamedNode | ox.BlankNode
_Object = ox.NamedNode | ox.BlankNode | ox.Literal

_RDF_TYPE = str(RDF.type)
_XSD_STRING = str(XSD.string)
_XSD_INTEGER = str(XSD.integer)

# Term coercions: how a term's values are written. A datatype IRI stands for a typed-literal coercion.
_NONE = ""  # plain term: any value, written as a value object unless it is an xsd:string
_ID = "@id"
_VOCAB = "@vocab"
_LANGUAGE = "@language"
_TYPE = "@type"  # rdf:type, written under the "@type" keyword
_NODE_COERCIONS = frozenset({_NONE, _ID, _VOCAB})  # keys under which a blank node can be a node object
_NO_PROPERTIES: dict[str, list] = {}

# JSON-LD 1.1 turns a JSON integer back into this exact lexical form (below 10^21), so only it may go native.
_CANONICAL_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,20}")
_SAFE_SCHEMES = ("http:", "https:")  # schemes that are no context prefix: the common case, checked first


class _Context(NamedTuple):
    """The DDS context as lookup tables, keyed by full IRI."""

    vocab: str
    properties: dict[str, tuple[str, str]]  # property IRI -> (term or "@type", coercion)
    names: dict[str, str]  # IRI -> simple term naming it, for @type and @vocab values
    prefixes: dict[str, str]  # prefix -> namespace
    namespaces: tuple[tuple[str, str], ...]  # (namespace, prefix), longest namespace first
    terms: frozenset[str]  # every term the context defines


@cache
def _context() -> _Context:
    definitions = context_document()["@context"]
    vocab = definitions["@vocab"]
    terms = {key: value for key, value in definitions.items() if not key.startswith("@")}
    prefixes = context_prefixes()

    def expand(value: str) -> str:
        head, _, tail = value.partition(":")
        if head in prefixes and not tail.startswith("//"):
            return prefixes[head] + tail
        return value if ":" in value else vocab + value

    if any(":" in term for term in terms):
        # Compact and full IRIs are written as keys on the promise that no term looks like one.
        raise ValueError("the DDS context defines a term containing ':', which this module cannot write around")
    properties: dict[str, tuple[str, str]] = {}
    names: dict[str, str] = {}
    for term, definition in terms.items():
        if isinstance(definition, str) and term not in prefixes:
            definition = {"@id": definition}
        iri = definition.get("@id", term) if isinstance(definition, dict) else None
        if not isinstance(iri, str) or iri.startswith("@"):
            continue  # prefixes, keyword aliases and null terms
        coercion = _coercion(definition, expand)
        if coercion is None:
            continue  # definitions this module does not use
        properties.setdefault(expand(iri), (term, coercion))
        if coercion == _NONE:
            names.setdefault(expand(iri), term)
    properties[_RDF_TYPE] = ("@type", _TYPE)
    namespaces = tuple(sorted(((ns, prefix) for prefix, ns in prefixes.items()), key=lambda item: -len(item[0])))
    return _Context(vocab, properties, names, prefixes, namespaces, frozenset(terms))


def _coercion(definition: dict, expand: Callable[[str], str]) -> str | None:
    """What an expanded term definition coerces its values to; None for definitions this module does not use."""
    if set(definition) - {"@id", "@type", "@container"}:
        return None
    container, coerced = definition.get("@container"), definition.get("@type")
    if container is not None:
        return _LANGUAGE if container == _LANGUAGE and coerced is None else None
    if coerced is None:
        return _NONE
    if coerced in (_ID, _VOCAB):
        return coerced
    return None if coerced.startswith("@") else expand(coerced)


def _absolute(iri: str) -> str:
    """`iri` written in full; refuses an IRI whose scheme is a context prefix (e.g. geo:44.8,-0.57).

    A reader would expand such an IRI as a compact IRI (geo: is GeoSPARQL here), and the protected
    context leaves no way to write it, so failing beats publishing a different IRI.
    """
    if iri.startswith(_SAFE_SCHEMES):
        return iri
    head, _, tail = iri.partition(":")
    if head in _context().prefixes and not tail.startswith("//"):
        raise ValueError(f"IRI {iri!r} would be read as a compact IRI under the DDS context")
    return iri


@lru_cache(maxsize=4096)
def _prefixed(iri: str) -> str:
    """`iri` as prefix:local when the context declares a namespace for it, else unchanged."""
    for namespace, prefix in _context().namespaces:
        if iri.startswith(namespace) and not iri.startswith("//", len(namespace)):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _compact(iri: str) -> str:
    """Key or datatype for an IRI without a usable term: prefix:local, else the full IRI."""
    short = _prefixed(iri)
    return short if short != iri else _absolute(iri)


@lru_cache(maxsize=4096)
def _type_name(iri: str) -> str:
    return _context().names.get(iri) or _compact(iri)


@lru_cache(maxsize=4096)
def _vocab_name(iri: str) -> str:
    """A value of an "@type": "@vocab" term: a term, a name relative to @vocab, or a compact/full IRI.

    A vocab-relative name must not be a term, or it would expand to that term's IRI instead.
    """
    context = _context()
    if iri in context.names:
        return context.names[iri]
    local = iri[len(context.vocab) :] if iri.startswith(context.vocab) else ""
    if local and local not in context.terms and ":" not in local and not local.startswith("@"):
        return local
    return _compact(iri)


def _blank_id(node: ox.BlankNode) -> str:
    return "_:" + node.value


def _one_or_sorted(values: list) -> Any:
    return values[0] if len(values) == 1 else sorted(values, key=_sort_key)


def _sort_key(value: Any) -> str:
    """Values sort by their JSON text; plain strings (most IRIs) by themselves, which is cheaper and as stable."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _literal(literal: ox.Literal, datatype_name: Callable[[str], str] = _compact) -> str | dict:
    """A literal as a plain term writes it: xsd:string as a JSON string, others as value objects."""
    language = literal.language
    if language:
        value = {"@value": literal.value, "@language": language}
        if literal.direction is not None:
            value["@direction"] = str(literal.direction)
        return value
    datatype = literal.datatype.value
    if datatype == _XSD_STRING:
        return literal.value
    return {"@value": literal.value, "@type": datatype_name(datatype)}


def _language_key(value: _Object) -> str | None:
    """Key of `value` in a language map, None when a language map cannot hold it."""
    if type(value) is not ox.Literal:
        return None
    if value.language:
        return value.language if value.direction is None else None
    return "@none" if value.datatype.value == _XSD_STRING else None


def _language_map(values: list[_Object]) -> tuple[dict[str, str], list[_Object]]:
    """(language map, values that do not fit it); two values in one language leave the map empty."""
    languages: dict[str, str] = {}
    rest: list[_Object] = []
    for value in values:
        key = _language_key(value)
        if key is None:
            rest.append(value)
        elif key in languages:
            return {}, values
        else:
            languages[key] = value.value
    return dict(sorted(languages.items())), rest


class _Graph:
    """Triples indexed by subject then predicate IRI, and how many times each blank node is an object."""

    def __init__(self, triples: Sequence[ox.Triple]) -> None:
        # The hottest loop of a container page: locals only, and no list built just to be thrown away.
        self.properties: dict[_Subject, dict[str, list[_Object]]] = {}
        self.references: dict[ox.BlankNode, int] = {}
        index, references, blank = self.properties, self.references, ox.BlankNode
        for subject, predicate, obj in triples:
            properties = index.get(subject)
            if properties is None:
                properties = index[subject] = {}
            key = predicate.value
            values = properties.get(key)
            if values is None:
                properties[key] = [obj]
            else:
                values.append(obj)
            if type(obj) is blank:
                references[obj] = references.get(obj, 0) + 1


class _Compactor:
    """Writes the node objects of one document, remembering which blank nodes already have a place in it.

    A blank node referenced once is embedded where it is referenced; one referenced several times (or
    closing a cycle) is written as a reference and its node object goes to "@included", once.
    """

    def __init__(self, graph: _Graph, root: _Subject) -> None:
        self.graph = graph
        self.terms = _context().properties
        self.placed: set[_Subject] = {root}
        self.pending: list[ox.BlankNode] = []

    def body(self, subject: _Subject) -> dict:
        """The node object of `subject` without "@id": "@type" first (it sorts first), then keys sorted.

        Each key comes from one predicate (term names have no colon, compact and full IRIs do), so
        entries never need merging.
        """
        entries: dict[str, Any] = {}
        terms = self.terms
        for predicate, values in self.graph.properties.get(subject, _NO_PROPERTIES).items():
            term = terms.get(predicate)
            if term is not None and len(values) == 1:
                # Fast path for most properties: one value, which fits its term.
                written = self._coerce(values[0], term[1])
                if written is not None:
                    entries[term[0]] = written
                    continue
            self._add(entries, predicate, term, values)
        return dict(sorted(entries.items()))

    def _add(self, entries: dict[str, Any], predicate: str, term: tuple[str, str] | None, values: list) -> None:
        """Writes the values of `predicate` under its term where they fit, the others under its IRI."""
        rest = values
        if term is not None:
            name, coercion = term
            if coercion == _LANGUAGE:
                languages, rest = _language_map(values)
                fitting = [languages] if languages else []
            else:
                fitting, rest = self._split(values, coercion)
            if fitting:
                entries[name] = _one_or_sorted(fitting)
        if rest:
            entries[_compact(predicate)] = _one_or_sorted([self._coerce(value, _NONE) for value in rest])

    def _split(self, values: list[_Object], coercion: str) -> tuple[list, list[_Object]]:
        """(values written under the term, values it would expand differently)."""
        written = [self._coerce(value, coercion) for value in values]
        if None not in written:
            return written, []
        pairs = list(zip(values, written, strict=True))
        return [w for _, w in pairs if w is not None], [v for v, w in pairs if w is None]

    def _coerce(self, value: _Object, coercion: str) -> Any:
        """`value` as a key with this coercion writes it, or None when that key would expand it differently.

        A language-map term gets a one-entry map (several values go through `_language_map`). Refusing
        never has side effects: a blank node is only placed when it is written.
        """
        if type(value) is ox.NamedNode:
            iri = value.value
            if coercion == _ID:
                return _absolute(iri)
            if coercion == _VOCAB:
                return _vocab_name(iri)
            if coercion == _TYPE:
                return _type_name(iri)
            return {"@id": _absolute(iri)} if coercion == _NONE else None
        if type(value) is ox.BlankNode:
            return self._blank(value) if coercion in _NODE_COERCIONS else None
        if coercion == _NONE:
            return _literal(value)
        if coercion == _LANGUAGE:
            key = _language_key(value)
            return None if key is None else {key: value.value}
        if value.datatype.value != coercion:  # also refuses literals for @id, @vocab and @type
            return None
        lexical = value.value
        if coercion == _XSD_INTEGER and _CANONICAL_INTEGER.fullmatch(lexical):
            return int(lexical)
        return lexical

    def _blank(self, node: ox.BlankNode) -> dict:
        if node not in self.placed:
            self.placed.add(node)
            if self.graph.references.get(node) == 1:
                return self.body(node)
            self.pending.append(node)
        return {"@id": _blank_id(node)}


def node_object(triples: Sequence[ox.Triple], subject: ox.NamedNode | ox.BlankNode) -> dict:
    """Compact JSON-LD node object of `subject` under the DDS context (no "@context" key).

    Blank nodes reachable from `subject` are embedded (or put in "@included"); triples about other IRIs
    are ignored. Raises ValueError for an IRI the context would misread (see `_absolute`).
    """
    return _node_object(_Graph(triples), subject)


def document_object(triples: Sequence[ox.Triple], subject: ox.NamedNode) -> dict:
    """:func:`node_object` of a document's `subject` with, under "@included", every other IRI its triples describe
    (a Solid profile's ``<#me>``, a type index's registrations): a document is all its triples, not only those
    about its own IRI."""
    graph = _Graph(triples)
    node = _node_object(graph, subject)
    others = sorted((s for s in graph.properties if type(s) is ox.NamedNode and s != subject), key=lambda s: s.value)
    if others:
        included = [*node.get("@included", []), *(_node_object(graph, other) for other in others)]
        node["@included"] = sorted(included, key=_sort_key)
    return node


def node_objects(triples: Sequence[ox.Triple], subjects: Iterable[ox.NamedNode | ox.BlankNode]) -> list[dict]:
    """The node object of each subject, as :func:`node_object` writes it, with the triples indexed once:
    linear in ``len(triples)`` however many subjects they describe (a page of a change feed)."""
    graph = _Graph(triples)
    return [_node_object(graph, subject) for subject in subjects]


def _node_object(graph: _Graph, subject: ox.NamedNode | ox.BlankNode) -> dict:
    compactor = _Compactor(graph, subject)
    node_id = _absolute(subject.value) if type(subject) is ox.NamedNode else _blank_id(subject)
    node = {"@id": node_id, **compactor.body(subject)}
    included = []
    while compactor.pending:
        blank = compactor.pending.pop()
        included.append({"@id": _blank_id(blank), **compactor.body(blank)})
    if included:
        node["@included"] = sorted(included, key=_sort_key)
    return node


@cache
def _language_terms() -> frozenset[str]:
    """The context's terms whose values are language maps (title, content, ...)."""
    return frozenset(term for term, coercion in _context().properties.values() if coercion == _LANGUAGE)


def narrowed(node: Any, languages: Sequence[str]) -> Any:
    """`node` (a node object, or a list of them) with each language map cut to the first of `languages` it holds.

    Startin'blox shows a map of two or more languages as raw JSON, so a reader that asks for one language gets
    a one-entry map, still valid under the context. A map holding none of the languages is left whole; the
    input is not changed (it may be a cached object).
    """
    if not languages:
        return node
    if isinstance(node, list):
        return [narrowed(value, languages) for value in node]
    if not isinstance(node, dict):
        return node
    terms = _language_terms()
    return {key: _one_language(value, languages) if key in terms and isinstance(value, dict)
            else narrowed(value, languages) for key, value in node.items()}


def _one_language(values: dict[str, str], languages: Sequence[str]) -> dict[str, str]:
    """The entry of the first wanted language `values` holds: the exact tag, else one sharing its primary subtag."""
    for wanted in languages:
        for tag in values:
            if tag.lower() == wanted:
                return {tag: values[tag]}
        primary = wanted.split("-")[0]
        for tag in values:
            if tag.lower().split("-")[0] == primary:
                return {tag: values[tag]}
    return values


def document(node: dict, context_url: str) -> dict:
    """{"@context": context_url, **node}"""
    return {"@context": context_url, **node}


def _expanded_value(value: _Object) -> dict:
    if type(value) is ox.NamedNode:
        return {"@id": value.value}
    if type(value) is ox.BlankNode:
        return {"@id": _blank_id(value)}
    literal = _literal(value, datatype_name=str)
    return {"@value": literal} if isinstance(literal, str) else literal


def _expanded_key(value: str | dict) -> tuple:
    """Sort key of an expanded value (a "@type" IRI or a value object): its fields, cheaper than its JSON text."""
    if isinstance(value, str):
        return (value,)
    return tuple(value.get(key, "") for key in ("@id", "@value", "@language", "@direction", "@type"))


def expanded(triples: Sequence[ox.Triple]) -> list[dict]:
    """Expanded JSON-LD (flattened list of node objects with full IRIs, @value/@type/@language objects)."""
    nodes: dict[_Subject, dict[str, list]] = {}
    for subject, predicate, obj in triples:
        node = nodes.get(subject)
        if node is None:
            node = nodes[subject] = {}
        if predicate.value == _RDF_TYPE and type(obj) is ox.NamedNode:
            node.setdefault("@type", []).append(obj.value)
        else:
            node.setdefault(predicate.value, []).append(_expanded_value(obj))
    result = [
        {
            "@id": subject.value if type(subject) is ox.NamedNode else _blank_id(subject),
            **{
                key: values if len(values) == 1 else sorted(values, key=_expanded_key)
                for key, values in sorted(node.items())
            },
        }
        for subject, node in nodes.items()
    ]
    return sorted(result, key=lambda node: node["@id"])
