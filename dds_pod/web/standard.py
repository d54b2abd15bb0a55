"""The civic standard over HTTP: the JSON-LD context, the ontology and the shapes, plus the node's index
(JSON-LD for machines, the public interface's home page for browsers).

Browsers resolve ``{base_url}ns/context.jsonld`` offline (same server, CORS-enabled); the
ontology and the shapes answer in Turtle, JSON-LD or HTML by Accept.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request
from rdflib import Graph

from .. import negotiation, standard
from . import conneg, html
from .interface import pages

bp = Blueprint("standard", __name__)


@bp.route("/ns/context.jsonld", methods=["GET", "HEAD"])
def context() -> Response:
    response = Response(json.dumps(standard.context_document(), ensure_ascii=False), mimetype="application/ld+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/ns", methods=["GET", "HEAD"])
def ontology() -> Response:
    return _graph_document(standard.ontology_graph(), standard.ONTOLOGY_PATH, "DDS civic ontology")


@bp.route("/shapes", methods=["GET", "HEAD"])
def shapes() -> Response:
    return _graph_document(standard.shapes_graph(), standard.SHAPES_PATH, "DDS shapes")


@bp.route("/", methods=["GET", "HEAD"])
def index() -> Response:
    node = current_app.extensions["dds.node"]
    pods = [{"@id": pod.url, "title": {"en": pod.config.title}, "platform": pod.config.platform}
            for pod in node.pods.values()]
    # Browsers get the public interface's home page; a client that accepts neither gets JSON-LD, as a pod's
    # root would without HTML.
    if negotiation.best(conneg.accepted(request), ["application/ld+json", "text/html"]) == "text/html":
        return pages.home()
    body = {"@context": node.context_url, "@id": node.config.base_url, "pods": pods}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/ld+json")


def _graph_document(graph: Graph, path, title: str) -> Response:
    offered = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml", "text/html"]
    best = conneg.choose_media_type(request, offered)
    if best == "text/html":
        return html.response(html.vocabulary_page(graph, title))
    if best == "text/turtle":
        return Response(path.read_bytes(), mimetype="text/turtle")
    data = ox.serialize(ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE),
                        format=ox.RdfFormat.from_media_type(best))
    response = Response(data, mimetype=best)
    response.vary.add("Accept")
    return response
