"""The open notification channels: which topic each serves, until when, and the token that opens it.

Anyone may subscribe (reading is public), so everything a subscriber obtains is bounded: channels in total and
per topic, a lifetime (``endAt``), a deadline to connect, and one connection per channel. A channel is found
by the SHA-256 of its token, so the token itself is never compared byte by byte nor kept, and it opens that
channel only. The registry is shared by the HTTP threads that subscribe and the websocket thread that
connects and delivers: every access holds its lock.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..config import NotificationsConfig
from ..errors import DDSError


class TooManyChannels(DDSError):
    """The channels of a topic, or of the node, are at their limit: a subscriber may try again later."""

    status = 429
    title = "Too many channels"


@dataclass(frozen=True)
class Channel:
    iri: str
    key: str  # the SHA-256 of the channel's token
    topic: str
    end_at: float  # seconds since the epoch
    connect_by: float  # dropped if nobody is connected by then
    connected: bool = False


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class Channels:
    """The channels of one node, all pods together."""

    def __init__(self, limits: NotificationsConfig, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._by_key: dict[str, Channel] = {}
        self._by_iri: dict[str, str] = {}  # channel IRI -> key

    def open(self, topic: str, base: str, end_at: float | None) -> tuple[Channel, str]:
        """A new channel on ``topic`` (its IRI under ``base``) and its token; ``end_at`` is what the subscriber
        asked, capped by the node's longest lifetime."""
        now = self._clock()
        longest = now + self.limits.max_lifetime_s
        token = secrets.token_urlsafe(32)
        channel = Channel(f"{base}{uuid.uuid4().hex}", token_key(token), topic,
                          min(end_at, longest) if end_at is not None else longest,
                          now + self.limits.connect_within_s)
        with self._lock:
            self._drop_ended(now)
            if len(self._by_key) >= self.limits.max_channels:
                raise TooManyChannels(f"this node has {self.limits.max_channels} open channels, its limit; "
                                      "try again when some have ended")
            if sum(1 for c in self._by_key.values() if c.topic == topic) >= self.limits.max_channels_per_topic:
                raise TooManyChannels(f"{topic} has {self.limits.max_channels_per_topic} open channels, its limit",
                                      field="topic")
            self._by_key[channel.key] = channel
            self._by_iri[channel.iri] = channel.key
        return channel, token

    def find(self, token: str) -> Channel | None:
        """The live channel this token opens, connected or not."""
        with self._lock:
            channel = self._by_key.get(token_key(token))
            return channel if channel is not None and not self._ended(channel, self._clock()) else None

    def claim(self, token: str) -> Channel | None:
        """The channel this token opens, now marked connected; None if it has ended or has a connection."""
        with self._lock:
            channel = self._by_key.get(token_key(token))
            if channel is None or channel.connected or self._ended(channel, self._clock()):
                return None
            claimed = self._by_key[channel.key] = replace(channel, connected=True)
            return claimed

    def release(self, channel: Channel) -> None:
        """Its connection ended: the channel waits for another until its deadline to connect comes again."""
        with self._lock:
            if channel.key in self._by_key:
                self._by_key[channel.key] = replace(channel, connected=False,
                                                    connect_by=self._clock() + self.limits.connect_within_s)

    def close(self, iri: str) -> Channel | None:
        """End a channel at its subscriber's request; the channel, if it was open."""
        with self._lock:
            key = self._by_iri.pop(iri, None)
            return self._by_key.pop(key, None) if key is not None else None

    def ended(self) -> list[Channel]:
        """Take out and return the channels past their end or their deadline to connect."""
        with self._lock:
            return self._drop_ended(self._clock())

    def on(self, topic: str) -> list[Channel]:
        """The connected channels of a topic."""
        with self._lock:
            return [c for c in self._by_key.values() if c.topic == topic and c.connected]

    def watches(self, prefix: str) -> bool:
        """Whether any channel's topic is under ``prefix`` (a pod): writes elsewhere need no notification."""
        with self._lock:
            return any(c.topic.startswith(prefix) for c in self._by_key.values())

    def _ended(self, channel: Channel, now: float) -> bool:
        return now >= channel.end_at or (not channel.connected and now >= channel.connect_by)

    def _drop_ended(self, now: float) -> list[Channel]:
        ended = [c for c in self._by_key.values() if self._ended(c, now)]
        for channel in ended:
            del self._by_key[channel.key]
            self._by_iri.pop(channel.iri, None)
        return ended
