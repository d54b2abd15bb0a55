"""The reader's language, and links that keep it.

The language comes from, in order: the ``locale`` query parameter (so that a shared link opens in the language
it was shared in), the cookie the language switch sets, the browser's ``Accept-Language``, and the node's
``[interface] default_language``. Links between the interface's pages carry the language when the reader chose
one, so following them never switches back.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, request, url_for
from flask_babel import Babel

from ...config import INTERFACE_LANGUAGES

PARAMETER = COOKIE = "locale"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
# Each language named in itself, as readers look for their own.
NAMES = {"fr": "Français", "en": "English", "es": "Español", "ca": "Català"}


def chosen() -> str | None:
    """The language the reader asked for explicitly (parameter, else cookie), when it is one of the interface's."""
    for value in (request.args.get(PARAMETER), request.cookies.get(COOKIE)):
        if value in INTERFACE_LANGUAGES:
            return value
    return None


def locale() -> str:
    """The language of the page being answered."""
    negotiated = request.accept_languages.best_match(INTERFACE_LANGUAGES)
    return chosen() or negotiated or current_app.extensions["dds.node"].config.interface.default_language


def page_url(endpoint: str, **values: Any) -> str:
    """A link to one of the interface's pages, in the reader's chosen language."""
    language = chosen()
    if language:
        values = {**values, PARAMETER: language}
    return url_for(endpoint, **values)


def path_url(path: str, **values: str) -> str:
    """A link to a page outside this blueprint (Explore, Statistics), by path below the node's root."""
    language = chosen()
    query = {**values, **({PARAMETER: language} if language else {})}
    return f"{request.script_root}/{path}" + (f"?{urlencode(query)}" if query else "")


def switch_links() -> list[dict[str, object]]:
    """The current page in every interface language."""
    current = locale()
    links = []
    for code in INTERFACE_LANGUAGES:
        query = [(key, value) for key, value in request.args.items(multi=True) if key != PARAMETER]
        query.append((PARAMETER, code))
        links.append({"code": code, "name": NAMES[code], "url": f"{request.path}?{urlencode(query)}",
                      "current": code == current})
    return links


def remember(response: Response) -> None:
    """Keep the language the reader switched to for the next visits."""
    asked = request.args.get(PARAMETER)
    if asked in INTERFACE_LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE_S, samesite="Lax", httponly=True,
                            secure=request.is_secure)


def install(app: Flask) -> None:
    """Flask-Babel with the catalogs of ``dds_pod/translations`` and this module's choice of language."""
    Babel(app, locale_selector=locale, default_domain="messages")
