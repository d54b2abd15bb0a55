"""One write, one commit: a pod stores a resource and the notifications it owes in the same change.

The store here is the real oxigraph store, wrapped to count commits and, when told, to fail one as a full
disk would: what a failed commit leaves behind shows whether the outbox entry was part of it.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from dds_pod.config import from_dict
from dds_pod.federation.outbox import OUTBOX_GRAPH
from dds_pod.ldp.intake import Body
from dds_pod.ldp.resources import Preconditions
from dds_pod.node import Node
from dds_pod.store import Change
from dds_pod.store.oxigraph import OxigraphStore

from .conftest import EXAMPLES

BASE = "http://127.0.0.1:8000/b/"
REMOTE = "http://127.0.0.1:9/remote/"
TARGET = f"{REMOTE}proposals/p1"


class CountingStore(OxigraphStore):
    """The oxigraph store, keeping every change it is asked to commit; ``failing`` makes commits raise."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[Change] = []
        self.failing = False

    def commit(self, change: Change) -> None:
        self.changes.append(change)
        if self.failing:
            raise OSError("no space left on device")
        super().commit(change)


@pytest.fixture
def node():
    config = from_dict({"base_url": "http://127.0.0.1:8000/", "federation": {"members": [REMOTE]},
                        "pods": {"b": {"platform": "https://p.example", "token": "t"}}})
    built = Node(config, store=CountingStore())
    yield built
    built.close()


def _reply(answers: str) -> Body:
    document = json.loads((EXAMPLES / "valid" / "comment-on-proposal.jsonld").read_text(encoding="utf-8"))
    document.pop("id", None)
    return Body(json.dumps(dict(document, inReplyTo=answers)).encode(), "application/ld+json")


def _graphs(change: Change) -> set[str]:
    return {q.graph_name.value for q in change.insertions() if isinstance(q.graph_name, ox.NamedNode)}


def test_a_reply_and_its_notification_are_one_commit(node):
    pod, store = node.pods["b"], node.store
    before = len(store.changes)
    written = pod.post(f"{BASE}comments/", _reply(TARGET), slug="c", as_container=False, credential="t")
    assert len(store.changes) == before + 1
    assert {written.resource.iri, OUTBOX_GRAPH, f"{BASE}changes/"} <= _graphs(store.changes[-1])
    [pending] = node.outbox.pending()
    assert (pending.activity, pending.actor, pending.object, pending.target) == ("Create", BASE,
                                                                                 written.resource.iri, TARGET)


def test_a_failed_commit_leaves_neither_the_reply_nor_its_notification(node):
    pod, store = node.pods["b"], node.store
    sequence = pod.feed.last_sequence()
    store.failing = True
    with pytest.raises(OSError):
        pod.post(f"{BASE}comments/", _reply(TARGET), slug="c", as_container=False, credential="t")
    store.failing = False
    assert not store.has_graph(f"{BASE}comments/c")
    assert list(store.quads(graph=OUTBOX_GRAPH)) == [] and node.outbox.pending() == []
    assert pod.feed.last_sequence() == sequence


def test_an_update_queues_an_update_and_a_local_reply_queues_nothing(node):
    pod = node.pods["b"]
    local = pod.post(f"{BASE}comments/", _reply(f"{BASE}proposals/x"), slug="local", as_container=False,
                     credential="t")
    assert node.outbox.pending() == []
    pod.put(local.resource.iri, _reply(TARGET), preconditions=Preconditions(), credential="t")
    assert [p.activity for p in node.outbox.pending()] == ["Update"]


def test_a_batch_commits_its_notifications_with_it_and_a_dry_run_queues_none(node):
    pod, store = node.pods["b"], node.store
    document = json.loads(_reply(TARGET).data)
    documents = [(f"{BASE}comments/batch", node.intake.read_json_triples(
        dict(document, id=f"{BASE}comments/batch"), f"{BASE}comments/batch", "fr"))]
    pod.write_batch(documents, [], credential="t", dry_run=True)
    assert node.outbox.pending() == []
    before = len(store.changes)
    assert pod.write_batch(documents, [], credential="t").created == [f"{BASE}comments/batch"]
    assert len(store.changes) == before + 1 and OUTBOX_GRAPH in _graphs(store.changes[-1])
    assert [p.object for p in node.outbox.pending()] == [f"{BASE}comments/batch"]


def test_a_view_changes_its_version_with_reactions_and_a_write_may_be_conditional_on_it(node):
    pod = node.pods["b"]
    proposal = f"{BASE}proposals/x"
    document = json.loads((EXAMPLES / "valid" / "proposal-community-garden.jsonld").read_text(encoding="utf-8"))
    body = Body(json.dumps(dict(document, id=proposal)).encode(), "application/ld+json")
    pod.put(proposal, body, preconditions=Preconditions(), credential="t")
    alone = pod.view(proposal)
    pod.post(f"{BASE}comments/", _reply(proposal), slug="r", as_container=False, credential="t")
    seen = pod.view(proposal)
    assert seen.version != alone.version and seen.version.startswith(pod.get(proposal).version + "+")
    assert ox.NamedNode(f"{BASE}comments/r") in {t.object for t in seen.triples}
    pod.put(proposal, body, preconditions=Preconditions(if_match=(seen.version,)), credential="t")
