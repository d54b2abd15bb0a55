"""Publishing imported documents into a pod over HTTP, where the pod's validation applies.

Documents go in batches to the pod's ``batch`` endpoint: one request and one transaction per
2 000 documents at most (and 4 MiB), then the deletions within the same limits. Two requests are kept in
flight, so that the pod never waits for the client to encode and send the next batch. The pod leaves a
document identical to what it holds alone, which makes an import idempotent: running it twice creates
nothing new.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from .common import Batch

BATCH_SIZE = 2000  # documents per request: larger batches are fewer, larger files for the store to ingest
BATCH_BYTES = 4 * 1024 * 1024  # per request body, under a node's default limit (max_body_bytes, 5 MiB)
IN_FLIGHT = 2


class PublishError(Exception):
    """The pod refused a whole batch (authentication, malformed request, server error)."""


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        head = (f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
                f"deleted {self.deleted}, rejected {len(self.rejected)}")
        return [head, *(f"rejected {iri}: {why}" for iri, why in sorted(self.rejected.items()))]


class Publisher:
    def __init__(self, pod_url: str, token: str, timeout: float = 300, atomic: bool = False,
                 in_flight: int = IN_FLIGHT, max_bytes: int = BATCH_BYTES) -> None:
        self.endpoint = f"{pod_url}batch"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.timeout = timeout
        self.atomic = atomic
        self.in_flight = max(1, in_flight)
        self.max_bytes = max_bytes  # per request: below the pod's max_body_bytes
        self._local = threading.local()  # a requests session per sending thread

    def publish(self, batch: Batch, progress: Callable[[int], None] | None = None) -> Summary:
        """Send the documents, then the deletions (after every document, each request within the budget).

        ``atomic`` (all or nothing): every request is first sent as a dry run, which stores nothing, and
        nothing is written if the pod would refuse any document (rejected in the summary) or deletion
        (PublishError). Deletions are checked against the pod as it is before the import: one that the
        import's own documents make impossible (a container they fill), or a pod another writer changes
        between the two passes, can still refuse a later request once earlier ones are written; the
        summary's counts then say what was."""
        if self.atomic:
            checked = self._publish(batch, None, dry_run=True)
            if checked.rejected:
                return checked
        return self._publish(batch, progress, dry_run=False)

    def _publish(self, batch: Batch, progress: Callable[[int], None] | None, dry_run: bool) -> Summary:
        summary = Summary()
        total, done = len(batch.documents), 0
        # The deletions wait until every document is written: a deletion always comes last.
        phases: tuple[Iterator[tuple[list[bytes], list[bytes]]], ...] = (
            ((chunk, []) for chunk in chunked(batch.documents.values(), budget=self.max_bytes)),
            (([], chunk) for chunk in _chunks(_encoded(batch.deletions), budget=self.max_bytes)),
        )
        with ThreadPoolExecutor(self.in_flight, thread_name_prefix="publish") as pool:
            sent: deque[Future] = deque()
            count = 0

            def collect() -> None:
                nonlocal done
                done += self._count(sent.popleft().result(), summary)
                if progress:
                    progress(min(total, done))

            for phase in phases:
                for documents, deletions in phase:  # the next request is encoded while the pod works
                    sent.append(pool.submit(self._send, documents, deletions, dry_run))
                    count += 1
                    while len(sent) >= self.in_flight:
                        collect()
                while sent:
                    collect()
            if count == 0:  # nothing to send still sends one request: the pod checks the token
                sent.append(pool.submit(self._send, [], [], dry_run))
                collect()
        return summary

    def _send(self, documents: list[bytes], deletions: list[bytes], dry_run: bool = False) -> dict:
        flags = json.dumps({"atomic": self.atomic, "dry_run": dry_run})[1:].encode()
        body = b'{"put": [%s], "delete": [%s], %s' % (b", ".join(documents), b", ".join(deletions), flags)
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self.headers)
        try:
            response = session.post(self.endpoint, data=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise PublishError(f"{self.endpoint}: {exc}") from None
        if response.status_code not in (200, 422):
            raise PublishError(f"{self.endpoint} answered {response.status_code}: {response.text[:500]}")
        return {"documents": len(documents), **response.json()}

    @staticmethod
    def _count(outcome: dict, summary: Summary) -> int:
        """Add a batch's outcome to the summary; returns how many documents it carried."""
        summary.created += len(outcome["created"])
        summary.updated += len(outcome["updated"])
        summary.unchanged += len(outcome["unchanged"])
        summary.deleted += len(outcome["deleted"])
        for iri, fields in outcome["rejected"].items():
            summary.rejected[iri] = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
        return outcome["documents"]


def chunked(documents: Iterable[dict], size: int = BATCH_SIZE, budget: int = BATCH_BYTES) -> Iterator[list[bytes]]:
    """The documents encoded as JSON, in chunks of at most ``size`` documents and ``budget`` bytes (a document
    larger than the budget goes alone, for the pod to judge)."""
    return _chunks(_encoded(documents), size, budget)


def _encoded(values: Iterable) -> Iterator[bytes]:
    return (json.dumps(value, ensure_ascii=False).encode("utf-8") for value in values)


def _chunks(values: Iterable[bytes], size: int = BATCH_SIZE, budget: int = BATCH_BYTES) -> Iterator[list[bytes]]:
    envelope = 80  # '{"put": [', '], "delete": [], "atomic": false, "dry_run": false}'
    chunk: list[bytes] = []
    used = envelope
    for encoded in values:
        if chunk and (len(chunk) == size or used + len(encoded) > budget):
            yield chunk
            chunk, used = [], envelope
        chunk.append(encoded)
        used += len(encoded) + 2
    if chunk:
        yield chunk
