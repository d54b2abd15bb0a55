"""Merged views: one container per kind of contribution over every member, filtered.

This is what a public interface over many platforms reads: ``federation/proposals/`` lists the
proposals of every pod, newest first, filterable by platform, topic (following
``skos:exactMatch`` alignments between platforms' topics), space, status, text, bounding box
and publication dates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from ..errors import BadDocument
from ..node import Node
from ..vocab import AS, DCTERMS, DDS, SKOS

KINDS = {
    "proposals": DDS.Proposal,
    "amendments": DDS.Amendment,
    "comments": DDS.Comment,
    "debates": DDS.Debate,
    "budget-projects": DDS.BudgetProject,
    "meetings": DDS.Meeting,
    "results": DDS.Result,
    "decisions": DDS.Decision,
    "spaces": DDS.ParticipatorySpace,
    "reactions": AS.Like,
    "contributions": DDS.Contribution,
}
STATUSES = {"submitted", "evaluating", "accepted", "rejected", "withdrawn", "selected", "notSelected", "inProgress",
            "implemented"}


@dataclass(frozen=True)
class Filters:
    platform: str | None = None
    topic: str | None = None
    space: str | None = None
    status: str | None = None
    text: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min longitude, min latitude, max longitude, max latitude
    since: str | None = None
    until: str | None = None

    @classmethod
    def from_args(cls, args) -> Filters:
        status = args.get("status")
        if status is not None and status not in STATUSES:
            raise BadDocument(f"status must be one of {', '.join(sorted(STATUSES))}", field="status")
        return cls(
            platform=_iri(args.get("platform"), "platform"),
            topic=_iri(args.get("topic"), "topic"),
            space=_iri(args.get("space"), "space"),
            status=status,
            text=args.get("q") or args.get("search-terms"),
            bbox=_bbox(args.get("bbox")),
            since=_date(args.get("from"), "from"),
            until=_date(args.get("to"), "to"),
        )


def page(node: Node, kind: str, filters: Filters, limit: int, offset: int) -> tuple[list[str], int]:
    """IRIs of one page of the merged view, and the number of matching resources."""
    where = _where(KINDS[kind], filters)
    count = next(iter(node.merged.query(f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ {where} }}")))["n"]
    rows = node.merged.query(
        f"""SELECT DISTINCT ?r ?published WHERE {{ {where} OPTIONAL {{ ?r <{AS.published}> ?published }} }}
            ORDER BY DESC(?published) ?r LIMIT {int(limit)} OFFSET {int(offset)}""")
    return [row["r"].value for row in rows], int(count.value)


def member_triples(node: Node, iri: str) -> list[ox.Triple]:
    return node.merged.triples(iri)


def _where(cls, filters: Filters) -> str:
    parts = [f"?r a <{cls}> ."]
    if filters.platform:
        parts.append(f"?r <{DDS.sourcePlatform}> <{filters.platform}> .")
    if filters.space:
        parts.append(f"?r <{DCTERMS.isPartOf}> <{filters.space}> .")
    if filters.status:
        parts.append(f"?r <{DDS.status}> <{DDS[filters.status]}> .")
    if filters.topic:
        topic = f"<{filters.topic}>"
        match = f"<{SKOS.exactMatch}>"
        parts.append(f"?r <{DCTERMS.subject}> ?topic . FILTER(?topic = {topic} || "
                     f"EXISTS {{ ?topic {match} {topic} }} || EXISTS {{ {topic} {match} ?topic }})")
    if filters.text:
        # ensure_ascii=False: a JSON escape of an emoji is a surrogate pair, which SPARQL refuses
        words = " && ".join(f"CONTAINS(LCASE(STR(?text)), LCASE({json.dumps(w, ensure_ascii=False)}))"
                            for w in filters.text.split())
        parts.append(f"FILTER EXISTS {{ ?r <{DCTERMS.title}>|<{AS.content}>|<{AS.summary}> ?text FILTER({words}) }}")
    if filters.bbox:
        west, south, east, north = filters.bbox
        parts.append(f"?r <{AS.location}> ?place . ?place <{AS.latitude}> ?lat ; <{AS.longitude}> ?lon . "
                     f"FILTER(?lat >= {south} && ?lat <= {north} && ?lon >= {west} && ?lon <= {east})")
    if filters.since or filters.until:
        parts.append(f"?r <{AS.published}> ?date .")
        if filters.since:
            parts.append(f'FILTER(?date >= "{filters.since}"^^<http://www.w3.org/2001/XMLSchema#dateTime>)')
        if filters.until:
            parts.append(f'FILTER(?date <= "{filters.until}"^^<http://www.w3.org/2001/XMLSchema#dateTime>)')
    return " ".join(parts)


def _iri(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if not value.startswith(("http://", "https://")) or any(c in value for c in '<>"{}|\\^` \n'):
        raise BadDocument(f"{name} must be an absolute http(s) IRI", field=name)
    return value


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        west, south, east, north = (float(part) for part in value.split(","))
    except ValueError:
        raise BadDocument("bbox is min-longitude,min-latitude,max-longitude,max-latitude", field="bbox") from None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise BadDocument("bbox corners are out of range or in the wrong order", field="bbox")
    return west, south, east, north


def _date(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value if "T" in value else value + "T00:00:00+00:00")
    except ValueError:
        raise BadDocument(f"{name} must be an ISO 8601 date or date-time", field=name) from None
    if parsed.tzinfo is None:
        raise BadDocument(f"{name} needs a time zone, e.g. 2025-03-01T00:00:00Z", field=name)
    return parsed.isoformat()


TRACE_QUERY = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dds: <https://w3id.org/dds/ns#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?contribution ?role ?platform ?status ?title WHERE {
  { <OUTCOME> prov:qualifiedInfluence ?influence . ?influence prov:influencer ?contribution .
    OPTIONAL { ?influence prov:hadRole ?role } }
  UNION
  { <OUTCOME> prov:wasDerivedFrom ?contribution .
    FILTER NOT EXISTS { <OUTCOME> prov:qualifiedInfluence/prov:influencer ?contribution } }
  OPTIONAL { ?contribution dds:sourcePlatform ?platform }
  OPTIONAL { ?contribution dds:status ?status }
  OPTIONAL { ?contribution dcterms:title ?title }
} ORDER BY ?contribution
"""


def trace(node: Node, outcome: str) -> list[dict[str, str | None]]:
    """Which contributions, from which platforms, influenced a result or decision, in what role, and their status."""
    rows = node.merged.query(TRACE_QUERY.replace("OUTCOME", _iri(outcome, "of") or ""))
    found: dict[str, dict[str, str | None]] = {}
    for row in rows:
        entry = found.setdefault(row["contribution"].value, {"contribution": row["contribution"].value,
                                                              "role": None, "platform": None, "status": None,
                                                              "title": None})
        for key in ("role", "platform", "status", "title"):
            if row[key] is not None and entry[key] is None:
                entry[key] = row[key].value
    return list(found.values())
