"""The federation's HTTP views: the DCAT catalogue of members."""

from __future__ import annotations

import json

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from ..federation.catalog import catalog_triples
from ..ldp import representation
from . import conneg

bp = Blueprint("federation", __name__)


@bp.route("/catalog", methods=["GET", "HEAD"])
def catalog() -> Response:
    node = current_app.extensions["dds.node"]
    triples = catalog_triples(node)
    chosen = conneg.choose(request)
    if chosen == conneg.JSON_LD:
        subjects = sorted({t.subject for t in triples if isinstance(t.subject, ox.NamedNode)}, key=lambda s: s.value)
        body = {"@context": node.context_url, "@graph": [representation.node_object(triples, s) for s in subjects]}
        response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/ld+json")
    elif chosen == conneg.HTML:
        response = Response(representation.html_page(triples, ox.NamedNode(node.graphs.catalog), "Catalogue"),
                            mimetype="text/html")
    elif chosen == conneg.JSON_LD_EXPANDED:
        response = Response(json.dumps(representation.expanded(triples)), mimetype="application/ld+json")
    else:
        response = Response(ox.serialize(triples, format=chosen.oxigraph), mimetype=chosen.media_type)
    response.vary.add("Accept")
    return response
