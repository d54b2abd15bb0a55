"""A store on an external SPARQL 1.1 engine (an Oxigraph server, Fuseki, ...), spoken to over HTTP.

The node then keeps no data of its own: the engine is sized, backed up and replicated on its own, and several node
processes may serve from one dataset. Reads are SPARQL 1.1 Query
requests whose results (SPARQL JSON, N-Triples) are parsed by pyoxigraph into the very terms the embedded store
returns, so no caller can tell the two apart. A :class:`Change` is rendered as ONE SPARQL 1.1 Update request, which
the engine applies as one transaction: a write is all there or not at all.

Every request has a connection and a read timeout, over a pooled session: an engine that is down or too slow
makes the call fail at once with :class:`StoreUnavailable` (a 503 for the web layer) rather than holding a
server thread. A timed-out update is the one ambiguous case: the engine may still apply it after the node
gave up, but then it applies all of it.

Writers of several processes are excluded from one another by a lock file per written name (a pod) in the
``lock_dir`` folder, which every process of the node on the machine shares: a lock of the operating system, released
when its holder dies, however it dies. Guarded updates (an update whose WHERE checks the version it replaces) would
not do: Oxigraph server evaluates concurrent updates on snapshots and applies them without detecting conflicts, so
two updates guarded by the same condition both apply (``benchmarks/engine_isolation.py`` shows it).

The public endpoint's queries go through :meth:`SparqlStore.bounded`: the engine's answer is read as a stream and
given up past the endpoint's byte limit (:class:`AnswerTooLarge`), and its read timeout is the query's time limit,
which so holds even for an engine that does not bound its queries itself.

SPARQL has no standard way to ask for the union of the named graphs as the default graph, which the embedded
store's ``union_default_graph`` gives: this backend sends Oxigraph's ``union-default-graph`` request parameter
(its name is the ``union_parameter`` option), or nothing when it is empty, for an engine configured to make its
default graph the union already. That and the other ways an engine departs from SPARQL 1.1 are its dialect
(:mod:`.dialects`, the ``dialect`` option: ``oxigraph`` by default, ``virtuoso``).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import filelock
import pyoxigraph as ox
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from ..errors import AnswerTooLarge, ConfigError, StoreUnavailable
from . import StoreContext, refuse_unknown_options, register
from .base import Change, Store
from .dialects import N_TRIPLES, SPARQL_JSON, Dialect, dialect
from .oxigraph import update_request

log = logging.getLogger(__name__)

# Connections kept open to the engine: as many as the node's threads that read at once, without waiting.
POOL_SIZE = 16
# Seconds, by default: connecting to the engine, its whole answer, and how long a writer waits for the write lock
# another process holds (writers of one pod queue behind each other, so this outlasts one write many times).
TIMEOUTS = {"connect_timeout_s": 2.0, "timeout_s": 30.0, "lock_wait_s": 30.0}
LOCK_POLL_S = 0.002  # how often a waiting writer tries the lock another process holds
ENGINE_ANSWER_LOGGED = 500  # bytes of an engine's failure logged
CHUNK_BYTES = 64 * 1024  # what a bounded query's answer is read by
PART_OPTIONS = {"query_url", "update_url"}  # what [store.<part>] may set for one part of the node
PARTS = ("federation",)

Results = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


class SparqlStore(Store):
    """Named graphs held by a SPARQL engine at ``query_url`` (SPARQL Query) and ``update_url`` (SPARQL Update)."""

    evaluates_elsewhere = True

    def __init__(self, query_url: str, update_url: str, *, connect_timeout_s: float = TIMEOUTS["connect_timeout_s"],
                 timeout_s: float = TIMEOUTS["timeout_s"], union_parameter: str | None = None,
                 lock_dir: Path | None = None, lock_wait_s: float = TIMEOUTS["lock_wait_s"],
                 sparql_dialect: Dialect | None = None) -> None:
        self.query_url, self.update_url = query_url, update_url
        self.timeout = (connect_timeout_s, timeout_s)
        self.lock_wait_s = lock_wait_s
        self.dialect = sparql_dialect or dialect("oxigraph")
        self.resources_per_update = self.dialect.resources_per_update
        self.union_parameter = self.dialect.union_parameter if union_parameter is None else union_parameter
        self.lock_dir = lock_dir or default_lock_dir()
        self.max_answer_bytes: int | None = None  # None: answers are read whole (the node's own queries)
        self._session, self._pid = _session(), os.getpid()
        self._locks: dict[str, filelock.FileLock] = {}
        self._locks_lock = threading.Lock()

    # ----------------------------------------------------------------- reading

    def triples(self, graph: str) -> list[ox.Triple]:
        rows = self._select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return [ox.Triple(row[0], row[1], row[2]) for row in rows]

    def has_graph(self, graph: str) -> bool:
        return bool(self._run(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", {}))

    def quads(self, subject=None, predicate=None, obj=None, graph: str | None = None) -> Iterable[ox.Quad]:
        """As the embedded store's ``quads_for_pattern``: without a graph, the default graph's quads too. A blank
        node in a SPARQL pattern is a variable, not that node: it is refused rather than matching anything."""
        if any(isinstance(term, ox.BlankNode) for term in (subject, obj)):
            raise TypeError("a blank node cannot be matched through SPARQL: name the resource by its IRI")
        s, p, o = (str(term) if term is not None else f"?{name}"
                   for term, name in ((subject, "s"), (predicate, "p"), (obj, "o")))
        pattern = f"{s} {p} {o}"
        if graph is not None:
            rows = self._select(f"SELECT * WHERE {{ GRAPH <{graph}> {{ {pattern} }} }}")
            return [_quad(row, subject, predicate, obj, ox.NamedNode(graph)) for row in rows]
        if self.dialect.default_graph_is_union:  # the default graph has no triples of its own
            rows = self._select(f"SELECT * WHERE {{ GRAPH ?g {{ {pattern} }} }}")
            return [_quad(row, subject, predicate, obj, row["g"]) for row in rows]
        rows = self._select(f"SELECT * WHERE {{ {{ GRAPH ?g {{ {pattern} }} }} UNION {{ {pattern} }} }}")
        return [_quad(row, subject, predicate, obj, row["g"] or ox.DefaultGraph()) for row in rows]

    def query(self, sparql: str, *, union_default_graph: bool = True, default_graph: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None, base_iri: str | None = None) -> Results:
        """The embedded store's dataset rules, as SPARQL Protocol parameters: ``default_graph`` and
        ``named_graphs`` are ``default-graph-uri`` and ``named-graph-uri``; ``base_iri`` a ``BASE`` prologue."""
        parameters: dict[str, list[str]] = {}
        if named_graphs is not None and default_graph is None and union_default_graph:
            raise ValueError("the SPARQL protocol cannot name graphs beside a union default graph: give the "
                             "default graph too")
        if default_graph is not None:
            parameters["default-graph-uri"] = list(default_graph)
        elif union_default_graph and self.union_parameter:
            parameters[self.union_parameter] = ["true"]
        if named_graphs is not None:
            parameters["named-graph-uri"] = list(named_graphs)
        if base_iri is not None:  # a prologue may hold several BASE declarations: the query's own still wins
            sparql = f"BASE <{base_iri}>\n{sparql}"
        return self._run(sparql, parameters)

    def bounded(self, timeout_s: float, max_bytes: int) -> SparqlStore:
        """A view sharing this store's connections, whose queries wait ``timeout_s`` for each part of the engine's
        answer and read at most ``max_bytes`` of it."""
        view = copy.copy(self)
        view.timeout = (self.timeout[0], timeout_s)
        view.max_answer_bytes = max_bytes
        return view

    def _select(self, sparql: str) -> ox.QuerySolutions:
        """Rows of a query over the real dataset (the default graph is not the union)."""
        results = self._run(sparql, {})
        if not isinstance(results, ox.QuerySolutions):
            raise TypeError(f"the engine answered a SELECT query without solutions: {sparql}")
        return results

    def _run(self, sparql: str, parameters: Mapping[str, list[str]]) -> Results:
        request = self.dialect.query_request(sparql, parameters)
        response = self._post(self.query_url, request.body, request.media_type, request.parameters, request.accept,
                              stream=self.max_answer_bytes is not None)
        media_type = response.headers.get("Content-Type", "").partition(";")[0].strip().lower()
        if media_type == SPARQL_JSON:
            return ox.parse_query_results(self.dialect.fix_results(self._body(response)), ox.QueryResultsFormat.JSON)
        if media_type == N_TRIPLES:
            return _as_query_triples(self._body(response))
        response.close()
        raise StoreUnavailable(f"the SPARQL engine answered a query with {media_type or 'no media type'!r}, "
                               f"neither {SPARQL_JSON} nor {N_TRIPLES}")

    def _body(self, response: requests.Response) -> bytes:
        """The answer's bytes; for a bounded view, read in chunks and given up past ``max_answer_bytes``."""
        if self.max_answer_bytes is None:
            return response.content
        chunks, size = [], 0
        with response:
            try:
                for chunk in response.iter_content(CHUNK_BYTES):
                    size += len(chunk)
                    if size > self.max_answer_bytes:
                        raise AnswerTooLarge(f"the SPARQL engine's answer is larger than {self.max_answer_bytes} "
                                             "bytes")
                    chunks.append(chunk)
            except requests.RequestException as error:  # the engine stopped answering, or stalled, mid-answer
                raise _unavailable(error, response.url, self.timeout[1]) from None
        return b"".join(chunks)

    # ----------------------------------------------------------------- writing

    def commit(self, change: Change) -> None:
        update = update_request(change, self.dialect.blank_nodes_in_data)
        if update:
            self._post(self.update_url, self.dialect.update_prologue + update, "application/sparql-update", {}, None)

    def write_lock(self, name: str) -> AbstractContextManager[object]:
        """A lock of every process writing ``name`` in this dataset on this machine, waited for at most
        ``lock_wait_s``: a writer that waits longer gets :class:`StoreUnavailable` (a 503), as for a slow engine."""
        with self._locks_lock:
            lock = self._locks.get(name)
            if lock is None:
                digest = hashlib.sha256(f"{self.update_url}\n{name}".encode()).hexdigest()[:32]
                self.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                lock = filelock.FileLock(self.lock_dir / f"{digest}.lock", timeout=self.lock_wait_s,
                                         poll_interval=LOCK_POLL_S, preserve_lock_file=True)
                self._locks[name] = lock
        return _held(lock, name, self.lock_wait_s)

    def close(self) -> None:
        self._session.close()

    # ----------------------------------------------------------------- HTTP

    def _post(self, url: str, body: str, media_type: str, parameters: Mapping[str, list[str]],
              accept: str | None, stream: bool = False) -> requests.Response:
        headers = {"Content-Type": f"{media_type}; charset=utf-8", **({"Accept": accept} if accept else {})}
        try:
            response = self._pooled().post(url, data=body.encode("utf-8"), params=parameters, headers=headers,
                                           timeout=self.timeout, stream=stream)
        except requests.RequestException as error:
            raise _unavailable(error, url, self.timeout[1]) from None
        if response.status_code == 400:  # the engine refused what the node or its client wrote
            refusal = response.raw.read(500) if stream else response.content[:500]
            response.close()
            raise SyntaxError(f"the SPARQL engine refused the request: {refusal.decode('utf-8', 'replace')}")
        if not response.ok:  # the engine's own words are for the operator's log, not for the client's problem
            answer = response.raw.read(ENGINE_ANSWER_LOGGED) if stream else response.content[:ENGINE_ANSWER_LOGGED]
            response.close()
            log.warning("the SPARQL engine at %s failed with status %s: %s", _origin(url), response.status_code,
                        answer.decode("utf-8", "replace"))
            raise StoreUnavailable(f"the SPARQL engine at {_origin(url)} failed with status {response.status_code}")
        return response

    def _pooled(self) -> requests.Session:
        """The session of this process: a child forked to evaluate a query must not share the parent's
        connections, whose answers would then reach either of them."""
        if os.getpid() != self._pid:
            self._session, self._pid = _session(), os.getpid()
        return self._session


