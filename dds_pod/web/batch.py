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

from .. import jsonld, rdfio
from ..errors import BadDocument, NotFound, UnsupportedFormat
from ..federation import notifications
from ..ldp.resources import BatchOutcome, BatchRejected
from ..node import Node
from . import params
from .auth import authorize

bp = Blueprint("batch", __name__)


@bp.route("/<pod_name>/batch", methods=["POST"])
def batch(pod_name: str) -> Response:
    node: Node = current_app.extensions["dds.node"]
    pod = node.pods.get(pod_name)
    if pod is None:
        raise NotFound(f"no pod named {pod_name!r} on this node")
    credential = authorize(node, pod)
    if request.mimetype not in ("application/json", "application/ld+json"):
        raise UnsupportedFormat("a batch is application/json: {\"put\": [...], \"delete\": [...]}")
    body = jsonld.loads(rdfio.decode(request.get_data()))
    if not isinstance(body, dict):
        raise BadDocument("a batch is a JSON object with \"put\" and \"delete\" lists")
    named = []
    for document in _list(body, "put"):
        if not isinstance(document, dict) or not isinstance(document.get("id", document.get("@id")), str):
            node.intake.read_json_batch(named, pod.config.language)  # an earlier document's error comes first
            raise BadDocument("each document of \"put\" needs its \"id\"", field="put")
        named.append((document, document.get("id", document.get("@id"))))
    triples = node.intake.read_json_batch(named, pod.config.language)
    documents = [(iri, read) for (_, iri), read in zip(named, triples, strict=True)]
    deletions = [params.check_iri(iri, "delete") for iri in _list(body, "delete") if isinstance(iri, str)]
    dry_run = _flag(body, "dry_run")
    try:
        outcome = pod.write_batch(documents, deletions, credential=credential, atomic=_flag(body, "atomic"),
                                  dry_run=dry_run)
    except BatchRejected as rejected:
        return _answer(rejected.outcome, 422)
    if not dry_run:
        _announce(node, pod.url, documents, outcome)
    return _answer(outcome, 200)


def _announce(node: Node, pod_url: str, documents: list, outcome: BatchOutcome) -> None:
    """Queue notifications to the member pods whose resources the written documents answer."""
    created, updated = set(outcome.created), set(outcome.updated)
    for iri, triples in documents:
        if iri in created or iri in updated:
            node.outbox.enqueue(pod_url, iri, notifications.answered_in(triples, iri), iri in created)


def _flag(body: dict, key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise BadDocument(f"\"{key}\" must be true or false", field=key)
    return value


def _list(body: dict, key: str) -> list:
    value = body.get(key, [])
    if not isinstance(value, list):
        raise BadDocument(f"\"{key}\" must be a list", field=key)
    return value


def _answer(outcome: BatchOutcome, status: int) -> Response:
    lang = request.accept_languages.best_match(["en", "fr"], default="en")
    document = {
        "created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged,
        "deleted": outcome.deleted,
        "rejected": {iri: report.field_errors(lang) for iri, report in outcome.rejected.items()},
    }
    return Response(json.dumps(document, ensure_ascii=False), status=status, mimetype="application/json")
