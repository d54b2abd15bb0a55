"""Explore: every platform's contributions in one list, searched, narrowed by facets, sorted, paged and mapped.

The list, the facet counts and the map's points come from the search index (``node.search``), never from a scan
of the merged graph; the names shown for platforms, spaces and topics come from the portal's labeller. The page
works without JavaScript (facets are links, the form is a GET); the map script only enhances it and asks nothing
but this node (``/explore/map.json``). Machines ask for ``application/json`` and get the same results as data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from babel import Locale
from flask import Blueprint, Response, current_app, request
from flask_babel import lazy_gettext as _l

from ...errors import BadDocument
from ...node import Node
from ...portal.analysis import THEME_FACET, AnalysisViews
from ...portal.listing import Listing, lines
from ...search import FACETS, SearchQuery, SearchResult
from . import i18n, words
from .explore_state import FLAGS, MAX_PAGE, ExploreState, read_state, without_area
from .pages import render

bp = Blueprint("explore", __name__)

MAP_POINTS = 1000  # markers on the map at most; the list and its counts cover everything
# Facets whose values are IRIs or codes found in the data: a value the index does not hold is refused.
OPEN_FACETS = ("platform", "space", "topic", "language")
FACET_TITLES = {"theme": _l("Theme"), "kind": _l("Kind"), "platform": _l("Platform"),
                "space": _l("Participatory space"), "topic": _l("Topic"), "status": _l("Status"),
                "language": _l("Language"), "located": _l("Place"), "answered": _l("Official answer"),
                "decided": _l("Decisions")}
FLAG_LABELS = {"located": _l("Has a location"), "answered": _l("Has an official answer"),
               "decided": _l("Influenced a result or decision")}
SORT_LABELS = {"relevance": _l("Relevance"), "newest": _l("Newest"), "supported": _l("Most supported"),
               "commented": _l("Most commented")}
_known: dict[str, tuple[int, Mapping[str, frozenset[str]]]] = {}


def _node() -> Node:
    return current_app.extensions["dds.node"]


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.route("/explore", methods=["GET", "HEAD"])
def explore() -> Response:
    node, language = _node(), i18n.locale()
    views = node.portal.analysed(language)
    try:
        state = _state(node, views)
    except BadDocument as error:
        if _wants_json():
            raise
        return render("explore.html", status=400, error=error, state=None, active="explore",
                      sort_labels=SORT_LABELS)
    result = node.search.search(state.query)
    rows = _rows(node, result, language)
    if _wants_json():
        return _json(state, result, rows)
    tiles = node.config.interface
    return render("explore.html", error=None, state=state, result=result, rows=rows, active="explore",
                  facets=_facet_groups(node, state, result, language, views), facet_titles=FACET_TITLES,
                  sort_labels=SORT_LABELS, map_url=state.url("/explore/map.json"), max_page=MAX_PAGE,
                  tiles_url=tiles.tiles_url, tiles_attribution=tiles.tiles_attribution,
                  language_names=_language_names(language))


@bp.route("/explore/map.json", methods=["GET", "HEAD"])
def map_points() -> Response:
    """The located contributions matching the filters, as GeoJSON: everywhere, not only in the map's current
    area, so that moving the map shows what lies beyond it."""
    node, language = _node(), i18n.locale()
    state = _state(node, node.portal.analysed(language))
    found = node.search.search(_map_query(state), facets=False)
    features = [_feature(row) for row in _rows(node, found, language) if row.location is not None]
    body = {"type": "FeatureCollection", "features": features, "total": found.total, "shown": len(features)}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/geo+json")


def _state(node: Node, views: AnalysisViews | None) -> ExploreState:
    """The checked state of the request; its themes are the latest analysis's (none before the first)."""
    grouping = views.grouping if views is not None else None
    known = {**_known_values(node), "theme": frozenset(grouping.members) if grouping else frozenset()}
    return read_state(request.args, known, i18n.locale(), grouping)


