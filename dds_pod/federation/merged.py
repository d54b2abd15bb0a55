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
import json
import threading
from dataclasses import dataclass
from urllib.parse import quote

import pyoxigraph as ox

from ..store import Change, Store
from ..terms import named, value_of
from ..vocab import AS, DCTERMS, DDS, PROV, SKOS


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
    text: str | None = None
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


class MergedGraph:
    """Reads of the merged store; :meth:`commit` is the one way the node writes it."""

    def __init__(self, store: Store, graphs: MergedGraphs) -> None:
        self.store = store
        self.graphs = graphs
        self._version = 0
        self._lock = threading.Lock()

    @property
    def version(self) -> int:
        """Grows on every commit through this read model: equal versions read equal data."""
        return self._version

    def commit(self, change: Change) -> None:
        self.store.commit(change)
        with self._lock:
            self._version += 1

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
    if view.text:
        # ensure_ascii=False: a JSON escape of an emoji is a surrogate pair, which SPARQL refuses
        words = " && ".join(f"CONTAINS(LCASE(STR(?text)), LCASE({json.dumps(w, ensure_ascii=False)}))"
                            for w in view.text.split())
        parts.append(f"FILTER EXISTS {{ ?r <{DCTERMS.title}>|<{AS.content}>|<{AS.summary}> ?text FILTER({words}) }}")
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
