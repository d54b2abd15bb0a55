"""Bounds on what a parser is given: no DTD, a nesting depth, a number of statements, a time budget.

The parsers behind a pod (pyoxigraph's, rdflib's N3 parser, pyld) recurse on nesting and, for XML,
expand entities: a few hundred bytes can exhaust the stack or the memory of the worker, which also
holds the in-memory store. Each document is therefore scanned cheaply before any parser sees it, and
parsers that stream are stopped when they produce too many statements or run too long.
"""

from __future__ import annotations

import re
import time
import xml.parsers.expat
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from .errors import BadDocument, DocumentTooLarge

MAX_DEPTH = 64
MAX_STATEMENTS = 200_000
PARSE_SECONDS = 10.0
# pyld (a pure-Python processor) takes about a second per 10 000 JSON values: what a request may ask of it.
MAX_PROCESSOR_VALUES = 20_000
# rdflib's N3 parser (pure Python, for N3 Patches) reads about 150 kB a second; a patch changes one resource.
MAX_N3_BYTES = 512 * 1024

T = TypeVar("T")

# The lexical spans of Turtle, N-Triples, N-Quads, N3 and SPARQL in which a bracket is not one:
# comments and strings (long ones first); then IRIs, whose "#" and quotes start nothing; the brackets that
# nest (RDF 1.2 triple terms with << >>), and chains of SPARQL's "!" (comments between them are blanks),
# which its parser also reads by recursion.
_BLANKS = r"(?:\s|\#[^\r\n]*+)*+"  # possessive: a long comment cannot make the engine backtrack
_TOKEN = re.compile(
    rf"!(?:{_BLANKS}!)+"
    r"""|\#[^\r\n]*"""
    r'''|"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\''''
    r'''|"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*\''''
    r"""|<<|>>|<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>"""
    r"""|\\.|[\[({]|[\])}]""",
    re.DOTALL,
)
# Inside what looks like an IRI: SPARQL reads "?a<((1))>0" as a comparison, so its brackets and "!" count too
# (a real IRI has few brackets, if any, and no "!" chain).
_IRI_INNER = re.compile(r"!!+|[\[({]|[\])}]")
_OPENERS = frozenset(("[", "(", "{", "<<"))
_CLOSERS = frozenset(("]", ")", "}", ">>"))


def check_text_nesting(text: str, syntax: str, limit: int = MAX_DEPTH) -> None:
    """Refuse a text-based RDF or SPARQL document whose brackets nest deeper than ``limit``."""
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        inner = _IRI_INNER.findall(token) if token[0] == "<" and len(token) > 2 and token != "<<" else (token,)
        for part in inner:
            if part[0] == "!" and part.count("!") > limit:
                raise BadDocument(f"{syntax} chains more than {limit} '!' operators: the limit is {limit}")
            if part in _OPENERS:
                depth += 1
                if depth > limit:
                    line = text.count("\n", 0, match.start()) + 1
                    raise BadDocument(f"{syntax} nested deeper than {limit} levels (line {line}): "
                                      f"the limit is {limit} nested brackets")
            elif part in _CLOSERS:
                depth = max(0, depth - 1)


class _XmlRefused(Exception):
    pass


def check_xml(data: bytes, limit: int = MAX_DEPTH) -> None:
    """Refuse XML with a DOCTYPE (so no entity can be declared, let alone expanded) or elements nested
    deeper than ``limit``. expat reads the bytes as the XML parser will: comments and CDATA are no elements."""
    parser = xml.parsers.expat.ParserCreate()
    depth = 0

    def doctype(*_) -> None:
        raise _XmlRefused("RDF/XML with a DOCTYPE is refused: document type and entity declarations are "
                          "not accepted")

    def start(*_) -> None:
        nonlocal depth
        depth += 1
        if depth > limit:
            raise _XmlRefused(f"RDF/XML nested deeper than {limit} levels: the limit is {limit} nested elements")

    def end(*_) -> None:
        nonlocal depth
        depth -= 1

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _XmlRefused as refused:
        raise BadDocument(str(refused)) from None
    except xml.parsers.expat.ExpatError as exc:
        raise BadDocument(f"invalid rdf-xml: {xml.parsers.expat.ErrorString(exc.code)} at line {exc.lineno}, "
                          f"column {exc.offset}") from None


def check_json_values(document: Any, limit: int = MAX_PROCESSOR_VALUES) -> None:
    """Refuse a parsed JSON document of more than ``limit`` values (objects, arrays, keys' values, items)."""
    count, stack = 0, [document]
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            raise DocumentTooLarge(f"JSON-LD of more than {limit} values for the general JSON-LD processor: the "
                                   f"limit is {limit} (documents in the DDS context alone are read faster, in bulk)")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def bounded(statements: Iterable[T], syntax: str, limit: int = MAX_STATEMENTS,
            seconds: float = PARSE_SECONDS) -> Iterator[T]:
    """Pass a parser's statements through, stopping it past ``limit`` statements or ``seconds``."""
    deadline = time.monotonic() + seconds
    for count, statement in enumerate(statements, start=1):
        if count > limit:
            raise DocumentTooLarge(f"{syntax} document with more than {limit} statements: the limit is {limit}")
        if count % 1000 == 0 and time.monotonic() > deadline:
            raise DocumentTooLarge(f"{syntax} document took more than {seconds:g} seconds to parse: "
                                   f"the limit is {seconds:g} seconds")
        yield statement
