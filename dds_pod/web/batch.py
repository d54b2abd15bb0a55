"""Bulk writes for importers: ``POST {pod}batch`` creates, replaces and deletes many resources at once.

The body is ``{"put": [JSON-LD documents, each with its "id" in the pod], "delete": [IRIs],
"atomic": false}``. Each document is screened against the shapes, and all of it committed in one transaction;
the answer counts what was created, updated, left unchanged and deleted, and gives the
validation messages of each rejected document (with ``"atomic": true``, any rejection stores
nothing and answers 422). With ``"dry_run": true`` the documents are only checked: nothing is stored,
and the answer lists the rejected ones (an import in several requests checks them all before writing any).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request

from ..errors import NotFound
from ..ldp.intake import Body
from ..ldp.resources import BatchOutcome, BatchRejected
from ..node import Node
from .auth import authorize

bp = Blueprint("batch", __name__)


@bp.route("/<pod_name>/batch", methods=["POST"])
def batch(pod_name: str) -> Response:
    node: Node = current_app.extensions["dds.node"]
    pod = node.pods.get(pod_name)
    if pod is None:
        raise NotFound(f"no pod named {pod_name!r} on this node")
    credential = authorize(node, pod)
    try:  # the plain text of a batch is in the pod's language, whatever the request says
        outcome = pod.batch(Body(request.get_data(), request.content_type), credential=credential)
    except BatchRejected as rejected:
        return _answer(rejected.outcome, 422)
    return _answer(outcome, 200)


def _answer(outcome: BatchOutcome, status: int) -> Response:
    lang = request.accept_languages.best_match(["en", "fr"], default="en")
    document = {
        "created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged,
        "deleted": outcome.deleted,
        "rejected": {iri: report.field_errors(lang) for iri, report in outcome.rejected.items()},
    }
    return Response(json.dumps(document, ensure_ascii=False), status=status, mimetype="application/json")
