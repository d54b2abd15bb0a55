"""Query parameters and path parts read in one place, so that every route refuses a bad value the same way.

IRIs are checked with oxigraph's RFC 3987 parser before they reach a query or a store: a space, a control
character or one of ``<>"{}|^`\\`` would otherwise end up inside SPARQL text (a 500 at best) or be stored.
"""

from __future__ import annotations

from typing import overload

from flask import request
from werkzeug.datastructures import MultiDict

from ..errors import BadDocument
from ..terms import checked_iri


def check_text(value: str, field: str) -> str:
    """``value`` if it holds no control character (they have no place in a name, a path or a reference)."""
    if has_control_character(value):
        raise BadDocument(f"{field} contains a control character: {value!r}", field=field)
    return value


def has_control_character(value: str) -> bool:
    return any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value)


def iri_arg(name: str) -> str | None:
    """The query parameter ``name`` as a checked IRI, or None when it is absent."""
    value = request.args.get(name)
    return None if value is None else checked_iri(value, name)


def check_iri_args(*names: str) -> None:
    """Check every value of the IRI-valued query parameters ``names`` before a domain function reads them."""
    for name in names:
        iri_list(request.args, name)


def iri_list(parameters: MultiDict, name: str) -> list[str]:
    """Every value of ``name`` in the query string or a form, each a checked IRI."""
    return [checked_iri(value, name) for value in parameters.getlist(name)]


def text_header(name: str) -> str | None:
    """The request header ``name`` (a ``Slug``), refused if it holds a control character."""
    value = request.headers.get(name)
    return None if value is None else check_text(value, name)


@overload
def text_arg(name: str, default: str) -> str: ...


@overload
def text_arg(name: str, default: None = None) -> str | None: ...


def text_arg(name: str, default: str | None = None) -> str | None:
    """The query parameter ``name``, refused if it holds a control character."""
    value = request.args.get(name, default)
    return None if value is None else check_text(value, name)
