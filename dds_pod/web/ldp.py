"""The LDP blueprint: HTTP methods on pod resources, mapped onto :mod:`dds_pod.ldp.resources`.

This module knows headers, status codes and media types; what a write means (validation,
server-managed triples, versions) lives in the domain layer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from .. import standard
from ..errors import BadDocument, MethodNotAllowed, NotFound
from ..federation.inbox import InboxBusy
from ..ldp import reactions, representation
from ..ldp.intake import Body
from ..ldp.resources import Pod, Preconditions, Resource, Search, Written, check_path_segments
from ..node import Node
from ..vocab import LDP, RDF
from . import conneg, html, params
from .auth import authorize
from .cache import NodeCache
from .paging import int_arg, paging_links
from .problems import problem

bp = Blueprint("ldp", __name__)

LDP_TYPE_LINKS = {
    "resource": ['<http://www.w3.org/ns/ldp#Resource>; rel="type"', '<http://www.w3.org/ns/ldp#RDFSource>; rel="type"'],
    "container": ['<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"',
                  '<http://www.w3.org/ns/ldp#Container>; rel="type"',
                  '<http://www.w3.org/ns/ldp#Resource>; rel="type"',
                  '<http://www.w3.org/ns/ldp#RDFSource>; rel="type"'],
}
PREFER_MINIMAL = "http://www.w3.org/ns/ldp#PreferMinimalContainer"
PREFER_CONTAINMENT = "http://www.w3.org/ns/ldp#PreferContainment"
CONTAINS = ox.NamedNode(str(LDP.contains))
METHODS_CONTAINER = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
METHODS_RESOURCE = "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"
METHODS_MISSING = "OPTIONS, PUT, PATCH"  # PATCH creates a missing resource too
POD_DEFAULT = "text/turtle"  # what a client that states no preference gets (LDP 1.0 §4.3.2.2)
CONTAINER_PAGE_MAX = 10000
FEED_PAGE_MAX = 1000  # events per change-feed page: a larger limit gets this many and the link to the rest
LINKED_LABELS_MAX = 50  # linked resources of one page looked up for their titles


def _node() -> Node:
    return current_app.extensions["dds.node"]


def _cache() -> NodeCache:
    return current_app.extensions["dds.cache"]


@bp.route("/<pod_name>/", defaults={"path": ""}, methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
          provide_automatic_options=False)
@bp.route("/<pod_name>/<path:path>", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
          provide_automatic_options=False)
def resource(pod_name: str, path: str) -> Response:
    pod = _node().pods.get(pod_name)
    if pod is None:
        raise NotFound(f"no pod named {pod_name!r} on this node")
    check_path_segments(path)
    iri = pod.url + quote(path, safe="/:@!$&'()*+,;=-._~")
    if path == "changes/":
        return _change_feed(pod)
    if reactions.thread_target(iri) is not None and pod.version(iri) is None:
        return _replies_container(pod, iri)
    handler: Callable[[Pod, str], Response] = HANDLERS[request.method]
    return handler(pod, iri)


# ------------------------------------------------------------------- reading

def _get(pod: Pod, iri: str) -> Response:
    resource = pod.view(iri)
    chosen = conneg.choose(request, default=POD_DEFAULT)
    languages = conneg.languages(request) if chosen == conneg.JSON_LD else []
    minimal = resource.is_container and _prefers_minimal()
    query = _page_query() if resource.is_container else ""
    tag = chosen.tag + ("-min" if minimal else "") + (f"-{_digest(','.join(languages))}" if languages else "")
    etag = _etag(resource.version, tag, query)
    if _matches(request.headers.get("If-None-Match"), etag):
        response = Response(status=304)
    elif resource.is_container:
        response = _container_response(pod, resource, chosen, minimal, languages)
    else:
        response = _resource_response(pod, resource, chosen, languages)
    response.headers["ETag"] = etag
    _describe(response, pod, resource.iri, exists=True)
    response.vary.add("Accept-Language")  # compact JSON-LD narrows language maps to the reader's language
    if minimal:
        response.headers["Preference-Applied"] = "return=representation"
    return response


def _container_response(pod: Pod, container: Resource, chosen: conneg.Representation, minimal: bool,
                        languages: list[str]) -> Response:
    own = [t for t in container.triples if t.predicate != CONTAINS]
    limit, offset, search = _paging(pod)
    members, total = ([], 0) if minimal else pod.member_page(container.iri, limit, offset, search)
    if chosen == conneg.JSON_LD:
        head = json.dumps(representation.document(
            representation.narrowed(representation.node_object(own, container.subject), languages),
            _node().context_url), ensure_ascii=False)
        if not minimal:
            texts = ",".join(_member_json(pod, member, version, languages) for member, version in members)
            head = f'{head[:-1]}, "ldp:contains": [{texts}]}}'
        response = Response(head, mimetype="application/ld+json")
    else:
        triples = list(own)
        for member, _ in members:
            triples.append(ox.Triple(container.subject, CONTAINS, ox.NamedNode(member)))
            triples.extend(_member_triples(pod, member))
        response = _render(pod, triples, container.subject, chosen, None)
    if not minimal:
        paging_links(response, container.iri, limit, offset, total)
    return response


def _replies_container(pod: Pod, iri: str) -> Response:
    """``<resource>/replies/``: a read-only container of the resource's replies, each embedded with its fields
    (a reply from another platform, known from the inbox only, by its IRI)."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        raise MethodNotAllowed(f"{iri} is computed from the replies of its resource: it takes no writes")
    target, replies = pod.replies(iri)
    chosen = conneg.choose(request, default=POD_DEFAULT)
    languages = conneg.languages(request) if chosen == conneg.JSON_LD else []
    subject = ox.NamedNode(iri)
    own = [ox.Triple(subject, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(LDP.BasicContainer)))]
    versions = {reply: pod.version(reply) for reply in replies}  # an edited reply changes the page too
    tag = chosen.tag + (f"-{_digest(','.join(languages))}" if languages else "")
    etag = _etag(target.version, tag, "replies " + " ".join(f"{r}={v}" for r, v in versions.items()))
    if _matches(request.headers.get("If-None-Match"), etag):
        response = Response(status=304)
    elif chosen == conneg.JSON_LD:
        head = representation.narrowed(representation.node_object(own, subject), languages)
        members = [json.loads(_member_json(pod, reply, version, languages)) if version else {"@id": reply}
                   for reply, version in versions.items()]
        response = _json(representation.document({**head, "ldp:contains": members}, _node().context_url))
    else:
        triples = list(own)
        for reply in replies:
            triples.append(ox.Triple(subject, CONTAINS, ox.NamedNode(reply)))
            triples.extend(_member_triples(pod, reply))
        response = _render(pod, triples, subject, chosen, None)
    response.headers["ETag"] = etag
    for link in LDP_TYPE_LINKS["container"]:
        response.headers.add("Link", link)
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    response.vary.update(("Accept", "Accept-Language", "Origin"))
    return response


