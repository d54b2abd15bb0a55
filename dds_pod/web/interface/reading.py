""""Read in ...": a contribution machine-translated for the reader, on a page that says it is a translation.

The translation is the portal's (``portal/reading.py``: bounded, kept, a few at a time); a request beyond what
the node translates at once gets a 503 page with ``Retry-After``. A language that is not an interface language
is a 400 naming ``to``; a contribution the node does not hold, or cannot translate into that language with the
pairs installed, a 404.
"""

from __future__ import annotations

from babel import Locale
from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _

from ...config import INTERFACE_LANGUAGES
from ...errors import BadDocument, DDSError, NotFound
from ...node import Node
from . import i18n
from .pages import error_page, id_arg, render

bp = Blueprint("reading", __name__)
bp.register_error_handler(DDSError, error_page)


def _node() -> Node:
    return current_app.extensions["dds.node"]


@bp.route("/translation", methods=["GET", "HEAD"])
def translation() -> Response:
    iri = id_arg()
    target = request.args.get("to", "")
    if target not in INTERFACE_LANGUAGES:
        raise BadDocument(_("The language to read in is one of: %(languages)s (parameter to).",
                            languages=", ".join(INTERFACE_LANGUAGES)), field="to")
    reading = _node().portal.reading
    original = reading.original(iri, target)
    if original is None:
        raise NotFound(_("This node holds no text of this contribution it can translate into this language."),
                       field="to")
    names = Locale.parse(i18n.locale()).languages
    return render("translation.html", reading=reading.read(iri, original, target),
                  source_name=names.get(original.language, original.language), target_name=names.get(target, target))
