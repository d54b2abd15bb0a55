"""CORS: any origin reads the public pods; only the configured origins may send credentials.

A browser attaches cookies or HTTP authentication to a cross-origin request only when the answer
echoes its Origin with ``Access-Control-Allow-Credentials: true``. Echoing every Origin that way
would let any page, ``null`` ones (sandboxed frames, files) included, act with a visitor's ambient
credentials; so only the origins in ``cors_origins`` get it. Every other origin gets ``*`` without
credentials: public reads work from anywhere (a Startin'blox app whose requests include credentials
must be listed), and writes still need the pod's bearer token, which a page has to set itself.
The headers clients must read, ``Location`` first, are exposed by name.
"""

from __future__ import annotations

from collections.abc import Set

from flask import Flask, Response, request

ALLOW_METHODS = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = ("Accept, Authorization, Cache-Control, Content-Type, If-Match, If-None-Match, Prefer, Slug, "
                 "Link, Accept-Language, Content-Language")
EXPOSE_HEADERS = ("Location, ETag, Link, Accept-Post, Accept-Patch, Allow, Content-Type, Preference-Applied, "
                  "DDS-Validation-Warning, Vary, Updates-Via, Content-Location")


def register(app: Flask, trusted_origins: Set[str] = frozenset()) -> None:
    """``trusted_origins`` are lower-case ``scheme://host[:port]`` origins allowed to send credentials."""

    @app.after_request
    def _cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        response.vary.add("Origin")
        if not origin:
            return response
        if origin.lower() in trusted_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
        else:
            response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        return response