def _resource_response(pod: Pod, resource: Resource, chosen: conneg.Representation,
                       languages: list[str]) -> Response:
    """One resource, with the links to its replies and the counts of its reactions the pod's view adds."""
    node = _node_object(resource)
    # Always arrays, so that a client reads one reply like several (the same JSON-LD either way).
    lists = {key: node[key] if isinstance(node[key], list) else [node[key]]
             for key in ("replies", "reactionCounts") if key in node}
    node = representation.narrowed({**node, **lists} if lists else node, languages)
    return _render(pod, resource.triples, resource.subject, chosen, node)


def _member_json(pod: Pod, iri: str, version: str, languages: list[str]) -> str:
    """A member's node object as JSON, from the cache (a reader of one language costs one more pass on it)."""
    build = lambda: representation.document_object(_member_triples(pod, iri), ox.NamedNode(iri))  # noqa: E731
    node, text = _cache().get(iri, version, build)
    return json.dumps(representation.narrowed(node, languages), ensure_ascii=False) if languages else text


def _member_triples(pod: Pod, iri: str) -> list[ox.Triple]:
    return [t for t in pod.store.triples(iri) if t.predicate != CONTAINS]


def _node_object(resource: Resource) -> dict:
    return _cache().get(resource.iri, resource.version,
                        lambda: representation.document_object(resource.triples, resource.subject))[0]


