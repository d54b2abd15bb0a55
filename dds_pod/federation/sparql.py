"""SPARQL 1.1 queries over the merged graph: the dataset, the result formats, the limits, the service description.

Each query is checked on its parse tree (:mod:`dds_pod.sparql_checks`: no SERVICE anywhere), then
evaluated and serialized by :mod:`dds_pod.sandbox` in a forked child that has a deadline, a memory budget
and no network, so that even a query the check misread cannot call another server. The child checks the
result limits before anything is sent, so a result over a limit is an error naming that limit, never a
silently truncated answer. A pool of slots bounds the children running at once: heavy queries wait
briefly for one, then answer 503, and the rest of the node stays fast.
"""

from __future__ import annotations

import functools
import itertools
import json
from dataclasses import dataclass

import pyoxigraph as ox

from .. import negotiation, sandbox
from ..config import FederationConfig
from ..errors import AnswerTooLarge, DDSError, NotAcceptable
from ..negotiation import Accept
from ..sparql_checks import CheckedQuery, Refused, Unparsable, check_query
from ..store import Store
from ..terms import in_memory

JSON, XML = ox.QueryResultsFormat.JSON, ox.QueryResultsFormat.XML
CSV, TSV = ox.QueryResultsFormat.CSV, ox.QueryResultsFormat.TSV
# Offered in the server's order of preference: the first is the answer to a client without one.
BOOLEAN_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": JSON, "application/sparql-results+xml": XML,
    "application/json": JSON, "application/xml": XML, "text/xml": XML,
}
SOLUTION_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": JSON, "application/sparql-results+xml": XML,
    "text/csv": CSV, "text/tab-separated-values": TSV,
    "application/json": JSON, "application/xml": XML, "text/xml": XML,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE, "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES, "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/json": ox.RdfFormat.JSON_LD,
}
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# How long past a query's time limit a remote engine's answer is still read: the limit answers the client first
# (503 "Query timeout"), then the thread reading the engine gives up in turn.
REMOTE_GRACE_S = 0.5

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
RESULT_FORMAT_NAMES = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                       "Turtle", "JSON-LD", "N-Triples", "RDF_XML")


class MalformedQuery(DDSError):
    status = 400
    title = "Malformed query"


class InvalidRequest(DDSError):
    """A request the protocol does not allow: no query, two queries, a graph name that is not an IRI."""

    status = 400
    title = "Bad request"


class QueryRefused(DDSError):
    status = 403
    title = "Query refused"


class ResultTooLarge(DDSError):
    status = 422
    title = "Result too large"


class QueryFailed(DDSError):
    status = 500
    title = "Query failed"


class QueryTimeout(DDSError):
    status = 503
    title = "Query timeout"


class QueryOutOfMemory(DDSError):
    status = 503
    title = "Query out of memory"


@dataclass(frozen=True)
class Dataset:
    """The dataset given by the protocol's ``default-graph-uri`` and ``named-graph-uri`` parameters."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


@dataclass(frozen=True)
class Limits:
    """What one query may take: wall-clock time, results (rows or triples), bytes of serialized answer and
    memory (enforced in a forked child only)."""

    timeout_s: float = 10.0
    max_results: int = 100_000
    max_bytes: int = DEFAULT_MAX_BYTES
    memory_mb: int = 1024

    @classmethod
    def from_config(cls, federation: FederationConfig) -> Limits:
        return cls(timeout_s=federation.query_timeout_s, max_results=federation.max_results,
                   max_bytes=federation.query_max_bytes, memory_mb=federation.query_memory_mb)

    @property
    def child(self) -> sandbox.Limits:
        """What the child evaluating one query may take."""
        return sandbox.Limits(timeout_s=self.timeout_s, memory_mb=self.memory_mb, max_output_bytes=self.max_bytes)


@dataclass(frozen=True)
class Answer:
    """Serialized results, ready to send: the bytes crossed the pipe from the child as they are."""

    media_type: str
    body: bytes


class QueryService:
    """Runs read-only SPARQL queries on a store, each within the limits, in a confined child where possible.

    ``slots`` bounds the queries evaluated at once (no bound without it); ``isolate`` False evaluates in a
    thread instead of a child, as does a store that evaluates its queries elsewhere unless told otherwise. Such a
    store is given the limits too: no child holds its answer, so it bounds the time and bytes it reads itself.
    """

    def __init__(self, store: Store, endpoint: str, limits: Limits | None = None, isolate: bool | None = None,
                 slots: sandbox.Slots | None = None) -> None:
        self.limits = limits or Limits()
        self.store = store.bounded(self.limits.timeout_s + REMOTE_GRACE_S, self.limits.max_bytes)
        self.endpoint = endpoint
        self.isolate = False if isolate is None and store.evaluates_elsewhere else isolate
        self.slots = slots

    def run(self, sparql: str, dataset: Dataset | None = None, accept: Accept = ()) -> Answer:
        """Evaluate a query and serialize its results in the format the client prefers."""
        dataset = dataset or Dataset()
        _check_dataset(dataset)
        _check_acceptable(accept)
        work = functools.partial(_evaluated, self.store, sparql, dataset, accept, self.limits, self.endpoint)
        if self.slots is None:
            return self._in_sandbox(work)
        with self.slots.held():
            return self._in_sandbox(work)

    def describe(self, accept: Accept = ()) -> Answer:
        """The SPARQL 1.1 Service Description of the endpoint (Turtle unless the client prefers another)."""
        target = GRAPH_FORMATS[_choose(accept, GRAPH_FORMATS)]
        triples = service_description(self.endpoint, self.limits)
        return Answer(target.media_type,
                      in_memory(ox.serialize(triples, format=target, prefixes={"sd": SD, "f": FORMATS})))

    def _in_sandbox(self, work: sandbox.Work) -> Answer:
        try:
            data = sandbox.run(work, self.limits.child, errors=_CHILD_ERRORS, isolate=self.isolate)
        except (sandbox.OverTime, sandbox.OutOfMemory, sandbox.OverSize, sandbox.Crashed) as error:
            raise _query_error(error, self.limits) from None
        header, _, body = data.partition(b"\n")
        return Answer(json.loads(header)["media_type"], body)


def _query_error(error: DDSError, limits: Limits) -> DDSError:
    """The sandbox's verdict on a child, told of a query."""
    if isinstance(error, sandbox.OverTime):
        return QueryTimeout(f"the query ran over its {limits.timeout_s:g} s limit and was stopped")
    if isinstance(error, sandbox.OutOfMemory):
        return QueryOutOfMemory(f"the query needed more memory than a query may take ({error.message})")
    if isinstance(error, sandbox.OverSize):
        return ResultTooLarge(_bytes_message(limits))
    return QueryFailed(f"the query could not be evaluated: {error.message}")


