"""Errors of the domain, each with the HTTP status it maps to.

The web layer turns them into problem documents in one place; the CLI prints their message.
"""

from __future__ import annotations


class DDSError(Exception):
    """Base class: a message for people and an HTTP status for the web layer."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadDocument(DDSError):
    """A document that cannot be read or parsed: invalid syntax, wrong encoding, too deep."""

    status = 400
    title = "Bad document"


class ForbiddenContext(BadDocument):
    """A JSON-LD document refers to a remote context this server does not resolve offline."""

    title = "Remote context refused"


class DocumentTooLarge(DDSError):
    status = 413
    title = "Document too large"


class UnsupportedFormat(DDSError):
    status = 415
    title = "Unsupported media type"


class Unauthorized(DDSError):
    status = 401
    title = "Authentication required"


class Forbidden(DDSError):
    status = 403
    title = "Forbidden"


class NotFound(DDSError):
    status = 404
    title = "Not found"


class Gone(DDSError):
    status = 410
    title = "Gone"


class MethodNotAllowed(DDSError):
    status = 405
    title = "Method not allowed"


class NotAcceptable(DDSError):
    status = 406
    title = "Not acceptable"


class Conflict(DDSError):
    """The request contradicts the resource's state (a container's type, a patch that does not apply)."""

    status = 409
    title = "Conflict"


class Unprocessable(DDSError):
    """Well-formed, but what it says cannot be accepted (a notification about something that does not answer)."""

    status = 422
    title = "Unprocessable content"


class BadGateway(DDSError):
    """Another server this request depends on could not be read."""

    status = 502
    title = "Bad gateway"


class StoreUnavailable(DDSError):
    """The engine that holds the node's data cannot be reached, or did not answer in time: nothing was written."""

    status = 503
    title = "Store unavailable"


class SearchUnavailable(StoreUnavailable):
    """The search index's server cannot be reached, or did not answer in time (a store of derived data: what
    waits for a store waits for it too)."""

    title = "Search index unavailable"


class AnswerTooLarge(DDSError):
    """The engine's answer to a query ran past the bytes its caller would read: reading stopped there."""

    status = 422
    title = "Result too large"


class PreconditionFailed(DDSError):
    status = 412
    title = "Precondition failed"


class ConfigError(DDSError):
    """A node's configuration that cannot be used: the message names the key."""

    title = "Configuration error"
