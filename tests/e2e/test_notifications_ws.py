"""Solid Notifications (WebSocketChannel2023) and the legacy solid-0.1 protocol against a real node: discovery,
subscriptions, the notifications writes produce, and every refusal a subscriber or a websocket client can meet."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from rdflib import Graph, URIRef
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from dds_pod.testing import ServerProcess, free_port, write_config

from .conftest import JSONLD, auth, example, post

NOTIFY = "http://www.w3.org/ns/solid/notifications#"
CONTEXT = ["https://www.w3.org/ns/solid/notification/v1"]
STORAGE_DESCRIPTION = "http://www.w3.org/ns/solid/terms#storageDescription"


def _node(directory: Path, **limits: int) -> ServerProcess:
    port = free_port()
    config = write_config(directory, port, free_rdf=["apps/"])
    table = "\n".join(f"{key} = {value}" for key, value in limits.items())
    config.write_text(config.read_text(encoding="utf-8") + f"[notifications]\n{table}\n", encoding="utf-8")
    return ServerProcess(config, port, directory / "server.log").start()


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[ServerProcess]:
    process = _node(tmp_path_factory.mktemp("notify"), max_channels_per_topic=3, max_channels=200,
                    connect_within_s=30, max_lifetime_s=120, max_message_bytes=256)
    yield process
    process.stop()


def _service(base: str, pod: str = "bordeaux") -> str:
    """The subscription service, found as a client finds it: from a resource's Link to the storage description."""
    links = requests.head(f"{base}{pod}/", timeout=5).links
    description = requests.get(links[STORAGE_DESCRIPTION]["url"], timeout=5).json()
    return description["subscription"][0]["id"]


def _subscribe(base: str, topic: str, **extra) -> requests.Response:
    body = {"@context": CONTEXT, "type": f"{NOTIFY}WebSocketChannel2023", "topic": topic, **extra}
    return requests.post(_service(base), data=json.dumps(body), headers=JSONLD, timeout=5)


def _channel(base: str, topic: str, **extra) -> dict:
    response = _subscribe(base, topic, **extra)
    assert response.status_code == 200, response.text
    return response.json()


def _next(socket: ClientConnection) -> dict:
    return json.loads(socket.recv(timeout=5))


def _nothing_more(socket: ClientConnection) -> None:
    with pytest.raises(TimeoutError):
        socket.recv(timeout=0.5)


def _put(location: str, document: dict, **headers) -> requests.Response:
    return requests.put(location, data=json.dumps({**document, "id": location}),
                        headers={**JSONLD, **auth(), **headers}, timeout=5)


def test_a_pod_advertises_its_storage_description_and_websocket_channels(node):
    response = requests.get(f"{node.url}bordeaux/proposals/", headers={"Accept": "application/ld+json"}, timeout=5)
    description_url = response.links[STORAGE_DESCRIPTION]["url"]
    assert description_url == f"{node.url}.storage/bordeaux"
    description = requests.get(description_url, timeout=5)
    assert description.headers["Content-Type"].startswith("application/ld+json")
    service = description.json()["subscription"][0]
    assert service["channelType"] == "WebSocketChannel2023" and service["feature"] == ["endAt"]
    turtle = requests.get(description_url, headers={"Accept": "text/turtle"}, timeout=5)
    graph = Graph().parse(data=turtle.text, format="turtle")
    assert turtle.headers["Content-Type"].startswith("text/turtle")
    assert (URIRef(service["id"]), URIRef(f"{NOTIFY}channelType"), URIRef(f"{NOTIFY}WebSocketChannel2023")) in graph
    assert requests.get(f"{node.url}.storage/nowhere", timeout=5).status_code == 404
    context = requests.get(f"{node.url}ns/notification-context.jsonld", timeout=5).json()
    assert context["@context"]["topic"] == {"@id": "notify:topic", "@type": "@id"}


