"""Reading a subscription request: a small JSON-LD document naming a channel type, a topic and perhaps an end.

The body is processed as JSON-LD with the notification context resolved from the node's own copy (never
fetched), so compact terms, full IRIs and an inline context all read the same. A body without ``@context`` is
read in the notification context, as clients that only send JSON do. Every refusal names the field at fault.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from .. import jsonld
from ..errors import BadDocument, DocumentTooLarge, Unprocessable, UnsupportedFormat
from .activity import NOTIFICATION_CONTEXT

NOTIFY = Namespace("http://www.w3.org/ns/solid/notifications#")
WEBSOCKET_CHANNEL = NOTIFY.WebSocketChannel2023
MAX_REQUEST_BYTES = 8 * 1024
MAX_TOPIC_CHARS = 2048
MEDIA_TYPES = ("application/ld+json", "application/json")
# Features of the protocol this node does not offer: asking for one is refused rather than ignored.
UNOFFERED = {NOTIFY.startAt: "startAt", NOTIFY.rate: "rate", NOTIFY.state: "state"}
CONTEXT_PATH = Path(__file__).with_name("context.jsonld")


@dataclass(frozen=True)
class Subscription:
    topic: str
    end_at: float | None  # seconds since the epoch, as the subscriber asked


@lru_cache(maxsize=1)
def context_document() -> dict:
    """The notification context, as the node serves it and resolves it."""
    return json.loads(CONTEXT_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def context_loader() -> jsonld.ContextLoader:
    """Resolves the DDS, the well-known and the notification contexts, all offline."""
    return jsonld.ContextLoader({NOTIFICATION_CONTEXT: context_document()})


def read(data: bytes, media_type: str | None) -> Subscription:
    """The subscription a request body asks for (a WebSocketChannel2023 on one topic)."""
    kind = (media_type or "").split(";")[0].strip().lower()
    if kind not in MEDIA_TYPES:
        raise UnsupportedFormat(f"a subscription is JSON-LD ({', '.join(MEDIA_TYPES)}), not {kind or 'untyped'!r}")
    if len(data) > MAX_REQUEST_BYTES:
        raise DocumentTooLarge(f"a subscription is at most {MAX_REQUEST_BYTES} bytes")
    try:
        document = jsonld.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadDocument("a subscription must be UTF-8") from None
    if not isinstance(document, dict):
        raise BadDocument("a subscription is one JSON object")
    if "@context" not in document:
        document = {"@context": NOTIFICATION_CONTEXT, **document}
    graph = jsonld.to_graph(document, loader=context_loader())
    channel = _channel(graph)
    _refuse_unoffered(graph, channel)
    return Subscription(_topic(graph, channel), _end_at(graph, channel))


def _channel(graph: Graph) -> Node:
    """The node the request describes: the one with a type, which must be WebSocketChannel2023."""
    typed = sorted(set(graph.subject_objects(RDF.type)), key=str)
    if not typed:
        raise BadDocument("a subscription needs a \"type\": WebSocketChannel2023", field="type")
    for subject, kind in typed:
        if kind == WEBSOCKET_CHANNEL:
            return subject
    raise BadDocument(f"channel type {str(typed[0][1])!r} is not offered; this node offers {WEBSOCKET_CHANNEL}",
                      field="type")


def _topic(graph: Graph, channel: Node) -> str:
    topics = list(graph.objects(channel, NOTIFY.topic))
    if len(topics) != 1:
        raise BadDocument("a subscription names one \"topic\", the IRI of a resource of this node", field="topic")
    topic = topics[0]
    if not isinstance(topic, URIRef) or len(topic) > MAX_TOPIC_CHARS:
        raise BadDocument(f"\"topic\" must be an IRI of at most {MAX_TOPIC_CHARS} characters", field="topic")
    return str(topic)


def _end_at(graph: Graph, channel: Node) -> float | None:
    ends = list(graph.objects(channel, NOTIFY.endAt))
    if not ends:
        return None
    value = ends[0]
    try:
        if len(ends) > 1 or not isinstance(value, Literal):
            raise ValueError
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError
    except ValueError:
        raise BadDocument("\"endAt\" must be one xsd:dateTime with its time zone, e.g. 2030-01-01T00:00:00Z",
                          field="endAt") from None
    return moment.timestamp()


def _refuse_unoffered(graph: Graph, channel: Node) -> None:
    for predicate, name in UNOFFERED.items():
        if (channel, predicate, None) in graph:
            raise Unprocessable(f"the feature {name!r} is not offered (the storage description lists those that are)",
                                field=name)
    accepts = [str(value) for value in graph.objects(channel, NOTIFY.accept)]
    if any(value.split(";")[0].strip() not in ("application/ld+json", "application/json") for value in accepts):
        raise Unprocessable("notifications are sent as application/ld+json only", field="accept")
