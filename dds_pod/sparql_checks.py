"""What a SPARQL query or update does, read from its parse tree rather than from its text.

A keyword scan of the text can always be fooled (escapes, comments, prefixed names, case), so the
operations a caller refuses are looked for in the tree rdflib's SPARQL parser builds: every group,
sub-query, OPTIONAL, UNION, MINUS and EXISTS filter is a node of that tree, and all of them are walked.
rdflib resolves ``\\u`` escapes before it parses, as the SPARQL grammar says. A request rdflib cannot
parse is refused: what the checker cannot read is not run.

The tree, not rdflib's algebra, is walked: every construct checked for is a node of it, and translating
it to the algebra takes time quadratic in the size of an update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

Tree = TypeVar("Tree")  # what a parser of rdflib returns

# Nodes of the parse tree, and the keyword a person wrote for them.
_SERVICE = {"ServiceGraphPattern": "SERVICE"}
# What reaches beyond the one graph an update is applied to, or fetches data (LOAD).
_BEYOND_ONE_GRAPH = {
    "Load": "LOAD", "Clear": "CLEAR", "Drop": "DROP", "Create": "CREATE", "Add": "ADD", "Move": "MOVE",
    "Copy": "COPY", "UsingClause": "USING", "GraphGraphPattern": "GRAPH", "QuadsNotTriples": "GRAPH", **_SERVICE,
}


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


def check_query(sparql: str) -> CheckedQuery:
    """Parse a query and refuse SERVICE anywhere in it: a query must not make the server call others."""
    tree = _parsed(parseQuery, sparql)
    _refuse(tree, _SERVICE)
    _, query = tree
    return CheckedQuery(has_dataset_clause=bool(_field(query, "datasetClause")))


def check_resource_update(update: str) -> None:
    """Parse an update and refuse whatever reaches beyond the default graph it is applied to.

    That is LOAD and the graph operations, WITH and USING, GRAPH in a template, a DATA block or a
    pattern, and SERVICE.
    """
    tree = _parsed(parseUpdate, update)
    _refuse(tree, _BEYOND_ONE_GRAPH)
    requests = _field(tree, "request")  # a ParamList: rdflib gathers its values in a list
    for operation in requests if isinstance(requests, list) else ():
        if _field(operation, "withClause") is not None:
            raise Refused("WITH")


def _parsed(parse: Callable[[str], Tree], text: str) -> Tree:
    try:
        return parse(text)
    except ParseBaseException as error:
        raise Unparsable(_position(error)) from None
    except RecursionError:
        raise Unparsable("it is nested too deeply to be read") from None
    except Exception as error:  # rdflib's parse actions raise plain exceptions on what they cannot handle
        raise Unparsable(f"it could not be read as SPARQL: {error}") from None


def _field(node: object, key: str) -> object:
    """A field of a parse-tree node, None when it has none (``CompValue.get`` answers the key itself)."""
    return dict.get(node, key) if isinstance(node, CompValue) else None


def _refuse(node: object, refused: dict[str, str]) -> None:
    for name in _node_names(node):
        if name in refused:
            raise Refused(refused[name])


def _node_names(node: object) -> Iterator[str]:
    """The name of every node below this one, depth first."""
    if isinstance(node, CompValue):
        yield node.name
        for value in node.values():
            yield from _node_names(value)
    elif isinstance(node, list | tuple | ParseResults):
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
