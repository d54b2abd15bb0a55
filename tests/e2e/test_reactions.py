"""Cross-platform reactions: a comment or support published in one node's pod reaches the other's.

Two real nodes on loopback: A serves the pod ``bordeaux``, B the pod ``paris``, and each lists the
other's pod as a federation member. B announces reactions to A's resources with Linked Data
Notifications from a persistent outbox; A checks each one before showing it on the resource.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from dds_pod.testing import TOKENS, ServerProcess, free_port

from .conftest import JSONLD, example, post

PLATFORMS = {"bordeaux": "https://participation.bordeaux-metropole.example", "paris": "https://decidim.paris.example"}
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
LD = {"Accept": "application/ld+json"}


@dataclass
class Pair:
    a: ServerProcess
    b: ServerProcess

    @property
    def bordeaux(self) -> str:
        return f"{self.a.url}bordeaux/"

    @property
    def paris(self) -> str:
        return f"{self.b.url}paris/"


def _config(directory: Path, port: int, pod: str, members: dict[str, str | None], **federation: Any) -> Path:
    """A node with one pod, federating the given pods (URL -> platform, None: not configured), with fast retries
    for the tests unless ``federation`` says otherwise."""
    platforms = ", ".join(f"{json.dumps(url)} = {json.dumps(platform)}" for url, platform in members.items()
                          if platform)
    settings = {"interval_s": 3600, "fetch_timeout_s": 3, "retry_base_s": 0.05,
                "allow_networks": '["127.0.0.0/8"]', **federation}
    lines = [
        f'base_url = "http://127.0.0.1:{port}/"', f'data_dir = "{directory / f"store-{pod}"}"',
        f"[pods.{pod}]", f'title = "{pod}"', f'platform = "{PLATFORMS[pod]}"', f'token = "{TOKENS[pod]}"',
        "[federation]", f"members = {json.dumps(list(members))}", f"member_platforms = {{ {platforms} }}",
        *(f"{key} = {value}" for key, value in settings.items()),
    ]
    path = directory / f"{pod}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _start_pair(directory: Path) -> Pair:
    port_a, port_b = free_port(), free_port()
    config_a = _config(directory, port_a, "bordeaux", {f"http://127.0.0.1:{port_b}/paris/": PLATFORMS["paris"]})
    config_b = _config(directory, port_b, "paris", {f"http://127.0.0.1:{port_a}/bordeaux/": PLATFORMS["bordeaux"]})
    a = ServerProcess(config_a, port_a, directory / "a.log").start()
    b = ServerProcess(config_b, port_b, directory / "b.log").start()
    return Pair(a, b)


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Iterator[Pair]:
    nodes = _start_pair(tmp_path_factory.mktemp("reactions"))
    yield nodes
    nodes.a.stop()
    nodes.b.stop()


# ------------------------------------------------------------------- helpers

def _proposal(pair: Pair) -> str:
    created = post(pair.a.url, "proposals/", example("proposal-piste-cyclable-victor-hugo"))
    assert created.status_code == 201, created.text
    return created.headers["Location"]


def _comment(base: str, pod: str, answers: str) -> str:
    document = dict(example("comment-on-proposal"), inReplyTo=answers)
    created = post(base, "comments/", document, pod=pod)
    assert created.status_code == 201, created.text
    return created.headers["Location"]


def _support(base: str, pod: str, supported: str) -> str:
    created = post(base, "reactions/", dict(example("support-piste-cyclable"), object=supported), pod=pod)
    assert created.status_code == 201, created.text
    return created.headers["Location"]


def _json(url: str) -> dict:
    response = requests.get(url, headers=LD, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _counts(resource: dict) -> dict[str, dict]:
    return {c["platform"]: c for c in _as_list(resource.get("reactionCounts"))}


def _eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll until ``check`` returns something truthy: delivery is asynchronous."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def _replied(url: str, reaction: str) -> dict | None:
    resource = _json(url)
    return resource if reaction in _as_list(resource.get("replies")) else None


def _notify(pair: Pair, actor: str, reaction: str, target: str, notification_id: str | None = None,
            activity: str = "Create") -> requests.Response:
    """POST a notification to A's inbox as another server would: no Authorization."""
    document = {"@context": AS_CONTEXT, "type": activity, "actor": actor, "object": reaction, "target": target,
                "published": "2025-03-05T08:00:00Z"}
    if notification_id:
        document["id"] = notification_id
    return requests.post(f"{pair.bordeaux}inbox/", data=json.dumps(document), headers=JSONLD, timeout=10)


