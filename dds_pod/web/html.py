"""The HTML pages for people: resources and containers, the ontology and the shapes.

Everything these pages show comes from citizens or remote pods, so everything is escaped (text and
attributes alike), only http(s) IRIs become links (no ``javascript:``), and every page is sent with a
Content-Security-Policy that allows no script at all and only the page's own inline style, by its hash.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from functools import cache
from html import escape

import pyoxigraph as ox
from flask import Response
from rdflib import Graph, Literal, URIRef

from ..standard import context_document, context_prefixes, expand_compact
from ..vocab import AS, DCTERMS, LDP, OWL, RDF, RDFS, SKOS, XSD

_Subject = ox.NamedNode | ox.BlankNode
_Object = ox.NamedNode | ox.BlankNode | ox.Literal
_Index = dict[_Subject, dict[str, list[_Object]]]

_RDF_TYPE = str(RDF.type)
_XSD_STRING = str(XSD.string)
_LDP_CONTAINS = str(LDP.contains)
_LABELS = (str(DCTERMS.title), str(AS.name), str(SKOS.prefLabel), str(RDFS.label))
_LINKABLE = ("http://", "https://")

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.3rem .5rem;"
    "text-align:left;vertical-align:top}th{width:12rem;font-weight:600}td table{margin:.2rem 0}"
    "small{color:#666}.iri{font-family:monospace;word-break:break-all}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'none'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def response(page: str) -> Response:
    """An HTML answer with the headers that keep it inert: no script may run, no type may be sniffed."""
    answer = Response(page, mimetype="text/html")
    answer.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    answer.headers["X-Content-Type-Options"] = "nosniff"
    return answer


def _page(title: str, body: str) -> str:
    return ('<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n")


def link(iri: str, text: str, lang: str = "") -> str:
    """A link to ``iri`` showing ``text``; only http(s) IRIs become links, so data cannot smuggle javascript: in."""
    lang_attribute = f' lang="{escape(lang)}"' if lang else ""
    tag = "a" if iri.startswith(_LINKABLE) else "span"
    href = f' href="{escape(iri)}"' if tag == "a" else ""
    return f'<{tag}{href} title="{escape(iri)}"{lang_attribute}>{escape(text)}</{tag}>'


# --- resources and containers -----------------------------------------------------------------------------

def resource_page(triples: Sequence[ox.Triple], subject: ox.NamedNode, title: str) -> str:
    """A small, readable, self-contained HTML5 page of the resource.

    Its properties are a table keyed by context term (the IRI as link and tooltip), blank nodes as nested
    tables, and ldp:contains members as a list of links with their titles.
    """
    index = _index(triples)
    members = sorted(
        (value for value in index.get(subject, {}).get(_LDP_CONTAINS, ()) if type(value) is ox.NamedNode),
        key=lambda member: member.value,
    )
    parts = [f'<p class="iri">{link(subject.value, subject.value)}</p>\n',
             _table(index, subject, frozenset({subject}), hidden=_LDP_CONTAINS)]
    if members:
        items = "".join(f"<li>{link(member.value, *_label(index, member))}</li>\n" for member in members)
        parts.append(f"\n<h2>Members ({len(members)})</h2>\n<ul>\n{items}</ul>")
    return _page(title, "".join(parts))


def _index(triples: Iterable[ox.Triple]) -> _Index:
    index: _Index = {}
    for subject, predicate, obj in triples:
        index.setdefault(subject, {}).setdefault(predicate.value, []).append(obj)
    return index


@cache
def _vocabulary() -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """(IRI -> the context term naming it, (namespace, prefix) longest namespace first) of the DDS context."""
    context = context_document()["@context"]
    prefixes = context_prefixes()
    names: dict[str, str] = {}
    for key, definition in context.items():
        iri = definition.get("@id") if isinstance(definition, dict) else definition
        if not key.startswith("@") and key not in prefixes and isinstance(iri, str) and not iri.startswith("@"):
            names.setdefault(expand_compact(iri), key)
    namespaces = tuple(sorted(((ns, prefix) for prefix, ns in prefixes.items()), key=lambda item: -len(item[0])))
    return names, namespaces


def _prefixed(iri: str) -> str:
    for namespace, prefix in _vocabulary()[1]:
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def _name(iri: str) -> str:
    """The short key a reader of the JSON-LD knows a property or a class by."""
    if iri == _RDF_TYPE:
        return "type"
    return _vocabulary()[0].get(iri) or _prefixed(iri)


def _literal(literal: ox.Literal) -> str:
    text = escape(literal.value)
    language = literal.language
    if language:
        direction = f' dir="{escape(str(literal.direction))}"' if literal.direction is not None else ""
        return f'<span lang="{escape(language)}"{direction}>{text}</span> <small>({escape(language)})</small>'
    datatype = literal.datatype.value
    return text if datatype == _XSD_STRING else f'<span title="{escape(_prefixed(datatype))}">{text}</span>'


def _value(index: _Index, value: _Object, path: frozenset[_Subject]) -> str:
    if type(value) is ox.NamedNode:
        return link(value.value, _name(value.value))
    if type(value) is ox.BlankNode:
        return escape("_:" + value.value) if value in path else _table(index, value, path | {value})
    return _literal(value)


def _table(index: _Index, subject: _Subject, path: frozenset[_Subject], hidden: str = "") -> str:
    """The properties of ``subject``, blank nodes nested; ``path`` stops cycles of blank nodes."""
    rows = []
    properties = index.get(subject, {})
    for predicate in sorted(properties, key=_name):
        if predicate == hidden:
            continue
        cells = "<br>".join(sorted(_value(index, value, path) for value in properties[predicate]))
        rows.append(f"<tr><th>{link(predicate, _name(predicate))}</th><td>{cells}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


def _label(index: _Index, node: ox.NamedNode) -> tuple[str, str]:
    """(text, language) naming ``node``: its title, name or label (untagged or first language), else its IRI."""
    properties = index.get(node, {})
    for predicate in _LABELS:
        literals = [value for value in properties.get(predicate, ()) if type(value) is ox.Literal]
        if literals:
            best = min(literals, key=lambda literal: (literal.language or "", literal.value))
            return best.value, best.language or ""
    return node.value, ""


# --- the node's own pages ---------------------------------------------------------------------------------

def vocabulary_page(graph: Graph, title: str) -> str:
    """The ontology or the shapes as a table of their terms, with kinds, labels and definitions."""
    rows = []
    for term in sorted({s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef)}):
        labels = " / ".join(f"{escape(str(o))} ({escape(o.language or '')})" for o in graph.objects(term, RDFS.label)
                            if isinstance(o, Literal))
        comments = "<br>".join(escape(str(o)) for o in graph.objects(term, RDFS.comment))
        kinds = ", ".join(escape(str(t).rsplit("#", 1)[-1]) for t in graph.objects(term, RDF.type)
                          if str(t).startswith(str(OWL)) or "shacl" in str(t))
        rows.append(f'<tr id="{escape(str(term).rsplit("#", 1)[-1])}"><td><code>{escape(str(term))}</code></td>'
                    f"<td>{kinds}</td><td>{labels}</td><td>{comments}</td></tr>")
    return _page(title, "<table><tr><th>term</th><th>kind</th><th>label</th><th>definition</th></tr>"
                 + "".join(rows) + "</table>")