def _unavailable(error: requests.RequestException, url: str, timeout_s: float) -> StoreUnavailable:
    """What a failed request to the engine tells the caller. A read that times out once the answer has begun comes
    from requests as a ConnectionError wrapping urllib3's ReadTimeoutError: a timeout all the same."""
    wrapped = error.args[0] if error.args else None
    if isinstance(error, requests.Timeout) or isinstance(wrapped, ReadTimeoutError):
        return StoreUnavailable(f"the SPARQL engine at {_origin(url)} did not answer within {timeout_s:g} s")
    return StoreUnavailable(f"the SPARQL engine at {_origin(url)} cannot be reached: {type(error).__name__}")


@contextmanager
def _held(lock: filelock.FileLock, name: str, timeout_s: float):
    try:
        lock.acquire()
    except filelock.Timeout:
        raise StoreUnavailable(f"another process has been writing {name} for more than {timeout_s:g} s") from None
    try:
        yield lock
    finally:
        lock.release()


def default_lock_dir() -> Path:
    """Where the processes of a node on this machine keep their write locks when ``lock_dir`` is not set: one
    folder of the machine's temporary folder, per user (a lock file of another user could not be opened)."""
    return Path(tempfile.gettempdir()) / f"dds-pod-locks-{os.getuid()}"


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # the engine is named by the configuration, never reached through a proxy
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _quad(row: ox.QuerySolution, subject, predicate, obj, graph) -> ox.Quad:
    """A quad of a pattern's row: the terms the pattern bound, the others from the row."""
    return ox.Quad(subject if subject is not None else row["s"], predicate if predicate is not None else row["p"],
                   obj if obj is not None else row["o"], graph)


