"""The analysis's pages: the themes found across platforms, and one theme with its members, summary and stances.

Both read the latest published analysis through the portal. A node that never analysed its data answers the
themes page with a page saying so (and how to run the analysis), and a theme page with a 404 saying the same; a
malformed theme key is a 400 naming ``key``, a key the analysis does not hold a 404.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _

from ...errors import BadDocument, DDSError, NotFound
from ...node import Node
from . import i18n
from .pages import error_page, render

bp = Blueprint("themes", __name__)
bp.register_error_handler(DDSError, error_page)

_KEY = re.compile(r"[A-Za-z0-9_.~-]{1,64}")


def _node() -> Node:
    return current_app.extensions["dds.node"]


@bp.route("/themes", methods=["GET", "HEAD"])
def themes() -> Response:
    views = _node().portal.analysed(i18n.locale())
    return render("themes.html", page=views.themes_page() if views else None, active="themes")


@bp.route("/theme", methods=["GET", "HEAD"])
def theme() -> Response:
    key = request.args.get("key", "")
    if not _KEY.fullmatch(key):
        raise BadDocument(_("A theme's key is 1 to 64 letters, digits or - _ . ~ (parameter key)."), field="key")
    views = _node().portal.analysed(i18n.locale())
    if views is None:
        raise NotFound(_("This node has not analysed its contributions yet: it has no themes."), field="key")
    found = views.theme_page(key)
    if found is None:
        raise NotFound(_("The latest analysis has no theme with this key."), field="key")
    return render("theme.html", theme=found, active="themes")
