"""What a pod's committed writes tell their subscribers: Activity Streams notifications read from its change feed.

Every write of a pod adds its events to the pod's change feed in the commit that stores it, so the feed is the
one account of what changed, whichever path wrote (POST, PUT, PATCH, DELETE, a batch). A :class:`PodWatcher`,
one of the pod's write hooks, reads the events a commit added (one reader at a time, so in their order), and
every second those that other processes serving the node added (:class:`FeedFollower`); it hands one notification
per topic to an :class:`Announcer`: the resource gets ``Create``, ``Update`` or ``Delete``, its container ``Add``
or ``Remove``. ``state`` is the topic's version, the ETag a conditional
request names. The same events give the legacy ``solid-0.1`` subscribers (:mod:`.legacy`) the IRIs they
subscribed to that changed. A pod nobody watches costs one probe of its feed per write and per second.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Protocol

import pyoxigraph as ox

from ..changes import Event
from ..errors import Gone, NotFound, StoreUnavailable
from ..ldp.hooks import StagedWrite
from ..ldp.resources import CREATED, Pod
from ..store import Change
from .channels import Channels
from .legacy import Subscriptions

log = logging.getLogger(__name__)

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
NOTIFICATION_CONTEXT = "https://www.w3.org/ns/solid/notification/v1"
CONTEXTS = [AS_CONTEXT, NOTIFICATION_CONTEXT]
OWN_KINDS = {"create": "Create", "update": "Update", "delete": "Delete"}
CONTAINER_KINDS = {"create": "Add", "delete": "Remove"}  # a member's update leaves its container's list as it was


class Announcer(Protocol):
    def announce(self, topic: str, notification: dict) -> None:
        """Send ``notification`` to the channels of ``topic``, without waiting for them."""

    def publish(self, topic: str) -> None:
        """Tell the solid-0.1 subscribers of ``topic`` that it changed, without waiting for them."""


class PodWatcher:
    """A write hook of one pod: after each commit, the notifications of the events it added."""

    def __init__(self, pod: Pod, channels: Channels, legacy: Subscriptions, announcer: Announcer) -> None:
        self.pod = pod
        self.channels = channels
        self.legacy = legacy
        self.announcer = announcer
        self._seen: int | None = None  # the last event told; None until the watcher follows the feed
        self._lock = threading.Lock()

    def follow(self) -> None:
        """Start from the feed's end (events before it are owed to no subscriber): once the store answers."""
        with self._lock:
            self._seen = self.pod.feed.last_sequence()

    def stage(self, change: Change, write: StagedWrite) -> None:
        """Nothing to store: notifications are told once the write is."""

    def committed(self) -> None:
        """Tell the events of the commit just made. The write is stored whatever happens here: a failure to
        notify is logged, never turned into the writer's error."""
        try:
            self._tell()
        except StoreUnavailable as exc:  # told with the next commit, which reads the feed from the last told
            log.warning("notifications of %s wait for the store: %s", self.pod.url, exc.message)
        except Exception:
            log.exception("notifications of %s could not be told", self.pod.url)

    def _tell(self) -> None:
        with self._lock:
            if self._seen is None:
                return
            last = self.pod.feed.last_sequence()
            seen, self._seen = self._seen, last
            if last > seen:
                self._announce(seen, last)

    def _announce(self, seen: int, last: int) -> None:
        channels, legacy = self.channels.watches(self.pod.url), self.legacy.watches(self.pod.url)
        if not channels and not legacy:
            return
        for event in self.pod.feed.events(seen, last - seen):
            if channels:
                for topic, notification in notifications(event, self.pod):
                    self.announcer.announce(topic, notification)
            if legacy:
                for topic in changed(event, self.pod):
                    self.announcer.publish(topic)


def notifications(event: Event, pod: Pod) -> list[tuple[str, dict]]:
    """The topics an event concerns, each with its notification."""
    own = _activity(OWN_KINDS[event.kind], event.iri, event.time)
    if event.kind != "delete":
        own["state"] = _state(pod, event.iri)
    told = [(event.iri, own)]
    container = container_of(event.iri, pod.url)
    if container is not None and event.kind in CONTAINER_KINDS:
        member = _activity(CONTAINER_KINDS[event.kind], event.iri, event.time)
        member["target"] = container
        member["state"] = _state(pod, container)
        told.append((container, member))
    return told


def changed(event: Event, pod: Pod) -> list[str]:
    """The IRIs whose solid-0.1 subscribers hear of an event: the resource; for a member that came or went, its
    container, and the containers its creation made (they have no event of their own), up to one that was there."""
    told = [event.iri]
    if event.kind not in CONTAINER_KINDS:
        return told
    container = container_of(event.iri, pod.url)
    while container is not None:
        told.append(container)
        if event.kind != "create" or not _created_by(pod, container, event.time):
            break
        container = container_of(container, pod.url)
    return told


def _created_by(pod: Pod, container: str, time: str) -> bool:
    """Whether ``container`` was created by the write made at ``time``."""
    try:
        triples = pod.get(container).triples
    except (NotFound, Gone):
        return False
    return any(t.predicate == CREATED and isinstance(t.object, ox.Literal) and t.object.value == time
               for t in triples)


def container_of(iri: str, pod_url: str) -> str | None:
    """The container holding ``iri``; None for the pod's root."""
    if iri == pod_url:
        return None
    return iri.rstrip("/").rsplit("/", 1)[0] + "/"


def _activity(kind: str, iri: str, time: str) -> dict:
    return {"@context": CONTEXTS, "id": f"urn:uuid:{uuid.uuid4()}", "type": kind, "object": iri, "published": time}


def _state(pod: Pod, iri: str) -> str:
    """The topic's version as an ETag (a later write of the same commit may have moved it on)."""
    return f'"{pod.version(iri) or "0"}"'


class FeedFollower:
    """A serving process's thread that tells its subscribers what other processes serving the node wrote: every
    ``interval_s``, each watcher reads its pod's feed past the last event it told (a probe of the feed when nothing
    changed). A process's own writes are told at once, by their commits."""

    def __init__(self, watchers: list[PodWatcher], interval_s: float = 1.0) -> None:
        self.watchers = watchers
        self.interval_s = interval_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="dds-feed-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            for watcher in self.watchers:
                watcher.committed()  # logs its own failures (an engine down): the next round tries again
