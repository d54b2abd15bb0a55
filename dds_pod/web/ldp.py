"""The LDP blueprint: HTTP methods on pod resources, mapped onto :mod:`dds_pod.ldp.resources`.

This module knows headers, status codes and media types; what a write means (validation,
server-managed triples, versions) lives in the domain layer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import BinaryIO
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request
from werkzeug.wsgi import wrap_file

from .. import negotiation, standard
from ..errors import BadDocument, DocumentTooLarge, MethodNotAllowed, NotFound
from ..federation.inbox import InboxBusy
from ..ldp import files, reactions, representation
from ..ldp.intake import Body
from ..ldp.resources import Pod, Preconditions, Resource, Search, Written, check_path_segments
from ..node import Node
from ..vocab import LDP, RDF
from . import conneg, html, params
from .auth import authorize
from .cache import NodeCache
from .paging import int_arg, page_targets, paged_document, paging_links, paging_triples
from .problems import problem

bp = Blueprint("ldp", __name__)

LDP_TYPE_LINKS = {
    "resource": ['<http://www.w3.org/ns/ldp#Resource>; rel="type"', '<http://www.w3.org/ns/ldp#RDFSource>; rel="type"'],
    "file": ['<http://www.w3.org/ns/ldp#Resource>; rel="type"', '<http://www.w3.org/ns/ldp#NonRDFSource>; rel="type"'],
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
METHODS_FILE = "GET, HEAD, OPTIONS, PUT, DELETE"  # a file's bytes are replaced whole, never patched
METHODS_MISSING = "OPTIONS, PUT, PATCH"  # PATCH creates a missing resource too
POD_DEFAULT = "text/turtle"  # what a client that states no preference gets (LDP 1.0 §4.3.2.2)
CONTAINER_PAGE_MAX = 10000
FEED_PAGE_MAX = 1000  # events per change-feed page: a larger limit is sent to a page of this many
IMMUTABLE_MAX_AGE_S = 31536000  # a year: a full page of the feed never changes
LINKED_LABELS_MAX = 50  # linked resources of one page looked up for their titles
# A file is served so that nothing in it runs on the node's origin: no sniffing into HTML, no script, no plugin,
# no fetch. PDFs are left out of the sandbox only: browsers refuse to show a sandboxed PDF (their viewer runs
# apart from the origin anyway).
FILE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"
SANDBOXED_FILE_POLICY = f"sandbox; {FILE_POLICY}"
FILE_TAG = "file"  # the ETag tag of a file's bytes (its description has the tags of its RDF representations)
CHUNK_BYTES = 64 * 1024


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
    info = files.file_info(resource.triples, iri)
    if info is not None and "meta" not in request.args and _wants_bytes(info):
        return _file_response(pod, resource, info)
    if info is not None:
        return _description_response(pod, resource)
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


def _file_response(pod: Pod, resource: Resource, info: files.FileInfo) -> Response:
    """A file's exact bytes with the type it was sent with, sandboxed, and the link to its description."""
    etag = _etag(resource.version, FILE_TAG, "")
    if _matches(request.headers.get("If-None-Match"), etag):
        response = Response(status=304)
    else:
        try:
            data = pod.blobs.open(info.sha256)
        except FileNotFoundError:
            raise NotFound(f"the bytes of {resource.iri} are missing from this node") from None
        response = file_bytes(data, info)
    response.headers["ETag"] = etag
    sandbox(response, info.media_type)
    _describe(response, pod, resource.iri, exists=True, is_file=True)
    return response


