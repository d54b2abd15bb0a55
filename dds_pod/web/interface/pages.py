"""The public interface's pages for browsers: home, contribution, platform and space.

Server-rendered HTML that works without JavaScript; every page goes through :func:`render`, which sets the
Content-Security-Policy, remembers a language switch and says what the answer varies on. Bad input gets an HTML
error page with the right status (400 for a malformed id, 404 for an unknown one, 503 with ``Retry-After`` when
the node is too busy for the request), never a 500. A contribution's page shows what the latest analysis says
of it when the node has analysed its data.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from pathlib import Path

import pyoxigraph as ox
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from flask import Blueprint, Response, current_app, render_template, request, send_from_directory
from flask_babel import gettext as _

from ...errors import BadDocument, DDSError, NotFound
from ...ldp import representation
from ...node import Node
from ...terms import checked_iri
from . import i18n, security

bp = Blueprint("interface", __name__)

MAX_ID_CHARS = 2048
COPY_FORMATS = ("jsonld", "turtle")
VENDOR = {"leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
          "leaflet.markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR)}
VENDOR_MAX_AGE_S = 7 * 24 * 3600


def _node() -> Node:
    return current_app.extensions["dds.node"]


def render(template: str, status: int = 200, **context) -> Response:
    """A page of the interface, with the headers every one of them carries."""
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    security.protect(response, _node().config.interface.tiles_url)
    i18n.remember(response)
    response.vary.update(("Accept", "Accept-Language", "Cookie"))
    return response


def home() -> Response:
    """The home page (the node's index answers it to browsers)."""
    return render("home.html", home=_node().portal.home(i18n.locale()), active="home")


@bp.route("/contribution", methods=["GET", "HEAD"])
def contribution() -> Response:
    """A contribution with its thread, influence and provenance; ``format=jsonld|turtle`` gives the node's copy."""
    iri = id_arg()
    data_format = request.args.get("format")
    if data_format is not None:
        return _copy(iri, data_format)
    portal, language = _node().portal, i18n.locale()
    found = portal.contribution(iri, language)
    if found is None:
        raise NotFound(_("This node holds no contribution at this address."), field="id")
    views = portal.analysed(language)
    languages = {text.language for text in (*found.titles, *found.contents) if text.language}
    return render("contribution.html", item=found, analysis=views.contribution(iri) if views else None,
                  analysed=views is not None, readable=portal.reading.offered(languages))


def _copy(iri: str, data_format: str) -> Response:
    """The contribution as the node harvested it, in JSON-LD or Turtle."""
    if data_format not in COPY_FORMATS:
        raise BadDocument(_("format must be jsonld or turtle"), field="format")
    triples = _node().portal.resource(iri)
    if not triples:
        raise NotFound(_("This node holds no contribution at this address."), field="id")
    if data_format == "turtle":
        return Response(ox.serialize(triples, format=ox.RdfFormat.TURTLE), mimetype="text/turtle")
    node_object = representation.node_object(triples, ox.NamedNode(iri))
    body = json.dumps(representation.document(node_object, _node().context_url), ensure_ascii=False)
    return Response(body, mimetype="application/ld+json")


@bp.route("/platform", methods=["GET", "HEAD"])
def platform() -> Response:
    iri = id_arg()
    holdings = _node().portal.platform(iri, i18n.locale())
    if holdings is None:
        raise NotFound(_("No platform of this node has this address."), field="id")
    return render("holdings.html", holdings=holdings, filter_name="platform")


@bp.route("/space", methods=["GET", "HEAD"])
def space() -> Response:
    iri = id_arg()
    holdings = _node().portal.space(iri, i18n.locale())
    if holdings is None:
        raise NotFound(_("No participatory space of this node has this address."), field="id")
    return render("holdings.html", holdings=holdings, filter_name="space")


@bp.route("/static/vendor/<package>/<path:filename>", methods=["GET", "HEAD"])
def vendor(package: str, filename: str) -> Response:
    """Leaflet and its marker clusters, from their Python packages: the map loads nothing from a CDN."""
    if package not in VENDOR:
        raise NotFound(f"no vendored package {package!r}")
    return send_from_directory(VENDOR[package], filename, max_age=VENDOR_MAX_AGE_S)


def id_arg() -> str:
    """The ``id`` parameter: an absolute IRI of bounded length (400 naming ``id`` otherwise)."""
    value = request.args.get("id")
    if not value:
        raise BadDocument(_("The address of what to show is missing (parameter id)."), field="id")
    if len(value) > MAX_ID_CHARS:
        raise BadDocument(_("The address is too long."), field="id")
    return checked_iri(value, "id")


@bp.errorhandler(DDSError)
def error_page(error: DDSError) -> Response:
    """The error as a page of the interface; a 503 says when to come back."""
    titles = {400: _("This address is not valid"), 404: _("Nothing here"), 503: _("Too busy for now")}
    status = error.status if error.status in titles else 500
    response = render("error.html", status=status, title=titles.get(status, HTTPStatus(status).phrase),
                      message=error.message if status != 500 else "", field=error.field)
    retry_after = getattr(error, "retry_after_s", None)
    if status == 503:
        response.headers["Retry-After"] = str(retry_after or 30)
    return response