def _render(pod: Pod, triples: list[ox.Triple], subject: ox.NamedNode, chosen: conneg.Representation,
            node: dict | None) -> Response:
    if chosen == conneg.JSON_LD:
        return _json(representation.document(node or representation.node_object(triples, subject),
                                             _node().context_url))
    if chosen == conneg.JSON_LD_EXPANDED:
        response = _json(representation.expanded(triples))
        response.headers["Content-Type"] = f'application/ld+json; profile="{conneg.EXPANDED_PROFILE}"'
        return response
    if chosen == conneg.HTML:
        return _html(pod, triples, subject)
    # A document's triples are its default graph, in N-Quads as in every other syntax.
    plain = chosen.oxigraph in (ox.RdfFormat.N_QUADS, ox.RdfFormat.N_TRIPLES)
    prefixes = None if plain else standard.context_prefixes()
    data = ox.serialize(triples, format=chosen.oxigraph, prefixes=prefixes)
    return Response(data, mimetype=chosen.media_type)


def _html(pod: Pod, triples: list[ox.Triple], subject: ox.NamedNode) -> Response:
    return html.response(html.resource_page(triples, subject, labels=_linked_labels(pod, triples)))


def _linked_labels(pod: Pod, triples: list[ox.Triple]) -> dict[str, html.Label]:
    """The titles of the pod's own resources a page links to (its author, space, topic, ...), looked up for at
    most LINKED_LABELS_MAX of them, so a page's cost stays bounded whatever the resource links."""
    described = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    linked = sorted({t.object.value for t in triples if isinstance(t.object, ox.NamedNode)
                     and t.object.value.startswith(pod.url) and t.object.value not in described})
    return _titles(pod, linked[:LINKED_LABELS_MAX])


def _titles(pod: Pod, iris: Iterable[str]) -> dict[str, html.Label]:
    """How pages name these resources of the pod (those the pod does not hold are left out)."""
    labels = {}
    for iri in iris:
        found = html.label_of(pod.store.triples(iri), ox.NamedNode(iri), pod.url)
        if found is not None:
            labels[iri] = found
    return labels


def _json(document) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), mimetype="application/ld+json")


def _change_feed(pod: Pod) -> Response:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        response = Response(status=405)
        response.headers["Allow"] = "GET, HEAD, OPTIONS"
        return response
    since = int_arg("since", 0, minimum=0)
    limit = min(int_arg("limit", _node().config.page_size, minimum=1), FEED_PAGE_MAX)
    chosen = conneg.choose(request)
    if chosen == conneg.HTML:
        return _feed_html(pod, since, limit)
    triples, next_since = pod.feed.page(since, limit)
    stream = ox.NamedNode(pod.feed.url)
    if chosen == conneg.JSON_LD:
        subjects = sorted({t.subject for t in triples if isinstance(t.subject, ox.NamedNode)}, key=lambda s: s.value)
        response = _json({"@context": _node().context_url, "@graph": representation.node_objects(triples, subjects)})
    else:
        response = _render(pod, triples, stream, chosen, None)
    if next_since is not None:
        response.headers.add("Link", f'<{pod.feed.url}?{urlencode({"since": next_since, "limit": limit})}>; rel="next"')
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    response.vary.add("Accept")
    return response


