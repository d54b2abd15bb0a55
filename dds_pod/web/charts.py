"""Charts as inline SVG, drawn on the server: no script, no CDN, readable without colour and without sight.

Each chart is a ``<figure>``: an SVG with ``role="img"``, a ``<title>`` and a ``<desc>`` that says what it shows,
text labels on the chart itself, a legend, and the same numbers as a table in a ``<details>`` for screen readers
and for copying. Colours come from a colour-blind safe palette (Okabe and Ito's, its two light colours replaced)
whose every colour has a contrast of at least 3:1 on white; lines also differ by their dashes. The SVG scales
with its container (a viewBox, width 100%), so nothing scrolls sideways on a phone. Every name shown (platforms
come from remote pods) is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from html import escape

from flask_babel import format_date
from flask_babel import gettext as _

from ..portal.statistics import STAGES, STANCES, Statistics
from .html import scrolling
from .interface.words import STANCES as STANCE_WORDS
from .interface.words import STATUSES, word

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#996600", "#332288", "#882255", "#000000")
DASHES = ("", "6 3", "2 2", "8 3 2 3")
TEXT = "#222222"
GRID = "#BBBBBB"
WIDTH = 400
FONT = 'font-family="system-ui, sans-serif" font-size="13"'

Series = tuple[str, Sequence[int]]
"""(name, one value per category)."""


def contributions_chart(statistics: Statistics, chart_id: str = "contributions") -> str:
    """Contributions published per month, one line per platform."""
    series = [(p.name, [statistics.monthly.get(p.iri, {}).get(m, 0) for m in statistics.months])
              for p in statistics.platforms if p.iri in statistics.monthly]
    months = [_month(m) for m in statistics.months]
    return line_chart(chart_id, _("Contributions over time"),
                      _("Contributions published each month, by platform."), months, series, _("contributions"))


def funnel_chart(statistics: Statistics, chart_id: str = "funnel") -> str:
    """Per platform, the proposals that reached each stage of the status funnel."""
    stages = [word(STATUSES, stage) for stage in STAGES]
    groups = [(p.name, [statistics.funnel[p.iri][stage] for stage in STAGES])
              for p in statistics.platforms if p.iri in statistics.funnel]
    return bar_chart(chart_id, _("Status funnel"),
                     _("How many proposals reached each status, from submitted to implemented, by platform."),
                     stages, groups, _("proposals"))


def stance_chart(statistics: Statistics, chart_id: str = "stance") -> str:
    """Per platform, the comments in favour, against and neutral."""
    stances = [word(STANCE_WORDS, stance) for stance in STANCES]
    groups = [(p.name, [statistics.stances[p.iri][stance] for stance in STANCES])
              for p in statistics.platforms if p.iri in statistics.stances]
    return bar_chart(chart_id, _("Stance of comments"),
                     _("How many comments are in favour, against or neutral, by platform."), stances, groups,
                     _("comments"))


def _month(month: str) -> str:
    """A ``YYYY-MM`` month in the reader's way of writing it ("Mar 2025", "març 2025"); anything else as it is."""
    year, _sep, number = month.partition("-")
    if year.isdigit() and number.isdigit() and 1 <= int(number) <= 12:
        return format_date(date(int(year), int(number), 1), "MMM yyyy")
    return month


# --- line chart ---------------------------------------------------------------------------------------------

def line_chart(chart_id: str, title: str, description: str, categories: Sequence[str], series: Sequence[Series],
               unit: str) -> str:
    """One line per series over the categories (an ordered axis such as months)."""
    if not categories or not series:
        return _no_data(title, unit)
    left, right, top, bottom, height = 44, 12, 12, 36, 220
    plot_width, plot_height = WIDTH - left - right, height - top - bottom
    top_value = nice_maximum(max(max(values, default=0) for _, values in series))
    step = plot_width / max(len(categories) - 1, 1)

    def x(index: int) -> float:
        return left + index * step if len(categories) > 1 else left + plot_width / 2

    def y(value: int) -> float:
        return top + plot_height - value / top_value * plot_height

    parts = _y_axis(left, WIDTH - right, top_value, y)
    every = max(1, math.ceil(len(categories) / 5))
    for index in range(0, len(categories), every):
        anchor = "end" if x(index) > WIDTH - 40 else "middle"  # a label at the right edge would be cut
        parts.append(f'<text x="{x(index):.1f}" y="{height - bottom + 18}" text-anchor="{anchor}" fill="{TEXT}">'
                     f"{escape(categories[index])}</text>")
    for number, (_name, values) in enumerate(series):
        colour, dash = _line_style(number)
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"{dashes}/>')
        if len(categories) <= 36:
            parts.extend(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>'
                         for i, v in enumerate(values))
    legend = [(name, *_line_style(n)) for n, (name, _) in enumerate(series)]
    return _figure(chart_id, title, description, height, parts, legend,
                   _table(title, "", categories, series, unit, by_column=True))


# --- grouped bar chart ----------------------------------------------------------------------------------------

