"""The HTML pages for people: resources and containers, the ontology and the shapes.

Everything these pages show comes from citizens or remote pods, so every text is escaped (attributes alike),
rich text (``as:content``, summaries, official answers) is passed through the sanitiser's safelist again before
it is shown as HTML, only http(s) IRIs become links (no ``javascript:``), and every page is sent with a
Content-Security-Policy that allows no script at all and only the page's own style sheet, by its hash.

The pages are for reading, not for machines: properties by their ontology label, linked resources by their
title, dates as dates, what the server recorded apart from what the publisher wrote.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

import pyoxigraph as ox
from flask import Response
from rdflib import Graph, Literal, URIRef

from ..changes import Event
from ..ldp.intake import HTML_PROPERTIES
from ..sanitize import clean_html
from ..vocab import AS, DCTERMS, LDP, OWL, RDF, RDFS, SERVER_MANAGED, SKOS, XSD
from .readable import ontology_label, prefixed, readable_date, short_key, term_label

_Subject = ox.NamedNode | ox.BlankNode
_Object = ox.NamedNode | ox.BlankNode | ox.Literal
_Index = dict[_Subject, dict[str, list[_Object]]]
Label = tuple[str, str]
"""(text, language) naming a resource; the language is empty for untagged text."""

_XSD_STRING = str(XSD.string)
_LDP_CONTAINS = str(LDP.contains)
_LABELS = (str(DCTERMS.title), str(AS.name), str(SKOS.prefLabel), str(RDFS.label))
_RICH = frozenset(str(iri) for iri in HTML_PROPERTIES)
_SERVER = frozenset(str(iri) for iri in SERVER_MANAGED)
_LINKABLE = ("http://", "https://")
FORMATS = (("jsonld", "application/ld+json", "JSON-LD"), ("turtle", "text/turtle", "Turtle"))
"""The machine representations a page links to: (``format`` parameter, media type, name)."""

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;"
    "background:#fff}a{color:#0b57a4}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.3rem .5rem;"
    "text-align:left;vertical-align:top;overflow-wrap:break-word}th{font-weight:600}th[scope=row]{width:30%}"
    "td table{margin:.2rem 0}caption{text-align:left;font-weight:600;padding:.3rem 0}"
    "small{color:#595959}.iri{font-family:monospace}.iri,.url{overflow-wrap:anywhere}.scroll{overflow-x:auto}"
    ".rich>:first-child{margin-top:0}.rich>:last-child{margin-bottom:0}"
    "textarea{width:100%;box-sizing:border-box;font:14px/1.4 monospace}button{font:inherit;padding:.3rem 1rem}"
    "label{font-weight:600;display:block}.error{border-left:4px solid #b3261e;padding:.5rem 1rem;background:#fdecea}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere}nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;"
    "gap:.5rem 1.5rem}figure{margin:1.5rem 0}svg{max-width:100%;height:auto}.chart{max-width:36rem}"
    ".legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}.legend svg{vertical-align:middle}"
    ".visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'none'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
FORM_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("form-action 'none'", "form-action 'self'")
"""The policy of a page with a form (the SPARQL query form): it may submit to this node only."""


def response(page: str, status: int = 200, form: bool = False) -> Response:
    """An HTML answer with the headers that keep it inert: no script may run, no type may be sniffed."""
    answer = Response(page, status=status, mimetype="text/html")
    answer.headers["Content-Security-Policy"] = FORM_SECURITY_POLICY if form else CONTENT_SECURITY_POLICY
    answer.headers["X-Content-Type-Options"] = "nosniff"
    return answer


def page(title: str, body: str, title_language: str = "") -> str:
    """A whole HTML5 page in English around ``body`` (already safe HTML), titled by ``title`` (text)."""
    heading_language = f' lang="{escape(title_language)}"' if title_language else ""
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
            f"<h1{heading_language}>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n")


def link(iri: str, text: str, lang: str = "") -> str:
    """A link to ``iri`` showing ``text``; only http(s) IRIs become links, so data cannot smuggle javascript: in."""
    lang_attribute = f' lang="{escape(lang)}"' if lang else ""
    tag = "a" if iri.startswith(_LINKABLE) else "span"
    href = f' href="{escape(iri)}"' if tag == "a" else ""
    breakable = ' class="url"' if text == iri else ""  # an IRI shown whole may break anywhere, words may not
    return f'<{tag}{href} title="{escape(iri)}"{lang_attribute}{breakable}>{escape(text)}</{tag}>'


def time_element(lexical: str, datatype: str = str(XSD.dateTime)) -> str:
    """A date as ``<time>``, readable text with the machine value in ``datetime``; escaped text if not a date."""
    readable = readable_date(lexical, datatype)
    if readable is None:
        return escape(lexical)
    return f'<time datetime="{escape(lexical)}">{escape(readable)}</time>'


def literal(value: ox.Literal, rich: bool = False) -> str:
    """A literal as HTML: rich text sanitised, dates as ``<time>``, language-tagged text with ``lang``."""
    language = value.language
    if rich:
        direction = f' dir="{escape(str(value.direction))}"' if value.direction is not None else ""
        lang_attribute = f' lang="{escape(language)}"' if language else ""
        marker = f"<small>({escape(language)})</small>" if language else ""
        return f'<div class="rich"{lang_attribute}{direction}>{clean_html(value.value)}</div>{marker}'
    if language:
        direction = f' dir="{escape(str(value.direction))}"' if value.direction is not None else ""
        return (f'<span lang="{escape(language)}"{direction}>{escape(value.value)}</span> '
                f"<small>({escape(language)})</small>")
    datatype = value.datatype.value
    if readable_date(value.value, datatype) is not None:
        return time_element(value.value, datatype)
    text = escape(value.value)
    return text if datatype == _XSD_STRING else f'<span title="{escape(prefixed(datatype))}">{text}</span>'


def scrolling(table: str, label: str) -> str:
    """A wide table that scrolls inside the page rather than the page sideways; focusable, so that a keyboard can
    scroll it too, and named for those who reach it so."""
    return f'<div class="scroll" tabindex="0" role="region" aria-label="{escape(label)}">{table}</div>'


def label_of(triples: Iterable[ox.Triple], node: ox.NamedNode, base: str = "") -> Label | None:
    """(text, language) naming ``node`` in ``triples``: its title, name or label; else, for an untitled resource
    (a comment, a like), its class and its path below ``base`` ("Comment comments/1"); None when it has neither."""
    index = _index(triples)
    found = _label_in(index, node)
    if found is not None or not base or not node.value.startswith(base):
        return found
    types = sorted(term_label(t.value) for t in index.get(node, {}).get(str(RDF.type), ()) if type(t) is ox.NamedNode)
    return (f"{types[0]} {node.value[len(base):]}", "") if types else None


# --- resources and containers -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _View:
    """What rendering a resource needs at every level: its statements by subject and the names of what it links."""

    index: _Index
    labels: Mapping[str, Label] = field(default_factory=dict)

    def name(self, iri: str) -> Label:
        known = self.labels.get(iri)
        if known is not None:
            return known
        found = _label_in(self.index, ox.NamedNode(iri))
        if found is not None:
            return found
        return ontology_label(iri) or short_key(iri), ""


def resource_page(triples: Sequence[ox.Triple], subject: ox.NamedNode, title: str | None = None,
                  labels: Mapping[str, Label] | None = None, pages: Sequence[tuple[str, str]] = ()) -> str:
    """A small, readable, self-contained HTML5 page of the resource.

    Its properties are a table keyed by their label (the IRI as link and tooltip), blank nodes as nested tables,
    the server-managed fields in a section of their own, and ldp:contains members as a list of links with their
    titles, followed by the links to the other pages of a paged container (``pages``: (text, URL) pairs).
    ``labels`` names linked resources whose statements are not in ``triples`` (IRI -> (text, language));
    without ``title``, the resource's own title names the page.
    """
    index = _index(triples)
    view = _View(index, labels or {})
    heading, heading_language = (title, "") if title is not None else (_label_in(index, subject)
                                                                       or (subject.value, ""))
    properties = index.get(subject, {})
    own = {p: values for p, values in properties.items() if p not in _SERVER and p != _LDP_CONTAINS}
    recorded = {p: values for p, values in properties.items() if p in _SERVER}
    parts = [f'<p class="iri">{link(subject.value, subject.value)}</p>\n', _formats(subject.value),
             _table(view, own, frozenset({subject}), "Properties")]
    if recorded:
        parts.append("\n<h2>Recorded by the server</h2>\n"
                     + _table(view, recorded, frozenset({subject}), "Fields set by the pod"))
    members = sorted((value for value in properties.get(_LDP_CONTAINS, ()) if type(value) is ox.NamedNode),
                     key=lambda member: member.value)
    if members:
        items = "".join(f"<li>{link(member.value, *view.name(member.value))}</li>\n" for member in members)
        parts.append(f"\n<h2>Members ({len(members)})</h2>\n<ul>\n{items}</ul>")
    parts.append(_navigation(pages, "Pages of the container"))
    return page(heading, "".join(parts), heading_language)


PAGE_LINK_TEXTS = {"first": "First page", "prev": "Previous page", "next": "Next page", "last": "Last page"}


def page_links(targets: Mapping[str, str]) -> list[tuple[str, str]]:
    """The (text, URL) pairs of a paged collection's links (``first``, ``prev``, ``next``, ``last``), in that order."""
    return [(text, targets[rel]) for rel, text in PAGE_LINK_TEXTS.items() if rel in targets]


