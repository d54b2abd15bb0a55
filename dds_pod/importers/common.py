"""What every importer shares: its settings and the batch of documents it publishes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .pseudonyms import Pseudonymiser

_UNSAFE = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class Settings:
    pod_url: str
    platform: str
    locale: str = "en"
    names: bool = False  # publish people's names instead of pseudonyms
    pseudonymiser: Pseudonymiser | None = None


@dataclass
class Batch:
    """What an import publishes: documents to PUT (by IRI) and IRIs to delete."""

    documents: dict[str, dict] = field(default_factory=dict)
    deletions: list[str] = field(default_factory=list)


def slug(reference: str) -> str:
    return _UNSAFE.sub("-", reference.lower()).strip("-.") or "item"
