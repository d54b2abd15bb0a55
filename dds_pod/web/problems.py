"""Every error becomes a problem document (RFC 9457) in one place.

Validation failures are the exception: their 422 body is one JSON object that is at once a
JSON-LD ``sh:ValidationReport`` (under a context without ``@vocab``, so other keys are ignored
by JSON-LD processors) and DRF-style ``{"field": ["message"]}`` entries that browser forms such
as Startin'blox display next to their fields.

Startin'blox walks every key of an error body and descends into each value that is not an array, so a
string there (a top-level ``"@type"``, a problem's ``title``) sends it into endless recursion: a report
gives its types as arrays, and the problem of a write to a pod by a client that asks for JSON-LD (as
Startin'blox's forms do) gives each text as a one-item array, its ``field`` as a DRF-style entry too.
Every other answer keeps RFC 9457's strings.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .. import negotiation
from ..errors import DDSError
from ..ldp.resources import ValidationFailed
from ..validation import Report
from .conneg import accepted
from .params import has_control_character

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"  # RFC 9457's media type
FORM_METHODS = frozenset({"POST", "PUT", "PATCH"})

REPORT_CONTEXT = {
    "sh": "http://www.w3.org/ns/shacl#",
    "dds": "https://w3id.org/dds/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


_BARE_DETAILS = {405: "this resource does not accept this method; the Allow header lists those it accepts"}


def _status_text(status: int) -> tuple[str, str]:
    try:
        known = HTTPStatus(status)
    except ValueError:
        return "Error", f"the request failed with status {status}"
    return known.phrase, known.description


def problem(status: int, title: str, detail: str, **extra) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if _for_forms():
        body = _listed(body)
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)


def _for_forms() -> bool:
    """Whether this is a write to a pod by a client that asks for JSON-LD rather than a problem document (a
    Startin'blox form saving)."""
    if request.blueprint != "ldp" or request.method not in FORM_METHODS:
        return False
    accept = accepted(request)
    return bool(accept) and negotiation.best(accept, [PROBLEM_JSON, "application/ld+json"]) == "application/ld+json"


def _listed(body: dict) -> dict:
    """A problem whose texts are one-item arrays, with the field at fault as a DRF-style entry."""
    listed = {key: [value] if isinstance(value, str) else value for key, value in body.items()}
    field = body.get("field")
    if isinstance(field, str) and field not in listed:
        listed[field] = [body["detail"]]
    return listed


def validation_response(report: Report, lang: str, constrained_by: str) -> Response:
    body = report_document(report)
    body.update(report.field_errors(lang))
    response = Response(json.dumps(body, ensure_ascii=False), status=422, mimetype="application/ld+json")
    response.headers.add("Link", f'<{constrained_by}>; rel="http://www.w3.org/ns/ldp#constrainedBy"')
    return response


def report_document(report: Report) -> dict:
    """The report as compact JSON-LD with ``sh:`` keys."""
    results = []
    for result in report.results:
        item = {
            "@type": ["sh:ValidationResult"],
            "sh:focusNode": {"@id": result.focus or "_:document"},
            "sh:resultSeverity": {"@id": "sh:Info" if result.server_managed else f"sh:{result.severity}"},
            "sh:resultMessage": [{"@value": text, "@language": lang} for lang, text in sorted(result.messages.items())],
        }
        if result.path:
            item["sh:resultPath"] = {"@id": result.path}
        if result.constraint:
            item["sh:sourceConstraintComponent"] = {"@id": result.constraint}
        if result.value is not None:
            item["sh:value"] = result.value
        results.append(item)
    return {"@context": REPORT_CONTEXT, "@type": ["sh:ValidationReport"], "sh:conforms": report.conforms,
            "sh:result": results}


def preferred_language() -> str:
    return request.accept_languages.best_match(["en", "fr"], default="en")


def register(app: Flask, constrained_by: str) -> None:
    @app.errorhandler(ValidationFailed)
    def _invalid(error: ValidationFailed):
        return validation_response(error.report, preferred_language(), constrained_by)

    @app.errorhandler(DDSError)
    def _domain(error: DDSError):
        extra = {"field": error.field} if error.field else {}
        response = problem(error.status, error.title, error.message, **extra)
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="dds-pod"'
        return response

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code == 404 and has_control_character(request.path):  # no route matches a line break
            return problem(400, "Bad document", f"path {request.path!r} contains a control character", field="path")
        detail = error.description or error.name
        if error.code == 413:
            detail = f"the body is over the limit of {app.config['MAX_CONTENT_LENGTH']} bytes"
        response = problem(error.code or 500, error.name, detail)
        for name, value in error.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response

    @app.after_request
    def _bare_errors(response: Response) -> Response:
        """An error answered without a body (a 405 that only lists ``Allow``) still gets its problem document."""
        if response.status_code < 400 or response.is_streamed or response.get_data():
            return response
        status = response.status_code
        title, detail = _status_text(status)
        body = problem(status, title, _BARE_DETAILS.get(status, detail))
        response.set_data(body.get_data())
        response.mimetype = PROBLEM_JSON
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return problem(500, "Internal error", "the server failed to process the request")
