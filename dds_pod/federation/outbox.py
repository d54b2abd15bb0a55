"""The Linked Data Notifications a pod owes other pods: reactions announced to the resources they answer.

When a platform publishes a comment or a support whose ``as:inReplyTo`` or ``as:object`` is a
resource of another pod, the other platform only learns of it if told. The :class:`Outbox` is each
pod's write hook: it stages one pending activity per (reaction, target) in the very change that stores
the reaction, so the resource and its notification are committed together and a crash or a restart
loses neither. A background thread discovers the target's inbox (its
``Link: rel="http://www.w3.org/ns/ldp#inbox"``) and POSTs the activity there, retrying with exponential
backoff while the target's node is down. Every outgoing request goes through a member-only
:class:`Fetcher`: a reaction to a resource outside the federation is not announced.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

import pyoxigraph as ox

from ..changes import INTERNAL
from ..errors import StoreUnavailable
from ..ldp import reactions
from ..ldp.hooks import StagedWrite
from ..store import Change, Store
from ..terms import Statement, date_time, integer, named, utc_now
from ..vocab import ACTIVITYSTREAMS_CONTEXT_IRI, AS, RDF
from .fetch import Fetched, Fetcher, FetchError
from .members import MAX_RETRY_DELAY_S, retry_delay

log = logging.getLogger(__name__)

OUTBOX_GRAPH = "urn:dds:outbox"
ATTEMPTS = ox.NamedNode(INTERNAL + "attempts")
LDP_INBOX = "http://www.w3.org/ns/ldp#inbox"
ACTIVITIES = {"Create": AS.Create, "Update": AS.Update}
RETRYABLE_STATUSES = frozenset({408, 425, 429})
ANSWERING = frozenset(named(p) for p in reactions.ANSWERING)
# A write of this process wakes the delivery thread; one of another process serving the node (see dds_pod.jobs) is
# found in the store by the next round, at most this long after.
POLL_S = 5.0


@dataclass(frozen=True)
class Pending:
    """An activity waiting in the outbox; ``id`` is ``{pod}outbox#{uuid}``."""

    id: str
    activity: str
    actor: str
    object: str
    target: str
    published: str
    attempts: int = 0

    def document(self) -> dict:
        return {"@context": ACTIVITYSTREAMS_CONTEXT_IRI, "id": self.id, "type": self.activity, "actor": self.actor,
                "object": self.object, "target": self.target, "published": self.published}

    def quads(self) -> list[ox.Quad]:
        graph, subject = ox.NamedNode(OUTBOX_GRAPH), ox.NamedNode(self.id)
        values: list[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]] = [
            (named(RDF.type), named(ACTIVITIES[self.activity])),
            (named(AS.actor), ox.NamedNode(self.actor)),
            (named(AS.object), ox.NamedNode(self.object)),
            (named(AS.target), ox.NamedNode(self.target)),
            (named(AS.published), date_time(self.published)),
            (ATTEMPTS, integer(self.attempts)),
        ]
        return [ox.Quad(subject, p, o, graph) for p, o in values]


class Refused(Exception):
    """The target's node will never take this notification (not found, no inbox, 4xx): give up."""


