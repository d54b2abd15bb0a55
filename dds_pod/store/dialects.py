"""How one SPARQL engine departs from SPARQL 1.1, for the ``sparql`` store backend: named dialects, chosen by the
``[store] dialect`` option, that say how a query and an update are sent and how an answer is read back.

The backend speaks SPARQL 1.1 Query, Update and Protocol; an engine that needs something else gets a dialect here,
registered by name like the backends, and the HTTP layer stays one. ``oxigraph`` is the default (the protocol as
written, plus Oxigraph's ``union-default-graph`` parameter). ``virtuoso`` (Virtuoso Open Source 7.2) needs:

- queries sent form-encoded (``query=`` in ``application/x-www-form-urlencoded``): a direct POST
  (``application/sparql-query``) is never answered, the connection stays open until the client gives up;
- no union parameter: its default graph is always the union of every graph, and holds no triples of its own, so a
  pattern matched "in any graph and in the default graph" is matched in the named graphs only (else twice);
- blank nodes inserted with ``INSERT { ... } WHERE {}``: it refuses them in ``INSERT DATA`` ("not allowed in a
  constant clause", error SP031), which SPARQL 1.1 allows;
- blank node labels renamed in SPARQL JSON results: it writes them ``nodeID://b10003``, not a valid label;
- an Accept header naming only the format of the query's form: asked a CONSTRUCT with SPARQL JSON preferred, it
  answers a table of ``s``, ``p``, ``o`` in SPARQL JSON instead of a graph;
- updates that begin with ``DEFINE sql:big-data-const 1``: its endpoint compiles the constants of ``INSERT DATA``
  into SQL by default, and refuses a request whose SQL passes 10 000 lines ("SP031 ... The length of generated SQL
  text has exceeded 10000 lines"), which 1 500 quads do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from ..errors import ConfigError

SPARQL_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
QUERY_ACCEPT = f"{SPARQL_JSON}, {N_TRIPLES};q=0.9"
DIRECT = "application/sparql-query"
FORM = "application/x-www-form-urlencoded"

# The prologue (BASE, PREFIX) and comments before a query's form keyword.
_PROLOGUE = re.compile(r"\A(?:\s+|#[^\n]*\n|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)*", re.IGNORECASE)
_VIRTUOSO_BNODE = re.compile(rb'("type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*")nodeID://')


@dataclass(frozen=True)
class QueryRequest:
    """A query as the engine wants it sent: the body's media type, the body, the URL's parameters, the Accept."""

    media_type: str
    body: str
    parameters: Mapping[str, list[str]]
    accept: str


@dataclass(frozen=True)
class Dialect:
    """What an engine needs: ``union_parameter`` the request parameter that makes the default graph the union ("":
    none), ``default_graph_is_union`` whether it always is, ``form_queries`` whether queries are sent form-encoded,
    ``blank_nodes_in_data`` whether ``INSERT DATA`` takes blank nodes, ``accept_by_form`` whether the Accept header
    names the query form's format only, ``fix_results`` what to do to a SPARQL JSON answer before it is read,
    ``update_prologue`` what an update request begins with, ``resources_per_update`` the most resources the harvester
puts in one update (None: its own batch)."""

    name: str
    union_parameter: str = "union-default-graph"
    default_graph_is_union: bool = False
    form_queries: bool = False
    blank_nodes_in_data: bool = True
    accept_by_form: bool = False
    fix_results: Callable[[bytes], bytes] = lambda body: body
    update_prologue: str = ""
    resources_per_update: int | None = None

    def query_request(self, sparql: str, parameters: Mapping[str, list[str]]) -> QueryRequest:
        accept = _accept_of_form(sparql) if self.accept_by_form else QUERY_ACCEPT
        if not self.form_queries:
            return QueryRequest(DIRECT, sparql, parameters, accept)
        return QueryRequest(FORM, urlencode({"query": sparql, **parameters}, doseq=True), {}, accept)


def _accept_of_form(sparql: str) -> str:
    """N-Triples for a CONSTRUCT or DESCRIBE, SPARQL JSON for the others, read off the keyword after the prologue."""
    keyword = sparql[_PROLOGUE.match(sparql).end():][:9].upper()  # type: ignore[union-attr]  # \A(...)* always matches
    return N_TRIPLES if keyword.startswith(("CONSTRUCT", "DESCRIBE")) else SPARQL_JSON


def _virtuoso_results(body: bytes) -> bytes:
    return _VIRTUOSO_BNODE.sub(rb"\1", body)


_DIALECTS: dict[str, Dialect] = {}


def register(dialect: Dialect) -> None:
    _DIALECTS[dialect.name] = dialect


def dialect(name: str) -> Dialect:
    found = _DIALECTS.get(name)
    if found is None:
        raise ConfigError(f"store.dialect: unknown SPARQL dialect {name!r}; known: {', '.join(sorted(_DIALECTS))}",
                          field="store.dialect")
    return found


# Virtuoso refuses an update whose SQL translation passes 10 000 lines or whose text passes about 10 MB: the
# harvester's batches of 200 resources do; batches of this many pass (benchmarks/scale.py).
VIRTUOSO_RESOURCES_PER_UPDATE = 20

register(Dialect("oxigraph"))
register(Dialect("virtuoso", union_parameter="", default_graph_is_union=True, form_queries=True,
                 blank_nodes_in_data=False, accept_by_form=True, fix_results=_virtuoso_results,
                 update_prologue="DEFINE sql:big-data-const 1\n", resources_per_update=VIRTUOSO_RESOURCES_PER_UPDATE))
