"""A pod's inbox under load and across a crash, and whose platform a remote reaction counts for.

Real nodes on loopback: the inbox answers 202 after the cheap checks and verifies later in a bounded
queue, limited per member pod and in total; what waits survives a SIGKILL; a reaction is attributed
to the platform the node knows for the member it came from, never the one its document claims.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import requests

from dds_pod.testing import Loopback, QuietHandler, ServerProcess, free_port

from .conftest import JSONLD, example, post
from .test_reactions import (
    AS_CONTEXT,
    PLATFORMS,
    _as_list,
    _comment,
    _config,
    _counts,
    _eventually,
    _json,
    _replied,
    _settled,
)

OTHER_PLATFORM = "https://consul.madrid.example"


def _node(directory: Path, pod: str, members: dict[str, str | None], **federation) -> ServerProcess:
    port = free_port()
    config = _config(directory, port, pod, members, **federation)
    return ServerProcess(config, port, directory / f"{pod}-{port}.log")


def _announce(node: ServerProcess, actor: str, reaction: str, target: str) -> requests.Response:
    """POST a Create notification to the Bordeaux pod's inbox of ``node``, as another server would."""
    document = {"@context": AS_CONTEXT, "type": "Create", "actor": actor, "object": reaction, "target": target}
    return requests.post(f"{node.url}bordeaux/inbox/", data=json.dumps(document), headers=JSONLD, timeout=10)


def _proposal(node: ServerProcess) -> str:
    created = post(node.url, "proposals/", example("proposal-piste-cyclable-victor-hugo"))
    assert created.status_code == 201, created.text
    return created.headers["Location"]


def _inbox_members(node: ServerProcess) -> list:
    return _as_list(_json(f"{node.url}bordeaux/inbox/?limit=1000").get("ldp:contains"))


def _tried(status: str, state: str = "pending"):
    """A check that the notification's status shows at least one verification attempt, in ``state``."""
    def check() -> dict | None:
        document = _json(status)
        return document if document["state"] == state and document["attempts"] >= 1 else None
    return check


def test_a_reaction_claiming_another_platform_than_its_members_is_refused_and_not_counted(tmp_path):
    paris = _node(tmp_path, "paris", {}).start()
    paris_pod = f"{paris.url}paris/"
    bordeaux = _node(tmp_path, "bordeaux", {paris_pod: OTHER_PLATFORM}).start()
    try:
        proposal = _proposal(bordeaux)
        comment = _comment(paris.url, "paris", proposal)  # its pod stamps it with the Paris platform
        assert _json(comment)["platform"] == PLATFORMS["paris"]

        response = _announce(bordeaux, paris_pod, comment, proposal)
        assert response.status_code == 202, response.text
        status = _settled(response)
        assert (status["state"], status["refusal"]) == ("refused", 422), status
        assert f"claims the platform {PLATFORMS['paris']}" in status["reason"]
        assert OTHER_PLATFORM in status["reason"]
        shown = _json(proposal)
        assert "replies" not in shown and "reactionCounts" not in shown
        assert _inbox_members(bordeaux) == []
    finally:
        bordeaux.stop()
        paris.stop()


def test_past_the_limit_per_member_429_and_past_the_queue_503_both_with_retry_after(tmp_path):
    one, two = f"http://127.0.0.1:{free_port()}/one/", f"http://127.0.0.1:{free_port()}/two/"
    # Platforms not configured and never harvested: the notifications wait, and the node says why.
    node = _node(tmp_path, "bordeaux", {one: None, two: None}, inbox_per_actor=2, inbox_queue=3,
                 retry_base_s=600).start()
    try:
        proposal = _proposal(node)
        first = _announce(node, one, f"{one}comments/1", proposal)
        assert first.status_code == 202 and first.json()["state"] == "pending", first.text
        waiting = _eventually(_tried(first.headers["Location"]))
        assert waiting and "platform of" in waiting["reason"] and "not known" in waiting["reason"], waiting
        assert _announce(node, one, f"{one}comments/2", proposal).status_code == 202

        over = _announce(node, one, f"{one}comments/3", proposal)
        assert over.status_code == 429, over.text
        assert int(over.headers["Retry-After"]) > 0
        assert over.json()["field"] == "actor" and one in over.json()["detail"]

        assert _announce(node, two, f"{two}comments/1", proposal).status_code == 202
        full = _announce(node, two, f"{two}comments/2", proposal)
        assert full.status_code == 503, full.text
        assert int(full.headers["Retry-After"]) > 0

        again = _announce(node, one, f"{one}comments/1", proposal)  # known already: its status, not a refusal
        assert again.status_code == 200 and again.headers["Content-Location"] == first.headers["Location"]
        assert again.json()["state"] == "pending"

        assert _inbox_members(node) == []
        assert "replies" not in _json(proposal)
        assert requests.get(f"{node.url}federation/notifications/{'0' * 24}", timeout=5).status_code == 404
    finally:
        node.stop()


