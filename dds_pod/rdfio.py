"""Reading RDF documents in the formats DDS accepts, with clear errors.

JSON-LD goes through :mod:`dds_pod.jsonld`; Turtle, N-Triples, N-Quads and RDF/XML through
pyoxigraph's parsers, whose errors carry a line and column.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from . import bounds, jsonld
from .errors import BadDocument, DocumentTooLarge, UnsupportedFormat
from .terms import Statement

DEFAULT_MAX_BYTES = 5 * 1024 * 1024

# rdflib logs a traceback for every ill-typed literal; the shapes report those as results instead.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    extensions: tuple[str, ...]
    oxigraph: ox.RdfFormat | None  # None: JSON-LD, handled by pyld


FORMATS = {
    f.name: f
    for f in (
        Format("json-ld", "application/ld+json", (".jsonld", ".json"), None),
        Format("turtle", "text/turtle", (".ttl",), ox.RdfFormat.TURTLE),
        Format("n-triples", "application/n-triples", (".nt",), ox.RdfFormat.N_TRIPLES),
        Format("n-quads", "application/n-quads", (".nq",), ox.RdfFormat.N_QUADS),
        Format("rdf-xml", "application/rdf+xml", (".rdf", ".owl"), ox.RdfFormat.RDF_XML),
    )
}
_BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS.values()}


def format_for_path(path: str | Path) -> Format:
    suffix = Path(path).suffix.lower()
    for fmt in FORMATS.values():
        if suffix in fmt.extensions:
            return fmt
    raise UnsupportedFormat(
        f"cannot tell the format of {str(path)!r} from its extension; use --input-format "
        f"({', '.join(FORMATS)})"
    )


def format_for_media_type(media_type: str) -> Format:
    essence = media_type.split(";")[0].strip().lower()
    if essence in ("application/json", "application/merge-patch+json"):
        essence = "application/ld+json"
    try:
        return _BY_MEDIA_TYPE[essence]
    except KeyError:
        accepted = ", ".join(_BY_MEDIA_TYPE)
        raise UnsupportedFormat(
            f"content type {essence or '(none)'!r} is not accepted; use one of {accepted}"
        ) from None


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadDocument(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}") from None


def decode_bounded(data: bytes, syntax: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of a Turtle-like document (an N3 Patch, a SPARQL update or query) whose size and nesting are
    bounded."""
    check_size(len(data), max_bytes)
    text = decode(data)
    bounds.check_text_nesting(text, syntax)
    return text


def check_size(size: int, limit: int = DEFAULT_MAX_BYTES) -> None:
    if size > limit:
        raise DocumentTooLarge(f"document of {size} bytes is over the limit of {limit} bytes")


def parse(data: bytes, fmt: Format, base: str | None = None,
          loader: jsonld.ContextLoader | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
          max_values: int | None = bounds.MAX_PROCESSOR_VALUES) -> Graph:
    """Parse a document to an rdflib graph; raises BadDocument with the parser's message and position."""
    check_size(len(data), max_bytes)
    text = decode(data)
    if fmt.oxigraph is None:
        return jsonld.to_graph(jsonld.loads(text), base=base, loader=loader, max_values=max_values)
    return _parse_with_oxigraph(text, fmt, base)


def parse_triples(data: bytes, fmt: Format, base: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
                  ) -> list[ox.Triple]:
    """Parse a document in one of the formats oxigraph reads (not JSON-LD) to pyoxigraph triples."""
    check_size(len(data), max_bytes)
    return _oxigraph_triples(decode(data), fmt, base)


def _parse_with_oxigraph(text: str, fmt: Format, base: str | None) -> Graph:
    return to_rdflib(_oxigraph_triples(text, fmt, base))


def _oxigraph_triples(text: str, fmt: Format, base: str | None) -> list[ox.Triple]:
    """Parse with the bounds of :mod:`dds_pod.bounds` checked first (DTD, nesting) and while parsing (count, time)."""
    data = text.encode("utf-8")
    if fmt.oxigraph == ox.RdfFormat.RDF_XML:
        bounds.check_xml(data)
    else:
        bounds.check_text_nesting(text, fmt.name)
    try:
        quads = ox.parse(data, format=fmt.oxigraph, base_iri=base)
        return [quad.triple for quad in bounds.bounded(quads, fmt.name)]
    except (SyntaxError, ValueError) as exc:
        raise BadDocument(f"invalid {fmt.name}: {exc}") from None


def to_oxigraph(graph: Graph) -> list[ox.Triple]:
    """The triples of an rdflib graph as pyoxigraph terms (what the store and the screen read)."""
    blank: dict[BNode, ox.BlankNode] = {}
    try:
        return [ox.Triple(_oxigraph_term(s, blank), _oxigraph_term(p, blank), _oxigraph_term(o, blank))
                for s, p, o in graph]
    except ValueError as exc:  # pyld passes IRIs through unchecked
        raise BadDocument(f"invalid IRI or language tag: {exc}") from None


def to_rdflib(triples: Iterable[Statement]) -> Graph:
    """An rdflib graph of pyoxigraph triples (what patches and the reference validator work on)."""
    graph: Graph = Graph()
    blank: dict[str, BNode] = {}
    for t in triples:
        graph.add((from_oxigraph(t.subject, blank), from_oxigraph(t.predicate, blank),
                   from_oxigraph(t.object, blank)))
    return graph


def _oxigraph_term(term, blank: dict[BNode, ox.BlankNode]):
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return blank.setdefault(term, ox.BlankNode())
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype is not None:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def from_oxigraph(term, blank_nodes: dict[str, BNode]):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return blank_nodes.setdefault(term.value, BNode(term.value))
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)
    raise BadDocument(f"unsupported RDF term {term!r}")
