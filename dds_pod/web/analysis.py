"""The analysis graph served as read-only Linked Data Platform resources.

``analysis/`` is a basic container of the parts (``themes/``, ``runs/``, ``similar/`` ...), each a container of its
results paged like the other containers, and each result (``analysis/themes/{key}``, ``analysis/runs/{id}`` ...)
a resource of its own with its hash nodes. JSON-LD by default, Turtle and the other RDF syntaxes on request. The
ETag is the publication's stamp: every publication changes it. Writes get 405; the analysis changes only by a
new run (``dds-pod analyse`` or the background job).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from ..analysis.graph import PARTS, Published, analysis_graph, languages_iri, part_iri, published_graph
from ..errors import MethodNotAllowed, NotFound
from ..ldp import representation
from ..node import Node
from ..terms import named
from ..vocab import DCTERMS, LDP, RDF
from . import conneg, html
from .paging import int_arg, page_targets, paged_document, paging_links, paging_triples

bp = Blueprint("analysis", __name__)

READ = ("GET", "HEAD", "OPTIONS")
METHODS = [*READ, "POST", "PUT", "PATCH", "DELETE"]
ALLOW = "GET, HEAD, OPTIONS"
MAX_PAGE = 1000


def _node() -> Node:
    return current_app.extensions["dds.node"]


class PublicationMemo:
    """The members' node objects of the latest publication, compacted or expanded once: replaced whole when a new
    publication is read, so that no earlier one is kept (a page of themes holds megabytes)."""

    def __init__(self) -> None:
        self._stamp: str | None = None
        self._kept: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def get(self, stamp: str, member: str, form: str, build: Callable[[], Any]) -> Any:
        with self._lock:
            if stamp != self._stamp:
                self._stamp, self._kept = stamp, {}
            found = self._kept.get((member, form))
        if found is None:
            found = build()
            with self._lock:
                if stamp == self._stamp:
                    self._kept[(member, form)] = found
        return found


bp.record_once(lambda state: state.app.extensions.setdefault("dds.analysis_memo", PublicationMemo()))


def _memo() -> PublicationMemo:
    return current_app.extensions["dds.analysis_memo"]


@bp.route("/analysis/", methods=METHODS, provide_automatic_options=False)
def root() -> Response:
    """The container of the analysis's parts."""
    if (early := _early()) is not None:
        return early
    base = _node().config.base_url
    published = published_graph(_node().merged, base)
    iri = analysis_graph(base)
    parts = [part_iri(base, part) for part in PARTS]
    if published is not None and published.resource(languages_iri(base)):
        parts.append(languages_iri(base))
    own = _container_triples(iri, "The node's analysis of the merged contributions")
    own += [ox.Triple(ox.NamedNode(iri), named(LDP.contains), ox.NamedNode(part)) for part in parts]
    if published is not None:
        own += published.resource(iri)
    return _answer(own, ox.NamedNode(iri), published)


@bp.route("/analysis/<part>/", methods=METHODS, provide_automatic_options=False)
def container(part: str) -> Response:
    """One part's results, a page at a time, in the analysis's order."""
    if (early := _early()) is not None:
        return early
    if part not in PARTS:
        raise NotFound(f"the analysis has no part {part!r}; its parts are: {', '.join(PARTS)}")
    node = _node()
    limit = int_arg("limit", node.config.page_size, minimum=1, maximum=MAX_PAGE)
    offset = int_arg("offset", 0, minimum=0)
    published = published_graph(node.merged, node.config.base_url)
    chosen = conneg.choose(request)
    if _not_modified(published, chosen):
        return _headers(Response(status=304), published, chosen, container=True)
    iri = part_iri(node.config.base_url, part)
    members = published.members(iri) if published is not None else []
    page = members[offset:offset + limit]
    subject = ox.NamedNode(iri)
    own = _container_triples(iri, f"The analysis's {part}")
    if published is not None:
        own += published.resource(iri)  # the themes' concept scheme
    targets = page_targets(iri, limit, offset, len(members))
    own += paging_triples(iri, targets, len(members))
    if chosen == conneg.JSON_LD:
        document = paged_document(own, subject, node.context_url)
        document["ldp:contains"] = [_member_object(published, member) for member in page] if published else []
        response = _json(document)
    else:
        contains = [ox.Triple(subject, named(LDP.contains), ox.NamedNode(member)) for member in page]
        if chosen == conneg.JSON_LD_EXPANDED and published is not None:
            response = _expanded_page([*own, *contains], page, published)
        else:
            described = [triple for member in page for triple in published.resource(member)] if published else []
            response = conneg.serialized([*own, *contains, *described], subject, chosen, html.page_links(targets))
    paging_links(response, targets)
    return _headers(response, published, chosen, container=True)


