"""Merged views: one container per kind of contribution over every member, filtered.

This is what a public interface over many platforms reads: ``federation/proposals/`` lists the
proposals of every pod, newest first, filterable by platform, topic (following
``skos:exactMatch`` alignments between platforms' topics), space, status, text, bounding box
and publication dates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pyoxigraph as ox

from ..errors import BadDocument
from ..search import SearchIndex, SearchQuery
from ..search.words import query_words
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
# The kind of one resource for the search index: its most specific merged view (an amendment is also a proposal,
# every proposal a contribution). Reactions carry no text of their own and are not indexed.
INDEXED_KINDS = ("amendments", "proposals", "comments", "debates", "budget-projects", "meetings", "results",
                 "decisions", "spaces", "contributions")
# What each merged view lists, in index kinds: a view of a class lists its sub-classes too.
VIEW_KINDS = {kind: frozenset({kind}) for kind in INDEXED_KINDS} | {
    "proposals": frozenset({"proposals", "amendments"}),
    "contributions": frozenset(INDEXED_KINDS) - {"spaces"},
    "reactions": frozenset(),
}
# Startin'blox's search-fields, by the index field they are looked for in.
SEARCH_FIELDS = {"title": "title", "name": "title", "prefLabel": "title", "content": "body", "contentText": "body",
                 "summary": "body", "officialAnswer": "body"}
SEARCH_METHODS = ("basic", "ibasic", "exact")  # basic and ibasic are one: the index ignores case and accents
STATUSES = {"submitted", "evaluating", "accepted", "rejected", "withdrawn", "selected", "notSelected", "inProgress",
            "implemented"}


def kind_of(classes: set[str]) -> str | None:
    """The index kind of a resource of these classes, None for one that is not indexed."""
    return next((kind for kind in INDEXED_KINDS if str(KINDS[kind]) in classes), None)


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
        text=_text(args),
        fields=_search_fields(args.get("search-fields")),
        exact=_search_method(args.get("search-method")) == "exact",
        bbox=parse_bbox(args.get("bbox")),
        since=parse_date(args.get("from"), "from"),
        until=parse_date(args.get("to"), "to"),
    )


class MergedViews:
    """The merged containers and the trace of outcomes, read through the merged graph's read model; a view
    searched for words is read through the search index."""

    def __init__(self, merged: MergedGraph, index: SearchIndex, topic_key: Callable[[str], str]) -> None:
        self.merged = merged
        self.index = index
        self.topic_key = topic_key  # a topic's key in the index (aligned topics share one)

    def page(self, kind: str, filters: ViewFilters, limit: int, offset: int) -> tuple[list[str], int]:
        """IRIs of one page of the merged view, and the number of matching resources."""
        if filters.text is None:
            return self.merged.view_page(str(KINDS[kind]), filters, limit, offset)
        if not VIEW_KINDS[kind]:  # reactions have no words of their own
            return [], 0
        result = self.index.search(self._query(kind, filters, limit, offset), facets=False)
        return [hit.iri for hit in result.hits], result.total

    def _query(self, kind: str, filters: ViewFilters, limit: int, offset: int) -> SearchQuery:
        def one(value: str | None) -> frozenset[str]:
            return frozenset({value}) if value else frozenset()

        return SearchQuery(
            text=filters.text or "", fields=filters.fields, exact=filters.exact, kinds=VIEW_KINDS[kind],
            platforms=one(filters.platform), spaces=one(filters.space), statuses=one(filters.status),
            topics=one(self.topic_key(filters.topic) if filters.topic else None), since=filters.since,
            until=filters.until, bbox=filters.bbox, sort="newest", limit=limit, offset=offset)

    def member_triples(self, iri: str) -> list[ox.Triple]:
        return self.merged.resource_triples(iri)

    def trace(self, outcome: str) -> list[Influence]:
        """Which contributions, from which platforms, influenced a result or decision, in what role, and their
        status."""
        return self.merged.influences(_iri(outcome, "of") or "")


def _text(args) -> str | None:
    """The words asked for (``q``, or Startin'blox's ``search-terms``), bounded: a 400 names the parameter."""
    name = "q" if args.get("q") else "search-terms"
    text = args.get(name)
    if not text:
        return None
    query_words(text, name)
    return text


def _search_fields(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in SEARCH_FIELDS]
    if unknown:
        raise BadDocument(f"unknown search field(s) {', '.join(unknown)[:200]}; known: "
                          f"{', '.join(sorted(SEARCH_FIELDS))}", field="search-fields")
    return frozenset(SEARCH_FIELDS[name] for name in names)


def _search_method(value: str | None) -> str:
    if value is None:
        return "basic"
    if value not in SEARCH_METHODS:
        raise BadDocument(f"search-method must be one of {', '.join(SEARCH_METHODS)}", field="search-method")
    return value


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
