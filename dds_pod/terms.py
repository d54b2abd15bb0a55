"""Small helpers shared by the modules that write RDF: IRIs, timestamps and integers as pyoxigraph terms."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import cast

import pyoxigraph as ox

from .errors import BadDocument

XSD_DATE_TIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")

# A statement about a resource: a triple, or a quad already in the named graph that will hold the resource (what
# the parse of a batch gives). Making a pyoxigraph triple or quad costs more than the rest of storing it, so a
# write keeps what it was given and a store makes quads only of triples.
Statement = ox.Triple | ox.Quad
# What may stand in the object of a statement: an RDF 1.2 triple term as well.
ObjectTerm = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def value_of(term: ObjectTerm) -> str:
    """The IRI, blank node id or lexical form of a term. pyoxigraph types every object (and RDF 1.2 subject) as
    possibly a triple term; the graphs read here hold none, so one is refused as a value rather than misread."""
    if isinstance(term, ox.Triple):
        raise ValueError(f"a triple term where an IRI, blank node or literal was expected: {term}")
    return term.value


def in_memory(serialized: bytes | None) -> bytes:
    """What a pyoxigraph serializer returns when it is given no output: the bytes. Its stubs type the result as
    possibly None (what it returns when it writes to a file) whatever the call."""
    return cast(bytes, serialized)


@lru_cache(maxsize=4096)
def named(term) -> ox.NamedNode:
    """A pyoxigraph IRI from an rdflib term or a string (vocabulary constants are rdflib terms). Cached: making
    a pyoxigraph term costs more than looking it up, and the same few vocabulary terms are asked for all the time."""
    return ox.NamedNode(str(term))


def utc_now() -> str:
    """The current time as an xsd:dateTime lexical form, in UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@lru_cache(maxsize=256)
def date_time(text: str) -> ox.Literal:
    """An xsd:dateTime literal (``text`` as :func:`utc_now` gives it)."""
    return ox.Literal(text, datatype=XSD_DATE_TIME)


def integer(number: int) -> ox.Literal:
    """An xsd:integer literal."""
    return ox.Literal(str(number), datatype=XSD_INTEGER)


def checked_iri(value: str, field: str) -> str:
    """``value`` if it is an absolute IRI (RFC 3987, as oxigraph parses it); a 400 naming ``field`` otherwise, before
    a space or a control character reaches a query or a store."""
    try:
        ox.NamedNode(value)
    except ValueError as exc:
        raise BadDocument(f"{field}: invalid IRI {value!r}, not a valid absolute IRI ({exc}; RFC 3987 allows no "
                          "spaces, control characters or any of <>\"{}|^`\\)", field=field) from None
    return value