def _feed_html(pod: Pod, since: int, limit: int) -> Response:
    """A page of the feed for people: its events with the titles of their resources, and links to the earlier,
    later and newest pages."""
    events = pod.feed.events(since, limit + 1)
    more, events = len(events) > limit, events[:limit]
    labels = _titles(pod, {event.iri for event in events})
    at = lambda start: f"{pod.feed.url}?{urlencode({'since': start, 'limit': limit})}"  # noqa: E731
    pages = []
    if since > 0:
        pages.append(("Earlier changes", at(max(0, since - limit))))
    if more:
        pages.append(("Later changes", at(events[-1].sequence)))
    newest = max(0, pod.feed.last_sequence() - limit)
    if newest > since:
        pages.append(("Newest changes", at(newest)))
    response = html.response(html.feed_page(f"Changes of {pod.config.title}", pod.feed.url, events, labels, pages))
    if more:
        response.headers.add("Link", f'<{at(events[-1].sequence)}>; rel="next"')
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    response.vary.add("Accept")
    return response


# ------------------------------------------------------------------- writing

def _post(pod: Pod, iri: str) -> Response:
    if iri == f"{pod.url}inbox/" and "Authorization" not in request.headers:
        return _receive_notification(pod)
    credential = authorize(_node(), pod)
    if not iri.endswith("/"):
        pod.get(iri)  # 404 or 410 first, as for any method on a missing resource
        response = Response(status=405)
        _describe(response, pod, iri, exists=True)
        return response
    written = pod.post(iri, _body(), slug=params.text_header("Slug"), as_container=_link_says_container(),
                       credential=credential)
    return _written_response(pod, written)


def _put(pod: Pod, iri: str) -> Response:
    credential = authorize(_node(), pod)
    written = pod.put(iri, _body(), preconditions=_preconditions(), credential=credential)
    return _written_response(pod, written)


def _patch(pod: Pod, iri: str) -> Response:
    credential = authorize(_node(), pod)
    written = pod.patch(iri, _body(), preconditions=_preconditions(), credential=credential)
    return _written_response(pod, written)


def _delete(pod: Pod, iri: str) -> Response:
    authorize(_node(), pod)
    pod.delete(iri, preconditions=_preconditions())
    return Response(status=204)


def _options(pod: Pod, iri: str) -> Response:
    response = Response(status=204)
    exists = pod.version(iri) is not None
    _describe(response, pod, iri, exists=exists)
    return response


def _receive_notification(pod: Pod) -> Response:
    """An unauthenticated POST to a pod's inbox: a Linked Data Notification from another pod, accepted for
    verification later (202 and its status resource), or found again (200 and the status it has)."""
    try:
        received = _node().inbox.receive(pod, request.get_data(), request.content_type or "")
    except InboxBusy as busy:
        response = problem(busy.status, busy.title, busy.message, field=busy.field)
        response.headers["Retry-After"] = str(busy.retry_after_s)
        return response
    response = Response(json.dumps(received.document), status=202 if received.created else 200,
                        mimetype="application/json")
    response.headers["Location" if received.created else "Content-Location"] = received.status
    return response


def _written_response(pod: Pod, written: Written) -> Response:
    resource = written.resource
    if written.created:
        if "return=minimal" in request.headers.get("Prefer", ""):
            response = Response(status=201)
        else:
            node = representation.document_object(resource.triples, resource.subject)
            response = _json(representation.document(node, _node().context_url))
            response.status_code = 201
        response.headers["Location"] = resource.iri
    else:
        response = Response(status=204)
    response.headers["ETag"] = _etag(resource.version, conneg.JSON_LD.tag, "")
    for warning in written.report.warnings:
        text = f"{warning.field}: {warning.message('en')}"
        response.headers.add("DDS-Validation-Warning", text.encode("ascii", "replace").decode())
    _describe(response, pod, resource.iri, exists=True)
    return response


# ------------------------------------------------------------------- request parsing

def _body() -> Body:
    """The request's body as the pod reads it: its plain text is in the language ``Content-Language`` states,
    else in the pod's (never the reader's ``Accept-Language``, which says what a browser reads, not what it sends)."""
    language = request.headers.get("Content-Language", "").split(",")[0].strip()
    return Body(request.get_data(), request.content_type, language or None)


