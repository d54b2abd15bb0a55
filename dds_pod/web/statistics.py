"""``/statistics``: the federation's statistics as a page of charts, computed once per version of the merged graph."""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app
from markupsafe import Markup

from ..node import Node
from ..portal.statistics import Statistics, compute
from . import charts
from .interface.pages import render

bp = Blueprint("statistics", __name__)
EXTENSION = "dds.statistics"


@bp.route("/statistics", methods=["GET", "HEAD"])
def statistics_page() -> Response:
    statistics = _statistics()
    drawn = [] if statistics.empty else [Markup(chart(statistics)) for chart in
                                          (charts.contributions_chart, charts.funnel_chart, charts.stance_chart)]
    response = render("statistics.html", statistics=statistics, charts=drawn, active="statistics")
    response.headers["Cache-Control"] = "no-cache"
    return response


class _Cached:
    """The statistics of one version of the merged graph: a page view costs no query while nothing changed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = -1
        self.statistics: Statistics | None = None


def _statistics() -> Statistics:
    node: Node = current_app.extensions["dds.node"]
    cached: _Cached = current_app.extensions.setdefault(EXTENSION, _Cached())
    version = node.merged_graph.version
    with cached.lock:
        if cached.statistics is None or cached.version != version:
            cached.statistics, cached.version = compute(node.merged_graph), version
        return cached.statistics
