"""What a SPARQL query or update does, read from its parsed algebra rather than from its text.

A keyword scan of the text can always be fooled (escapes, comments, prefixed names, case), so the
operations a caller refuses are looked for in rdflib's algebra of the parsed request: every group,
sub-query, OPTIONAL, UNION, MINUS and EXISTS filter is a node of that tree, and all of them are walked.
rdflib resolves ``\\u`` escapes, prefixes and BASE as the SPARQL grammar says before it builds the tree.
A request rdflib cannot parse is refused: what the checker cannot read is not run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pyparsing import ParseBaseException
from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

# Nodes of the parse tree or of the algebra, and the keyword a person wrote for them. rdflib leaves the
# pattern of an EXISTS filter as parsed, so both trees are walked with the names of both.
_SERVICE = {"ServiceGraphPattern": "SERVICE"}
# Update operations on whole graphs, or fetching one (LOAD): never about one resource's triples.
_GRAPH_OPERATIONS = {"Load": "LOAD", "Clear": "CLEAR", "Drop": "DROP", "Create": "CREATE", "Add": "ADD",
                     "Move": "MOVE", "Copy": "COPY"}
_GRAPH_PATTERNS = {"Graph": "GRAPH", "GraphGraphPattern": "GRAPH", "QuadsNotTriples": "GRAPH",
                   "UsingClause": "USING", **_SERVICE}


class Unparsable(ValueError):
    """The request is not SPARQL the parser understands; the message gives its position."""


class Refused(ValueError):
    """The request uses an operation the caller does not allow; ``keyword`` names it."""

    def __init__(self, keyword: str) -> None:
        super().__init__(keyword)
        self.keyword = keyword


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the check, and what its evaluation needs to know of it."""

    has_dataset_clause: bool  # FROM or FROM NAMED


def check_query(sparql: str, base_iri: str | None = None) -> CheckedQuery:
    """Parse a query and refuse SERVICE anywhere in it: a query must not make the server call others."""
    query = _parsed(parseQuery, translateQuery, sparql, base_iri, _SERVICE)
    _refuse(query.algebra, _SERVICE)
    return CheckedQuery(has_dataset_clause=bool(_field(query.algebra, "datasetClause")))


def check_resource_update(update: str, base_iri: str | None = None) -> None:
    """Parse an update and refuse whatever reaches beyond the default graph it is applied to.

    That is LOAD and the graph operations, WITH and USING, GRAPH in a template, a DATA block or a
    pattern, and SERVICE.
    """
    parsed = _parsed(parseUpdate, translateUpdate, update, base_iri, _GRAPH_PATTERNS)
    for operation in parsed.algebra:
        if operation.name in _GRAPH_OPERATIONS:
            raise Refused(_GRAPH_OPERATIONS[operation.name])
        if _field(operation, "withClause") is not None:
            raise Refused("WITH")
        if _field(operation, "using"):
            raise Refused("USING")
        if any(_names_a_graph(part) for part in (operation, _field(operation, "delete"), _field(operation, "insert"))):
            raise Refused("GRAPH")
        _refuse(_field(operation, "where"), _GRAPH_PATTERNS)


def _parsed(parse: Callable, translate: Callable, text: str, base_iri: str | None, refused: dict[str, str]) -> Any:
    """The algebra of a request whose parse tree holds none of the refused nodes (translation rewrites it)."""
    try:
        tree = parse(text)
        _refuse(tree, refused)
        return translate(tree, base=base_iri)
    except Refused:
        raise
    except ParseBaseException as error:
        raise Unparsable(_position(error)) from None
    except Exception as error:  # rdflib's translation raises plain exceptions on what it cannot handle
        raise Unparsable(f"it could not be read as SPARQL: {error}") from None


def _field(node: CompValue, key: str) -> object:
    """A field of an algebra node, None when it has none (``CompValue.get`` answers the key itself)."""
    return dict.get(node, key)


def _names_a_graph(part: object) -> bool:
    """Whether a DATA block, DELETE WHERE or template holds quads of a named graph."""
    return isinstance(part, CompValue) and bool(_field(part, "quads"))


def _refuse(node: object, refused: dict[str, str]) -> None:
    for name in _node_names(node):
        if name in refused:
            raise Refused(refused[name])


def _node_names(node: object) -> Iterator[str]:
    """The name of every algebra node below this one, depth first."""
    if isinstance(node, CompValue):
        yield node.name
        for value in node.values():
            yield from _node_names(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _node_names(item)


def _position(error: ParseBaseException) -> str:
    """pyparsing's message in the form pyoxigraph gives its own: ``error at LINE:COLUMN: ...``."""
    return f"error at {error.lineno}:{error.col}: {error.msg}, found {_found(error)}"


def _found(error: ParseBaseException) -> str:
    rest = error.line[error.col - 1:error.col + 19] if error.line else ""
    return repr(rest) if rest else "the end of the text"


def _prepare_parsers() -> None:
    """Parse once at import: pyparsing finishes building its grammar on first use, and a child forked
    from a server that never parsed would build it again for every query it checks."""
    check_query("ASK {}")
    check_resource_update("INSERT DATA {}")


_prepare_parsers()
