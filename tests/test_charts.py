"""The SVG charts: well-formed, labelled for assistive technology, hostile names escaped, readable colours."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from flask import Flask
from flask_babel import Babel

from dds_pod.portal.statistics import Platform, Statistics
from dds_pod.web.charts import (
    PALETTE,
    bar_chart,
    contributions_chart,
    funnel_chart,
    line_chart,
    nice_maximum,
    stance_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script> & "Lyon"'


@pytest.fixture(autouse=True)
def reader():
    """Charts are drawn for a reader: in a request, with the interface's catalogs (English here)."""
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context("/statistics"):
        yield


def test_months_are_written_in_the_readers_language():
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: "ca")
    with app.test_request_context("/statistics"):
        figure = contributions_chart(statistics())
    assert "de gen. 2025" in figure or "gen. 2025" in figure


def statistics() -> Statistics:
    paris, hostile = "https://paris.example", "https://hostile.example"
    return Statistics(
        platforms=(Platform(hostile, HOSTILE), Platform(paris, "Paris")),
        months=("2025-01", "2025-02", "2025-03"),
        monthly={paris: {"2025-01": 2, "2025-03": 4}, hostile: {"2025-02": 7}},
        funnel={paris: {"submitted": 3, "evaluating": 2, "accepted": 1, "inProgress": 1, "implemented": 1},
                hostile: {"submitted": 1, "evaluating": 0, "accepted": 0, "inProgress": 0, "implemented": 0}},
        stances={paris: {"inFavour": 2, "against": 1, "neutral": 0}, hostile: {"inFavour": 0, "against": 5,
                                                                                  "neutral": 1}},
    )


def svgs(figure: str) -> list[ET.Element]:
    return [ET.fromstring(match) for match in re.findall(r"<svg .*?</svg>", figure, re.S)]


@pytest.mark.parametrize("draw", [contributions_chart, funnel_chart, stance_chart])
def test_charts_are_well_formed_labelled_figures(draw):
    figure = draw(statistics())
    ET.fromstring(figure)  # the whole figure, table and legend included, is well-formed markup
    chart, *swatches = svgs(figure)
    assert chart.get("role") == "img" and chart.get("width") == "100%" and chart.get("viewBox")
    title_id, desc_id = chart.get("aria-labelledby").split()
    assert chart.find(f"{SVG}title").get("id") == title_id and chart.find(f"{SVG}desc").get("id") == desc_id
    assert chart.find(f"{SVG}desc").text
    assert swatches and all(s.get("aria-hidden") == "true" for s in swatches)  # the legend's
    assert "<details><summary>" in figure and '<th scope="row">' in figure


@pytest.mark.parametrize("draw", [contributions_chart, funnel_chart, stance_chart])
def test_hostile_platform_names_are_escaped(draw):
    figure = draw(statistics())
    assert "<script" not in figure
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Lyon&quot;" in figure  # legend or table
    chart_texts = "".join(t.text or "" for t in svgs(figure)[0].iter(f"{SVG}text"))
    legend = figure[figure.index('<ul class="legend"'):]
    assert "<script>" in chart_texts or "<script>" in legend.replace("&lt;", "<").replace("&gt;", ">")


def test_bars_show_their_numbers_and_the_table_has_them_all():
    figure = stance_chart(statistics())
    texts = [t.text for t in svgs(figure)[0].iter(f"{SVG}text")]
    assert texts.count("5") == 1 and "In favour" in texts and "Against" in texts and "Paris" in texts
    table = figure[figure.index("<table>"):]
    assert '<th scope="row">Paris</th><td>2</td><td>1</td><td>0</td>' in table
    assert '<th scope="col">In favour</th><th scope="col">Against</th><th scope="col">Neutral</th>' in table


def test_the_line_chart_has_a_point_per_month_and_a_table_by_month():
    figure = contributions_chart(statistics())
    chart = svgs(figure)[0]
    assert len(list(chart.iter(f"{SVG}polyline"))) == 2 and len(list(chart.iter(f"{SVG}circle"))) == 6
    assert '<th scope="row">Feb 2025</th><td>7</td><td>0</td>' in figure  # hostile first, then Paris
    months = [t for t in chart.iter(f"{SVG}text") if t.text and t.text.endswith("2025")]
    assert [t.get("text-anchor") for t in months] == ["middle", "middle", "end"]  # the last one is not cut


def test_bars_are_as_long_as_their_values():
    chart = svgs(bar_chart("c", "t", "d", ["a", "b"], [("g", [10, 5])], "things"))[0]
    widths = [float(r.get("width")) for r in chart.iter(f"{SVG}rect")]
    assert widths[0] == pytest.approx(2 * widths[1])


def test_no_data_says_so():
    assert "Nothing to count yet" in line_chart("c", "t", "d", [], [], "contributions")
    assert "Nothing to count yet" in bar_chart("c", "t", "d", ["a"], [], "comments")
    assert "<svg" not in bar_chart("c", "t", "d", ["a"], [], "comments")


def test_axes_end_on_round_numbers():
    assert [nice_maximum(v) for v in (0, 1, 3, 7, 10, 11, 180, 5633)] == [1, 1, 5, 10, 10, 20, 200, 10000]


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_every_colour_contrasts_at_least_three_to_one_with_white():
    for colour in PALETTE:
        assert 1.05 / (_luminance(colour) + 0.05) >= 3, colour
    assert len(set(PALETTE)) == len(PALETTE)