def test_writes_are_told_to_the_container_and_the_resource_in_order(node):
    base, container = node.url, f"{node.url}bordeaux/proposals/"
    described = _channel(base, container)
    assert described["topic"] == container and described["type"] == "WebSocketChannel2023"
    assert described["receiveFrom"].startswith("ws://127.0.0.1:")
    with connect(described["receiveFrom"]) as on_container:
        created = post(base, "proposals/", example("proposal-community-garden"))
        assert created.status_code == 201
        location = created.headers["Location"]
        added = _next(on_container)
        assert added["type"] == "Add" and added["object"] == location and added["target"] == container
        assert added["@context"] == ["https://www.w3.org/ns/activitystreams", *CONTEXT]
        assert added["id"].startswith("urn:uuid:") and added["state"].startswith('"')
        with connect(_channel(base, location)["receiveFrom"]) as on_resource:
            document = example("proposal-community-garden")
            assert _put(location, {**document, "supportCount": 7}).status_code == 204
            updated = _next(on_resource)
            assert (updated["type"], updated["object"]) == ("Update", location)
            # The state is the resource's ETag: a conditional request naming it succeeds.
            patch = requests.patch(location, data=json.dumps({"supportCount": 8}), timeout=5,
                                   headers={**auth(), "Content-Type": "application/merge-patch+json",
                                            "If-Match": updated["state"]})
            assert patch.status_code == 204, patch.text
            patched = _next(on_resource)
            assert patched["type"] == "Update" and patched["state"] != updated["state"]
            assert patched["published"] >= updated["published"]
            assert requests.delete(location, headers=auth(), timeout=5).status_code == 204
            deleted = _next(on_resource)
            assert (deleted["type"], deleted["object"]) == ("Delete", location) and "state" not in deleted
            _nothing_more(on_resource)  # neither its container's Add nor Remove
        removed = _next(on_container)
        assert (removed["type"], removed["object"], removed["target"]) == ("Remove", location, container)
        _nothing_more(on_container)  # a member's updates leave the container's list as it was


def test_a_channel_hears_only_its_topic(node):
    base = node.url
    with connect(_channel(base, f"{base}bordeaux/comments/")["receiveFrom"]) as on_comments:
        assert post(base, "proposals/", example("proposal-piste-cyclable-victor-hugo")).status_code == 201
        assert post(base, "proposals/", example("proposal-community-garden"), pod="paris").status_code == 201
        _nothing_more(on_comments)


def test_the_receive_from_url_uses_the_host_the_client_asked_with(node):
    body = {"@context": CONTEXT, "type": "WebSocketChannel2023", "topic": f"{node.url}bordeaux/"}
    response = requests.post(f"{node.url}.notifications/WebSocketChannel2023/", data=json.dumps(body),
                             headers={**JSONLD, "Host": f"localhost:{node.port}"}, timeout=5)
    assert response.status_code == 200 and response.json()["receiveFrom"].startswith("ws://localhost:")
    forged = requests.post(f"{node.url}.notifications/WebSocketChannel2023/", data=json.dumps(body),
                           headers={**JSONLD, "Host": "evil/path?x"}, timeout=5)
    assert forged.json()["receiveFrom"].startswith("ws://127.0.0.1:")


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"@context": CONTEXT, "type": "WebhookChannel2023", "topic": "{base}bordeaux/"}, 400, "type"),
    ({"@context": CONTEXT, "topic": "{base}bordeaux/"}, 400, "type"),
    ({"@context": CONTEXT, "type": "WebSocketChannel2023", "topic": "https://elsewhere.example/pod/"}, 400, "topic"),
    ({"@context": CONTEXT, "type": "WebSocketChannel2023", "topic": "{base}ns"}, 400, "topic"),
    ({"@context": CONTEXT, "type": "WebSocketChannel2023"}, 400, "topic"),
    ({"@context": CONTEXT, "type": "WebSocketChannel2023", "topic": "{base}bordeaux/changes/"}, 400, "topic"),
    ({"@context": CONTEXT, "type": "WebSocketChannel2023", "topic": "{base}bordeaux/nothing-here"}, 404, "topic"),
    ({"@context": CONTEXT, "type": "WebSocketChannel2023", "topic": "{base}bordeaux/", "rate": "PT1S"}, 422, "rate"),
    ({"@context": CONTEXT, "type": "WebSocketChannel2023", "topic": "{base}bordeaux/",
      "endAt": "2001-01-01T00:00:00Z"}, 400, "endAt"),
    ({"@context": CONTEXT, "type": "WebSocketChannel2023", "topic": "{base}bordeaux/", "endAt": "soon"}, 400, "endAt"),
    ({"@context": "https://elsewhere.example/context", "type": "WebSocketChannel2023"}, 400, "@context"),
])
def test_bad_subscriptions_are_refused_naming_the_field(node, body, status, field):
    text = json.dumps(body).replace("{base}", node.url)
    response = requests.post(_service(node.url), data=text, headers=JSONLD, timeout=5)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["field"] == field