def sandbox(response: Response, media_type: str) -> None:
    """The headers every answer with a file's bytes carries, whoever serves it."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    sandboxed = media_type.split(";")[0] != "application/pdf"
    response.headers["Content-Security-Policy"] = SANDBOXED_FILE_POLICY if sandboxed else FILE_POLICY


def file_bytes(data: BinaryIO, info: files.FileInfo) -> Response:
    """The bytes streamed from where they are kept, with their type and length."""
    response = Response(wrap_file(request.environ, data), mimetype=info.media_type, direct_passthrough=True)
    response.headers["Content-Type"] = info.media_type
    response.headers["Content-Length"] = str(info.size)
    return response


def _wants_bytes(info: files.FileInfo) -> bool:
    """Whether a request for a file asks for its bytes (any Accept that takes them as well as RDF) rather than
    for RDF only, as a harvester does: that one gets the description, without the bytes it did not ask for."""
    offered = [info.media_type.split(";")[0], *(t for t in conneg.OFFERED if t != "text/html")]
    return negotiation.best(conneg.accepted(request), offered) == offered[0]


def _description_response(pod: Pod, resource: Resource) -> Response:
    """``{file}?meta`` (or the file asked for in RDF only): the file's description, with the contributions that
    attach it."""
    chosen = conneg.choose(request, default=POD_DEFAULT)
    etag = _etag(resource.version, chosen.tag + "-meta", "")
    triples = [*resource.triples, *files.attached_by(pod.store, resource.iri)]
    response = Response(status=304) if _matches(request.headers.get("If-None-Match"), etag) else _render(
        pod, triples, resource.subject, chosen, None)
    response.headers["ETag"] = etag
    for link in LDP_TYPE_LINKS["resource"]:
        response.headers.add("Link", link)
    response.headers.add("Link", f'<{resource.iri}>; rel="describes"')
    response.headers["Content-Location"] = f"{resource.iri}?meta"
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    response.vary.add("Accept")
    return response


def _container_response(pod: Pod, container: Resource, chosen: conneg.Representation, minimal: bool,
                        languages: list[str]) -> Response:
    own = [t for t in container.triples if t.predicate != CONTAINS]
    limit, offset, search = _paging(pod)
    members, total = ([], 0) if minimal else pod.member_page(container.iri, limit, offset, search)
    targets = {} if minimal else page_targets(container.iri, limit, offset, total)
    view = [] if minimal else paging_triples(container.iri, targets, total)
    if chosen == conneg.JSON_LD:
        head = json.dumps(representation.narrowed(paged_document(own + view, container.subject,
                                                                _node().context_url), languages),
                          ensure_ascii=False)
        if not minimal:
            texts = ",".join(_member_json(pod, member, version, languages) for member, version in members)
            head = f'{head[:-1]}, "ldp:contains": [{texts}]}}'
        response = Response(head, mimetype="application/ld+json")
    else:
        triples = own + view
        for member, _ in members:
            triples.append(ox.Triple(container.subject, CONTAINS, ox.NamedNode(member)))
            triples.extend(_member_triples(pod, member))
        if chosen == conneg.HTML:
            response = html.response(html.resource_page(triples, container.subject, labels=_linked_labels(pod, triples),
                                                        pages=html.page_links(targets)))
        else:
            response = _render(pod, triples, container.subject, chosen, None)
    paging_links(response, targets)
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
    """The pod's Linked Data Event Stream. ``{pod}changes/`` is the stream itself (its first events, never cached);
    ``?since=N&limit=M`` is a node of its view, whose IRI is that URL: a full one is cached for good."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        response = Response(status=405)
        response.headers["Allow"] = "GET, HEAD, OPTIONS"
        return response
    since = int_arg("since", 0, minimum=0)
    asked = int_arg("limit", _node().config.page_size, minimum=1)
    limit = min(asked, FEED_PAGE_MAX)
    is_node = "since" in request.args
    if is_node and _feed_query() != f"since={since}&limit={limit}":  # not the page's own IRI
        return _feed_redirect(pod, since, limit)
    chosen = conneg.choose(request)
    if chosen == conneg.HTML:
        return _feed_html(pod, since, limit)
    root = pod.feed.page_url(0, min(_node().config.page_size, FEED_PAGE_MAX))
    page = pod.feed.page(since, limit, pod.feed.page_url(since, limit) if is_node else None, root)
    if chosen == conneg.JSON_LD:
        subjects = sorted({t.subject for t in page.triples if isinstance(t.subject, ox.NamedNode)},
                          key=lambda s: s.value)
        response = _json({"@context": _node().context_url,
                          "@graph": representation.node_objects(page.triples, subjects)})
    else:
        response = _render(pod, page.triples, pod.feed.stream, chosen, None)
    if page.next_since is not None:
        response.headers.add("Link", f'<{pod.feed.page_url(page.next_since, limit)}>; rel="next"')
    return _feed_headers(response, page.immutable)


def _feed_query() -> str:
    """The query of a feed request as the node IRIs spell it (``format`` names a representation, not a node)."""
    return urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "format"])


