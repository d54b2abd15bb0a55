"""The headers that keep the interface's pages inert whatever the data they show.

Scripts, styles and images load only from the node itself (the map's tiles also from the configured tile server,
when there is one); no inline script, no framing, no form posting elsewhere, no ``<base>``.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from flask import Response


@cache
def content_security_policy(tiles_url: str) -> str:
    tiles = urlsplit(tiles_url)
    images = "'self' data:" + (f" {tiles.scheme}://{tiles.netloc}" if tiles_url else "")
    return ("default-src 'none'; script-src 'self'; style-src 'self'; "
            f"img-src {images}; connect-src 'self'; font-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


def protect(response: Response, tiles_url: str) -> None:
    response.headers["Content-Security-Policy"] = content_security_policy(tiles_url)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
