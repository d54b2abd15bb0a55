"""The federation's HTTP views: the DCAT catalogue of members and the merged containers per kind."""

from __future__ import annotations

import json

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from ..errors import NotFound
from ..federation import views
from ..ldp import files, representation
from ..node import Node
from ..vocab import DCTERMS, DDS, LDP, RDF
from . import conneg, html, params
from .ldp import file_bytes, sandbox
from .paging import int_arg, page_targets, paged_document, paging_links, paging_triples

bp = Blueprint("federation", __name__)


def _node() -> Node:
    return current_app.extensions["dds.node"]


@bp.route("/catalog", methods=["GET", "HEAD"])
def catalog() -> Response:
    node = _node()
    triples = node.catalog.triples()
    chosen = conneg.choose(request)
    if chosen == conneg.JSON_LD:
        subjects = sorted({t.subject for t in triples if isinstance(t.subject, ox.NamedNode)}, key=lambda s: s.value)
        body = {"@context": node.context_url, "@graph": [representation.node_object(triples, s) for s in subjects]}
        response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/ld+json")
    else:
        response = conneg.serialized(triples, ox.NamedNode(node.catalog.iri), chosen)
    response.vary.add("Accept")
    return response


@bp.route("/federation/files/<sha256>", methods=["GET", "HEAD"])
def file_copy(sha256: str) -> Response:
    """The node's copy of a member's file, by the hash the merged graph's ``dds:storedCopy`` names."""
    node = _node()
    info = files.by_hash(node.merged, sha256) if len(sha256) == 64 else None
    try:
        data = node.harvester.blobs.open(sha256) if info is not None else None
    except FileNotFoundError:
        data = None
    if info is None or data is None:
        raise NotFound(f"no copy of a member's file has the SHA-256 {sha256[:64]!r}")
    response = file_bytes(data, info)
    response.headers["ETag"] = f'"{sha256}"'
    sandbox(response, info.media_type)
    return response


@bp.route("/federation/<kind>/", methods=["GET", "HEAD"])
def merged_view(kind: str) -> Response:
    """A read-only LDP container over every member, shaped like a pod's containers (Startin'blox reads it)."""
    if kind not in views.KINDS:
        raise NotFound(f"no merged view {kind!r}; there are: {', '.join(views.KINDS)}")
    node = _node()
    limit = min(int_arg("limit", node.config.page_size, minimum=1), 10000)
    offset = int_arg("offset", 0, minimum=0)
    params.check_iri_args("platform", "topic", "space")
    members, total = node.views.page(kind, views.filters_from(request.args), limit, offset)
    iri = f"{node.config.base_url}federation/{kind}/"
    subject = ox.NamedNode(iri)
    own = [
        ox.Triple(subject, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(LDP.BasicContainer))),
        ox.Triple(subject, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(LDP.Container))),
        ox.Triple(subject, ox.NamedNode(str(DCTERMS.title)), ox.Literal(f"{kind} of every platform", language="en")),
    ]
    targets = page_targets(iri, limit, offset, total)
    own += paging_triples(iri, targets, total)
    chosen = conneg.choose(request)
    if chosen == conneg.JSON_LD:
        document = paged_document(own, subject, node.context_url)
        document["ldp:contains"] = [representation.node_object(node.views.member_triples(m), ox.NamedNode(m))
                                    for m in members]
        response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/ld+json")
    else:
        triples = list(own)
        for member in members:
            triples.append(ox.Triple(subject, ox.NamedNode(str(LDP.contains)), ox.NamedNode(member)))
            triples.extend(node.views.member_triples(member))
        response = conneg.serialized(triples, subject, chosen, html.page_links(targets))
    paging_links(response, targets)
    response.headers.add("Link", '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"')
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    response.vary.add("Accept")
    return response


@bp.route("/federation/trace", methods=["GET", "HEAD"])
def trace() -> Response:
    """``?of=<result or decision IRI>``: the contributions that influenced it, their platform, role and status."""
    node = _node()
    outcome = params.iri_arg("of") or ""
    influences = [
        {"influencer": _present({"@id": found.contribution, "platform": found.platform,
                                 "status": _vocab_name(found.status), "title": found.title}),
         "role": _vocab_name(found.role)}
        for found in node.views.trace(outcome)
    ]
    document = {"@context": node.context_url, "@id": outcome, "influence": influences}
    return Response(json.dumps(document, ensure_ascii=False), mimetype="application/ld+json")


def _present(fields: dict[str, str | None]) -> dict[str, str]:
    """The fields that have a value: an unknown one is left out rather than sent as null."""
    return {key: value for key, value in fields.items() if value is not None}


def _vocab_name(iri: str | None) -> str | None:
    return iri.rsplit("#", 1)[-1] if iri and iri.startswith(str(DDS)) else iri
