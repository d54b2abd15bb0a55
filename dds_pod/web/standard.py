"""The civic standard over HTTP: the JSON-LD context, the ontology and the shapes, plus the node's index.

Browsers resolve ``{base_url}ns/context.jsonld`` offline (same server, CORS-enabled); the
ontology and the shapes answer in Turtle, JSON-LD or HTML by Accept.
"""

from __future__ import annotations

import html
import json

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request
from rdflib import Graph, Literal, URIRef

from .. import standard
from ..errors import NotAcceptable
from ..vocab import OWL, RDF, RDFS

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
    best = request.accept_mimetypes.best_match(["application/ld+json", "text/html"]) or "application/ld+json"
    if best == "text/html":
        items = "".join(f'<li><a href="{html.escape(p["@id"])}">{html.escape(p["title"]["en"])}</a></li>'
                        for p in pods)
        page = (f"<!doctype html><html><head><meta charset='utf-8'><title>DDS node</title></head><body>"
                f"<h1>Democracy Data Space node</h1><ul>{items}</ul>"
                f"<p><a href='ns'>Ontology</a> · <a href='shapes'>Shapes</a> · "
                f"<a href='ns/context.jsonld'>JSON-LD context</a></p></body></html>")
        return Response(page, mimetype="text/html")
    body = {"@context": node.context_url, "@id": node.config.base_url, "pods": pods}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/ld+json")


def _graph_document(graph: Graph, path, title: str) -> Response:
    offered = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml", "text/html"]
    best = request.accept_mimetypes.best_match(offered) if request.headers.get("Accept") else "text/turtle"
    if best is None:
        raise NotAcceptable(f"offered: {', '.join(offered)}")
    if best == "text/html":
        return Response(_html(graph, title), mimetype="text/html")
    if best == "text/turtle":
        return Response(path.read_bytes(), mimetype="text/turtle")
    data = ox.serialize(ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE),
                        format=ox.RdfFormat.from_media_type(best))
    response = Response(data, mimetype=best)
    response.vary.add("Accept")
    return response


def _html(graph: Graph, title: str) -> str:
    rows = []
    for term in sorted({s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef)}):
        labels = " / ".join(f"{html.escape(str(o))} ({o.language})" for o in graph.objects(term, RDFS.label)
                            if isinstance(o, Literal))
        comments = "<br>".join(html.escape(str(o)) for o in graph.objects(term, RDFS.comment))
        kinds = ", ".join(html.escape(str(t).rsplit("#", 1)[-1]) for t in graph.objects(term, RDF.type)
                          if str(t).startswith(str(OWL)) or "shacl" in str(t))
        rows.append(f"<tr id='{html.escape(str(term).rsplit('#', 1)[-1])}'><td><code>{html.escape(str(term))}"
                    f"</code></td><td>{kinds}</td><td>{labels}</td><td>{comments}</td></tr>")
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
            "<table><tr><th>term</th><th>kind</th><th>label</th><th>definition</th></tr>"
            + "".join(rows) + "</table></body></html>")
