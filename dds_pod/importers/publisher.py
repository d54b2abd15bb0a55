"""Publishing imported documents into a pod over HTTP, where the pod's validation applies.

Documents go in batches to the pod's ``batch`` endpoint: one request and one transaction per
2 000 documents at most (and 4 MiB). Two requests are kept in flight, so that the pod never waits for the
client to encode and send the next batch. The pod leaves a document identical to what it holds alone, which
makes an import idempotent: running it twice creates nothing new.
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
                 in_flight: int = IN_FLIGHT) -> None:
        self.endpoint = f"{pod_url}batch"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.timeout = timeout
        self.atomic = atomic
        self.in_flight = max(1, in_flight)
        self._local = threading.local()  # a requests session per sending thread

    def publish(self, batch: Batch, progress: Callable[[int], None] | None = None) -> Summary:
        summary = Summary()
        total, done = len(batch.documents), 0
        chunks = chunked(batch.documents.values())
        with ThreadPoolExecutor(self.in_flight, thread_name_prefix="publish") as pool:
            sent: deque[Future] = deque()
            chunk = next(chunks, [])
            while True:
                following = next(chunks, None)  # encoded while the pod works on what was sent
                last = following is None
                sent.append(pool.submit(self._send, chunk, batch.deletions if last else []))
                while len(sent) >= self.in_flight or (sent and last):
                    done += self._count(sent.popleft().result(), summary)
                    if progress:
                        progress(min(total, done))
                if following is None:
                    return summary
                chunk = following

    def _send(self, documents: list[bytes], deletions: list[str]) -> dict:
        tail = json.dumps({"delete": deletions, "atomic": self.atomic})[1:]
        body = b'{"put": [' + b", ".join(documents) + b"], " + tail.encode("utf-8")
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
    envelope = 64  # '{"put": [', '], "delete": [], "atomic": false}'
    chunk: list[bytes] = []
    used = envelope
    for document in documents:
        encoded = json.dumps(document, ensure_ascii=False).encode("utf-8")
        if chunk and (len(chunk) == size or used + len(encoded) > budget):
            yield chunk
            chunk, used = [], envelope
        chunk.append(encoded)
        used += len(encoded) + 2
    if chunk:
        yield chunk
