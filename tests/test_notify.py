"""The notification channels without a server: the [notifications] settings, the registry's bounds and clock,
and how subscription requests are read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dds_pod.config import ConfigError, NotificationsConfig, from_dict
from dds_pod.errors import BadDocument, DocumentTooLarge, Unprocessable, UnsupportedFormat
from dds_pod.notify import subscription
from dds_pod.notify.channels import Channels, TooManyChannels

BASE = {"base_url": "http://127.0.0.1:8000/", "pods": {"p": {"platform": "https://p.example", "token": "t"}}}
TOPIC = "http://127.0.0.1:8000/p/proposals/"
SERVICE = "http://127.0.0.1:8000/.notifications/WebSocketChannel2023/"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _channels(clock: Clock, **limits) -> Channels:
    return Channels(NotificationsConfig(**limits), clock=clock)


def test_notifications_settings_are_read_and_checked():
    config = from_dict({**BASE, "notifications": {"ws_port": 9001, "max_channels": 5,
                                                  "ws_url": "wss://node.example/ws"}}, relative_to=Path())
    assert config.notifications.ws_port == 9001 and config.notifications.max_channels == 5
    assert config.notifications.ws_url == "wss://node.example/ws/"
    assert from_dict(BASE).notifications == NotificationsConfig()
    for bad, field in [({"ws_port": 70000}, "ws_port"), ({"ws_port": True}, "ws_port"),
                       ({"max_channels": 0}, "max_channels"), ({"ws_url": "http://x/"}, "ws_url"),
                       ({"ws_host": ""}, "ws_host"), ({"max_channel": 3}, "max_channel")]:
        with pytest.raises(ConfigError) as refused:
            from_dict({**BASE, "notifications": bad})
        assert refused.value.field == f"notifications.{field}"


def test_a_token_opens_its_channel_only_and_is_not_kept():
    channels = _channels(Clock())
    first, token = channels.open(TOPIC, SERVICE, None)
    second, other = channels.open(TOPIC, SERVICE, None)
    assert token != other and len(token) >= 40 and token not in first.key
    assert channels.find(token) == first and channels.find(other) == second
    assert channels.find(token[:-1]) is None and channels.find("") is None
    assert first.iri.startswith(SERVICE) and first.iri != second.iri


def test_a_channel_has_one_connection_at_a_time():
    clock = Clock()
    channels = _channels(clock)
    _, token = channels.open(TOPIC, SERVICE, None)
    claimed = channels.claim(token)
    assert claimed is not None and claimed.connected and channels.claim(token) is None
    assert channels.on(TOPIC) == [claimed]
    channels.release(claimed)
    assert channels.on(TOPIC) == [] and channels.claim(token) is not None


def test_channels_end_at_their_end_or_when_nobody_connects_in_time():
    clock = Clock()
    channels = _channels(clock, max_lifetime_s=100, connect_within_s=10)
    _, lazy = channels.open(TOPIC, SERVICE, None)
    _, short = channels.open(TOPIC, SERVICE, clock.now + 30)
    _, capped = channels.open(TOPIC, SERVICE, clock.now + 10_000)
    assert channels.find(capped).end_at == clock.now + 100
    assert channels.claim(short) and channels.claim(capped)
    clock.now += 11
    assert channels.find(lazy) is None and channels.find(short) is not None
    clock.now += 20
    assert channels.find(short) is None
    ended = channels.ended()
    assert {c.end_at for c in ended} >= {clock.now - 1} and channels.find(capped) is not None
    clock.now += 70
    assert len(channels.ended()) == 1 and not channels.watches("http://127.0.0.1:8000/p/")


def test_channels_are_bounded_per_topic_and_in_total():
    channels = _channels(Clock(), max_channels=3, max_channels_per_topic=2)
    channels.open(TOPIC, SERVICE, None)
    channels.open(TOPIC, SERVICE, None)
    with pytest.raises(TooManyChannels) as per_topic:
        channels.open(TOPIC, SERVICE, None)
    assert per_topic.value.status == 429 and per_topic.value.field == "topic"
    channels.open(TOPIC + "x", SERVICE, None)
    with pytest.raises(TooManyChannels) as total:
        channels.open(TOPIC + "y", SERVICE, None)
    assert total.value.field is None


def test_closing_a_channel_frees_its_place():
    channels = _channels(Clock(), max_channels=1)
    channel, token = channels.open(TOPIC, SERVICE, None)
    assert channels.close(channel.iri) == channel and channels.close(channel.iri) is None
    assert channels.find(token) is None
    channels.open(TOPIC, SERVICE, None)


def _read(document, media_type: str = "application/ld+json") -> subscription.Subscription:
    return subscription.read(json.dumps(document).encode(), media_type)


@pytest.mark.parametrize("document", [
    {"@context": ["https://www.w3.org/ns/solid/notification/v1"], "type": "WebSocketChannel2023", "topic": TOPIC},
    {"@context": "https://www.w3.org/ns/solid/notification/v1",
     "type": "http://www.w3.org/ns/solid/notifications#WebSocketChannel2023", "topic": TOPIC},
    {"type": "WebSocketChannel2023", "topic": TOPIC},
    {"@context": {"n": "http://www.w3.org/ns/solid/notifications#"}, "@type": "n:WebSocketChannel2023",
     "n:topic": {"@id": TOPIC}},
])
def test_a_subscription_reads_the_same_in_every_json_ld_spelling(document):
    assert _read(document) == subscription.Subscription(TOPIC, None)


def test_a_subscription_end_is_a_date_time_with_its_zone():
    wanted = _read({"type": "WebSocketChannel2023", "topic": TOPIC, "endAt": "2030-01-01T00:00:00Z"})
    assert wanted.end_at == 1893456000.0
    with pytest.raises(BadDocument) as local:
        _read({"type": "WebSocketChannel2023", "topic": TOPIC, "endAt": "2030-01-01T00:00:00"})
    assert local.value.field == "endAt"


def test_subscriptions_are_refused_naming_what_is_wrong():
    with pytest.raises(UnsupportedFormat):
        _read({"type": "WebSocketChannel2023", "topic": TOPIC}, "text/turtle")
    with pytest.raises(DocumentTooLarge):
        _read({"type": "WebSocketChannel2023", "topic": TOPIC, "pad": "x" * 9000})
    with pytest.raises(BadDocument) as literal:
        _read({"@context": {"topic": "http://www.w3.org/ns/solid/notifications#topic"},
               "@type": "http://www.w3.org/ns/solid/notifications#WebSocketChannel2023", "topic": TOPIC})
    assert literal.value.field == "topic"
    with pytest.raises(BadDocument) as two:
        _read({"type": "WebSocketChannel2023", "topic": [TOPIC, TOPIC + "x"]})
    assert two.value.field == "topic"
    with pytest.raises(Unprocessable) as accept:
        _read({"type": "WebSocketChannel2023", "topic": TOPIC, "accept": "text/turtle"})
    assert accept.value.field == "accept"
    with pytest.raises(Unprocessable) as state:
        _read({"type": "WebSocketChannel2023", "topic": TOPIC, "state": "\"abc\""})
    assert state.value.field == "state"