class Outbox:
    """Pending notifications in the store, delivered by a background thread (started by ``dds-pod serve``)."""

    def __init__(self, store: Store, fetcher: Fetcher, retry_base_s: float) -> None:
        self.store = store
        self.fetcher = fetcher
        self.retry_base_s = retry_base_s
        self._due: dict[str, float] = {}  # monotonic time of the next attempt; absent means now
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ queueing (a pod's write hook)

    def stage(self, change: Change, write: StagedWrite) -> None:
        """Queue, in the write's own change, one activity per resource the written one answers in another
        member pod."""
        for item in self.activities(write):
            change.add.extend(item.quads())

    def committed(self) -> None:
        self._wake.set()

    def activities(self, write: StagedWrite) -> list[Pending]:
        answered = answered_in(write.statements, write.iri)
        targets = sorted({t for t in answered if not t.startswith(write.pod) and self.fetcher.allowed(t)})
        activity = "Create" if write.created else "Update"
        return [Pending(f"{write.pod}outbox#{uuid.uuid4().hex}", activity, write.pod, write.iri, target, utc_now())
                for target in targets]

    def pending(self) -> list[Pending]:
        fields: dict[str, dict[str, ox.NamedNode | ox.Literal]] = {}
        for quad in self.store.quads(graph=OUTBOX_GRAPH):
            subject, value = quad.subject, quad.object
            if isinstance(subject, ox.NamedNode) and isinstance(value, ox.NamedNode | ox.Literal):  # all it writes
                fields.setdefault(subject.value, {})[quad.predicate.value] = value
        items = (_pending(subject, values) for subject, values in fields.items())
        return sorted((item for item in items if item is not None), key=lambda item: (item.published, item.id))

    # ------------------------------------------------------------------ delivering

    def deliver_due(self) -> float | None:
        """Try every pending activity that is due; the seconds until the next one is, or None if none waits."""
        waits = []
        for item in self.pending():
            if self._stopping.is_set():
                break
            wait = self._due.get(item.id, 0.0) - time.monotonic()
            if wait <= 0:
                self._attempt(item)
                if item.id not in self._due:  # delivered or given up: nothing to wait for
                    continue
                wait = self._due[item.id] - time.monotonic()
            waits.append(max(wait, 0.0))
        return min(waits) if waits else None

    def _attempt(self, item: Pending) -> None:
        try:
            self._deliver(item)
        except Refused as exc:
            log.warning("notification %s to %s refused, dropped: %s", item.id, item.target, exc)
            self._forget(item)
        except FetchError as exc:
            self._postpone(item, str(exc))
        except Exception as exc:
            log.exception("notification %s to %s failed", item.id, item.target)
            self._postpone(item, repr(exc))
        else:
            self._forget(item)

    def _deliver(self, item: Pending) -> None:
        inbox = self._inbox_of(item.target)
        body = json.dumps(item.document()).encode("utf-8")
        answer = self.fetcher.request("POST", inbox, headers={"Content-Type": "application/ld+json"}, body=body)
        _check(answer)

    def _inbox_of(self, target: str) -> str:
        if not self.fetcher.allowed(target):
            raise Refused(f"{target} is no longer under a federation member's URL")
        answer = self.fetcher.request("HEAD", target)
        _check(answer)
        inbox = answer.links.get(LDP_INBOX)
        if not inbox:
            raise Refused(f"{target} names no inbox (Link rel=\"{LDP_INBOX}\")")
        return urljoin(answer.url, inbox)

    def _forget(self, item: Pending) -> None:
        change = Change()
        change.remove.extend(self.store.quads(ox.NamedNode(item.id), graph=OUTBOX_GRAPH))
        self.store.commit(change)
        self._due.pop(item.id, None)

    def _postpone(self, item: Pending, reason: str) -> None:
        attempts = item.attempts + 1
        change = Change()
        change.set_value(OUTBOX_GRAPH, ox.NamedNode(item.id), ATTEMPTS,
                         integer(attempts))
        self.store.commit(change)
        delay = retry_delay(self.retry_base_s, attempts)
        self._due[item.id] = time.monotonic() + delay
        log.info("notification %s to %s: attempt %d failed (%s); next in %.1f s",
                 item.id, item.target, attempts, reason, delay)

    # ------------------------------------------------------------------ background thread

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="dds-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                delay = self.deliver_due()
            except StoreUnavailable as exc:  # the engine is down: nothing to fix here, try again later
                log.warning("outbox delivery round skipped: %s", exc.message)
                delay = self.retry_base_s
            except Exception:
                log.exception("outbox delivery round failed")
                delay = self.retry_base_s
            self._wake.wait(min(POLL_S, MAX_RETRY_DELAY_S if delay is None else delay))


def answered_in(statements: Iterable[Statement], iri: str) -> list[str]:
    """The IRIs the resource ``iri`` answers (its ``as:inReplyTo`` and ``as:object``) in its statements."""
    subject = ox.NamedNode(iri)
    return [t.object.value for t in statements if t.subject == subject and t.predicate in ANSWERING
            and isinstance(t.object, ox.NamedNode)]


def _pending(subject: str, values: dict) -> Pending | None:
    names = {str(v): k for k, v in ACTIVITIES.items()}
    try:
        return Pending(subject, names[values[str(RDF.type)].value], values[str(AS.actor)].value,
                       values[str(AS.object)].value, values[str(AS.target)].value,
                       values[str(AS.published)].value, int(values[ATTEMPTS.value].value))
    except (KeyError, ValueError):
        log.warning("outbox entry %s is incomplete; skipped", subject)
        return None


def _check(answer: Fetched) -> None:
    """Accept a 2xx; a 5xx or a "try later" status is worth retrying; any other refusal is final."""
    if answer.status < 300:
        return
    detail = f"{answer.url} answered {answer.status}: {answer.body[:300].decode('utf-8', 'replace')}"
    if answer.status >= 500 or answer.status in RETRYABLE_STATUSES:
        raise FetchError(detail)
    raise Refused(detail)