def test_a_deleted_topic_is_refused(node):
    location = post(node.url, "proposals/", example("proposal-community-garden")).headers["Location"]
    assert requests.delete(location, headers=auth(), timeout=5).status_code == 204
    response = _subscribe(node.url, location)
    assert response.status_code == 410 and response.json()["field"] == "topic"


def test_malformed_or_oversized_subscriptions_are_refused(node):
    service = _service(node.url)
    assert requests.post(service, data="{not json", headers=JSONLD, timeout=5).status_code == 400
    assert requests.post(service, data="[]", headers=JSONLD, timeout=5).status_code == 400
    assert requests.post(service, data=b"\xff\xfe", headers=JSONLD, timeout=5).status_code == 400
    untyped = requests.post(service, data="{}", headers={"Content-Type": "text/plain"}, timeout=5)
    assert untyped.status_code == 415
    huge = json.dumps({"@context": CONTEXT, "type": "WebSocketChannel2023", "topic": node.url, "x": "a" * 9000})
    assert requests.post(service, data=huge, headers=JSONLD, timeout=5).status_code == 413


def test_a_topic_takes_a_bounded_number_of_channels(node):
    topic = f"{node.url}bordeaux/meetings/"
    for _ in range(3):
        _channel(node.url, topic)
    refused = _subscribe(node.url, topic)
    assert refused.status_code == 429 and refused.json()["field"] == "topic"
    assert _subscribe(node.url, f"{node.url}bordeaux/results/").status_code == 200  # another topic still can


def test_the_node_takes_a_bounded_number_of_channels(tmp_path):
    small = _node(tmp_path, max_channels=2)
    try:
        assert _subscribe(small.url, f"{small.url}bordeaux/").status_code == 200
        assert _subscribe(small.url, f"{small.url}paris/").status_code == 200
        refused = _subscribe(small.url, f"{small.url}bordeaux/proposals/")
        assert refused.status_code == 429 and "limit" in refused.json()["detail"]
    finally:
        small.stop()


def test_a_wrong_token_is_refused_and_a_token_opens_its_channel_once(node):
    receive_from = _channel(node.url, f"{node.url}bordeaux/spaces/")["receiveFrom"]
    with pytest.raises(InvalidStatus) as wrong:
        connect(receive_from[:-4] + "AAAA")
    assert wrong.value.response.status_code == 403
    with connect(receive_from), pytest.raises(InvalidStatus) as twice:
        connect(receive_from)
    assert twice.value.response.status_code == 409


def test_a_channel_ends_at_its_end_and_its_token_is_then_refused(node):
    end = (datetime.now(UTC) + timedelta(seconds=2)).isoformat(timespec="seconds").replace("+00:00", "Z")
    described = _channel(node.url, f"{node.url}bordeaux/", endAt=end)
    assert described["endAt"] == end
    with connect(described["receiveFrom"]) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    with pytest.raises(InvalidStatus) as expired:
        connect(described["receiveFrom"])
    assert expired.value.response.status_code == 403


def test_an_end_beyond_the_longest_lifetime_is_capped(node):
    far = (datetime.now(UTC) + timedelta(days=30)).isoformat(timespec="seconds").replace("+00:00", "Z")
    end = datetime.fromisoformat(_channel(node.url, f"{node.url}bordeaux/", endAt=far)["endAt"].replace("Z", "+00:00"))
    assert end <= datetime.now(UTC) + timedelta(seconds=121)


def test_a_client_message_over_the_limit_closes_its_connection(node):
    with connect(_channel(node.url, f"{node.url}bordeaux/reactions/")["receiveFrom"]) as socket:
        socket.send("small messages are read and dropped")
        socket.send("x" * 1000)
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_unsubscribing_closes_the_connection_and_frees_the_token(node):
    described = _channel(node.url, f"{node.url}paris/proposals/")
    with connect(described["receiveFrom"]) as socket:
        assert requests.delete(described["id"], timeout=5).status_code == 204
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=5)
    assert requests.delete(described["id"], timeout=5).status_code == 404
    with pytest.raises(InvalidStatus):
        connect(described["receiveFrom"])


