"""Publishing imported documents into a pod over HTTP, where the pod's validation applies.

Idempotent: a document whose ``updated`` date (or, for agents, name and web page) did not change
is not written again; a deleted one is removed once. The outcome of every document is counted,
and a rejected one is reported with the pod's reasons.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import requests

from .common import Batch


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
    def __init__(self, token: str, timeout: float = 30) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def publish(self, batch: Batch, progress: Callable[[int], None] | None = None) -> Summary:
        summary = Summary()
        for count, (iri, document) in enumerate(batch.documents.items(), 1):
            self._put(iri, document, summary)
            if progress:
                progress(count)
        for iri in batch.deletions:
            self._delete(iri, summary)
        return summary

    def _put(self, iri: str, document: dict, summary: Summary) -> None:
        current = self.session.get(iri, headers={"Accept": "application/ld+json"}, timeout=self.timeout)
        if current.status_code == 200 and _same(current.json(), document):
            summary.unchanged += 1
            return
        response = self.session.put(iri, data=json.dumps(document, ensure_ascii=False).encode("utf-8"),
                                    headers={"Content-Type": "application/ld+json"}, timeout=self.timeout)
        if response.status_code == 201:
            summary.created += 1
        elif response.status_code in (200, 204):
            summary.updated += 1
        else:
            summary.rejected[iri] = _reason(response)

    def _delete(self, iri: str, summary: Summary) -> None:
        response = self.session.delete(iri, timeout=self.timeout)
        if response.status_code in (200, 204):
            summary.deleted += 1
        elif response.status_code not in (404, 410):
            summary.rejected[iri] = _reason(response)


def _same(stored: dict, document: dict) -> bool:
    """Whether the pod already holds this version of the document."""
    if "updated" in document:
        return "updated" in stored and _instant(stored["updated"]) == _instant(document["updated"])
    return all(stored.get(key) == document.get(key) for key in ("name", "url", "identifier"))


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _reason(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and "sh:result" in body:
        fields = {k: v for k, v in body.items() if not k.startswith(("@", "sh:"))}
        return f"HTTP {response.status_code}: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
    return f"HTTP {response.status_code}: {body.get('detail', body) if isinstance(body, dict) else body}"