def _link_says_container() -> bool:
    for link in request.headers.getlist("Link"):
        for part in link.split(","):
            target, _, params = part.partition(";")
            if 'rel="type"' in params.replace(" ", "") and target.strip(" <>") in (
                    str(LDP.BasicContainer), str(LDP.Container)):
                return True
    return False


def _preconditions() -> Preconditions:
    return Preconditions(_versions(request.headers.get("If-Match")), _versions(request.headers.get("If-None-Match")))


def _versions(header: str | None) -> tuple[str, ...] | str | None:
    if header is None:
        return None
    if header.strip() == "*":
        return "*"
    return tuple(tag.strip().removeprefix("W/").strip('"').split("-")[0] for tag in header.split(",") if tag.strip())


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    return header.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in header.split(",")]


def _etag(version: str, tag: str, query: str) -> str:
    suffix = f"-{_digest(query)}" if query else ""
    return f'"{version}-{tag}{suffix}"'


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _prefers_minimal() -> bool:
    prefer = request.headers.get("Prefer", "")
    if "return=representation" not in prefer.replace(" ", ""):
        return False
    include = prefer.split("include=", 1)[1] if "include=" in prefer else ""
    omit = prefer.split("omit=", 1)[1] if "omit=" in prefer else ""
    return PREFER_MINIMAL in include or PREFER_CONTAINMENT in omit


def _page_query() -> str:
    keys = ("limit", "offset", "search-fields", "search-terms", "search-method")
    return urlencode([(k, request.args[k]) for k in keys if k in request.args])


def _paging(pod: Pod) -> tuple[int, int, Search | None]:
    limit = min(int_arg("limit", _node().config.page_size, minimum=1), CONTAINER_PAGE_MAX)
    offset = int_arg("offset", 0, minimum=0)
    terms = request.args.get("search-terms")
    if terms is None:
        return limit, offset, None
    fields = [f.strip() for f in request.args.get("search-fields", "title,content").split(",") if f.strip()]
    by_key = {key: iri for iri, key in standard.term_names().items()}
    unknown = [f for f in fields if f not in by_key]
    if unknown:
        raise BadDocument(f"unknown search field(s): {', '.join(unknown)}", field="search-fields")
    method = request.args.get("search-method", "basic")
    if method not in ("basic", "ibasic", "exact"):
        raise BadDocument("search-method must be basic, ibasic or exact", field="search-method")
    return limit, offset, Search(tuple(by_key[f] for f in fields), terms, method)


def _describe(response: Response, pod: Pod, iri: str, exists: bool) -> None:
    """The headers every answer about a resource carries: LDP types, methods, accepted formats."""
    container = iri.endswith("/")
    if exists:
        for link in LDP_TYPE_LINKS["container" if container else "resource"]:
            response.headers.add("Link", link)
        response.headers["Allow"] = METHODS_CONTAINER if container else METHODS_RESOURCE
        response.headers.add("Link", f'<{pod.url}inbox/>; rel="http://www.w3.org/ns/ldp#inbox"')
    else:
        response.headers["Allow"] = METHODS_MISSING
    response.headers["Accept-Patch"] = conneg.ACCEPT_PATCH
    if container:
        response.headers["Accept-Post"] = conneg.ACCEPT_POST
    if not pod.is_free(iri):  # the free-RDF area is bound by no shape
        response.headers.add("Link", f'<{_node().shapes_url}>; rel="http://www.w3.org/ns/ldp#constrainedBy"')
    response.vary.update(("Accept", "Origin", "Prefer"))




HANDLERS: dict[str, Callable[[Pod, str], Response]] = {
    "GET": _get, "HEAD": _get, "OPTIONS": _options, "POST": _post, "PUT": _put, "PATCH": _patch, "DELETE": _delete,
}