# ----------------------------------------------------------------- evaluation

def _evaluated(store: Store, sparql: str, dataset: Dataset, accept: Accept, limits: Limits, base_iri: str) -> bytes:
    """What the child does: the answer, as the bytes of a header line with its media type and its body."""
    answer = evaluate(store, sparql, dataset, accept, limits, base_iri)
    return json.dumps({"media_type": answer.media_type}).encode() + b"\n" + answer.body


def evaluate(store: Store, sparql: str, dataset: Dataset, accept: Accept, limits: Limits, base_iri: str) -> Answer:
    """Check the query, run it and serialize its results."""
    try:
        checked = check_query(sparql)
    except Unparsable as error:
        raise MalformedQuery(str(error)) from None
    except Refused as error:
        raise QueryRefused(f"federated queries ({error.keyword}) are not allowed: this endpoint does not call "
                           "other servers") from None
    try:
        results = store.query(sparql, base_iri=base_iri, **_dataset_arguments(checked, dataset))
    except SyntaxError as error:
        raise MalformedQuery(str(error)) from None
    except AnswerTooLarge:
        raise ResultTooLarge(_bytes_message(limits)) from None
    try:
        if isinstance(results, ox.QueryBoolean):
            return _boolean(results, accept)
        if isinstance(results, ox.QuerySolutions):
            return _solutions(results, accept, limits)
        return _triples(results, accept, limits)
    except (OSError, RuntimeError) as error:
        raise QueryFailed(f"the query could not be evaluated: {error}") from None
    finally:
        # The query's parse (rdflib's, in check_query) leaves reference cycles that reach this frame: without this,
        # the results would be freed by the garbage collector in whichever thread it runs, which pyoxigraph forbids
        # (its results belong to the thread that made them; the query ran in a thread of its own).
        del results


def _dataset_arguments(query: CheckedQuery, dataset: Dataset) -> dict:
    """How the store builds the dataset: the protocol's, else the query's FROM, else the union of all graphs.

    The protocol's dataset wins over FROM / FROM NAMED (SPARQL 1.1 Protocol §2.1.4) and is complete:
    graphs it leaves out are not in the dataset. pyoxigraph's union flag would also override the
    query's FROM, hence the look for a dataset clause in the parsed query.
    """
    if dataset.given:
        return {"default_graph": list(dataset.default_graphs), "named_graphs": list(dataset.named_graphs)}
    return {"union_default_graph": not query.has_dataset_clause}


def _boolean(result: ox.QueryBoolean, accept: Accept) -> Answer:
    media = _choose(accept, BOOLEAN_FORMATS)
    return Answer(BOOLEAN_FORMATS[media].media_type, in_memory(result.serialize(format=BOOLEAN_FORMATS[media])))


