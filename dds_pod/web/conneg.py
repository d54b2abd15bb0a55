"""Content negotiation: which representation a request gets."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Request, Response

from .. import negotiation
from ..errors import BadDocument, NotAcceptable
from ..ldp import representation
from ..negotiation import Accept
from . import html

EXPANDED_PROFILE = "http://www.w3.org/ns/json-ld#expanded"


@dataclass(frozen=True)
class Representation:
    media_type: str
    tag: str  # distinguishes the ETags of the representations of one state
    oxigraph: ox.RdfFormat | None = None


JSON_LD = Representation("application/ld+json", "jsonld")
JSON_LD_EXPANDED = Representation("application/ld+json", "expanded")
HTML = Representation("text/html", "html")
RDF_REPRESENTATIONS = {
    "text/turtle": Representation("text/turtle", "ttl", ox.RdfFormat.TURTLE),
    "application/n-triples": Representation("application/n-triples", "nt", ox.RdfFormat.N_TRIPLES),
    "application/n-quads": Representation("application/n-quads", "nq", ox.RdfFormat.N_QUADS),
    "application/rdf+xml": Representation("application/rdf+xml", "rdf", ox.RdfFormat.RDF_XML),
}
OFFERED = ["application/ld+json", "application/json", *RDF_REPRESENTATIONS, "text/html"]
ACCEPT_POST = "application/ld+json, text/turtle, application/n-triples"
ACCEPT_PATCH = "application/sparql-update, text/n3, application/ld+json, application/merge-patch+json"
LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8}){0,4}")
LANGUAGES_MAX = 10  # entries of Accept-Language read: a header is no reason to do unbounded work
NAMED_FORMATS = {"jsonld": JSON_LD, "turtle": RDF_REPRESENTATIONS["text/turtle"]}
"""``?format=`` values: a link on a page for people cannot set Accept, so it names the representation instead."""


def accepted(request: Request) -> Accept:
    """The request's Accept header as (media type, quality) pairs; parameters such as JSON-LD's profile or a
    charset play no part in choosing a type (see :func:`choose` for the profile)."""
    return [(value.split(";")[0].strip().lower(), quality) for value, quality in request.accept_mimetypes]


def choose(request: Request, default: str = "application/ld+json") -> Representation:
    """The representation ``?format=`` names, else the best for the Accept header; ``default`` when the client
    has no preference (no Accept, or ``*/*``). Pods pass Turtle, as LDP 1.0 §4.3.2.2 asks, while a browser still
    gets HTML (it asks for text/html) and Startin'blox JSON-LD (it names it)."""
    named = request.args.get("format")
    if named is not None:
        if named not in NAMED_FORMATS:
            raise BadDocument(f"format must be one of {', '.join(NAMED_FORMATS)}", field="format")
        return NAMED_FORMATS[named]
    offered = [default, *(media for media in OFFERED if media != default)]
    best = negotiation.best(accepted(request), offered)
    if best is None:
        raise NotAcceptable(f"none of the offered types is acceptable: {', '.join(offered)}")
    if best in ("application/ld+json", "application/json"):
        return JSON_LD_EXPANDED if _wants_expanded(request.headers.get("Accept", "")) else JSON_LD
    if best == "text/html":
        return HTML
    return RDF_REPRESENTATIONS[best]


def languages(request: Request) -> list[str]:
    """The languages the reader asks text in, lower-cased and most wanted first: ``?lang=`` (one tag, else 400
    naming it), else ``Accept-Language`` (malformed entries and ``*`` ignored); empty when it asks for none."""
    named = request.args.get("lang")
    if named is not None:
        if not LANGUAGE_TAG.fullmatch(named):
            raise BadDocument("lang must be one language tag such as fr or pt-BR", field="lang")
        return [named.lower()]
    ranked = [value for value, quality in list(request.accept_languages)[:LANGUAGES_MAX] if quality > 0]
    return [value.lower() for value in ranked if LANGUAGE_TAG.fullmatch(value)]


def choose_media_type(request: Request, offered: list[str]) -> str:
    """The offered media type the request prefers (the first when it states no preference), else 406."""
    best = negotiation.best(accepted(request), offered)
    if best is None:
        raise NotAcceptable(f"none of the offered types is acceptable: {', '.join(offered)}")
    return best


def _wants_expanded(header: str) -> bool:
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() == "application/ld+json":
            for param in params:
                name, _, value = param.partition("=")
                if name.strip().lower() == "profile" and EXPANDED_PROFILE in value.strip('"').split():
                    return True
    return False


def serialized(triples: list[ox.Triple], subject: ox.NamedNode, chosen: Representation,
               pages: list[tuple[str, str]] | None = None) -> Response:
    """A read-only resource's triples in the chosen representation: a page for people (with its paging links),
    expanded JSON-LD, or any syntax oxigraph writes."""
    if chosen == HTML:
        return html.response(html.resource_page(triples, subject, subject.value, pages=pages or ()))
    if chosen == JSON_LD_EXPANDED:
        return Response(json.dumps(representation.expanded(triples)), mimetype="application/ld+json")
    return Response(ox.serialize(triples, format=chosen.oxigraph), mimetype=chosen.media_type)