def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[str], groups: Sequence[Series],
              unit: str) -> str:
    """Horizontal bars in groups: for each group (a platform), one bar per label with its value written beside it."""
    if not bars or not groups:
        return _no_data(title, unit)
    label_width, value_width, bar_height, gap, heading = 110, 48, 16, 4, 26
    plot_width = WIDTH - label_width - value_width
    top_value = nice_maximum(max(max(values, default=0) for _, values in groups))
    parts, y = [], 0.0
    for name, values in groups:
        parts.append(f'<text x="0" y="{y + 17:.1f}" font-weight="bold" fill="{TEXT}">{escape(_short(name, 50))}</text>')
        y += heading
        for number, (label, value) in enumerate(zip(bars, values, strict=True)):
            length = value / top_value * plot_width
            middle = y + bar_height / 2 + 4.5
            parts.append(f'<text x="{label_width - 6}" y="{middle:.1f}" text-anchor="end" fill="{TEXT}">'
                         f"{escape(_short(label, 16))}</text>")
            parts.append(f'<rect x="{label_width}" y="{y:.1f}" width="{length:.1f}" height="{bar_height}" '
                         f'fill="{PALETTE[number % len(PALETTE)]}"/>')
            parts.append(f'<text x="{label_width + length + 4:.1f}" y="{middle:.1f}" fill="{TEXT}">{value}</text>')
            y += bar_height + gap
        y += gap * 2
    legend = [(label, PALETTE[n % len(PALETTE)], "") for n, label in enumerate(bars)]
    return _figure(chart_id, title, description, math.ceil(y), parts, legend,
                   _table(title, _("Platform"), bars, groups, unit, by_column=False))


# --- shared parts -------------------------------------------------------------------------------------------

def _line_style(number: int) -> tuple[str, str]:
    """The colour and dashes of the n-th line: the first eight lines differ in both."""
    return PALETTE[number % len(PALETTE)], DASHES[number % len(DASHES)]


def nice_maximum(value: int) -> int:
    """The top of an axis: the smallest 1, 2 or 5 times a power of ten at least ``value`` (1 for nothing)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _y_axis(left: int, right: int, top_value: int, y) -> list[str]:
    parts = []
    for tick in range(5):
        value = top_value * tick / 4
        label = f"{value:g}"
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{GRID}" '
                     'stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="{TEXT}">{label}</text>')
    return parts


def _figure(chart_id: str, title: str, description: str, height: int, parts: Sequence[str],
            legend: Sequence[tuple[str, str, str]], table: str) -> str:
    ident = escape(chart_id)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
           f'aria-labelledby="{ident}-title {ident}-desc" {FONT}>'
           f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>'
           f'{"".join(parts)}</svg>')
    items = "".join(f"<li>{_swatch(colour, dash)} {escape(name)}</li>" for name, colour, dash in legend)
    legend_label = escape(_("Legend"))
    return (f'<figure class="chart" aria-labelledby="{ident}-caption">\n'
            f'<figcaption id="{ident}-caption"><strong>{escape(title)}</strong>: {escape(description)}</figcaption>\n'
            f'{svg}\n<ul class="legend" aria-label="{legend_label}">{items}</ul>\n{table}\n</figure>')


def _swatch(colour: str, dash: str) -> str:
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="12" viewBox="0 0 28 12" aria-hidden="true">'
            f'<line x1="1" y1="6" x2="27" y2="6" stroke="{colour}" stroke-width="4"{dashes}/></svg>')


def _table(title: str, corner: str, columns: Sequence[str], rows: Sequence[Series], unit: str,
           by_column: bool) -> str:
    """The chart's numbers: series as rows, or (``by_column``, for a long axis) categories as rows."""
    if by_column:
        header = "".join(f'<th scope="col">{escape(name)}</th>' for name, _ in rows)
        body = "".join(f'<tr><th scope="row">{escape(category)}</th>'
                       + "".join(f"<td>{values[i]}</td>" for _, values in rows) + "</tr>"
                       for i, category in enumerate(columns))
        corner_cell = f'<th scope="col">{escape(_("Month"))}</th>'
    else:
        header = "".join(f'<th scope="col">{escape(name)}</th>' for name in columns)
        body = "".join(f'<tr><th scope="row">{escape(name)}</th>' + "".join(f"<td>{v}</td>" for v in values)
                       + "</tr>" for name, values in rows)
        corner_cell = f'<th scope="col">{escape(corner)}</th>'
    table = (f"<table><caption>{escape(title)} ({escape(unit)})</caption><thead><tr>{corner_cell}{header}</tr>"
             f"</thead><tbody>{body}</tbody></table>")
    summary = escape(_("%(chart)s as a table", chart=title))
    return f"<details><summary>{summary}</summary>\n{scrolling(table, title)}</details>"


def _no_data(title: str, unit: str) -> str:
    return (f'<figure class="chart"><figcaption><strong>{escape(title)}</strong></figcaption>'
            f"<p>{escape(_('Nothing to count yet.'))}</p></figure>")


def _short(text: str, limit: int) -> str:
    """Text cut to fit its place on the chart (the table has it whole)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"