def _solutions(results: ox.QuerySolutions, accept: Accept, limits: Limits) -> Answer:
    """Solutions are counted on their way to TSV, then converted: pyoxigraph's serializers stay the only ones.

    TSV writes one solution per line and is lossless (terms in SPARQL syntax), so counting lines
    stops an oversized result early without holding it, and parsing it back gives solutions that
    pyoxigraph serializes again in the requested format.
    """
    media = _choose(accept, SOLUTION_FORMATS)
    counter = _LineCounter(max_lines=limits.max_results + 1, max_bytes=limits.max_bytes)
    try:
        results.serialize(counter, format=TSV)  # type: ignore[arg-type]  # it takes any writer, its stub IO[bytes]
    except _OverLimit:
        raise ResultTooLarge(counter.over_message(limits)) from None
    target = SOLUTION_FORMATS[media]
    tsv = counter.getvalue()
    body = tsv if target == TSV else in_memory(ox.parse_query_results(tsv, TSV).serialize(format=target))
    return _within_bytes(Answer(target.media_type, body), limits)


def _triples(results: ox.QueryTriples, accept: Accept, limits: Limits) -> Answer:
    media = _choose(accept, GRAPH_FORMATS)
    triples = list(itertools.islice(results, limits.max_results + 1))
    if len(triples) > limits.max_results:
        raise ResultTooLarge(_results_message(limits))
    target = GRAPH_FORMATS[media]
    return _within_bytes(Answer(target.media_type, in_memory(ox.serialize(triples, format=target))), limits)


def _within_bytes(answer: Answer, limits: Limits) -> Answer:
    if len(answer.body) > limits.max_bytes:
        raise ResultTooLarge(_bytes_message(limits))
    return answer


def _results_message(limits: Limits) -> str:
    return (f"the query has more than {limits.max_results} results, the limit of this endpoint; "
            "narrow it down or page through it with LIMIT and OFFSET")


def _bytes_message(limits: Limits) -> str:
    return f"the results are larger than {limits.max_bytes} bytes, the limit of this endpoint; narrow the query down"


class _OverLimit(Exception):
    pass


class _LineCounter:
    """A binary writer that keeps what is written and stops the writer once it holds too many lines or bytes."""

    def __init__(self, max_lines: int, max_bytes: int) -> None:
        self.max_lines, self.max_bytes = max_lines, max_bytes
        self.lines = self.size = 0
        self.too_many_lines = False
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.lines += data.count(b"\n")
        self.size += len(data)
        self.too_many_lines = self.lines > self.max_lines
        if self.too_many_lines or self.size > self.max_bytes:
            raise _OverLimit
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the chunks are kept in memory."""

    def getvalue(self) -> bytes:
        return b"".join(self._chunks)

    def over_message(self, limits: Limits) -> str:
        return _results_message(limits) if self.too_many_lines else _bytes_message(limits)


# ------------------------------------------------------------ checks before a fork

def _check_dataset(dataset: Dataset) -> None:
    for name in (*dataset.default_graphs, *dataset.named_graphs):
        try:
            ox.NamedNode(name)
        except ValueError:
            raise InvalidRequest(f"the graph name {name!r} is not an absolute IRI") from None


def _check_acceptable(accept: Accept) -> None:
    """Refuse at once a client that accepts no format of any kind of result, before anything runs."""
    offered = [*SOLUTION_FORMATS, *GRAPH_FORMATS]
    if negotiation.best(accept, offered) is None:
        raise NotAcceptable(f"none of the offered types is acceptable: {', '.join(dict.fromkeys(offered))}")


# ------------------------------------------------------------ content negotiation

def _choose(accept: Accept, offered: dict) -> str:
    media = negotiation.best(accept, list(offered))
    if media is None:
        raise NotAcceptable(f"none of the types offered for this query is acceptable: {', '.join(offered)}")
    return media




_CHILD_ERRORS = (MalformedQuery, InvalidRequest, QueryRefused, ResultTooLarge, QueryFailed, NotAcceptable)


# ------------------------------------------------------------ service description

def service_description(endpoint: str, limits: Limits) -> list[ox.Triple]:
    """What the endpoint offers, in the SPARQL 1.1 Service Description vocabulary."""
    service, dataset, graph = ox.NamedNode(endpoint), ox.BlankNode(), ox.BlankNode()
    comment = (f"Read-only SPARQL 1.1 query service over the merged graph of the Democracy Data Space federation. "
               "The default graph is the union of all graphs, the node's analysis graph (analysis/) included. "
               f"Each query may run {limits.timeout_s:g} s and "
               f"return {limits.max_results} results; SERVICE is not allowed.")
    statements: list[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]] = [
        (service, RDF_TYPE, _sd("Service")),
        (service, _sd("endpoint"), service),
        (service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        (service, _sd("feature"), _sd("UnionDefaultGraph")),
        *((service, _sd("resultFormat"), ox.NamedNode(FORMATS + name)) for name in RESULT_FORMAT_NAMES),
        (service, _sd("defaultDataset"), dataset),
        (service, RDFS_COMMENT, ox.Literal(comment, language="en")),
        (dataset, RDF_TYPE, _sd("Dataset")),
        (dataset, _sd("defaultGraph"), graph),
        (graph, RDF_TYPE, _sd("Graph")),
    ]
    return [ox.Triple(*statement) for statement in statements]


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)
