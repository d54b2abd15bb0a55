"""The read model of the merged graph: its graph names and every query the federation answers from it.

Every harvested resource keeps its pod's IRI and lives in the named graph of that IRI. Beside
them, the node keeps a provenance graph (where and when each resource was retrieved), a members
graph (the DCAT catalogue of pods with their sync status), a datasets graph (DCAT records) and one
inferred graph per resource (what the ontology's alignment axioms add), so that an update
replaces exactly what it derived.

Merged views, trace, the catalogue, the Decidim API and the harvester's own bookkeeping read
through :class:`MergedGraph`, so the queries live in one place whatever store holds the graph.
Its ``version`` grows on every write the node makes, so readers can cache per version.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

import pyoxigraph as ox

from ..store import Change, Store
from ..terms import named, value_of
from ..vocab import AS, DCTERMS, DDS, PROV, SKOS

log = logging.getLogger(__name__)


class MergedGraphs:
    """Names of the merged store's graphs (and of the provenance record of each resource)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.provenance = f"{base_url}federation/provenance"
        self.members = f"{base_url}federation/members"
        self.catalog = f"{base_url}catalog"
        self.datasets = f"{base_url}federation/datasets"

    def inferred(self, resource: str) -> str:
        return f"{self.base_url}federation/inferred?resource={quote(resource, safe='')}"

    def record(self, resource: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.provenance}#{hashlib.sha1(resource.encode()).hexdigest()}")


@dataclass(frozen=True)
class ViewFilters:
    """What narrows a merged view of one class: each filter that is set must hold."""

    platform: str | None = None
    topic: str | None = None
    space: str | None = None
    status: str | None = None
    text: str | None = None  # words: the view is then read through the search index
    fields: frozenset[str] = frozenset()  # where the words are looked for: "title", "body" (empty: both)
    exact: bool = False  # the words as one phrase
    bbox: tuple[float, float, float, float] | None = None  # min longitude, min latitude, max longitude, max latitude
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class Influence:
    contribution: str
    role: str | None = None
    platform: str | None = None
    status: str | None = None
    title: str | None = None


class CommitListener(Protocol):
    """Told of every commit of the merged graph (the search index keeps itself up to date so)."""

    def prepare(self, touched: frozenset[str]) -> Callable[[], None]:
        """Called before a commit with the resources it writes or removes, while the graph still holds what they
        were; what it returns is called once the commit is durable."""


