"""Publishing imported documents into a pod over HTTP, where the pod's validation applies.

Documents go in batches to the pod's ``batch`` endpoint: one request, one SHACL run and one
transaction per few hundred documents. The pod leaves a document identical to what it holds
alone, which makes an import idempotent: running it twice creates nothing new.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from .common import Batch

BATCH_SIZE = 500


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
    def __init__(self, pod_url: str, token: str, timeout: float = 300, atomic: bool = False) -> None:
        self.endpoint = f"{pod_url}batch"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        self.timeout = timeout
        self.atomic = atomic

    def publish(self, batch: Batch, progress: Callable[[int], None] | None = None) -> Summary:
        summary = Summary()
        documents = list(batch.documents.values())
        chunks = [documents[i:i + BATCH_SIZE] for i in range(0, len(documents), BATCH_SIZE)] or [[]]
        for index, chunk in enumerate(chunks):
            deletions = batch.deletions if index == len(chunks) - 1 else []
            self._send(chunk, deletions, summary)
            if progress:
                progress(min(len(documents), (index + 1) * BATCH_SIZE))
        return summary

    def _send(self, documents: list[dict], deletions: list[str], summary: Summary) -> None:
        body = json.dumps({"put": documents, "delete": deletions, "atomic": self.atomic}, ensure_ascii=False)
        try:
            response = self.session.post(self.endpoint, data=body.encode("utf-8"), timeout=self.timeout)
        except requests.RequestException as exc:
            raise PublishError(f"{self.endpoint}: {exc}") from None
        if response.status_code not in (200, 422):
            raise PublishError(f"{self.endpoint} answered {response.status_code}: {response.text[:500]}")
        outcome = response.json()
        summary.created += len(outcome["created"])
        summary.updated += len(outcome["updated"])
        summary.unchanged += len(outcome["unchanged"])
        summary.deleted += len(outcome["deleted"])
        for iri, fields in outcome["rejected"].items():
            summary.rejected[iri] = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
