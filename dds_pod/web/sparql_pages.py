"""The SPARQL endpoint's pages for people: a query form with example questions, and results as tables.

A browser that asks ``/sparql`` for HTML gets these instead of a service description or a results document; the
query runs through the same service, limits and sandbox as every other. Results come back from the service as
SPARQL JSON (solutions, booleans) or N-Triples (graphs) and are shown as tables: every term is escaped, only
http(s) IRIs become links.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

import pyoxigraph as ox

from . import html
from .readable import ontology_label, prefixed

ACCEPT = (("application/sparql-results+json", 1.0), ("application/n-triples", 0.9))
"""What the pages ask the query service for: solutions and booleans as SPARQL JSON, graphs as N-Triples."""
ROWS_SHOWN = 1000  # rows (or triples) of a results table; past it, the page says how to get them all

PREFIXES = """PREFIX dds: <https://w3id.org/dds/ns#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX as: <https://www.w3.org/ns/activitystreams#>
"""

EXAMPLES: tuple[tuple[str, str], ...] = (
    ("How many proposals has each platform published?", PREFIXES + """
SELECT ?platform (SAMPLE(?pod) AS ?published_by) (COUNT(DISTINCT ?proposal) AS ?proposals) WHERE {
  ?proposal a dds:Proposal ; dds:sourcePlatform ?platform .
  OPTIONAL { ?member dds:sourcePlatform ?platform ; dcterms:title ?pod }
} GROUP BY ?platform ORDER BY DESC(?proposals)"""),
    ("Which proposals were accepted, and what did the institution answer?", PREFIXES + """
SELECT ?proposal ?title ?answer ?decided WHERE {
  ?proposal a dds:Proposal ; dds:status dds:accepted ; dcterms:title ?title .
  OPTIONAL { ?proposal dds:officialAnswer ?answer }
  OPTIONAL { ?proposal dds:statusDate ?decided }
} ORDER BY ?proposal LIMIT 100"""),
    ("Which contributions influenced each result or decision, and how?", PREFIXES + """
SELECT ?outcome ?contribution ?title ?role WHERE {
  ?outcome prov:qualifiedInfluence ?influence .
  ?influence prov:influencer ?contribution .
  OPTIONAL { ?influence prov:hadRole ?role }
  OPTIONAL { ?contribution dcterms:title ?title }
} ORDER BY ?outcome ?contribution LIMIT 100"""),
    ("How do comments lean, for or against, on each platform?", PREFIXES + """
SELECT ?platform ?stance (COUNT(DISTINCT ?comment) AS ?comments) WHERE {
  ?comment a dds:Comment ; dds:stance ?stance ; dds:sourcePlatform ?platform .
} GROUP BY ?platform ?stance ORDER BY ?platform ?stance"""),
    ("Which proposals have the most supports?", PREFIXES + """
SELECT ?proposal ?title ?supports WHERE {
  ?proposal a dds:Proposal ; dds:supportCount ?supports ; dcterms:title ?title .
} ORDER BY DESC(?supports) ?proposal LIMIT 10"""),
    ("The participatory spaces and their platforms, as a graph", PREFIXES + """
CONSTRUCT { ?space dcterms:title ?title ; dds:sourcePlatform ?platform }
WHERE { ?space a dds:ParticipatorySpace ; dcterms:title ?title ; dds:sourcePlatform ?platform }
LIMIT 200"""),
)


def form_page(query: str = "", error: str | None = None, results: str = "") -> str:
    """The query form (with ``query`` in it), an error message or the results, then the example questions."""
    message = ""
    if error is not None:
        message = (f'<div class="error" role="alert"><h2>The query could not be answered</h2>'
                   f"<p>{escape(error)}</p></div>\n")
    examples = "".join(f'<li><a href="?{escape(urlencode({"query": text}))}">{escape(question)}</a></li>\n'
                       for question, text in EXAMPLES)
    form = ('<form method="get">\n<label for="query">SPARQL query</label>\n'
            f'<textarea id="query" name="query" rows="12" spellcheck="false">{escape(query)}</textarea>\n'
            '<p><button type="submit">Run the query</button></p>\n</form>\n')
    intro = ("<p>Ask the federation's merged graph: every pod's contributions, with their provenance. "
             "The default graph is the union of all graphs; queries are read-only and limited in time and size.</p>\n")
    return html.page("SPARQL query", f"{intro}{form}{message}{results}"
                     f"<h2>Example questions</h2>\n<ul>\n{examples}</ul>")


def results_html(media_type: str, body: bytes) -> str:
    """The service's answer as HTML: a table of solutions, yes or no, or a table of triples."""
    if media_type == "application/n-triples":
        triples = [quad.triple for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
        return _triples_table(triples)
    results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    if isinstance(results, ox.QueryBoolean):
        answer = "yes" if bool(results) else "no"
        return f'<h2>Results</h2>\n<p class="answer">The answer is <strong>{answer}</strong>.</p>'
    return _solutions_table(results)


def _solutions_table(solutions: ox.QuerySolutions) -> str:
    variables = list(solutions.variables)
    rows = []
    total = 0
    for solution in solutions:
        total += 1
        if total <= ROWS_SHOWN:
            rows.append("<tr>" + "".join(f"<td>{_term(solution[v])}</td>" for v in variables) + "</tr>\n")
    header = "".join(f'<th scope="col">{escape(v.value)}</th>' for v in variables)
    return _results(total, f"<thead><tr>{header}</tr></thead>\n<tbody>\n{''.join(rows)}</tbody>", "row")


def _triples_table(triples: Sequence[ox.Triple]) -> str:
    rows = [f"<tr><td>{_term(t.subject)}</td><td>{_term(t.predicate)}</td><td>{_term(t.object)}</td></tr>\n"
            for t in triples[:ROWS_SHOWN]]
    header = "<thead><tr>" + "".join(f'<th scope="col">{name}</th>' for name in ("subject", "predicate", "object"))
    header += "</tr></thead>"
    return _results(len(triples), f"{header}\n<tbody>\n{''.join(rows)}</tbody>", "triple")


def _results(total: int, table: str, unit: str) -> str:
    counted = f"{total} {unit}{'' if total == 1 else 's'}"
    note = (f"<p>The first {ROWS_SHOWN} are shown; ask for CSV or SPARQL JSON (an Accept header) to get them all.</p>"
            if total > ROWS_SHOWN else "")
    if not total:
        return f"<h2>Results</h2>\n<p>No {unit} matches the query.</p>\n"
    caption = '<caption class="visually-hidden">Results of the query</caption>'
    results = html.scrolling(f"<table>{caption}{table}</table>", "Results")
    return f"<h2>Results</h2>\n<p>{counted}.</p>\n{note}{results}\n"


def _term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return html.link(term.value, ontology_label(term.value) or prefixed(term.value))
    if isinstance(term, ox.BlankNode):
        return escape(f"_:{term.value}")
    if isinstance(term, ox.Literal):
        return html.literal(term)
    return escape(str(term))

