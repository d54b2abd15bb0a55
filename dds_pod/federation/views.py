"""Merged views: one container per kind of contribution over every member, filtered.

This is what a public interface over many platforms reads: ``federation/proposals/`` lists the
proposals of every pod, newest first, filterable by platform, topic (following
``skos:exactMatch`` alignments between platforms' topics), space, status, text, bounding box
and publication dates.
"""

from __future__ import annotations

from datetime import datetime

import pyoxigraph as ox

from ..errors import BadDocument
from ..vocab import AS, DDS
from .merged import Influence, MergedGraph, ViewFilters

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


def filters_from(args) -> ViewFilters:
    """The filters of a merged view from its query parameters, each checked (400 naming the parameter)."""
    status = args.get("status")
    if status is not None and status not in STATUSES:
        raise BadDocument(f"status must be one of {', '.join(sorted(STATUSES))}", field="status")
    return ViewFilters(
        platform=_iri(args.get("platform"), "platform"),
        topic=_iri(args.get("topic"), "topic"),
        space=_iri(args.get("space"), "space"),
        status=status,
        text=args.get("q") or args.get("search-terms"),
        bbox=parse_bbox(args.get("bbox")),
        since=parse_date(args.get("from"), "from"),
        until=parse_date(args.get("to"), "to"),
    )


class MergedViews:
    """The merged containers and the trace of outcomes, read through the merged graph's read model."""

    def __init__(self, merged: MergedGraph) -> None:
        self.merged = merged

    def page(self, kind: str, filters: ViewFilters, limit: int, offset: int) -> tuple[list[str], int]:
        """IRIs of one page of the merged view, and the number of matching resources."""
        return self.merged.view_page(str(KINDS[kind]), filters, limit, offset)

    def member_triples(self, iri: str) -> list[ox.Triple]:
        return self.merged.resource_triples(iri)

    def trace(self, outcome: str) -> list[Influence]:
        """Which contributions, from which platforms, influenced a result or decision, in what role, and their
        status."""
        return self.merged.influences(_iri(outcome, "of") or "")


def _iri(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if not value.startswith(("http://", "https://")) or any(c in value for c in '<>"{}|\\^` \n'):
        raise BadDocument(f"{name} must be an absolute http(s) IRI", field=name)
    return value


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        west, south, east, north = (float(part) for part in value.split(","))
    except ValueError:
        raise BadDocument("bbox is min-longitude,min-latitude,max-longitude,max-latitude", field="bbox") from None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise BadDocument("bbox corners are out of range or in the wrong order", field="bbox")
    return west, south, east, north


def parse_date(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value if "T" in value else value + "T00:00:00+00:00")
    except ValueError:
        raise BadDocument(f"{name} must be an ISO 8601 date or date-time", field=name) from None
    if parsed.tzinfo is None:
        raise BadDocument(f"{name} needs a time zone, e.g. 2025-03-01T00:00:00Z", field=name)
    return parsed.isoformat()