class MergedGraph:
    """Reads of the merged store; :meth:`commit` is the one way the node writes it."""

    def __init__(self, store: Store, graphs: MergedGraphs) -> None:
        self.store = store
        self.graphs = graphs
        self._version = 0
        self._lock = threading.Lock()
        self._listeners: list[CommitListener] = []

    def add_listener(self, listener: CommitListener) -> None:
        self._listeners.append(listener)

    @property
    def version(self) -> int:
        """Grows on every commit through this read model: equal versions read equal data."""
        return self._version

    def commit(self, change: Change) -> None:
        touched = self.touched(change)
        finish = [listener.prepare(touched) for listener in self._listeners] if touched else []
        self.store.commit(change)
        with self._lock:
            self._version += 1
        for step in finish:
            try:
                step()
            except Exception:  # the merged graph is written: a listener's failure must not undo a harvest's report
                log.exception("a listener of the merged graph failed")

    def touched(self, change: Change) -> frozenset[str]:
        """The harvested resources a change writes or removes (each lives in the named graph of its IRI); the
        node's own graphs (provenance, members, inferred, catalogue) are not resources."""
        graphs = {*change.drop_graphs, *change.new_graphs,
                  *(quad.graph_name.value for quad in change.insertions() if isinstance(quad.graph_name, ox.NamedNode))}
        own = (f"{self.graphs.base_url}federation/", self.graphs.catalog)
        return frozenset(graph for graph in graphs if not graph.startswith(own))

    # ------------------------------------------------------------------ resources

    def resource_triples(self, iri: str) -> list[ox.Triple]:
        """A harvested resource as its pod served it."""
        return self.store.triples(iri)

    def description(self, iri: str) -> dict[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]]:
        """The resource's own statements, harvested and inferred, by predicate IRI."""
        values: dict[str, list] = {}
        subject = ox.NamedNode(iri)
        for graph in (iri, self.graphs.inferred(iri)):
            for triple in self.store.triples(graph):
                if triple.subject == subject:
                    values.setdefault(triple.predicate.value, []).append(triple.object)
        return values

    def typed(self, *classes: str) -> list[str]:
        """IRIs of the resources of any of these classes (inferred classes included)."""
        values = " ".join(f"<{c}>" for c in classes)
        query = f"SELECT DISTINCT ?r WHERE {{ VALUES ?type {{ {values} }} ?r a ?type . FILTER(isIRI(?r)) }}"
        return [row["r"].value for row in self.store.select(query)]

    # ------------------------------------------------------------------ merged views and trace

    def view_page(self, cls: str, view: ViewFilters, limit: int, offset: int) -> tuple[list[str], int]:
        """IRIs of one page of the merged view of a class, newest first, and the number of matching resources."""
        where = _where(cls, view)
        count = next(iter(self.store.select(f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ {where} }}")))["n"]
        rows = self.store.select(
            f"""SELECT DISTINCT ?r ?published WHERE {{ {where} OPTIONAL {{ ?r <{AS.published}> ?published }} }}
                ORDER BY DESC(?published) ?r LIMIT {int(limit)} OFFSET {int(offset)}""")
        return [row["r"].value for row in rows], int(count.value)

    def influences(self, outcome: str) -> list[Influence]:
        """The contributions that influenced a result or decision (``outcome`` an absolute IRI)."""
        found: dict[str, dict[str, str | None]] = {}
        for row in self.store.select(TRACE_QUERY.replace("<OUTCOME>", _ref(outcome))):
            entry = found.setdefault(row["contribution"].value, {})
            for key in ("role", "platform", "status", "title"):
                if row[key] is not None and entry.get(key) is None:
                    entry[key] = row[key].value
        return [Influence(contribution, **values) for contribution, values in found.items()]

    # ------------------------------------------------------------------ members and catalogue

    def member_statements(self, member: str) -> list[ox.Triple]:
        """What the members graph says of a member: its title, platform, last sync and status."""
        return [q.triple for q in self.store.quads(ox.NamedNode(member), None, None, self.graphs.members)]

    def dataset_statements(self) -> list[ox.Triple]:
        return [q.triple for q in self.store.quads(None, None, None, self.graphs.datasets)]

    def last_sequence(self, member: str) -> int | None:
        """The last feed sequence applied from a member, None before its first sync."""
        for quad in self.store.quads(ox.NamedNode(member), named(DDS.lastSequence), None, self.graphs.members):
            return int(value_of(quad.object))
        return None

    # ------------------------------------------------------------------ provenance

    def harvested_from(self, member: str) -> set[str]:
        query = f"""SELECT ?resource WHERE {{ GRAPH <{self.graphs.provenance}> {{
                      ?record <{PROV.hadPrimarySource}> {_ref(member)} ; <{PROV.wasDerivedFrom}> ?resource }} }}"""
        return {row["resource"].value for row in self.store.select(query)}

    def platform_seen_from(self, member: str) -> str | None:
        """The platform named by any resource harvested from a member."""
        query = f"""SELECT ?platform WHERE {{ GRAPH <{self.graphs.provenance}> {{
                      ?record <{PROV.hadPrimarySource}> {_ref(member)} ; <{DDS.sourcePlatform}> ?platform }} }}
                    LIMIT 1"""
        for row in self.store.select(query):
            return row["platform"].value
        return None

    def recorded_platform(self, member: str) -> str | None:
        """The platform the harvester recorded for a member: its catalogue entry, else what it served."""
        for quad in self.store.quads(ox.NamedNode(member), named(DDS.sourcePlatform), None, self.graphs.members):
            return value_of(quad.object)
        return self.platform_seen_from(member)

    def stored_hash(self, iri: str) -> str | None:
        return self._recorded(iri, DDS.contentHash)

    def stored_etag(self, iri: str) -> str | None:
        return self._recorded(iri, DDS.etag)

    def _recorded(self, iri: str, predicate) -> str | None:
        for quad in self.store.quads(self.graphs.record(iri), named(predicate), None, self.graphs.provenance):
            return value_of(quad.object)
        return None

    # ------------------------------------------------------------------ statistics

    def platform_names(self) -> dict[str, str]:
        """Platform IRI -> the title of a member pod publishing for it, as the members graph records it."""
        query = f"""SELECT ?platform (SAMPLE(?title) AS ?name) WHERE {{ GRAPH <{self.graphs.members}> {{
                      ?member <{DDS.sourcePlatform}> ?platform ; <{DCTERMS.title}> ?title }} }} GROUP BY ?platform"""
        return {row["platform"].value: row["name"].value for row in self.store.select(query)
                if row["name"] is not None}

    def contributions_per_month(self) -> list[tuple[str, str, int]]:
        """(platform, ``YYYY-MM``, contributions published that month), contributions of every kind."""
        query = f"""SELECT ?platform ?month (COUNT(DISTINCT ?c) AS ?n) WHERE {{
                      ?c a <{DDS.Contribution}> ; <{DDS.sourcePlatform}> ?platform ; <{AS.published}> ?published .
                      BIND(SUBSTR(STR(?published), 1, 7) AS ?month) }} GROUP BY ?platform ?month"""
        return [(row["platform"].value, row["month"].value, int(row["n"].value)) for row in self.store.select(query)]

    def status_counts(self) -> list[tuple[str, str, int]]:
        """(platform, status name, proposals and budget projects in that status); none stated counts as
        ``submitted``."""
        query = f"""SELECT ?platform ?status (COUNT(DISTINCT ?p) AS ?n) WHERE {{
                      VALUES ?type {{ <{DDS.Proposal}> <{DDS.BudgetProject}> }}
                      ?p a ?type ; <{DDS.sourcePlatform}> ?platform .
                      OPTIONAL {{ ?p <{DDS.status}> ?stated }}
                      BIND(STRAFTER(STR(COALESCE(?stated, <{DDS.submitted}>)), "#") AS ?status) }}
                    GROUP BY ?platform ?status"""
        return [(row["platform"].value, row["status"].value, int(row["n"].value)) for row in self.store.select(query)]

    def stance_counts(self) -> list[tuple[str, str, int]]:
        """(platform, stance name, comments taking that stance); comments without a stance are not counted."""
        query = f"""SELECT ?platform ?stance (COUNT(DISTINCT ?c) AS ?n) WHERE {{
                      ?c a <{DDS.Comment}> ; <{DDS.sourcePlatform}> ?platform ; <{DDS.stance}> ?stated .
                      BIND(STRAFTER(STR(?stated), "#") AS ?stance) }} GROUP BY ?platform ?stance"""
        return [(row["platform"].value, row["stance"].value, int(row["n"].value)) for row in self.store.select(query)]

    # ------------------------------------------------------------------ the search index's reads
    # Each takes the resources to read (None: every resource) and answers rows, so that a rebuild reads the whole
    # graph in these few queries and an update reads a harvest's resources in the same ones.

    def typed_rows(self, classes: Iterable[str], iris: Collection[str] | None) -> list[tuple[str, str]]:
        """(resource, class) for the resources of these classes, inferred classes included."""
        pattern = _one_of("type", "?r a ?type", classes, iris)
        query = f"SELECT DISTINCT ?r ?type WHERE {{ {_values('r', iris)} {pattern} }}"
        return [(row["r"].value, row["type"].value) for row in self.store.select(query) if _is_iri(row["r"])]

    def literal_rows(self, predicates: Iterable[str], iris: Collection[str] | None) -> list[tuple[str, str, str, str]]:
        """(resource, predicate, lexical form, language tag or "") of the literals of these predicates."""
        query = (f"SELECT DISTINCT ?r ?p ?o WHERE {{ {_values('r', iris)} {_predicates(predicates, iris)} "
                 "FILTER(isLiteral(?o)) }")
        return [(row["r"].value, row["p"].value, row["o"].value, row["o"].language or "")
                for row in self.store.select(query) if _is_iri(row["r"])]

    def value_rows(self, predicates: Iterable[str], iris: Collection[str] | None) -> list[tuple[str, str, str]]:
        """(resource, predicate, IRI or lexical form) of the values of these predicates."""
        query = f"SELECT DISTINCT ?r ?p ?o WHERE {{ {_values('r', iris)} {_predicates(predicates, iris)} }}"
        return [(row["r"].value, row["p"].value, row["o"].value) for row in self.store.select(query)
                if _is_iri(row["r"]) and not isinstance(row["o"], ox.BlankNode)]

    def location_rows(self, iris: Collection[str] | None) -> list[tuple[str, float, float]]:
        """(resource, latitude, longitude) of the resources with a located place."""
        query = f"""SELECT ?r (SAMPLE(?lat) AS ?la) (SAMPLE(?lon) AS ?lo) WHERE {{ {_values('r', iris)}
                      ?r <{AS.location}> ?place . ?place <{AS.latitude}> ?lat ; <{AS.longitude}> ?lon }} GROUP BY ?r"""
        found = []
        for row in self.store.select(query):
            try:
                found.append((row["r"].value, float(row["la"].value), float(row["lo"].value)))
            except (TypeError, ValueError, AttributeError):  # a member's malformed number: no location
                continue
        return found

    def place_names(self, iris: Collection[str] | None) -> list[tuple[str, str]]:
        """(resource, name of its place) of the resources whose place is named."""
        query = f"""SELECT ?r (SAMPLE(?name) AS ?n) WHERE {{ {_values('r', iris)}
                      ?r <{AS.location}> ?place . ?place <{AS.name}> ?name FILTER(isLiteral(?name)) }} GROUP BY ?r"""
        return [(row["r"].value, row["n"].value) for row in self.store.select(query) if _is_iri(row["r"])]

    def member_rows(self, iris: Collection[str] | None) -> list[tuple[str, str]]:
        """(resource, member it was harvested from), from the provenance records."""
        query = f"""SELECT ?r ?member WHERE {{ {_values('r', iris)} GRAPH <{self.graphs.provenance}> {{
                      ?record <{PROV.wasDerivedFrom}> ?r ; <{PROV.hadPrimarySource}> ?member }} }}"""
        return [(row["r"].value, row["member"].value) for row in self.store.select(query)]

    def reaction_counts(self, iris: Collection[str] | None) -> list[tuple[str, str, int]]:
        """(resource, "comments" or "supports", how many) of what answers each resource in the merged graph."""
        values = _values("target", iris)
        query = f"""SELECT ?target ?what (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {values}
                      {{ ?s <{AS.inReplyTo}> ?target BIND("comments" AS ?what) }}
                      UNION {{ ?s a <{DDS.Support}> ; <{AS.object}> ?target BIND("supports" AS ?what) }}
                    }} GROUP BY ?target ?what"""
        return [(row["target"].value, row["what"].value, int(row["n"].value)) for row in self.store.select(query)]

    def influencing(self, iris: Collection[str] | None) -> set[str]:
        """The resources a result or decision derives from or names as influences, save those it did not retain."""
        outcomes = f"VALUES ?outcomeType {{ <{DDS.Result}> <{DDS.Decision}> }} ?outcome a ?outcomeType ."
        query = f"""SELECT DISTINCT ?r WHERE {{ {_values('r', iris)} {outcomes}
                      {{ ?outcome <{PROV.qualifiedInfluence}> ?influence . ?influence <{PROV.influencer}> ?r
                         FILTER NOT EXISTS {{ ?influence <{PROV.hadRole}> <{DDS.notRetained}> }} }}
                      UNION {{ ?outcome <{PROV.wasDerivedFrom}> ?r }} }}"""
        return {row["r"].value for row in self.store.select(query)}

    def alignments(self) -> list[tuple[str, str]]:
        """Every (topic, topic) pair that skos:exactMatch aligns."""
        query = f"SELECT DISTINCT ?a ?b WHERE {{ ?a <{SKOS.exactMatch}> ?b FILTER(isIRI(?a) && isIRI(?b)) }}"
        return [(row["a"].value, row["b"].value) for row in self.store.select(query)]

    def related(self, iris: Collection[str]) -> set[str]:
        """What an index entry of these resources counts towards or depends on: what they answer or amend, the
        contributions a result or decision names, and the contributions of a topic (whose alignment may move)."""
        if not iris:
            return set()
        links = f"<{AS.inReplyTo}>|<{AS.object}>|<{DDS.amends}>|<{PROV.wasDerivedFrom}>"
        query = f"""SELECT DISTINCT ?other WHERE {{ {_values('r', iris)}
                      {{ ?r {links} ?other }} UNION {{ ?r <{PROV.qualifiedInfluence}>/<{PROV.influencer}> ?other }}
                      FILTER(isIRI(?other)) }}"""
        found = {row["other"].value for row in self.store.select(query)}
        topics = {iri for iri, _ in self.typed_rows([str(SKOS.Concept)], iris)}
        if topics:  # rare (a topic harvested): its contributions and those of the topics aligned with it
            aligned, subject = f"<{SKOS.exactMatch}>|^<{SKOS.exactMatch}>", f"<{DCTERMS.subject}>"
            query = f"""SELECT DISTINCT ?other WHERE {{ {_values('r', topics)}
                          {{ ?other {subject} ?r }} UNION {{ ?r {aligned} ?t . ?other {subject} ?t }}
                          FILTER(isIRI(?other)) }}"""
            found |= {row["other"].value for row in self.store.select(query)}
        return found


def _values(variable: str, iris: Collection[str] | None) -> str:
    """A VALUES clause binding ``variable`` to these IRIs, or nothing when every resource is wanted."""
    if iris is None:
        return ""
    return f"VALUES ?{variable} {{ {' '.join(_ref(iri) for iri in sorted(iris))} }}"


def _predicates(predicates: Iterable[str], iris: Collection[str] | None) -> str:
    return _one_of("p", "?r ?p ?o", predicates, iris)


def _one_of(variable: str, pattern: str, values: Iterable[str], iris: Collection[str] | None) -> str:
    """``pattern`` with ``?variable`` one of ``values``. For a few resources each one's statements are read and
    filtered (the store then starts from ?r); for every resource, the statements of each value."""
    refs = [_ref(value) for value in values]
    if iris is None:
        return f"VALUES ?{variable} {{ {' '.join(refs)} }} {pattern}"
    return f"{pattern} FILTER(?{variable} IN ({', '.join(refs)}))"


def _is_iri(term) -> bool:
    return isinstance(term, ox.NamedNode)


def _ref(iri: str) -> str:
    """An IRI as a SPARQL term; one that is not an IRI raises ValueError rather than reaching the query text."""
    return str(ox.NamedNode(iri))


def _where(cls: str, view: ViewFilters) -> str:
    parts = [f"?r a <{cls}> ."]
    if view.platform:
        parts.append(f"?r <{DDS.sourcePlatform}> {_ref(view.platform)} .")
    if view.space:
        parts.append(f"?r <{DCTERMS.isPartOf}> {_ref(view.space)} .")
    if view.status:
        parts.append(f"?r <{DDS.status}> <{DDS[view.status]}> .")
    if view.topic:
        topic = _ref(view.topic)
        match = f"<{SKOS.exactMatch}>"
        parts.append(f"?r <{DCTERMS.subject}> ?topic . FILTER(?topic = {topic} || "
                     f"EXISTS {{ ?topic {match} {topic} }} || EXISTS {{ {topic} {match} ?topic }})")
    if view.bbox:
        west, south, east, north = view.bbox
        parts.append(f"?r <{AS.location}> ?place . ?place <{AS.latitude}> ?lat ; <{AS.longitude}> ?lon . "
                     f"FILTER(?lat >= {south} && ?lat <= {north} && ?lon >= {west} && ?lon <= {east})")
    if view.since or view.until:
        parts.append(f"?r <{AS.published}> ?date .")
        if view.since:
            parts.append(f'FILTER(?date >= "{view.since}"^^<http://www.w3.org/2001/XMLSchema#dateTime>)')
        if view.until:
            parts.append(f'FILTER(?date <= "{view.until}"^^<http://www.w3.org/2001/XMLSchema#dateTime>)')
    return " ".join(parts)


TRACE_QUERY = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dds: <https://w3id.org/dds/ns#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?contribution ?role ?platform ?status ?title WHERE {
  { <OUTCOME> prov:qualifiedInfluence ?influence . ?influence prov:influencer ?contribution .
    OPTIONAL { ?influence prov:hadRole ?role } }
  UNION
  { <OUTCOME> prov:wasDerivedFrom ?contribution .
    FILTER NOT EXISTS { <OUTCOME> prov:qualifiedInfluence/prov:influencer ?contribution } }
  OPTIONAL { ?contribution dds:sourcePlatform ?platform }
  OPTIONAL { ?contribution dds:status ?status }
  OPTIONAL { ?contribution dcterms:title ?title }
} ORDER BY ?contribution
"""
