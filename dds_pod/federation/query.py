"""SPARQL 1.1 queries over the merged graph: the dataset, the result formats and the limits.

pyoxigraph cannot interrupt a running query, and one careless query (a cross product, a path over
everything) would otherwise hold a server thread and a CPU until it ends, which may be never. So
each query is evaluated in a child process forked from the server: the child inherits the store
(copy-on-write, so an in-memory store works as well as an on-disk one), serializes the results in
the negotiated format and writes the bytes to a pipe; the parent waits on the pipe until the
deadline and SIGKILLs the child when it runs over. The child checks the result limits before
anything is sent, so a result over a limit is an error naming that limit, never a silently
truncated answer. Where ``fork`` does not exist the query runs in a thread instead: the response
keeps its deadline, but the evaluation itself cannot be stopped there.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import json
import math
import os
import re
import resource
import select
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

import pyoxigraph as ox

from ..config import FederationConfig
from ..errors import DDSError, NotAcceptable
from ..store import Store

# (media type without parameters, quality), in the order the client sent them
Accept = Sequence[tuple[str, float]]

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
                   memory_mb=federation.query_memory_mb)


@dataclass(frozen=True)
class Answer:
    """Serialized results, ready to send: the bytes crossed the pipe from the child as they are."""

    media_type: str
    body: bytes


class QueryService:
    """Runs read-only SPARQL queries on a store, each within the limits, in a forked child where possible."""

    def __init__(self, store: Store, endpoint: str, limits: Limits | None = None, isolate: bool | None = None) -> None:
        self.store = store
        self.endpoint = endpoint
        self.limits = limits or Limits()
        self.isolate = hasattr(os, "fork") if isolate is None else isolate

    def run(self, sparql: str, dataset: Dataset | None = None, accept: Accept = ()) -> Answer:
        """Evaluate a query and serialize its results in the format the client prefers."""
        dataset = dataset or Dataset()
        _check_dataset(dataset)
        _check_acceptable(accept)
        _refuse_service(sparql)
        work = functools.partial(evaluate, self.store, sparql, dataset, accept, self.limits, self.endpoint)
        return _in_child(work, self.limits) if self.isolate else _in_thread(work, self.limits)

    def describe(self, accept: Accept = ()) -> Answer:
        """The SPARQL 1.1 Service Description of the endpoint (Turtle unless the client prefers another)."""
        target = GRAPH_FORMATS[_choose(accept, GRAPH_FORMATS)]
        triples = service_description(self.endpoint, self.limits)
        return Answer(target.media_type, ox.serialize(triples, format=target, prefixes={"sd": SD, "f": FORMATS}))


# ----------------------------------------------------------------- evaluation

def evaluate(store: Store, sparql: str, dataset: Dataset, accept: Accept, limits: Limits, base_iri: str) -> Answer:
    """Run the query and serialize its results; this is what the child process does."""
    try:
        results = store.query(sparql, base_iri=base_iri, **_dataset_arguments(sparql, dataset))
    except SyntaxError as error:
        raise MalformedQuery(str(error)) from None
    try:
        if isinstance(results, ox.QueryBoolean):
            return _boolean(results, accept)
        if isinstance(results, ox.QuerySolutions):
            return _solutions(results, accept, limits)
        return _triples(results, accept, limits)
    except (OSError, RuntimeError) as error:
        raise QueryFailed(f"the query could not be evaluated: {error}") from None


def _dataset_arguments(sparql: str, dataset: Dataset) -> dict:
    """How the store builds the dataset: the protocol's, else the query's FROM, else the union of all graphs.

    The protocol's dataset wins over FROM / FROM NAMED (SPARQL 1.1 Protocol §2.1.4) and is complete:
    graphs it leaves out are not in the dataset. pyoxigraph's union flag would also override the
    query's FROM, hence the look for a dataset clause in the query text.
    """
    if dataset.given:
        return {"default_graph": list(dataset.default_graphs), "named_graphs": list(dataset.named_graphs)}
    return {"union_default_graph": not has_keyword(sparql, "FROM")}


def _boolean(result: ox.QueryBoolean, accept: Accept) -> Answer:
    media = _choose(accept, BOOLEAN_FORMATS)
    return Answer(BOOLEAN_FORMATS[media].media_type, result.serialize(format=BOOLEAN_FORMATS[media]))


def _solutions(results: ox.QuerySolutions, accept: Accept, limits: Limits) -> Answer:
    """Solutions are counted on their way to TSV, then converted: pyoxigraph's serializers stay the only ones.

    TSV writes one solution per line and is lossless (terms in SPARQL syntax), so counting lines
    stops an oversized result early without holding it, and parsing it back gives solutions that
    pyoxigraph serializes again in the requested format.
    """
    media = _choose(accept, SOLUTION_FORMATS)
    counter = _LineCounter(max_lines=limits.max_results + 1, max_bytes=limits.max_bytes)
    try:
        results.serialize(counter, format=TSV)
    except _OverLimit:
        raise ResultTooLarge(counter.over_message(limits)) from None
    target = SOLUTION_FORMATS[media]
    tsv = counter.getvalue()
    body = tsv if target == TSV else ox.parse_query_results(tsv, TSV).serialize(format=target)
    return _within_bytes(Answer(target.media_type, body), limits)


def _triples(results: ox.QueryTriples, accept: Accept, limits: Limits) -> Answer:
    media = _choose(accept, GRAPH_FORMATS)
    triples = list(itertools.islice(results, limits.max_results + 1))
    if len(triples) > limits.max_results:
        raise ResultTooLarge(_results_message(limits))
    target = GRAPH_FORMATS[media]
    return _within_bytes(Answer(target.media_type, ox.serialize(triples, format=target)), limits)


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
    if _negotiate(accept, offered) is None:
        raise NotAcceptable(f"none of the offered types is acceptable: {', '.join(dict.fromkeys(offered))}")


def _refuse_service(sparql: str) -> None:
    """SERVICE would make this server send requests wherever a query says (pyoxigraph has an HTTP client)."""
    if has_keyword(sparql, "SERVICE") or has_keyword(_unescape(sparql), "SERVICE"):
        raise QueryRefused("federated queries (SERVICE) are not allowed: this endpoint does not call other servers")


# Strings, IRIs and comments, which may contain any word, then everything else one character at a time.
_TOKENS = re.compile(
    r"'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*\"\"\""
    r"|'(?:[^'\\\n\r]|\\.)*'|\"(?:[^\"\\\n\r]|\\.)*\""
    r"|<[^<>\"{}|^`\\\x00-\x20]*>|#[^\n\r]*|[\s\S]", re.DOTALL)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def has_keyword(sparql: str, keyword: str) -> bool:
    """Whether a keyword occurs in the query outside strings, IRIs, comments, names and variables.

    pyoxigraph exposes no parser, and this is all that is needed of one here: keywords are
    case-insensitive, and a keyword glued to ``?``, ``$``, ``:``, ``@``, a letter, a digit, ``_``,
    ``-`` or ``.`` is part of a variable, prefixed name, language tag or number instead.
    """
    code = "".join(" " if len(token) > 1 else token for token in _TOKENS.findall(sparql))
    return re.search(rf"(?<![\w?$:@.\-]){keyword}(?![\w:\-])", code, re.IGNORECASE) is not None


def _unescape(sparql: str) -> str:
    """The query with its \\u escapes resolved, which SPARQL allows anywhere in the text."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), sparql)


