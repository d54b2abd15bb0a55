"""The SPARQL 1.1 Protocol at ``{base_url}sparql``: a read-only query service over the merged graph.

This module reads the protocol's three ways of sending a query (GET, URL-encoded POST, direct
POST) and its dataset parameters, refuses updates and answers the service description;
evaluating, limiting and serializing is :mod:`dds_pod.federation.sparql`'s job. The service, and with it
its pool of query slots, is built once per application.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from .. import bounds, negotiation
from ..errors import BadDocument, DDSError, Forbidden, UnsupportedFormat
from ..federation.sparql import Answer, Dataset, InvalidRequest, Limits, QueryService
from ..node import Node
from ..sandbox import Busy, Slots, empty_network
from . import conneg, html, params, sparql_pages
from .problems import problem

bp = Blueprint("sparql", __name__)

ALLOW = "GET, HEAD, POST, OPTIONS"
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
EXTENSION = "dds.sparql"
READ_ONLY = ("this SPARQL endpoint is read-only: SPARQL Update is not accepted here; "
             "pods are written through their LDP interface")


@bp.route("/sparql", methods=["GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"],
          provide_automatic_options=False)
def endpoint() -> Response:
    if request.method == "OPTIONS":
        response = Response(status=204, headers={"Allow": ALLOW})
        del response.headers["Content-Type"]
        return response
    if request.method not in ("GET", "HEAD", "POST"):
        response = problem(405, "Method not allowed", f"the SPARQL endpoint answers {ALLOW}")
        response.headers["Allow"] = ALLOW
        return response
    parameters = _parameters()
    if "update" in parameters:
        raise Forbidden(READ_ONLY)
    queries = parameters.getlist("query")
    for_people = _wants_html()
    if not queries and request.method != "POST":
        if for_people:
            return _html_response(sparql_pages.form_page())
        return _respond(_service().describe(conneg.accepted(request)))
    if len(queries) != 1:
        raise InvalidRequest(f"a request carries exactly one query; this one has {len(queries)}")
    if for_people:
        return _html_answer(queries[0], parameters)
    bounds.check_text_nesting(queries[0], "SPARQL query")
    return _respond(_service().run(queries[0], _dataset(parameters), conneg.accepted(request)))


def _wants_html() -> bool:
    """A browser's request: one that prefers HTML to every machine format (``*/*`` alone does not)."""
    offered = ["application/sparql-results+json", "text/turtle", "text/html"]
    return negotiation.best(conneg.accepted(request), offered) == "text/html"


def _html_answer(query: str, parameters: MultiDict) -> Response:
    """The form with the query and its results as a table; an error as a readable message with its status."""
    try:
        bounds.check_text_nesting(query, "SPARQL query")
        answer = _service().run(query, _dataset(parameters), sparql_pages.ACCEPT)
    except DDSError as error:
        response = _html_response(sparql_pages.form_page(query, error=error.message), error.status)
        if isinstance(error, Busy):
            response.headers["Retry-After"] = str(error.retry_after_s)
        return response
    return _html_response(sparql_pages.form_page(query, results=sparql_pages.results_html(answer.media_type,
                                                                                          answer.body)))


def _html_response(page: str, status: int = 200) -> Response:
    response = html.response(page, status=status, form=True)
    response.vary.add("Accept")
    return response


def _parameters() -> MultiDict:
    """The protocol's parameters, wherever this kind of request carries them."""
    if request.method != "POST":
        return request.args
    if request.mimetype == FORM:
        _require_utf8()
        return CombinedMultiDict([request.args, request.form])
    if request.mimetype == DIRECT:
        return _direct_parameters()
    if request.mimetype == UPDATE:
        raise Forbidden(READ_ONLY)
    raise UnsupportedFormat(f"POST a query as {FORM} (query=...) or as {DIRECT}, not as "
                            f"{request.mimetype or 'a body without a Content-Type'}")


def _direct_parameters() -> MultiDict:
    """A direct POST: the body is the query, the URL keeps the dataset parameters."""
    _require_utf8()
    if "query" in request.args:
        raise InvalidRequest(f"a {DIRECT} request carries its query in the body, not also in the URL")
    try:
        text = request.get_data().decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadDocument(f"the query is not valid UTF-8 (byte {error.start})") from None
    parameters = MultiDict(request.args)
    parameters.add("query", text)
    return parameters


def _require_utf8() -> None:
    charset = request.mimetype_params.get("charset", "utf-8")
    if charset.lower() not in ("utf-8", "utf8"):
        raise UnsupportedFormat(f"queries are sent in UTF-8, not {charset}")


def _dataset(parameters: MultiDict) -> Dataset:
    return Dataset(default_graphs=tuple(params.iri_list(parameters, "default-graph-uri")),
                   named_graphs=tuple(params.iri_list(parameters, "named-graph-uri")))


def _service() -> QueryService:
    service = current_app.extensions.get(EXTENSION)
    if service is None:
        node: Node = current_app.extensions["dds.node"]
        federation = node.config.federation
        empty_network()  # made, or its absence logged, before the first query
        service = QueryService(node.merged, f"{node.config.base_url}sparql", Limits.from_config(federation),
                               slots=Slots(federation.query_slots))
        service = current_app.extensions.setdefault(EXTENSION, service)  # one wins if two requests build it
    return service


@bp.errorhandler(Busy)
def _busy(error: Busy) -> Response:
    response = problem(error.status, error.title, error.message)
    response.headers["Retry-After"] = str(error.retry_after_s)
    return response


def _respond(answer: Answer) -> Response:
    response = Response(answer.body, content_type=answer.media_type)
    response.vary.add("Accept")
    return response