def _feed_redirect(pod: Pod, since: int, limit: int) -> Response:
    """A node asked for under another spelling (no ``limit``, one above the largest page, other parameters):
    sent to its IRI, so that a client that checks a page's IRI against its URL finds the node it asked for."""
    target = pod.feed.page_url(since, limit)
    if "format" in request.args:
        target += "&" + urlencode({"format": request.args["format"]})
    response = Response(status=302)
    response.headers["Location"] = target
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    return response


def _feed_headers(response: Response, immutable: bool) -> Response:
    """Caching as the LDES server primer asks: a strong ETag on every page, and a full page kept for good, so a
    client following the stream polls only its last page."""
    etag = f'"{hashlib.sha1(response.get_data()).hexdigest()[:20]}"'
    if _matches(request.headers.get("If-None-Match"), etag):
        response = Response(status=304)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={IMMUTABLE_MAX_AGE_S}, immutable" if immutable else "no-cache"
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
    slug = params.text_header("Slug")
    if files.is_rdf(request.content_type):
        written = pod.post(iri, _body(), slug=slug, as_container=_link_says_container(), credential=credential)
    else:
        upload = _upload(pod)
        try:
            written = pod.post_file(iri, upload, slug=slug, credential=credential)
        finally:
            upload.staged.discard()
    return _written_response(pod, written)


def _put(pod: Pod, iri: str) -> Response:
    credential = authorize(_node(), pod)
    if files.is_rdf(request.content_type):
        written = pod.put(iri, _body(), preconditions=_preconditions(), credential=credential)
    else:
        upload = _upload(pod)
        try:
            written = pod.put_file(iri, upload, preconditions=_preconditions(), credential=credential)
        finally:
            upload.staged.discard()  # kept bytes have moved; a refused write leaves none behind
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
    _describe(response, pod, iri, exists=exists, is_file=exists and files.is_file(pod.store.triples(iri), iri))
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
    is_file = files.is_file(resource.triples, resource.iri)
    response.headers["ETag"] = _etag(resource.version, FILE_TAG if is_file else conneg.JSON_LD.tag, "")
    for warning in written.report.warnings:
        text = f"{warning.field}: {warning.message('en')}"
        response.headers.add("DDS-Validation-Warning", text.encode("ascii", "replace").decode())
    _describe(response, pod, resource.iri, exists=True, is_file=is_file)
    return response


# ------------------------------------------------------------------- request parsing

def _upload(pod: Pod) -> files.Upload:
    """A file's bytes read aside, once its type is allowed (415 naming Content-Type) and its size is within the
    limit (413 naming Content-Length before reading, or the body when a chunked one runs over)."""
    config = _node().config
    media_type = files.accepted_media_type(request.content_type or "", config.files.media_types)
    limit = config.max_file_bytes
    if request.content_length is not None and request.content_length > limit:
        raise DocumentTooLarge(f"the file is over the limit of {limit} bytes", field="Content-Length")
    request.max_content_length = limit
    stream = request.stream
    staged = pod.blobs.stage(iter(lambda: stream.read(CHUNK_BYTES), b""), limit)
    return files.Upload(staged, media_type)


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


def _describe(response: Response, pod: Pod, iri: str, exists: bool, is_file: bool = False) -> None:
    """The headers every answer about a resource carries: LDP types, methods, accepted formats."""
    container = iri.endswith("/")
    if exists:
        for link in LDP_TYPE_LINKS["container" if container else "file" if is_file else "resource"]:
            response.headers.add("Link", link)
        if is_file:
            response.headers.add("Link", f'<{iri}?meta>; rel="describedby"')
        response.headers["Allow"] = METHODS_CONTAINER if container else METHODS_FILE if is_file else METHODS_RESOURCE
        response.headers.add("Link", f'<{pod.url}inbox/>; rel="http://www.w3.org/ns/ldp#inbox"')
    else:
        response.headers["Allow"] = METHODS_MISSING
    if not is_file:
        response.headers["Accept-Patch"] = conneg.ACCEPT_PATCH
    if container:
        response.headers["Accept-Post"] = conneg.ACCEPT_POST
    if not pod.is_free(iri):  # the free-RDF area is bound by no shape
        response.headers.add("Link", f'<{_node().shapes_url}>; rel="http://www.w3.org/ns/ldp#constrainedBy"')
    response.vary.update(("Accept", "Origin", "Prefer"))




HANDLERS: dict[str, Callable[[Pod, str], Response]] = {
    "GET": _get, "HEAD": _get, "OPTIONS": _options, "POST": _post, "PUT": _put, "PATCH": _patch, "DELETE": _delete,
}