def test_a_notification_answered_202_is_verified_after_a_sigkill_and_restart(tmp_path):
    paris = _node(tmp_path, "paris", {}).start()  # Bordeaux is not its member: nothing is announced by itself
    paris_pod = f"{paris.url}paris/"
    bordeaux = _node(tmp_path, "bordeaux", {paris_pod: PLATFORMS["paris"]}).start()
    try:
        proposal = _proposal(bordeaux)
        comment = _comment(paris.url, "paris", proposal)
        paris.stop()
        response = _announce(bordeaux, paris_pod, comment, proposal)
        assert response.status_code == 202, response.text
        status = response.headers["Location"]
        waiting = _eventually(_tried(status))
        assert waiting and "cannot read the reaction" in waiting["reason"], waiting

        bordeaux.kill()
        paris.start()
        bordeaux.start()
        shown = _eventually(lambda: _replied(proposal, comment), timeout=30)
        assert shown, f"lost across the crash: {bordeaux.log()[-2000:]}"
        assert _counts(shown)[PLATFORMS["paris"]]["commentCount"] == 1
        accepted = _json(status)
        assert accepted["state"] == "accepted", accepted
        assert [m["@id"] for m in _inbox_members(bordeaux)] == [accepted["notification"]]
    finally:
        bordeaux.stop()
        paris.stop()


def test_without_a_configured_platform_a_reaction_counts_for_the_platform_the_harvester_recorded(tmp_path):
    paris = _node(tmp_path, "paris", {}).start()
    paris_pod = f"{paris.url}paris/"
    bordeaux = _node(tmp_path, "bordeaux", {paris_pod: None}, interval_s=1).start()
    try:
        proposal = _proposal(bordeaux)
        comment = _comment(paris.url, "paris", proposal)

        def harvested() -> bool:
            catalog = requests.get(f"{bordeaux.url}catalog", headers={"Accept": "text/turtle"}, timeout=5).text
            return PLATFORMS["paris"] in catalog
        assert _eventually(harvested, timeout=30), bordeaux.log()[-2000:]

        status = _settled(_announce(bordeaux, paris_pod, comment, proposal))
        assert status["state"] == "accepted", status
        assert _counts(_json(proposal))[PLATFORMS["paris"]]["commentCount"] == 1
    finally:
        bordeaux.stop()
        paris.stop()


class _InvalidComment(QuietHandler):
    """A member pod serving, as Turtle, a comment without content or date: it answers its target but
    does not conform to the shapes."""

    target: ClassVar[str] = ""

    def do_GET(self) -> None:
        iri = f"http://{self.headers['Host']}{self.path}"
        body = (f"<{iri}> a <https://w3id.org/dds/ns#Comment> ; <https://www.w3.org/ns/activitystreams#inReplyTo> "
                f"<{self.target}> ; <https://w3id.org/dds/ns#sourcePlatform> <{OTHER_PLATFORM}> .\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/turtle")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_reaction_that_does_not_conform_is_refused_with_the_validation_messages(tmp_path):
    member = Loopback(_InvalidComment)
    pod = f"{member.url}fake/"
    node = _node(tmp_path, "bordeaux", {pod: OTHER_PLATFORM}).start()
    try:
        proposal = _proposal(node)
        _InvalidComment.target = proposal
        status = _settled(_announce(node, pod, f"{pod}comments/1", proposal))
        assert (status["state"], status["refusal"]) == ("refused", 422), status
        assert "does not conform to the DDS shapes" in status["reason"] and "content" in status["reason"], status
        assert "replies" not in _json(proposal)
        assert _inbox_members(node) == []
    finally:
        node.stop()
        member.close()


def test_a_notification_that_cannot_be_read_is_refused_at_once_and_nothing_waits(tmp_path):
    node = _node(tmp_path, "bordeaux", {}).start()
    try:
        for body, media_type in [(b"{not json", "application/ld+json"), (b"{}", ""),
                                 (json.dumps({"@context": AS_CONTEXT, "type": "Create"}).encode(),
                                  "application/ld+json")]:
            answer = requests.post(f"{node.url}bordeaux/inbox/", data=body, timeout=5,
                                   headers={"Content-Type": media_type} if media_type else {})
            assert answer.status_code in (400, 415), answer.text
            assert answer.headers["Content-Type"] == "application/problem+json" and answer.json()["detail"]
        assert _inbox_members(node) == []
        assert requests.get(node.url, timeout=5).status_code == 200
    finally:
        node.stop()
