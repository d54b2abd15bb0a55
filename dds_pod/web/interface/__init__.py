"""The public interface: pages where citizens, journalists and officials read what every platform published.

:func:`register` installs the languages (Flask-Babel), the page helpers the templates use and the blueprint.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_date

from . import i18n, pages, words


def register(app: Flask) -> None:
    i18n.install(app)
    app.jinja_env.globals.update(page_url=i18n.page_url, path_url=i18n.path_url, languages=i18n.switch_links,
                                 locale=i18n.locale, node_name=lambda: app.extensions["dds.node"].config.interface.name)
    app.jinja_env.filters.update(words.FILTERS, date=_date, http_url=_http_url)
    app.register_blueprint(pages.bp)


def _date(value: str | None) -> str:
    """An ISO 8601 date or date-time in the reader's way of writing dates (the text itself when unreadable)."""
    if not value:
        return ""
    try:
        return format_date(datetime.fromisoformat(value), format="medium")
    except ValueError:
        return value


def _http_url(iri: str | None) -> str:
    """The IRI as a link target when it is an http(s) address; ``""`` otherwise, so that no ``javascript:`` or
    other scheme a platform wrote becomes a link."""
    return iri if iri and iri.startswith(("http://", "https://")) else ""