def _as_query_triples(body: bytes) -> ox.QueryTriples:
    """The triples of a CONSTRUCT or DESCRIBE answer, as the results object the embedded store gives for them."""
    graph = ox.Store()
    graph.extend(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
    results = graph.query("CONSTRUCT WHERE { ?s ?p ?o }")
    if not isinstance(results, ox.QueryTriples):
        raise TypeError("a CONSTRUCT query gave no triples")
    return results


def _origin(url: str) -> str:
    """Where the engine is, without what a URL may carry beyond its origin (credentials, paths)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


# ----------------------------------------------------------------- options

def _read_options(raw: Mapping[str, Any], context: StoreContext) -> dict[str, Any]:
    """``query_url`` and ``update_url`` hold the pods; the ``[store.federation]`` table's the merged graph, which
    must be another dataset (its graphs are named like the pods'). Timeouts in seconds; ``union_parameter``;
    ``lock_dir``, the folder of the write locks (relative to the configuration's)."""
    refuse_unknown_options("sparql", raw, {*PART_OPTIONS, *TIMEOUTS, "union_parameter", "lock_dir", "dialect",
                                           *PARTS})
    options: dict[str, Any] = {name: _seconds(raw, name, default) for name, default in TIMEOUTS.items()}
    lock_dir = raw.get("lock_dir")
    if lock_dir is not None and (not isinstance(lock_dir, str) or not lock_dir):
        raise ConfigError("store.lock_dir must be a folder's path", field="store.lock_dir")
    options["lock_dir"] = context.relative_to / lock_dir if lock_dir else None
    name = raw.get("dialect", "oxigraph")
    if not isinstance(name, str):
        raise ConfigError("store.dialect must be the name of a SPARQL dialect, such as \"virtuoso\"",
                          field="store.dialect")
    options["dialect"] = dialect(name)
    union = raw.get("union_parameter")
    if union is not None and not isinstance(union, str):
        raise ConfigError("store.union_parameter must be a request parameter's name, or \"\"",
                          field="store.union_parameter")
    options["union_parameter"] = union
    options[""] = _urls(raw, "store")
    for part in PARTS:
        table = raw.get(part)
        if not isinstance(table, dict):
            raise ConfigError(f"store.{part} must be a table ([store.{part}]) with the query_url and update_url "
                              f"of the dataset that holds the {part}", field=f"store.{part}")
        unknown = sorted(set(table) - PART_OPTIONS)
        if unknown:
            raise ConfigError(f"store.{part}.{unknown[0]}: unknown option; [store.{part}] sets "
                              f"{' and '.join(sorted(PART_OPTIONS))}", field=f"store.{part}.{unknown[0]}")
        options[part] = _urls(table, f"store.{part}")
        if options[part]["query_url"] == options[""]["query_url"]:
            raise ConfigError(f"store.{part}.query_url must name another dataset than store.query_url: the two "
                              "hold graphs of the same names", field=f"store.{part}.query_url")
    return options


def _urls(raw: Mapping[str, Any], prefix: str) -> dict[str, str]:
    urls: dict[str, str] = {}
    for name in sorted(PART_OPTIONS):
        value = raw.get(name)
        if not isinstance(value, str) or not _is_http_url(value):
            raise ConfigError(f"{prefix}.{name} must be the http(s) URL of a SPARQL 1.1 endpoint, such as "
                              f"\"http://127.0.0.1:7878/{name.partition('_')[0]}\"", field=f"{prefix}.{name}")
        urls[name] = value
    return urls


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _seconds(raw: Mapping[str, Any], name: str, default: float) -> float:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise ConfigError(f"store.{name} must be a number of seconds between 0 and 3600", field=f"store.{name}")
    return float(value)


def _open(options: Mapping[str, Any], part: str) -> SparqlStore:
    urls = options[part]
    return SparqlStore(urls["query_url"], urls["update_url"], connect_timeout_s=options["connect_timeout_s"],
                       timeout_s=options["timeout_s"], union_parameter=options["union_parameter"],
                       sparql_dialect=options["dialect"],
                       lock_dir=options["lock_dir"], lock_wait_s=options["lock_wait_s"])


register("sparql", _read_options, _open, shared=True)
