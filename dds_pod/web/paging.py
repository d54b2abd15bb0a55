"""Query parameters and Link headers of paged collections (containers, merged views, feeds)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, request

from ..errors import BadDocument

MAX_INTEGER = 10**12  # past any collection's size, and within the 64 bits a SPARQL OFFSET may take


def int_arg(name: str, default: int, minimum: int, maximum: int = MAX_INTEGER) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadDocument(f"{name} must be an integer", field=name) from None
    if not minimum <= value <= maximum:
        raise BadDocument(f"{name} must be between {minimum} and {maximum}", field=name)
    return value


def paging_links(response: Response, iri: str, limit: int, offset: int, total: int) -> None:
    def link(rel: str, at: int) -> None:
        params = [(k, v) for k, v in request.args.items(multi=True) if k not in ("limit", "offset")]
        params += [("limit", str(limit)), ("offset", str(at))]
        response.headers.add("Link", f'<{iri}?{urlencode(params)}>; rel="{rel}"')

    last = max(0, ((total - 1) // limit) * limit) if total else 0
    link("first", 0)
    link("last", last)
    if offset > 0:
        link("prev", max(0, offset - limit))
    if offset + limit < total:
        link("next", offset + limit)
