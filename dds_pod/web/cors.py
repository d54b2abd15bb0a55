"""CORS as browsers with credentials need it (Startin'blox sends ``credentials: 'include'``).

The Origin is echoed (a ``*`` is refused by browsers when credentials are sent), and the
headers clients must read, ``Location`` first, are exposed by name.
"""

from __future__ import annotations

from flask import Flask, Response, request

ALLOW_METHODS = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = ("Accept, Authorization, Cache-Control, Content-Type, If-Match, If-None-Match, Prefer, Slug, "
                 "Link, Accept-Language, Content-Language")
EXPOSE_HEADERS = ("Location, ETag, Link, Accept-Post, Accept-Patch, Allow, Content-Type, Preference-Applied, "
                  "DDS-Validation-Warning, Vary")


def register(app: Flask) -> None:
    @app.after_request
    def _cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        response.vary.add("Origin")
        if not origin:
            return response
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        return response