# ------------------------------------------------------------ content negotiation

def _choose(accept: Accept, offered: dict) -> str:
    media = _negotiate(accept, list(offered))
    if media is None:
        raise NotAcceptable(f"none of the types offered for this query is acceptable: {', '.join(offered)}")
    return media


def _negotiate(accept: Accept, offered: Sequence[str]) -> str | None:
    """The offered type of highest quality for the client; the first offered when it states no preference."""
    if not accept:
        return offered[0]
    best, best_quality = None, 0.0
    for media in offered:
        quality = _quality(accept, media)
        if quality > best_quality:
            best, best_quality = media, quality
    return best


def _quality(accept: Accept, media: str) -> float:
    """The quality the most specific matching range gives a type (RFC 9110 §12.5.1)."""
    for media_range in (media, media.split("/")[0] + "/*", "*/*"):
        qualities = [quality for candidate, quality in accept if candidate == media_range]
        if qualities:
            return max(qualities)
    return 0.0


# ------------------------------------------------------------ isolation

_FORK_LOCK = threading.Lock()
_PR_SET_PDEATHSIG = 1
_POLL_S = 0.025


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up in the parent: the dynamic loader's lock may be held when a child starts."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def _in_child(work: Callable[[], Answer], limits: Limits) -> Answer:
    """Evaluate in a forked child; the calling thread only waits on a pipe, until the deadline.

    A child is forked from a process with other threads (request threads, the harvester, RocksDB's
    own), and may inherit a lock that one of them held at that instant, such as RocksDB's database
    mutex: it then waits forever. Such a child is recognised, killed and forked again.
    """
    deadline = time.monotonic() + limits.timeout_s
    while True:
        data, status = _attempt(work, limits, deadline)
        if data is not None:
            return _decode(data, status)
        time.sleep(_POLL_S)  # give the thread that held the lock time to release it


def _attempt(work: Callable[[], Answer], limits: Limits, deadline: float) -> tuple[bytes | None, int]:
    """One child: what it wrote, or None when it was found deadlocked; its wait status in both cases."""
    # Under the lock, no other thread forks while this pipe's write end is still open in the
    # parent: a sibling child inheriting it would keep this pipe from ever reaching end-of-file.
    with _FORK_LOCK:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            _child(work, read_end, write_end, limits)
        os.close(write_end)
    data = None
    try:
        data = _read_until(read_end, pid, deadline, limits)
    finally:
        os.close(read_end)
        status = _reap(pid, kill=data is None)
    return data, status


