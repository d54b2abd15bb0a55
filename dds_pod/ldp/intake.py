"""Reading a request body into RDF: the formats a pod accepts and the contexts publishers use.

Publishers may write JSON-LD with the DDS context (by its public IRI or the node's own URL), an
inline context, or Startin'blox's context (``@vocab`` ``https://cdn.startinblox.com/owl#``).
Whatever the context, the stored triples use DDS terms: Startin'blox keys are mapped to the DDS
term of the same name, and a key that maps to nothing is refused by name instead of being
silently dropped, as a JSON-LD processor would do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox
from pyld import jsonld as pyld
from rdflib import Graph, Literal, URIRef

from .. import jsonld, rdfio, standard
from ..errors import BadDocument, UnsupportedFormat
from ..sanitize import clean_html
from ..terms import Statement
from ..vocab import AS, DDS, DDS_CONTEXT_IRI, RDF, XSD

SIB = "https://cdn.startinblox.com/owl#"
MAX_KEYS = 300  # each key of a foreign context is checked by expanding it: bounded work per document
# Properties whose text is HTML, as the importers write it: sanitised on every write, whoever writes.
HTML_PROPERTIES = frozenset((AS.content, AS.summary, DDS.officialAnswer))
_HTML_IRIS = frozenset(str(iri) for iri in HTML_PROPERTIES)


@dataclass(frozen=True)
class Body:
    """A request body as a pod reads it: bytes, media type and the language of its plain text (``None``:
    the pod's language)."""

    data: bytes
    media_type: str | None
    language: str | None = None


class Intake:
    """Parses bodies for one node: knows the node's own context URL and the size limit."""

    def __init__(self, context_url: str, max_bytes: int) -> None:
        self.context_url = context_url
        self.loader = jsonld.ContextLoader({context_url: standard.context_document()})
        self.max_bytes = max_bytes

    def read_body(self, body: Body, base: str, language: str) -> list[ox.Triple]:
        """A write's body as triples; an empty body is no triples, but even it must say what it is."""
        if not body.media_type:
            raise UnsupportedFormat("a write needs a Content-Type (application/ld+json, text/turtle, ...)")
        if not body.data.strip():
            return []
        return self.read(body.data, body.media_type, base, body.language or language)

    def read(self, data: bytes, media_type: str | None, base: str, language: str) -> list[ox.Triple]:
        """Parse a body to triples of DDS terms, with relative IRIs resolved against ``base``."""
        if not media_type:
            raise UnsupportedFormat("a request with a body needs a Content-Type")
        fmt = rdfio.format_for_media_type(media_type)
        if fmt.oxigraph is not None:
            return rdfio.parse_triples(data, fmt, base=base, max_bytes=self.max_bytes)
        rdfio.check_size(len(data), self.max_bytes)
        return self.read_json_triples(jsonld.loads(rdfio.decode(data)), base, language)

    def read_json(self, document: Any, base: str, language: str) -> Graph:
        """A JSON-LD document as an rdflib graph of DDS terms."""
        return self._read_json(document, base, language)

    def _read_json(self, document: Any, base: str, language: str) -> Graph:
        contexts = _contexts(document)
        foreign = any(not self._is_dds_context(c) for c in contexts)
        if foreign:
            _refuse_unmapped_keys(document)
        graph = jsonld.to_graph(document, base=base, loader=self.loader)
        if foreign:
            graph = _to_dds_terms(graph, base, language)
        return graph

    def read_json_triples(self, document: Any, base: str, language: str) -> list[ox.Triple]:
        """Like :meth:`read_json`, as pyoxigraph triples."""
        fast = self._fast_triples(document, base)
        return fast if fast is not None else rdfio.to_oxigraph(self.read_json(document, base, language))

    def read_json_batch(self, documents: Sequence[tuple[Any, str]], language: str) -> list[Sequence[Statement]]:
        """:meth:`read_json_triples` of many documents (each with its base IRI): those in the DDS context
        are parsed together (as quads in the graph named by their base), the others (and those the joint
        parse leaves out) one by one."""
        fast = [i for i, (document, _) in enumerate(documents) if self._in_dds_context(document)]
        read: list[Sequence[Statement] | None] = [None] * len(documents)
        for i, quads in zip(fast, jsonld.dds_batch_quads([documents[i] for i in fast]), strict=True):
            read[i] = quads
        return [statements if statements is not None else self.read_json_triples(document, base, language)
                for statements, (document, base) in zip(read, documents, strict=True)]

    def _fast_triples(self, document: Any, base: str) -> list[ox.Triple] | None:
        """A document in the DDS context (what importers and most publishers send) read by oxigraph's
        parser; None for the others, and for those it refuses: pyld reads them or names the problem."""
        if self._in_dds_context(document):
            try:
                return jsonld.dds_triples(document, base)
            except BadDocument:
                return None
        return None

    def _in_dds_context(self, document: Any) -> bool:
        return isinstance(document, dict) and self._is_dds_context(document.get("@context"))

    def _is_dds_context(self, context: Any) -> bool:
        return context in (DDS_CONTEXT_IRI, self.context_url)


def sanitized(statements: Sequence[Statement]) -> list[Statement]:
    """The statements with their HTML values passed through the safelist (a text without a tag is left as it is)."""
    return [_sanitized(s, s.object) if s.predicate.value in _HTML_IRIS and isinstance(s.object, ox.Literal)
            and "<" in s.object.value else s for s in statements]


def _sanitized(statement: Statement, text: ox.Literal) -> Statement:
    """The statement with its text (its object) passed through the safelist."""
    value = clean_html(text.value)
    clean = ox.Literal(value, language=text.language) if text.language else ox.Literal(value, datatype=text.datatype)
    if isinstance(statement, ox.Quad):
        return ox.Quad(statement.subject, statement.predicate, clean, statement.graph_name)
    return ox.Triple(statement.subject, statement.predicate, clean)



def _contexts(document: Any) -> list[Any]:
    """The top-level contexts of a document (a list of documents in an array)."""
    nodes = document if isinstance(document, list) else [document]
    found: list[Any] = []
    for node in nodes:
        if isinstance(node, dict) and "@context" in node:
            context = node["@context"]
            found.extend(context if isinstance(context, list) else [context])
    return found


def _refuse_unmapped_keys(document: Any) -> None:
    """Refuse keys the document's own context does not map: JSON-LD would drop them silently."""
    nodes = document if isinstance(document, list) else [document]
    for node in nodes:
        if not isinstance(node, dict):
            continue
        context = node.get("@context")
        keys = _keys(node, _map_terms(context))
        if len(keys) > MAX_KEYS:
            raise BadDocument(f"the document uses {len(keys)} different keys; at most {MAX_KEYS} are accepted")
        context_json = json.dumps(context, sort_keys=True)
        for key in keys:
            if not _key_maps(context_json, key):
                raise BadDocument(f"field {key!r} maps to no IRI under the document's @context, so it "
                                  "would be lost; use a DDS key or add it to the context", field=key)


def _map_terms(context: Any) -> set[str]:
    """Terms whose values are maps (language, index, id or type maps): their keys are not properties."""
    definitions: dict[str, Any] = {}
    for item in context if isinstance(context, list) else [context]:
        if item == DDS_CONTEXT_IRI:
            definitions.update(standard.context_document()["@context"])
        elif isinstance(item, dict):
            definitions.update(item)
    return {key for key, value in definitions.items() if isinstance(value, dict) and value.get("@container")}


def _keys(node: dict, map_terms: set[str]) -> set[str]:
    keys: set[str] = set()
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "@value" in item:
                continue
            keys.update(k for k in item if not k.startswith("@"))
            stack.extend(v for k, v in item.items() if k != "@context" and k not in map_terms)
        elif isinstance(item, list):
            stack.extend(item)
    return keys


@lru_cache(maxsize=4096)
def _key_maps(context_json: str, key: str) -> bool:
    probe = {"@context": json.loads(context_json), key: "probe"}
    try:
        expanded = pyld.expand(probe, {"documentLoader": _loader_for_probes})
    except pyld.JsonLdError:
        return True  # the real expansion reports the error with its context
    return bool(expanded and any(not k.startswith("@") for k in expanded[0]))


_loader_for_probes = jsonld.ContextLoader()


def _to_dds_terms(graph: Graph, base: str, language: str) -> Graph:
    """Map Startin'blox terms to DDS terms of the same name, with the DDS context's coercions.

    Forms send plain strings: text becomes language-tagged with the request's language, dates
    and numbers get the datatype the DDS term expects, and references become IRIs.
    """
    terms = _dds_terms()
    classes = _class_terms()
    mapped = Graph()
    for subject, predicate, obj in graph:
        if isinstance(predicate, URIRef) and predicate.startswith(SIB):  # a parsed predicate is an IRI
            name = predicate[len(SIB):]
            if name not in terms:
                raise BadDocument(f"field {name!r} has no equivalent in the DDS vocabulary", field=name)
            predicate, coercion = terms[name]
            obj = _coerce(obj, coercion, base, language)
        elif predicate == RDF.type and isinstance(obj, URIRef) and obj.startswith(SIB):
            obj = classes.get(obj[len(SIB):], DDS[obj[len(SIB):]])
        mapped.add((subject, predicate, obj))
    return mapped


def _coerce(value, coercion: str | None, base: str, language: str):
    if not isinstance(value, Literal) or value.language or value.datatype not in (None, XSD.string):
        return value
    text = str(value)
    if coercion == "@language":
        try:
            return Literal(text, lang=language)
        except ValueError:  # the language comes from Content-Language or Accept-Language
            raise BadDocument(f"{language!r} is not a language tag (BCP 47) to tag plain text with",
                              field="Content-Language") from None
    if coercion == "@id":
        return URIRef(urljoin(base, text))
    if coercion == "@vocab":
        return _class_terms().get(text, DDS[text])
    if coercion:
        return Literal(text, datatype=URIRef(coercion), normalize=False)
    return value


def language_mapped() -> frozenset[URIRef]:
    """Properties whose JSON values are language maps (title, content, ...)."""
    return frozenset(iri for iri, coercion in _dds_terms().values() if coercion == "@language")


@lru_cache(maxsize=1)
def _dds_terms() -> dict[str, tuple[URIRef, str | None]]:
    """Each DDS key with its IRI and coercion: "@id", "@vocab", "@language", a datatype IRI or None."""
    context = standard.context_document()["@context"]
    terms = {}
    for iri, key in standard.term_names().items():
        definition = context.get(key)
        coercion = None
        if isinstance(definition, dict):
            if definition.get("@container") == "@language":
                coercion = "@language"
            elif "@type" in definition:
                kind = definition["@type"]
                coercion = kind if kind.startswith("@") else standard.expand_compact(kind)
        terms[key] = (iri, coercion)
    return terms


@lru_cache(maxsize=1)
def _class_terms() -> dict[str, URIRef]:
    terms = {}
    for key, value in standard.context_document()["@context"].items():
        if isinstance(value, str) and key[:1].isupper() and ":" in value:
            terms[key] = URIRef(standard.expand_compact(value))
    return terms
