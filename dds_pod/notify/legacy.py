"""The legacy Solid WebSocket protocol, ``solid-0.1``, which Solid clients written before the Notifications
Protocol (and Community Solid Server) still speak.

Every answer about a pod's resource names the endpoint in an ``Updates-Via`` header; a client connects there
(subprotocol ``solid-0.1``), sends ``sub <IRI>`` lines and receives ``ack <IRI>``, then ``pub <IRI>`` each time
that resource, or for a container its list of members, changes. Nothing is fetched: an IRI is subscribed to only
if it lies in one of this node's pods, anything else is answered with an ``error`` line. Reading is public, so
the ``auth`` and ``dpop`` lines such clients send first are read and ignored. Anyone may connect, so connections
in total and subscriptions per connection are bounded. The registry is shared by the websocket thread that
subscribes and the writers' threads that ask whether a pod is watched: every access holds its lock.

Such clients send ``sub`` and then write without waiting for the ``ack``, so their write can commit before their
``sub`` is read. A write is therefore told to the endpoint while a connection has not subscribed yet, and the
endpoint keeps the IRIs changed in the last ``GRACE_S`` seconds: a new subscription hears at once of a change
of its IRI made since its connection opened.
"""

from __future__ import annotations

import itertools
import threading
import time

from ..errors import BadDocument
from ..ldp.resources import check_path_segments

PROTOCOL = "solid-0.1"
PATH = "/solid-0.1"
MAX_SUBSCRIPTIONS = 100  # IRIs one connection may subscribe to
GRACE_S = 2.0  # how long a change is kept for a subscription that may have been on its way
IGNORED = ("auth", "dpop")  # credentials: every pod is readable without them


class Subscriptions:
    """The IRIs each open solid-0.1 connection subscribed to, within this node's pods."""

    def __init__(self, max_connections: int, max_subscriptions: int = MAX_SUBSCRIPTIONS) -> None:
        self.max_connections = max_connections
        self.max_subscriptions = max_subscriptions
        self.pods: set[str] = set()  # the URLs of this node's pods
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._topics: dict[int, set[str]] = {}
        self._opened: dict[int, float] = {}  # when each connection opened (monotonic)

    def full(self) -> bool:
        with self._lock:
            return len(self._topics) >= self.max_connections

    def connect(self) -> int | None:
        """A new connection's number; None when the node has all the connections it takes."""
        with self._lock:
            if len(self._topics) >= self.max_connections:
                return None
            number = next(self._ids)
            self._topics[number] = set()
            self._opened[number] = time.monotonic()
            return number

    def disconnect(self, number: int) -> None:
        with self._lock:
            self._topics.pop(number, None)
            self._opened.pop(number, None)

    def answer(self, number: int, line: str) -> str | None:
        """The reply to one line a client sent: ``ack``, an ``error``, or nothing for a line ignored."""
        verb, _, argument = line.strip().partition(" ")
        if verb in IGNORED:
            return None
        if verb != "sub":
            return f"error unknown command {verb[:32]!r}: this endpoint takes \"sub <IRI>\""
        iri = argument.strip()
        refusal = self._refusal(iri)
        if refusal is not None:
            return f"error {refusal}"
        with self._lock:
            topics = self._topics.get(number)
            if topics is None:
                return None
            if iri not in topics and len(topics) >= self.max_subscriptions:
                return f"error a connection subscribes to at most {self.max_subscriptions} IRIs"
            topics.add(iri)
        return f"ack {iri}"

    def holds(self, number: int, iri: str) -> bool:
        with self._lock:
            return iri in self._topics.get(number, ())

    def subscribers(self, topic: str) -> list[int]:
        """The connections subscribed to ``topic``."""
        with self._lock:
            return [number for number, topics in self._topics.items() if topic in topics]

    def watches(self, prefix: str) -> bool:
        """Whether a write under ``prefix`` (a pod) may concern a connection: one subscribed to an IRI under it,
        or one opened less than ``GRACE_S`` ago and not subscribed yet, whose first ``sub`` may be on its way (an
        idle connection older than that could not hear of the write anyway: changes are kept ``GRACE_S``)."""
        recent = time.monotonic() - GRACE_S
        with self._lock:
            return any(any(topic.startswith(prefix) for topic in topics) if topics
                       else self._opened[number] >= recent for number, topics in self._topics.items())

    def _refusal(self, iri: str) -> str | None:
        """Why ``iri`` cannot be subscribed to, or None. It need not exist yet: creating it is a change."""
        pod = next((url for url in self.pods if iri.startswith(url)), None)
        if pod is None or any(c.isspace() for c in iri):
            return f"{iri[:256]} is not a resource of a pod of this node"
        try:
            check_path_segments(iri[len(pod):])
        except BadDocument as refused:
            return refused.message
        return None
