"""The ``decidim-dataspace`` routes (``/api/v1/data...``), answered over every federated platform."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app

from ..api.decidim import DataspaceAPI
from ..errors import NotFound
from . import params

bp = Blueprint("decidim", __name__, url_prefix="/api/v1/data")


def _api() -> DataspaceAPI:
    return current_app.extensions["dds.node"].decidim.in_locale(params.text_arg("preferred_locale", "en") or "en")


def _with_comments() -> bool:
    return params.text_arg("with_comments", "false").lower() == "true"


def _json(value) -> Response:
    return Response(json.dumps(value, ensure_ascii=False, indent=2), mimetype="application/json")


@bp.route("", methods=["GET", "HEAD"])
def data() -> Response:
    api = _api()
    return _json({"containers": api.containers(),
                  "contributions": api.contributions(_with_comments(), params.text_arg("container")),
                  "authors": api.authors()})


@bp.route("/containers", methods=["GET", "HEAD"])
def containers() -> Response:
    return _json(_api().containers())


@bp.route("/containers/<path:reference>", methods=["GET", "HEAD"])
def container(reference: str) -> Response:
    api = _api()
    return _json(api.container(_found(api, "container", reference)))


@bp.route("/contributions", methods=["GET", "HEAD"])
def contributions() -> Response:
    return _json(_api().contributions(_with_comments(), params.text_arg("container")))


@bp.route("/contributions/<path:reference>", methods=["GET", "HEAD"])
def contribution(reference: str) -> Response:
    api = _api()
    return _json(api.contribution(_found(api, "contribution", reference), full_children=_with_comments()))


@bp.route("/authors", methods=["GET", "HEAD"])
def authors() -> Response:
    return _json(_api().authors())


@bp.route("/authors/<path:reference>", methods=["GET", "HEAD"])
def author(reference: str) -> Response:
    api = _api()
    return _json(api.author(_found(api, "author", reference)))


def _found(api: DataspaceAPI, kind: str, reference: str):
    resource = api.find(kind, params.check_text(reference, "reference"))
    if resource is None:
        raise NotFound(f"no {kind} with reference {reference!r}")
    return resource