@bp.route("/analysis/languages", methods=METHODS, provide_automatic_options=False)
def languages() -> Response:
    if (early := _early()) is not None:
        return early
    return _resource(languages_iri(_node().config.base_url))


@bp.route("/analysis/<part>/<name>", methods=METHODS, provide_automatic_options=False)
def result(part: str, name: str) -> Response:
    """One result: a theme, a run, a similarity link, a stance aggregate, a summary ..."""
    if (early := _early()) is not None:
        return early
    if part not in PARTS:
        raise NotFound(f"the analysis has no part {part!r}; its parts are: {', '.join(PARTS)}")
    return _resource(f"{part_iri(_node().config.base_url, part)}{quote(name, safe='')}")


def _member_object(published: Published, member: str) -> dict:
    """A member's node object, compacted once per publication: a theme embeds its members' IRIs, so compacting
    a page of themes on every request would cost an anonymous reader's request a fifth of a second of CPU."""
    build = lambda: representation.document_object(published.resource(member), ox.NamedNode(member))  # noqa: E731
    return _memo().get(published.stamp, member, "compacted", build)


def _expanded_page(own: list[ox.Triple], page: list[str], published: Published) -> Response:
    """The page in expanded JSON-LD, its members' node objects expanded once per publication: the same document as
    expanding all its statements together (the members' subjects are their own, the nodes sorted by ``@id``)."""
    nodes = representation.expanded(own)
    for member in page:
        build = lambda member=member: representation.expanded(published.resource(member))  # noqa: E731
        nodes += _memo().get(published.stamp, member, "expanded", build)
    nodes.sort(key=lambda node: node["@id"])
    return Response(json.dumps(nodes), mimetype="application/ld+json")


def _resource(iri: str) -> Response:
    published = published_graph(_node().merged, _node().config.base_url)
    triples = published.resource(iri) if published is not None else []
    if not triples:
        what = "the node has not analysed its contributions yet" if published is None else "no such result"
        raise NotFound(f"{iri}: {what}")
    return _answer(triples, ox.NamedNode(iri), published, container=False)


def _early() -> Response | None:
    """The answer to OPTIONS (what is allowed); a 405 problem for a write; None for a read."""
    if request.method == "OPTIONS":
        response = Response(status=204)
        response.headers["Allow"] = ALLOW
        return response
    if request.method not in READ:
        raise MethodNotAllowed(f"the analysis is read-only ({ALLOW}); it changes only by a new analysis run")
    return None


def _container_triples(iri: str, title: str) -> list[ox.Triple]:
    subject = ox.NamedNode(iri)
    return [ox.Triple(subject, named(RDF.type), named(LDP.BasicContainer)),
            ox.Triple(subject, named(RDF.type), named(LDP.Container)),
            ox.Triple(subject, named(DCTERMS.title), ox.Literal(title, language="en"))]


def _answer(triples: list[ox.Triple], subject: ox.NamedNode, published: Published | None,
            container: bool = True) -> Response:
    chosen = conneg.choose(request)
    if _not_modified(published, chosen):
        return _headers(Response(status=304), published, chosen, container)
    if chosen == conneg.JSON_LD:
        response = _json(representation.document(representation.document_object(triples, subject),
                                                 _node().context_url))
    else:
        response = conneg.serialized(triples, subject, chosen)
    return _headers(response, published, chosen, container)


def _json(document: dict) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), mimetype="application/ld+json")


def _etag(published: Published | None, chosen: conneg.Representation) -> str:
    query = request.query_string.decode("latin-1")
    digest = hashlib.sha256(query.encode("latin-1")).hexdigest()[:12] if query else "0"
    return f'"{published.stamp if published else "none"}-{chosen.tag}-{digest}"'


def _not_modified(published: Published | None, chosen: conneg.Representation) -> bool:
    wanted = request.headers.get("If-None-Match", "")
    return bool(wanted) and (wanted.strip() == "*" or _etag(published, chosen) in
                             [tag.strip() for tag in wanted.split(",")])


def _headers(response: Response, published: Published | None, chosen: conneg.Representation,
             container: bool) -> Response:
    response.headers["ETag"] = _etag(published, chosen)
    response.headers["Allow"] = ALLOW
    response.headers.add("Link", f'<{LDP.BasicContainer if container else LDP.Resource}>; rel="type"')
    response.vary.add("Accept")
    return response
