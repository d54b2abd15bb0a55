"""The public interface: pages where citizens, journalists and officials read what every platform published.

:func:`register` installs the languages (Flask-Babel), the page helpers the templates use and the blueprint.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_date

from . import explore, i18n, pages, reading, themes, words


def register(app: Flask) -> None:
    i18n.install(app)
    settings = app.extensions["dds.node"].config.interface
    app.jinja_env.globals.update(page_url=i18n.page_url, path_url=i18n.path_url, languages=i18n.switch_links,
                                 locale=i18n.locale, node_name=lambda: settings.name,
                                 tiles_url=lambda: settings.tiles_url,
                                 tiles_attribution=lambda: settings.tiles_attribution, nearby=_nearby)
    app.jinja_env.filters.update(words.FILTERS, date=_date, http_url=_http_url)
    app.register_blueprint(pages.bp)
    app.register_blueprint(explore.bp)
    app.register_blueprint(themes.bp)
    app.register_blueprint(reading.bp)


def _date(value: str | None) -> str:
    """An ISO 8601 date or date-time in the reader's way of writing dates (the text itself when unreadable)."""
    if not value:
        return ""
    try:
        return format_date(datetime.fromisoformat(value), format="medium")
    except ValueError:
        return value


def _nearby(place) -> str:
    """A bounding box of about a kilometre around a place, for the link to the contributions near it."""
    margin = 0.01
    west, south = max(-180.0, place.longitude - margin), max(-90.0, place.latitude - margin)
    east, north = min(180.0, place.longitude + margin), min(90.0, place.latitude + margin)
    return ",".join(f"{value:.5f}" for value in (west, south, east, north))


def _http_url(iri: str | None) -> str:
    """The IRI as a link target when it is an http(s) address; ``""`` otherwise, so that no ``javascript:`` or
    other scheme a platform wrote becomes a link."""
    return iri if iri and iri.startswith(("http://", "https://")) else ""
