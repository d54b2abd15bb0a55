"""The status of a notification a pod's inbox accepted for verification: pending, accepted, or refused and why.

A sender told 202 learns here what became of its notification; the reaction counts only once accepted.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app

from ..errors import NotFound

bp = Blueprint("notifications", __name__)


@bp.route("/federation/notifications/<key>", methods=["GET", "HEAD"])
def status(key: str) -> Response:
    document = current_app.extensions["dds.node"].inbox.status(key)
    if document is None:
        raise NotFound(f"no notification {key} was received")
    response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/json")
    response.headers["Cache-Control"] = "no-cache"
    return response