def _child(work: Callable[[], Answer], read_end: int, write_end: int, limits: Limits) -> NoReturn:
    """The child's whole life: evaluate, write the outcome, exit without running the server's clean-up."""
    code = 1
    try:
        os.close(read_end)
        _confine(limits)
        payload, code = _outcome(work)
        with open(write_end, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(code)


def _outcome(work: Callable[[], Answer]) -> tuple[bytes, int]:
    """The bytes that tell the parent what happened, and the child's exit code."""
    try:
        return _encode(work()), 0
    except DDSError as error:
        return _encode_error(error), 0
    except MemoryError:
        return _encode_error(QueryOutOfMemory("the query needed more memory than a query may take")), 0
    except BaseException as error:
        return _encode_error(QueryFailed(f"the query could not be evaluated: {error}")), 1


def _confine(limits: Limits) -> None:
    """Make the child die with its server, on a signal, after spending its time in CPU, or when it
    allocates more than its memory budget beyond the address space it was forked with."""
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(number, signal.SIG_DFL)
    seconds = math.ceil(limits.timeout_s) + 1
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    inherited = _address_space()
    if inherited is not None:
        budget = inherited + limits.memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            budget = min(budget, hard)
        with contextlib.suppress(ValueError, OSError, OverflowError):  # a budget beyond what the kernel takes
            resource.setrlimit(resource.RLIMIT_AS, (budget, hard))
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), or None where /proc does not say."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_until(fd: int, pid: int, deadline: float, limits: Limits) -> bytes | None:
    """Everything the child writes; None if it deadlocks first; QueryTimeout at the deadline."""
    chunks: list[bytes] = []
    size, cap = 0, limits.max_bytes + 64 * 1024  # room for the header line
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QueryTimeout(f"the query ran over its {limits.timeout_s:g} s limit and was stopped")
        if not poller.poll(math.ceil(min(remaining, _POLL_S) * 1000)):
            if not chunks and _deadlocked(pid):
                return None
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise ResultTooLarge(_bytes_message(limits))
        chunks.append(chunk)


def _deadlocked(pid: int) -> bool:
    """Whether a child sleeps on a futex while it has a single thread: no one can ever wake it.

    Linux only (elsewhere such a child simply runs into the deadline).
    """
    try:
        threads = len(os.listdir(f"/proc/{pid}/task"))
        with open(f"/proc/{pid}/wchan") as wchan:
            return threads == 1 and "futex" in wchan.read()
    except OSError:
        return False


def _reap(pid: int, kill: bool) -> int:
    """Collect the child so that it leaves no zombie; kill it first when its answer is not wanted any more."""
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return status


def _encode(answer: Answer) -> bytes:
    return json.dumps({"media_type": answer.media_type}).encode() + b"\n" + answer.body


def _encode_error(error: DDSError) -> bytes:
    return json.dumps({"error": type(error).__name__, "message": error.message}).encode() + b"\n"


_CHILD_ERRORS: dict[str, type[DDSError]] = {cls.__name__: cls for cls in (
    MalformedQuery, InvalidRequest, QueryRefused, ResultTooLarge, QueryFailed, NotAcceptable, QueryOutOfMemory)}
# How a child dies when the Rust side cannot allocate under its memory limit (it aborts).
_OUT_OF_MEMORY_SIGNAL = signal.SIGABRT


def _decode(data: bytes, status: int) -> Answer:
    header, newline, body = data.partition(b"\n")
    try:
        fields = json.loads(header) if newline else {}
    except ValueError:
        fields = {}
    if "media_type" in fields and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return Answer(fields["media_type"], body)  # only from a child that finished: never a cut answer
    if fields.get("error") in _CHILD_ERRORS:
        raise _CHILD_ERRORS[fields["error"]](fields["message"])
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == _OUT_OF_MEMORY_SIGNAL:
        raise QueryOutOfMemory(f"the query process stopped ({_describe_status(status)}), most likely for want of "
                               "memory: a query may take only so much")
    raise QueryFailed(f"the query process stopped without an answer ({_describe_status(status)})")


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _in_thread(work: Callable[[], Answer], limits: Limits) -> Answer:
    """Where fork is missing: the answer keeps its deadline, but an overdue evaluation runs on unseen."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["answer"] = work()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, name="sparql-query", daemon=True)
    thread.start()
    thread.join(limits.timeout_s)
    if thread.is_alive():
        raise QueryTimeout(f"the query ran over its {limits.timeout_s:g} s limit")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["answer"]  # type: ignore[return-value]


# ------------------------------------------------------------ service description

def service_description(endpoint: str, limits: Limits) -> list[ox.Triple]:
    """What the endpoint offers, in the SPARQL 1.1 Service Description vocabulary."""
    service, dataset, graph = ox.NamedNode(endpoint), ox.BlankNode(), ox.BlankNode()
    comment = (f"Read-only SPARQL 1.1 query service over the merged graph of the Democracy Data Space federation. "
               f"The default graph is the union of all graphs. Each query may run {limits.timeout_s:g} s and "
               f"return {limits.max_results} results; SERVICE is not allowed.")
    statements = [
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
