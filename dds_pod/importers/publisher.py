"""Publishing imported documents into a pod over HTTP, where the pod's validation applies.

Documents go in batches to the pod's ``batch`` endpoint: one request and one transaction per
few hundred documents. Two requests are kept in flight, so that the pod never waits for the
client to encode and send the next batch. The pod leaves a document identical to what it holds alone, which
makes an import idempotent: running it twice creates nothing new.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from .common import Batch

BATCH_SIZE = 500
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
        documents = list(batch.documents.values())
        chunks = [documents[i:i + BATCH_SIZE] for i in range(0, len(documents), BATCH_SIZE)] or [[]]
        done = 0
        with ThreadPoolExecutor(self.in_flight, thread_name_prefix="publish") as pool:
            sent: deque[Future] = deque()
            for index, chunk in enumerate(chunks):
                deletions = batch.deletions if index == len(chunks) - 1 else []
                sent.append(pool.submit(self._send, chunk, deletions))
                while len(sent) >= self.in_flight or (sent and index == len(chunks) - 1):
                    done += self._count(sent.popleft().result(), summary)
                    if progress:
                        progress(min(len(documents), done))
        return summary

    def _send(self, documents: list[dict], deletions: list[str]) -> dict:
        body = json.dumps({"put": documents, "delete": deletions, "atomic": self.atomic}, ensure_ascii=False)
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self.headers)
        try:
            response = session.post(self.endpoint, data=body.encode("utf-8"), timeout=self.timeout)
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
