"""Explore: every platform's contributions in one list, searched, narrowed by facets, sorted, paged and mapped.

The list, the facet counts and the map's points come from the search index (``node.search``), never from a scan
of the merged graph; the labels shown for platforms, spaces and topics come from the portal's read model. The
page works without JavaScript (facets are links, the form is a GET); the map script only enhances it, and asks
nothing but this node (``/explore/map.json``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Blueprint, Response, current_app, render_template, request, url_for

from ...errors import BadDocument
from ...node import Node
from ...portal.listing import Listing, listing
from ...search import FACETS, SearchQuery, SearchResult
from .. import conneg
from .explore_state import FLAGS, LIST_KINDS, ExploreState, read_state, without_area

bp = Blueprint("explore", __name__)

MAP_POINTS = 1000  # the map shows at most this many markers; the list and its counts cover everything
# Facets whose values are IRIs or codes the index knows: a value outside them is refused, not silently empty.
OPEN_FACETS = ("platform", "space", "topic", "language")
_known_cache: dict[int, dict[str, frozenset[str]]] = {}


def _node() -> Node:
    return current_app.extensions["dds.node"]


@bp.route("/explore", methods=["GET", "HEAD"])
def explore() -> Response | tuple[str, int]:
    node, language = _node(), _reader_language()
    wants_json = conneg.prefers_json(request)
    try:
        state = read_state(request.args, _known_values(node), language)
    except BadDocument as error:
        if wants_json:
            raise
        return render_template("explore.html", error=error, state=None, **_empty_page(node, language)), 400
    result = node.search.search(state.query)
    rows = listing(node, [hit.iri for hit in result.hits], language)
    if wants_json:
        return _json(state, result, rows)
    return render_template("explore.html", error=None, state=state, result=result, rows=rows,
                           facets=_facet_groups(node, state, result, language), map_url=state.url("/explore/map.json"),
                           kinds=LIST_KINDS, flags=FLAGS)


@bp.route("/explore/map.json", methods=["GET", "HEAD"])
def map_points() -> Response:
    """The located contributions matching the filters, as GeoJSON: everywhere, not only in the current area, so
    that moving the map shows what lies beyond it."""
    node, language = _node(), _reader_language()
    state = read_state(request.args, _known_values(node), language)
    found = node.search.search(_map_query(state), facets=False)
    rows = listing(node, [hit.iri for hit in found.hits], language)
    features = [_feature(row) for row in rows if row.location is not None]
    body = {"type": "FeatureCollection", "features": features, "total": found.total,
            "shown": len(features)}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/geo+json")


def _map_query(state: ExploreState) -> SearchQuery:
    query = without_area(state)
    return SearchQuery(**{**vars(query), "limit": MAP_POINTS, "sort": "newest"})


def _feature(row: Listing) -> dict:
    assert row.location is not None
    latitude, longitude = row.location
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
            "properties": {"title": row.title.text, "lang": row.title.language, "platform": row.platform_name,
                           "url": url_for("interface.contribution", id=row.iri)}}


def _known_values(node: Node) -> Mapping[str, frozenset[str]]:
    """The values of the open facets the index holds, computed once per version of the merged graph."""
    version = node.merged_graph.version
    if version not in _known_cache:
        everything = node.search.search(SearchQuery(limit=0))
        _known_cache.clear()
        _known_cache[version] = {name: frozenset(value for value, _ in everything.facets.get(name, ()))
                                 for name in OPEN_FACETS}
    return _known_cache[version]


def _facet_groups(node: Node, state: ExploreState, result: SearchResult, language: str) -> list[dict]:
    """Each facet with its values, counts, labels and the link that toggles the value."""
    labels = node.portal.labels(language)
    groups = []
    for name in FACETS:
        chosen = state.chosen(name) if name not in FLAGS else set()
        values = []
        for value, count in result.facets.get(name, ()):
            pair = (name, "yes" if name in FLAGS and value in ("1", "true", "yes") else value)
            if name in FLAGS and value not in ("1", "true", "yes"):
                continue
            values.append({"value": value, "count": count, "label": labels.facet_value(name, value),
                           "chosen": value in chosen or pair in state.pairs, "url": state.url(toggled=pair)})
        if values:
            groups.append({"name": name, "values": values})
    return groups


def _empty_page(node: Node, language: str) -> dict:
    return {"result": None, "rows": [], "facets": [], "map_url": None, "kinds": LIST_KINDS, "flags": FLAGS}


def _json(state: ExploreState, result: SearchResult, rows: list[Listing]) -> Response:
    next_page = state.url(page=state.page + 1) if state.query.offset + len(rows) < result.total else None
    body = {
        "total": result.total,
        "results": [row.as_json() for row in rows],
        "facets": {name: [{"value": value, "count": count} for value, count in pairs]
                   for name, pairs in result.facets.items()},
        "next": next_page,
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def _reader_language() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return str(locale.language) if locale is not None else "en"
