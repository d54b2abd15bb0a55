"""Solid Notifications on the pods: a storage description per pod, a subscription service and WebSocketChannel2023.

A client finds a pod's storage description from the ``Link: rel="http://www.w3.org/ns/solid/terms#storageDescription"``
of any of its resources; the description lists the subscription service; a POST there opens a channel on a
topic (a resource or container of one of this node's pods) and answers its ``receiveFrom`` websocket URL with an
unguessable token; the client connects and receives an Activity Streams notification for every committed change
of the topic. The parts: :mod:`.subscription` reads requests, :mod:`.channels` bounds and keeps channels,
:mod:`.activity` turns a pod's change feed into notifications, :mod:`.websocket` serves the connections.
The same endpoint serves the legacy ``solid-0.1`` protocol (:mod:`.legacy`), announced by ``Updates-Via``.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from ..config import NotificationsConfig
from ..errors import BadDocument, DDSError, Gone, NotFound
from ..ldp.resources import RESERVED_PATHS, Pod, check_path_segments
from . import legacy
from .activity import NOTIFICATION_CONTEXT, FeedFollower, PodWatcher
from .channels import Channels, TooManyChannels
from .subscription import Subscription, context_document
from .websocket import WebSocketEndpoint

__all__ = ["NotServing", "Notifications", "TooManyChannels", "context_document"]

HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.?)*$")
FEATURES = ["endAt"]


class NotServing(DDSError):
    """The websocket endpoint does not run in this process (a node built for tests or the CLI)."""

    status = 503
    title = "Notifications not served"


class Notifications:
    """The notification channels of a node's pods and the endpoint that delivers them."""

    def __init__(self, settings: NotificationsConfig, base_url: str) -> None:
        self.settings = settings
        self.base_url = base_url
        self.channels = Channels(settings)
        self.legacy = legacy.Subscriptions(settings.max_channels)
        self.endpoint = WebSocketEndpoint(self.channels, self.legacy, settings)
        self.watchers: list[PodWatcher] = []
        self.follower = FeedFollower(self.watchers)
        self.service_url = f"{base_url}.notifications/WebSocketChannel2023/"

    def watcher(self, pod: Pod) -> PodWatcher:
        """The write hook that tells a pod's committed changes to its subscribers."""
        self.legacy.pods.add(pod.url)
        watcher = PodWatcher(pod, self.channels, self.legacy, self.endpoint)
        self.watchers.append(watcher)
        return watcher

    def updates_via(self, host: str) -> str | None:
        """The solid-0.1 endpoint's URL for a client that reached the node by ``host``; None when not served."""
        if not self.endpoint.serving:
            return None
        if self.settings.ws_url:
            return f"{self.settings.ws_url}{legacy.PATH.lstrip('/')}"
        return f"ws://{_ws_host(host, self.base_url)}:{self.endpoint.port}{legacy.PATH}"

    def description_url(self, pod: Pod) -> str:
        return f"{self.base_url}.storage/{pod.config.name}"

    def description(self, pod: Pod) -> dict:
        """A pod's storage description: the subscription service, its channel type and its features."""
        return {"@context": [NOTIFICATION_CONTEXT], "id": self.description_url(pod),
                "subscription": [{"id": self.service_url, "channelType": "WebSocketChannel2023",
                                  "feature": FEATURES}]}

    def subscribe(self, subscription: Subscription, pods: Iterable[Pod], host: str) -> dict:
        """Open a channel and describe it; ``host`` is the host name the subscriber reached the node by."""
        if not self.endpoint.serving:
            raise NotServing("this process does not serve notifications (it is not a serving node)")
        _check_readable(subscription.topic, pods)
        if subscription.end_at is not None and subscription.end_at <= time.time():
            raise BadDocument("\"endAt\" is in the past", field="endAt")
        channel, token = self.channels.open(subscription.topic, self.service_url, subscription.end_at)
        end = datetime.fromtimestamp(channel.end_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return {"@context": [NOTIFICATION_CONTEXT], "id": channel.iri, "type": "WebSocketChannel2023",
                "topic": channel.topic, "receiveFrom": self._receive_from(host, token), "endAt": end}

    def unsubscribe(self, iri: str) -> bool:
        """End a channel by its IRI (known to its subscriber only); whether it was open."""
        channel = self.channels.close(iri)
        if channel is not None:
            self.endpoint.close_channel(channel)
        return channel is not None

    def _receive_from(self, host: str, token: str) -> str:
        if self.settings.ws_url:
            return f"{self.settings.ws_url}{token}"
        return f"ws://{_ws_host(host, self.base_url)}:{self.endpoint.port}/{token}"


def _check_readable(topic: str, pods: Iterable[Pod]) -> None:
    """A topic is a live resource or container of one of this node's pods, which its subscriber may read.

    Reading is public on every pod, so what a subscriber may not read is what a GET refuses: a missing or deleted
    resource. The change feed and the batch endpoint are the server's, not resources one subscribes to."""
    pod = next((p for p in pods if topic.startswith(p.url)), None)
    if pod is None:
        raise BadDocument(f"{topic} is not a resource of a pod of this node", field="topic")
    path = topic[len(pod.url):]
    try:
        check_path_segments(path)
    except BadDocument as refused:
        raise BadDocument(refused.message, field="topic") from None
    if path in RESERVED_PATHS or path.startswith(tuple(p for p in RESERVED_PATHS if p.endswith("/"))):
        raise BadDocument(f"{topic} is managed by the server: subscribe to a resource or container", field="topic")
    try:
        pod.get(topic)
    except (NotFound, Gone) as refused:
        raise type(refused)(f"{refused.message}: a subscription's topic must be readable", field="topic") from None


def _ws_host(host: str, base_url: str) -> str:
    """The host name of the request, if it is a plain name or address; else the one of ``base_url``."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]", 1)[0] + "]"
    if name.startswith("["):
        try:
            ipaddress.IPv6Address(name[1:-1])
            return name
        except ValueError:
            pass
    elif HOST_NAME.match(name) and len(name) <= 253:
        return name
    return base_url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