def _navigation(pages: Sequence[tuple[str, str]], label: str) -> str:
    if not pages:
        return ""
    items = "".join(f"<li>{link(url, text)}</li>" for text, url in pages)
    return f'\n<nav aria-label="{escape(label)}"><ul>{items}</ul></nav>'


def _formats(iri: str) -> str:
    links = " · ".join(f'<a href="{escape(iri)}?format={key}" type="{media}">{name}</a>'
                       for key, media, name in FORMATS)
    return f"<p>For machines: {links}</p>\n" if iri.startswith(_LINKABLE) else ""


def _index(triples: Iterable[ox.Triple]) -> _Index:
    index: _Index = {}
    for subject, predicate, obj in triples:
        index.setdefault(subject, {}).setdefault(predicate.value, []).append(obj)
    return index


def _value(view: _View, predicate: str, value: _Object, path: frozenset[_Subject]) -> str:
    if type(value) is ox.NamedNode:
        return link(value.value, *view.name(value.value))
    if type(value) is ox.BlankNode:
        if value in path:
            return escape("_:" + value.value)
        return _table(view, view.index.get(value, {}), path | {value})
    return literal(value, rich=predicate in _RICH)


def _table(view: _View, properties: Mapping[str, list[_Object]], path: frozenset[_Subject],
           caption: str = "") -> str:
    """Properties as rows, blank nodes nested; ``path`` stops cycles of blank nodes."""
    rows = []
    for predicate in sorted(properties, key=lambda iri: (term_label(iri).lower(), iri)):
        cells = "<br>".join(sorted(_value(view, predicate, value, path) for value in properties[predicate]))
        rows.append(f'<tr><th scope="row">{link(predicate, term_label(predicate))}</th><td>{cells}</td></tr>')
    if not caption:
        return f"<table>{''.join(rows)}</table>"
    heading = f'<caption class="visually-hidden">{escape(caption)}</caption>'
    return scrolling(f"<table>{heading}{''.join(rows)}</table>", caption)