def _settled(response: requests.Response) -> dict:
    """The status of a notification once verified (accepted or refused), polled from its status resource."""
    assert response.status_code in (200, 202), response.text
    status = response.headers.get("Location") or response.headers["Content-Location"]

    def final() -> dict | None:
        document = _json(status)
        return document if document["state"] != "pending" else None
    settled = _eventually(final)
    assert settled, f"{status} stayed pending: {_json(status)}"
    return settled


def _inbox(pair: Pair) -> list[dict]:
    return _as_list(_json(f"{pair.bordeaux}inbox/?limit=1000").get("ldp:contains"))


# ------------------------------------------------------------------- (a) reactions arrive and show

def test_a_remote_comment_and_support_show_on_the_proposal_with_counts_per_platform(pair):
    proposal = _proposal(pair)
    assert requests.head(proposal, timeout=5).links["http://www.w3.org/ns/ldp#inbox"]["url"] == \
        f"{pair.bordeaux}inbox/"
    before = requests.get(proposal, headers=LD, timeout=5).headers["ETag"]
    local = _comment(pair.a.url, "bordeaux", proposal)
    remote = _comment(pair.b.url, "paris", proposal)

    shown = _eventually(lambda: _replied(proposal, remote))
    assert shown, f"the comment never reached A: {pair.b.log()[-2000:]}"
    assert set(_as_list(shown["replies"])) == {local, remote}
    counts = _counts(shown)
    assert counts[PLATFORMS["paris"]]["commentCount"] == 1 and counts[PLATFORMS["paris"]]["supportCount"] == 0
    assert counts[PLATFORMS["bordeaux"]]["commentCount"] == 1
    after_comment = requests.get(proposal, headers=LD, timeout=5).headers["ETag"]
    assert after_comment != before
    assert requests.get(proposal, headers={**LD, "If-None-Match": after_comment}, timeout=5).status_code == 304

    support = _support(pair.b.url, "paris", proposal)
    shown = _eventually(lambda: _replied(proposal, support))
    assert shown, f"the support never reached A: {pair.b.log()[-2000:]}"
    counts = _counts(shown)
    assert (counts[PLATFORMS["paris"]]["commentCount"], counts[PLATFORMS["paris"]]["supportCount"]) == (1, 1)
    assert requests.get(proposal, headers={**LD, "If-None-Match": after_comment}, timeout=5).status_code == 200

    turtle = requests.get(proposal, headers={"Accept": "text/turtle"}, timeout=5).text
    assert f"<{remote}>" in turtle and f"<{support}>" in turtle and "reactionCounts" in turtle
    received = [n for n in _inbox(pair) if n.get("object") in (remote, support)]
    assert {(n["actor"], n["target"]) for n in received} == {(pair.paris, proposal)}
    assert len(received) == 2


