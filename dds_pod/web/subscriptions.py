"""Solid Notifications over HTTP: the pods' storage descriptions, the subscription service, the channels.

Every answer about a pod's resource links the pod's storage description
(``rel="http://www.w3.org/ns/solid/terms#storageDescription"``); the description lists the WebSocketChannel2023
subscription service; a POST there answers the channel, whose ``receiveFrom`` is built with the host the client
asked by; a DELETE of the channel's IRI ends it. The notification context is served here too, so no client of
the node needs another origin to read it. Those answers also carry ``Updates-Via``, the endpoint of the legacy
``solid-0.1`` websocket protocol. What a subscription means lives in :mod:`dds_pod.notify`.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request

from ..errors import NotFound
from ..jsonld import to_graph
from ..node import Node
from ..notify import context_document, subscription
from . import conneg

bp = Blueprint("subscriptions", __name__)

STORAGE_DESCRIPTION = "http://www.w3.org/ns/solid/terms#storageDescription"
DESCRIPTION_TYPES = ["application/ld+json", "text/turtle"]


def _node() -> Node:
    return current_app.extensions["dds.node"]


@bp.route("/.storage/<pod_name>", methods=["GET", "HEAD"])
def description(pod_name: str) -> Response:
    pod = _node().pods.get(pod_name)
    if pod is None:
        raise NotFound(f"no pod named {pod_name!r} on this node")
    document = _node().notifications.description(pod)
    if conneg.choose_media_type(request, DESCRIPTION_TYPES) == "text/turtle":
        graph = to_graph(document, loader=subscription.context_loader())
        response = Response(graph.serialize(format="turtle"), mimetype="text/turtle")
    else:
        response = _json(document)
    response.vary.add("Accept")
    return response


@bp.route("/.notifications/WebSocketChannel2023/", methods=["POST"])
def subscribe() -> Response:
    node = _node()
    wanted = subscription.read(request.get_data(), request.content_type)
    channel = node.notifications.subscribe(wanted, node.pods.values(), request.host)
    response = _json(channel)
    response.headers["Cache-Control"] = "no-store"  # its receiveFrom is the channel's only key
    return response


@bp.route("/.notifications/WebSocketChannel2023/<channel>", methods=["DELETE"])
def unsubscribe(channel: str) -> Response:
    if not _node().notifications.unsubscribe(f"{_node().notifications.service_url}{channel}"):
        raise NotFound("no open channel has this IRI")
    return Response(status=204)


@bp.route("/ns/notification-context.jsonld", methods=["GET", "HEAD"])
def context() -> Response:
    response = _json(context_document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.after_app_request
def _advertise(response: Response) -> Response:
    """Link every answer about a pod's resource (errors included) to its pod's storage description, and name the
    solid-0.1 endpoint where this process serves it."""
    pod_name = (request.view_args or {}).get("pod_name")
    pod = _node().pods.get(pod_name) if request.blueprint == "ldp" and isinstance(pod_name, str) else None
    if pod is not None:
        notifications = _node().notifications
        response.headers.add("Link", f'<{notifications.description_url(pod)}>; rel="{STORAGE_DESCRIPTION}"')
        updates_via = notifications.updates_via(request.host)
        if updates_via is not None:
            response.headers["Updates-Via"] = updates_via
    return response


def _json(document: dict) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), mimetype="application/ld+json")
