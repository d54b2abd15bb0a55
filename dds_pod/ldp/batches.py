"""A batch body (``{"put": [documents], "delete": [IRIs], "atomic": false, "dry_run": false}``) read into what
a pod writes at once: each document with its IRI and statements, the IRIs to delete, and the two flags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import jsonld, rdfio
from ..errors import BadDocument, UnsupportedFormat
from ..terms import Statement, checked_iri
from .intake import Body, Intake

MEDIA_TYPES = ("application/json", "application/ld+json")


@dataclass(frozen=True)
class Batch:
    documents: list[tuple[str, Sequence[Statement]]]
    deletions: list[str]
    atomic: bool
    dry_run: bool


def read_batch(intake: Intake, body: Body, language: str) -> Batch:
    """Parse a batch; each document is read against its own "id", which it must have."""
    if (body.media_type or "").split(";")[0].strip().lower() not in MEDIA_TYPES:
        raise UnsupportedFormat("a batch is application/json: {\"put\": [...], \"delete\": [...]}")
    document = jsonld.loads(rdfio.decode(body.data))
    if not isinstance(document, dict):
        raise BadDocument("a batch is a JSON object with \"put\" and \"delete\" lists")
    named: list[tuple[dict, str]] = []
    for item in _list(document, "put"):
        iri = item.get("id", item.get("@id")) if isinstance(item, dict) else None
        if not isinstance(iri, str):
            intake.read_json_batch(named, language)  # an earlier document's error comes first
            raise BadDocument("each document of \"put\" needs its \"id\"", field="put")
        named.append((item, iri))
    triples = intake.read_json_batch(named, language)
    documents = [(iri, read) for (_, iri), read in zip(named, triples, strict=True)]
    deletions = [checked_iri(iri, "delete") for iri in _list(document, "delete") if isinstance(iri, str)]
    return Batch(documents, deletions, _flag(document, "atomic"), _flag(document, "dry_run"))


def _flag(body: dict, key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise BadDocument(f"\"{key}\" must be true or false", field=key)
    return value


def _list(body: dict, key: str) -> list:
    value = body.get(key, [])
    if not isinstance(value, list):
        raise BadDocument(f"\"{key}\" must be a list", field=key)
    return value
