"""Query parameters and links of paged collections (containers, merged views, feeds).

A page states its links twice: as ``Link`` headers, and in its RDF as a Hydra partial view, for clients that read
only the document (Comunica follows ``hydra:next``; Startin'blox reads headers). The page's IRI in the RDF is the
URL it was asked under, since a client looks for the links of the document it fetched.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Response, request

from ..errors import BadDocument
from ..ldp import representation
from ..terms import integer, named
from ..vocab import HYDRA, RDF

MAX_INTEGER = 10**12  # past any collection's size, and within the 64 bits a SPARQL OFFSET may take
HYDRA_LINKS = {"first": HYDRA.first, "last": HYDRA.last, "prev": HYDRA.previous, "next": HYDRA.next}


def int_arg(name: str, default: int, minimum: int, maximum: int = MAX_INTEGER) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadDocument(f"{name} must be an integer", field=name) from None
    if not minimum <= value <= maximum:
        raise BadDocument(f"{name} must be between {minimum} and {maximum}", field=name)
    return value


def page_targets(iri: str, limit: int, offset: int, total: int) -> dict[str, str]:
    """The URLs of the first, last, previous and next pages (the last two when there are such pages); the
    request's other parameters (search, filters) are kept."""
    def at(start: int) -> str:
        params = [(k, v) for k, v in request.args.items(multi=True) if k not in ("limit", "offset")]
        params += [("limit", str(limit)), ("offset", str(start))]
        return f"{iri}?{urlencode(params)}"

    targets = {"first": at(0), "last": at(max(0, ((total - 1) // limit) * limit) if total else 0)}
    if offset > 0:
        targets["prev"] = at(max(0, offset - limit))
    if offset + limit < total:
        targets["next"] = at(offset + limit)
    return targets


def paging_links(response: Response, targets: dict[str, str]) -> None:
    for rel, target in targets.items():
        response.headers.add("Link", f'<{target}>; rel="{rel}"')


def page_iri(iri: str) -> str:
    """The IRI of the page a request reads: the collection's, with the request's parameters spelt as the links
    spell them (so a page reached by a link has the IRI of that link)."""
    query = urlencode(list(request.args.items(multi=True)))
    return f"{iri}?{query}" if query else iri


def paging_triples(iri: str, targets: dict[str, str], total: int) -> list[ox.Triple]:
    """The collection's size and its view: this page, a ``hydra:PartialCollectionView`` with its links. The first
    page asked without parameters is the collection's own IRI: it carries the links but not the view's type, which
    would make the container a page to clients that read its types."""
    collection, page = ox.NamedNode(iri), ox.NamedNode(page_iri(iri))
    triples = [
        ox.Triple(collection, named(HYDRA.totalItems), integer(total)),
        ox.Triple(collection, named(HYDRA.view), page),
    ]
    if page != collection:
        triples.append(ox.Triple(page, named(RDF.type), named(HYDRA.PartialCollectionView)))
    triples += [ox.Triple(page, named(HYDRA_LINKS[rel]), ox.NamedNode(target)) for rel, target in targets.items()]
    return triples


def paged_document(triples: list[ox.Triple], collection: ox.NamedNode, context_url: str) -> dict:
    """The compact JSON-LD of a collection's own triples with its view: the page, a node of its own unless it is
    the collection itself (its first page asked without parameters), is included beside it."""
    node = representation.node_object(triples, collection)
    page = next((t.object for t in triples if t.subject == collection and t.predicate == named(HYDRA.view)), None)
    if isinstance(page, ox.NamedNode) and page != collection:
        node["@included"] = [*node.get("@included", []), representation.node_object(triples, page)]
    return representation.document(node, context_url)