def test_a_reconnection_within_the_channel_life_hears_what_follows(node):
    base = node.url
    described = _channel(base, f"{base}paris/spaces/")
    with connect(described["receiveFrom"]):
        pass
    time.sleep(0.3)  # the node sees the first connection end
    with connect(described["receiveFrom"]) as again:
        created = post(base, "spaces/", example("space-budget-participatif-2025"), pod="paris")
        assert created.status_code == 201, created.text
        assert _next(again)["object"] == created.headers["Location"]


def test_a_batch_tells_each_of_its_writes(node):
    base, container = node.url, f"{node.url}paris/meetings/"
    documents = [{**example("meeting-atelier-mobilite"), "id": f"{container}batch-{n}"} for n in range(3)]
    with connect(_channel(base, container)["receiveFrom"]) as on_container:
        response = requests.post(f"{base}paris/batch", data=json.dumps({"put": documents}),
                                 headers={"Content-Type": "application/json", **auth("paris")}, timeout=10)
        assert response.status_code == 200, response.text
        told = [_next(on_container) for _ in documents]
        assert sorted(n["object"] for n in told) == sorted(d["id"] for d in documents)
        assert {n["type"] for n in told} == {"Add"}


def test_a_browser_of_another_origin_may_subscribe(node):
    preflight = requests.options(_service(node.url), timeout=5, headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    response = requests.post(_service(node.url), timeout=5, headers={**JSONLD, "Origin": "https://app.example"},
                             data=json.dumps({"type": "WebSocketChannel2023", "topic": f"{node.url}paris/"}))
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"


# ----------------------------------------------------------------- solid-0.1 (Updates-Via)

def _updates_via(iri: str) -> str:
    return requests.head(iri, timeout=5).headers["Updates-Via"]


@contextmanager
def _legacy(iri: str) -> Iterator[ClientConnection]:
    """A solid-0.1 client, as legacy Solid clients connect: to a resource's Updates-Via, first sending credentials."""
    with connect(_updates_via(iri), subprotocols=[Subprotocol("solid-0.1")]) as socket:
        socket.send("auth Bearer not-needed")
        socket.send("dpop not-needed")
        yield socket


def _sub(socket: ClientConnection, iri: str) -> None:
    socket.send(f"sub {iri}")
    assert socket.recv(timeout=5) == f"ack {iri}"


def _heard(socket: ClientConnection) -> str:
    return str(socket.recv(timeout=5))


def test_pod_answers_name_the_solid_0_1_endpoint(node):
    for answer in (requests.get(f"{node.url}bordeaux/", timeout=5),
                   requests.head(f"{node.url}bordeaux/apps/nothing-yet", timeout=5)):
        assert answer.headers["Updates-Via"].startswith("ws://127.0.0.1:")
        assert answer.headers["Updates-Via"].endswith("/solid-0.1")
    assert "Updates-Via" not in requests.get(f"{node.url}.storage/bordeaux", timeout=5).headers


def test_solid_0_1_publishes_a_resource_and_its_container(node):
    base, container = node.url, f"{node.url}bordeaux/proposals/"
    with _legacy(container) as socket:
        assert socket.subprotocol == "solid-0.1"
        _sub(socket, container)
        location = post(base, "proposals/", example("proposal-community-garden")).headers["Location"]
        assert _heard(socket) == f"pub {container}"
        _sub(socket, location)
        assert _heard(socket) == f"pub {location}"  # its creation, a moment after the connection opened
        assert _put(location, {**example("proposal-community-garden"), "supportCount": 3}).status_code == 204
        assert _heard(socket) == f"pub {location}"
        _nothing_more(socket)  # a member's update leaves its container's list as it was
        assert requests.delete(location, headers=auth(), timeout=5).status_code == 204
        assert sorted([_heard(socket), _heard(socket)]) == sorted([f"pub {container}", f"pub {location}"])
        _nothing_more(socket)


def test_solid_0_1_publishes_the_containers_a_write_created(node):
    area = f"{node.url}bordeaux/apps/"
    deep, deeper = f"{area}tree/", f"{area}tree/branch/"
    leaf = f"{deeper}leaf.ttl"
    with _legacy(area) as socket:
        for iri in (area, deep, deeper, leaf):  # they need not exist yet
            _sub(socket, iri)
        turtle = {"Content-Type": "text/turtle", **auth()}
        assert requests.put(leaf, data="<#a> <#b> <#c> .", headers=turtle, timeout=5).status_code == 201
        assert sorted(_heard(socket) for _ in range(4)) == sorted(f"pub {iri}" for iri in (area, deep, deeper, leaf))
        _nothing_more(socket)
        assert requests.put(f"{deeper}other.ttl", data="<#a> <#b> <#d> .", headers=turtle,
                            timeout=5).status_code == 201
        assert _heard(socket) == f"pub {deeper}"
        _nothing_more(socket)  # its containers were there already


def test_solid_0_1_hears_only_what_it_subscribed_to(node):
    with _legacy(f"{node.url}bordeaux/") as socket:
        _sub(socket, f"{node.url}bordeaux/comments/")
        assert post(node.url, "proposals/", example("proposal-piste-cyclable-victor-hugo")).status_code == 201
        assert post(node.url, "proposals/", example("proposal-community-garden"), pod="paris").status_code == 201
        _nothing_more(socket)


def test_solid_0_1_a_subscription_on_its_way_hears_of_a_write_made_meanwhile(node):
    resource = f"{node.url}bordeaux/apps/raced.ttl"
    turtle = {"Content-Type": "text/turtle", **auth()}
    with _legacy(resource) as socket:
        # The write commits before the node reads the sub, as when a client writes without awaiting its ack.
        assert requests.put(resource, data="<#a> <#b> <#c> .", headers=turtle, timeout=5).status_code == 201
        _sub(socket, resource)
        assert _heard(socket) == f"pub {resource}"
        _sub(socket, resource)  # subscribing again replays nothing
        _nothing_more(socket)


def test_solid_0_1_a_subscription_does_not_hear_of_a_write_before_its_connection(node):
    resource = f"{node.url}bordeaux/apps/earlier.ttl"
    turtle = {"Content-Type": "text/turtle", **auth()}
    with _legacy(f"{node.url}bordeaux/apps/") as watching:  # the write is told: someone is listening
        assert requests.put(resource, data="<#a> <#b> <#c> .", headers=turtle, timeout=5).status_code == 201
        with _legacy(resource) as socket:
            _sub(socket, resource)
            _nothing_more(socket)
        watching.close()


@pytest.mark.parametrize(("line", "error"), [
    ("sub https://elsewhere.example/pod/", "is not a resource of a pod of this node"),
    ("sub {base}ns", "is not a resource of a pod of this node"),
    ("sub {base}bordeaux/%2e%2e/paris/", "contains '.', '..'"),
    ("sub {base}bordeaux/a b", "is not a resource of a pod of this node"),
    ("sub", "is not a resource of a pod of this node"),
    ("unsub {base}bordeaux/", "unknown command 'unsub'"),
])
def test_solid_0_1_refuses_foreign_or_malformed_iris_with_an_error_line(node, line, error):
    with _legacy(f"{node.url}bordeaux/") as socket:
        socket.send(line.replace("{base}", node.url))
        answer = _heard(socket)
        assert answer.startswith("error ") and error in answer, answer
        _sub(socket, f"{node.url}bordeaux/")  # the connection serves on


def test_solid_0_1_bounds_the_subscriptions_of_a_connection(node):
    with _legacy(f"{node.url}bordeaux/") as socket:
        for n in range(100):
            _sub(socket, f"{node.url}bordeaux/apps/{n}")
        _sub(socket, f"{node.url}bordeaux/apps/0")  # one already held costs nothing
        socket.send(f"sub {node.url}bordeaux/apps/100")
        assert _heard(socket) == "error a connection subscribes to at most 100 IRIs"


def test_solid_0_1_closes_a_connection_on_a_message_over_the_limit(node):
    with _legacy(f"{node.url}bordeaux/") as socket:
        socket.send(f"sub {node.url}bordeaux/{'x' * 300}")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_solid_0_1_takes_a_bounded_number_of_connections(tmp_path):
    small = _node(tmp_path, max_channels=1)
    try:
        with _legacy(f"{small.url}bordeaux/") as first:
            _sub(first, f"{small.url}bordeaux/")
            with pytest.raises(InvalidStatus) as refused, _legacy(f"{small.url}bordeaux/"):
                pass
            assert refused.value.response.status_code == 503
        time.sleep(0.3)  # the node sees the first connection end
        with _legacy(f"{small.url}bordeaux/") as again:
            _sub(again, f"{small.url}bordeaux/")
    finally:
        small.stop()