def _label_in(index: _Index, node: ox.NamedNode) -> Label | None:
    """Its title, name or label (untagged or first language), None when it has none."""
    properties = index.get(node, {})
    for predicate in _LABELS:
        literals = [value for value in properties.get(predicate, ()) if type(value) is ox.Literal]
        if literals:
            best = min(literals, key=lambda found: (found.language or "", found.value))
            return best.value, best.language or ""
    return None


# --- change feeds ------------------------------------------------------------------------------------------

KIND_NAMES = {"create": "created", "update": "updated", "delete": "deleted"}


def feed_page(title: str, feed_url: str, events: Sequence[Event], labels: Mapping[str, Label],
              pages: Sequence[tuple[str, str]]) -> str:
    """One page of a pod's change feed as a table (time, change, resource by its title), with links to the other
    pages: ``pages`` are (text, URL) pairs; ``labels`` the titles of the resources."""
    rows = "".join(
        f'<tr><td>{time_element(event.time)}</td><td>{KIND_NAMES.get(event.kind, escape(event.kind))}</td>'
        f"<td>{link(event.iri, *labels.get(event.iri, (event.iri, '')))}</td></tr>\n" for event in events)
    table = ('<table><caption>Changes, oldest first</caption>\n<thead><tr><th scope="col">Time</th>'
             f'<th scope="col">Change</th><th scope="col">Resource</th></tr></thead>\n<tbody>\n{rows}</tbody></table>'
             if events else "<p>No change on this page.</p>")
    return page(title, f"{_formats(feed_url)}{table}{_navigation(pages, 'Pages of the feed')}")


# --- the node's own pages ---------------------------------------------------------------------------------

def _vocabulary_label(label: Literal) -> str:
    if not label.language:
        return escape(str(label))
    return f'<span lang="{escape(label.language)}">{escape(str(label))}</span> ({escape(label.language)})'


def vocabulary_page(graph: Graph, title: str) -> str:
    """The ontology or the shapes as a table of their terms, with kinds, labels and definitions."""
    rows = []
    for term in sorted({s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef)}):
        labels = " / ".join(_vocabulary_label(o) for o in graph.objects(term, RDFS.label) if isinstance(o, Literal))
        comments = "<br>".join(escape(str(o)) for o in graph.objects(term, RDFS.comment))
        kinds = ", ".join(escape(str(t).rsplit("#", 1)[-1]) for t in graph.objects(term, RDF.type)
                          if str(t).startswith(str(OWL)) or "shacl" in str(t))
        rows.append(f'<tr id="{escape(str(term).rsplit("#", 1)[-1])}"><td><code>{escape(str(term))}</code></td>'
                    f"<td>{kinds}</td><td>{labels}</td><td>{comments}</td></tr>")
    table = ('<table><tr><th scope="col">term</th><th scope="col">kind</th><th scope="col">label</th>'
             '<th scope="col">definition</th></tr>' + "".join(rows) + "</table>")
    return page(title, scrolling(table, "Terms"))