def _rows(node: Node, result: SearchResult, language: str) -> list[Listing]:
    documents = node.search.documents([hit.iri for hit in result.hits])
    labeller = node.portal.labeller(language)
    return lines(documents, language, lambda iri: labeller.platform(iri).label.value if iri else "")


def _map_query(state: ExploreState) -> SearchQuery:
    query = without_area(state)
    return SearchQuery(**{**vars(query), "limit": MAP_POINTS, "sort": "newest"})


def _feature(row: Listing) -> dict:
    latitude, longitude = row.location or (0.0, 0.0)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
            "properties": {"title": row.title.value, "lang": row.title.language, "platform": row.platform_name,
                           "url": i18n.page_url("interface.contribution", id=row.iri)}}


def _known_values(node: Node) -> Mapping[str, frozenset[str]]:
    """The values of the open facets the index holds, read again only when the merged graph changed."""
    version = node.merged_graph.version
    cached = _known.get("values")
    if cached is None or cached[0] != version:
        everything = node.search.search(SearchQuery(limit=0))
        values = {name: frozenset(value for value, _ in everything.facets.get(name, ())) for name in OPEN_FACETS}
        cached = _known["values"] = (version, values)
    return cached[1]


def _facet_groups(node: Node, state: ExploreState, result: SearchResult, language: str,
                  views: AnalysisViews | None) -> list[dict]:
    """Each facet with its values, counts, names in the reader's language and the link that toggles it; the
    analysis's themes first when there are some."""
    labels = _facet_labels(node, result, language)
    if views is not None:
        labels.update({("theme", key): (label.value, label.language) for key, label in views.theme_labels().items()})
    groups = []
    for name in (THEME_FACET, *FACETS):
        values = []
        for value, count in result.facets.get(name, ()):
            if name in FLAGS:  # counted as true and false; offered as the one choice "has it"
                if value != "true":
                    continue
                label, lang, pair = str(FLAG_LABELS[name]), language, (name, "yes")
            else:
                (label, lang), pair = labels.get((name, value), (value, "")), (name, value)
            values.append({"value": pair[1], "count": count, "label": label, "lang": lang,
                           "chosen": pair in state.pairs, "url": state.url(toggled=pair)})
        if values:
            groups.append({"name": name, "values": values})
    return groups


def _facet_labels(node: Node, result: SearchResult, language: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(facet, value) -> (text, its language) for every value shown."""
    labeller = node.portal.labeller(language)
    labels: dict[tuple[str, str], tuple[str, str]] = {}
    for value, _ in result.facets.get("kind", ()):
        labels["kind", value] = words.word(words.KINDS, value), language
    for value, _ in result.facets.get("status", ()):
        labels["status", value] = words.word(words.STATUSES, value), language
    names = _language_names(language)
    for value, _ in result.facets.get("language", ()):
        labels["language", value] = names.get(value, value), language
    for value, _ in result.facets.get("platform", ()):
        named = labeller.platform(value).label
        labels["platform", value] = named.value, named.language
    iris = [(name, value) for name in ("space", "topic") for value, _ in result.facets.get(name, ())]
    found = labeller.many(value for _, value in iris)
    for name, value in iris:
        labels[name, value] = found[value].label.value, found[value].label.language
    return labels


def _language_names(language: str) -> dict[str, str]:
    """Languages named in the reader's language (Babel's CLDR data), for the language facet and marked texts."""
    return dict(Locale.parse(language).languages)


def _json(state: ExploreState, result: SearchResult, rows: list[Listing]) -> Response:
    more = state.query.offset + len(rows) < result.total and state.page < MAX_PAGE
    body = {
        "total": result.total,
        "results": [row.as_json() for row in rows],
        "facets": {name: [{"value": value, "count": count} for value, count in pairs]
                   for name, pairs in result.facets.items()},
        "next": state.url(page=state.page + 1) if more else None,
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")