def test_a_a_comment_imported_in_a_batch_is_announced_too(pair):
    proposal = _proposal(pair)
    comment = f"{pair.paris}comments/imported-{uuid.uuid4().hex[:8]}"
    document = dict(example("comment-on-proposal"), id=comment, inReplyTo=proposal)
    answer = requests.post(f"{pair.paris}batch", data=json.dumps({"put": [document]}),
                           headers={**JSONLD, "Authorization": f"Bearer {TOKENS['paris']}"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["created"] == [comment], answer.text
    assert _eventually(lambda: _replied(proposal, comment)), pair.b.log()[-2000:]


def test_a_a_container_lists_its_members_without_their_reactions(pair):
    proposal = _proposal(pair)
    _comment(pair.a.url, "bordeaux", proposal)
    members = _as_list(_json(f"{pair.bordeaux}proposals/?limit=1000")["ldp:contains"])
    listed = next(m for m in members if m["@id"] == proposal)
    assert "replies" not in listed and "reactionCounts" not in listed
    assert "replies" in _json(proposal)


# ------------------------------------------------------------------- (b) forged notifications

def _state(pair: Pair, proposal: str) -> tuple[int, str]:
    return len(_inbox(pair)), requests.get(proposal, headers=LD, timeout=5).headers["ETag"]


def test_b_a_notification_from_a_non_member_is_refused_and_nothing_is_stored(pair):
    proposal = _proposal(pair)
    before = _state(pair, proposal)
    stranger = f"http://127.0.0.1:{free_port()}/evil/"
    response = _notify(pair, stranger, f"{stranger}comments/1", proposal)
    assert response.status_code == 403, response.text
    assert _state(pair, proposal) == before


def test_b_a_member_cannot_announce_a_resource_of_another_host(pair):
    proposal = _proposal(pair)
    before = _state(pair, proposal)
    response = _notify(pair, pair.paris, "http://example.org/paris/comments/1", proposal)
    assert response.status_code == 403, response.text
    assert _state(pair, proposal) == before


def test_b_a_reaction_that_does_not_answer_the_target_is_refused(pair):
    proposal = _proposal(pair)
    own = post(pair.b.url, "proposals/", example("proposal-community-garden"), pod="paris").headers["Location"]
    elsewhere = _comment(pair.b.url, "paris", own)  # answers a Paris proposal: nothing to announce
    before = _state(pair, proposal)
    response = _notify(pair, pair.paris, elsewhere, proposal)
    assert response.status_code == 202, response.text
    assert response.json()["state"] == "pending"
    status = _settled(response)
    assert (status["state"], status["refusal"]) == ("refused", 422), status
    assert "does not answer" in status["reason"]
    assert _state(pair, proposal) == before
    assert "replies" not in _json(proposal)


def test_b_a_reaction_that_does_not_exist_is_refused(pair):
    proposal = _proposal(pair)
    before = _state(pair, proposal)
    response = _notify(pair, pair.paris, f"{pair.paris}comments/{uuid.uuid4().hex}", proposal)
    status = _settled(response)
    assert (status["state"], status["refusal"]) == ("refused", 422), status
    assert "does not exist" in status["reason"]
    assert _state(pair, proposal) == before
    again = _notify(pair, pair.paris, status["object"], proposal)
    assert again.status_code == 200 and again.json() == status, again.text


def test_b_a_notification_about_a_missing_target_is_refused(pair):
    proposal = _proposal(pair)
    comment = _comment(pair.b.url, "paris", proposal)
    _eventually(lambda: _replied(proposal, comment))
    before = len(_inbox(pair))
    response = _notify(pair, pair.paris, comment, f"{pair.bordeaux}proposals/{uuid.uuid4().hex}")
    assert response.status_code == 422, response.text
    assert len(_inbox(pair)) == before


def test_b_bearer_token_posts_to_the_inbox_stay_ordinary_container_writes(pair):
    proposal = _proposal(pair)
    document = dict(example("comment-on-proposal"), inReplyTo=proposal)
    wrong = requests.post(f"{pair.bordeaux}inbox/", data=json.dumps(document),
                          headers={**JSONLD, "Authorization": "Bearer not-the-token"}, timeout=5)
    assert wrong.status_code == 401
    created = post(pair.a.url, "inbox/", document)
    assert created.status_code == 201 and created.json()["inReplyTo"] == proposal


# ------------------------------------------------------------------- (d) idempotent delivery

def test_d_the_same_notification_delivered_twice_is_stored_once(pair):
    proposal = _proposal(pair)
    comment = _comment(pair.b.url, "paris", proposal)
    notification = f"{pair.paris}outbox#{uuid.uuid4().hex}"
    first = _notify(pair, pair.paris, comment, proposal, notification)
    second = _notify(pair, pair.paris, comment, proposal, notification)
    assert first.status_code in (200, 202) and second.status_code == 200, (first.text, second.text)
    status = first.headers.get("Location") or first.headers["Content-Location"]
    assert second.headers["Content-Location"] == status
    settled = _settled(second)
    assert settled["state"] == "accepted", settled
    assert [n["@id"] for n in _inbox(pair) if n.get("object") == comment] == [settled["notification"]]

    # B's outbox announces the same comment too, under another id: still one member, one reply, counted once.
    time.sleep(3)  # the outbox's first delivery attempt
    assert len([n for n in _inbox(pair) if n.get("object") == comment]) == 1
    shown = _json(proposal)
    assert _as_list(shown["replies"]) == [comment]
    assert _counts(shown)[PLATFORMS["paris"]]["commentCount"] == 1


# ------------------------------------------------------------------- (c) the outbox survives a crash

def test_c_a_notification_waits_in_the_outbox_across_a_crash_of_b_while_a_is_down(tmp_path):
    nodes = _start_pair(tmp_path)
    try:
        proposal = _proposal(nodes)
        nodes.a.stop()
        comment = _comment(nodes.b.url, "paris", proposal)
        time.sleep(0.3)  # a few deliveries fail: A is down
        nodes.b.kill()
        nodes.b.start()
        nodes.a.start()
        shown = _eventually(lambda: _replied(proposal, comment), timeout=20)
        assert shown, f"lost across the restart: {nodes.b.log()[-2000:]}"
        assert _counts(shown)[PLATFORMS["paris"]]["commentCount"] == 1
    finally:
        nodes.a.stop()
        nodes.b.stop()
