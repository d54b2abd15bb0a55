"""Every SPARQL read of the public interface, in one place, over the merged graph's store.

Each harvested resource lives in the named graph of its own IRI, so a pattern inside ``GRAPH ?r { ?r ... }`` reads
what the resource itself asserts (its platform, its declared class) and never what another resource, a provenance
record or the inferred graphs say of it. IRIs reach the query text only as checked SPARQL terms (:func:`_ref`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyoxigraph as ox

from ..federation.merged import Influence, MergedGraph
from ..terms import value_of
from ..vocab import AS, DCTERMS, DDS, PROV, SKOS

_Term = ox.NamedNode | ox.BlankNode | ox.Literal
Statements = dict[str, dict[str, list[_Term]]]  # subject IRI -> predicate IRI -> values

# The classes of contributions, most specific first: a resource is of the first kind it declares.
CONTRIBUTION_KINDS: tuple[tuple[str, str], ...] = (
    ("amendments", str(DDS.Amendment)), ("proposals", str(DDS.Proposal)),
    ("budget-projects", str(DDS.BudgetProject)), ("debates", str(DDS.Debate)), ("comments", str(DDS.Comment)),
    ("meetings", str(DDS.Meeting)), ("results", str(DDS.Result)), ("decisions", str(DDS.Decision)),
)
SPACE_CLASSES = tuple(str(DDS[name]) for name in
                      ("Process", "Assembly", "ParticipatoryBudget", "Consultation", "ParticipatorySpace"))
REACTION_KINDS: tuple[tuple[str, str], ...] = (
    ("supports", str(DDS.Support)), ("likes", str(AS.Like)), ("dislikes", str(AS.Dislike)),
)
MAX_LISTED = 500  # IRIs read in one VALUES block, replies of one thread


def _ref(iri: str) -> str:
    """An IRI as a SPARQL term; raises ValueError for one that is not an IRI."""
    return str(ox.NamedNode(iri))


def _values(iris: Iterable[str]) -> str:
    return " ".join(_ref(iri) for iri in iris)


class PortalReads:
    """The queries; each returns plain rows, shaped by the modules that call them."""

    def __init__(self, merged: MergedGraph) -> None:
        self.merged = merged
        self.store = merged.store

    @property
    def version(self) -> int:
        return self.merged.version

    def statements(self, iris: Iterable[str]) -> Statements:
        """What each resource asserts of itself, for up to :data:`MAX_LISTED` resources in one query."""
        wanted = list(dict.fromkeys(iris))[:MAX_LISTED]
        found: Statements = {}
        if not wanted:
            return found
        rows = self.store.select(f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {_values(wanted)} }} "
                                 "GRAPH ?s { ?s ?p ?o } }")
        for row in rows:
            found.setdefault(row["s"].value, {}).setdefault(row["p"].value, []).append(row["o"])
        return found

    def labels(self, iris: Iterable[str]) -> dict[str, list[ox.Literal]]:
        """Titles, names and labels said of IRIs anywhere in the merged graph (a topic named by another pod)."""
        wanted = list(dict.fromkeys(iris))[:MAX_LISTED]
        found: dict[str, list[ox.Literal]] = {}
        if not wanted:
            return found
        predicates = _values(str(p) for p in (DCTERMS.title, AS.name, SKOS.prefLabel))
        rows = self.store.select(f"""SELECT DISTINCT ?s ?label WHERE {{ VALUES ?s {{ {_values(wanted)} }}
                                     VALUES ?p {{ {predicates} }} ?s ?p ?label FILTER(isLiteral(?label)) }}""")
        for row in rows:
            label = row["label"]
            if isinstance(label, ox.Literal):
                found.setdefault(row["s"].value, []).append(label)
        return found

    def platform_names(self) -> dict[str, list[ox.Literal]]:
        """Names of platforms: a harvested ``dds:Platform``'s name, else the title of the pod speaking for it."""
        rows = self.store.select(f"""SELECT DISTINCT ?platform ?name WHERE {{
              {{ GRAPH ?g {{ ?platform a <{DDS.Platform}> ; <{AS.name}> ?name }} }}
              UNION {{ GRAPH {_ref(self.merged.graphs.members)} {{
                       ?member <{DDS.sourcePlatform}> ?platform ; <{DCTERMS.title}> ?name }} }} }}""")
        found: dict[str, list[ox.Literal]] = {}
        for row in rows:
            name = row["name"]
            if isinstance(name, ox.Literal):
                found.setdefault(row["platform"].value, []).append(name)
        return found

    def class_counts(self, classes: Sequence[str], platform: str | None = None,
                     space: str | None = None) -> list[tuple[str, str, int]]:
        """(platform, class, count) of the resources declaring one of ``classes``, optionally narrowed."""
        narrow = f"<{DCTERMS.isPartOf}> {_ref(space)} ;" if space else ""
        rows = self.store.select(f"""SELECT ?platform ?type (COUNT(?r) AS ?n) WHERE {{
              VALUES ?type {{ {_values(classes)} }}
              GRAPH ?r {{ ?r a ?type ; {narrow} <{DDS.sourcePlatform}> ?platform }}
              {self._platform_filter(platform)} }} GROUP BY ?platform ?type""")
        return [(row["platform"].value, row["type"].value, int(row["n"].value)) for row in rows]

    def status_counts(self, platform: str | None = None, space: str | None = None) -> dict[str, int]:
        narrow = f"<{DCTERMS.isPartOf}> {_ref(space)} ;" if space else ""
        rows = self.store.select(f"""SELECT ?status (COUNT(?r) AS ?n) WHERE {{
              GRAPH ?r {{ ?r <{DDS.status}> ?status ; {narrow} <{DDS.sourcePlatform}> ?platform }}
              {self._platform_filter(platform)} }} GROUP BY ?status""")
        return {row["status"].value: int(row["n"].value) for row in rows}

    def latest(self, limit: int, platform: str | None = None, space: str | None = None,
               classes: Sequence[str] = ()) -> list[str]:
        """IRIs of the newest contributions (by publication date), optionally narrowed."""
        kinds = classes or [cls for _, cls in CONTRIBUTION_KINDS]
        narrow = f"<{DCTERMS.isPartOf}> {_ref(space)} ;" if space else ""
        rows = self.store.select(f"""SELECT DISTINCT ?r ?published WHERE {{
              VALUES ?type {{ {_values(kinds)} }}
              GRAPH ?r {{ ?r a ?type ; {narrow} <{AS.published}> ?published ; <{DDS.sourcePlatform}> ?platform }}
              {self._platform_filter(platform)} }} ORDER BY DESC(?published) ?r LIMIT {int(limit)}""")
        return [row["r"].value for row in rows]

    def topic_counts(self, platform: str | None = None) -> dict[str, int]:
        """How many contributions each topic holds."""
        rows = self.store.select(f"""SELECT ?topic (COUNT(DISTINCT ?r) AS ?n) WHERE {{
              GRAPH ?r {{ ?r <{DCTERMS.subject}> ?topic ; <{DDS.sourcePlatform}> ?platform }}
              FILTER(isIRI(?topic)) {self._platform_filter(platform)} }} GROUP BY ?topic""")
        return {row["topic"].value: int(row["n"].value) for row in rows}

    def alignments(self) -> list[tuple[str, str]]:
        """Pairs of topics declared the same (``skos:exactMatch``), in either direction."""
        rows = self.store.select(f"""SELECT DISTINCT ?a ?b WHERE {{ ?a <{SKOS.exactMatch}> ?b
                                     FILTER(isIRI(?a) && isIRI(?b)) }}""")
        return [(row["a"].value, row["b"].value) for row in rows]

    def spaces(self, platform: str | None = None) -> list[tuple[str, str, int]]:
        """(space, platform, contributions in it) of every participatory space."""
        rows = self.store.select(f"""SELECT ?space ?platform (COUNT(DISTINCT ?r) AS ?n) WHERE {{
              VALUES ?type {{ {_values(SPACE_CLASSES)} }}
              GRAPH ?space {{ ?space a ?type ; <{DDS.sourcePlatform}> ?platform }}
              {self._platform_filter(platform)}
              OPTIONAL {{ GRAPH ?r {{ ?r <{DCTERMS.isPartOf}> ?space }} }} }} GROUP BY ?space ?platform""")
        return [(row["space"].value, row["platform"].value, int(row["n"].value)) for row in rows]

    def located_count(self) -> int:
        rows = self.store.select(f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ GRAPH ?r {{ ?r <{AS.location}> ?p }} }}")
        return next((int(row["n"].value) for row in rows), 0)

    def place(self, iri: str) -> dict[str, _Term]:
        """The name and coordinates of the place a resource is located at (its first place)."""
        rows = self.store.select(f"""SELECT ?name ?lat ?lon WHERE {{ GRAPH {_ref(iri)} {{
              {_ref(iri)} <{AS.location}> ?place . OPTIONAL {{ ?place <{AS.name}> ?name }}
              OPTIONAL {{ ?place <{AS.latitude}> ?lat ; <{AS.longitude}> ?lon }} }} }} LIMIT 1""")
        return {key: row[key] for row in rows for key in ("name", "lat", "lon") if row[key] is not None}

    def thread(self, iri: str) -> list[tuple[str, str]]:
        """(reply, what it answers) of every reply to ``iri``, replies to replies included, on any platform."""
        rows = self.store.select(f"""SELECT DISTINCT ?r ?parent WHERE {{ ?r <{AS.inReplyTo}>+ {_ref(iri)} .
              GRAPH ?r {{ ?r <{AS.inReplyTo}> ?parent }} }} LIMIT {MAX_LISTED}""")
        return [(row["r"].value, row["parent"].value) for row in rows]

    def reactions(self, iri: str) -> list[tuple[str, str, int]]:
        """(platform, reaction class, count) of the supports, likes and dislikes of ``iri``."""
        rows = self.store.select(f"""SELECT ?platform ?type (COUNT(?x) AS ?n) WHERE {{
              VALUES ?type {{ {_values(cls for _, cls in REACTION_KINDS)} }}
              GRAPH ?x {{ ?x a ?type ; <{AS.object}> {_ref(iri)} ; <{DDS.sourcePlatform}> ?platform }} }}
              GROUP BY ?platform ?type""")
        return [(row["platform"].value, row["type"].value, int(row["n"].value)) for row in rows]

    def influenced(self, iri: str) -> list[tuple[str, str | None]]:
        """(outcome, role) of the results and decisions ``iri`` influenced."""
        influencer = _ref(iri)
        rows = self.store.select(f"""SELECT DISTINCT ?outcome ?role WHERE {{
              {{ GRAPH ?outcome {{ ?outcome <{PROV.qualifiedInfluence}> ?i . ?i <{PROV.influencer}> {influencer}
                                  OPTIONAL {{ ?i <{PROV.hadRole}> ?role }} }} }}
              UNION
              {{ GRAPH ?outcome {{ ?outcome <{PROV.wasDerivedFrom}> {influencer} }}
                 FILTER NOT EXISTS {{ GRAPH ?outcome {{
                   ?outcome <{PROV.qualifiedInfluence}>/<{PROV.influencer}> {influencer} }} }} }}
              }} ORDER BY ?outcome LIMIT {MAX_LISTED}""")
        return [(row["outcome"].value, row["role"].value if row["role"] is not None else None) for row in rows]

    def influencers(self, outcome: str) -> list[Influence]:
        return self.merged.influences(outcome)

    def amendments(self, iri: str) -> list[str]:
        rows = self.store.select(f"""SELECT DISTINCT ?a WHERE {{ GRAPH ?a {{ ?a <{DDS.amends}> {_ref(iri)} }} }}
                                     ORDER BY ?a LIMIT {MAX_LISTED}""")
        return [row["a"].value for row in rows]

    def provenance(self, iri: str) -> dict[str, str]:
        """The harvest record of a resource: when it was retrieved, from which member, its content hash."""
        graphs = self.merged.graphs
        return {quad.predicate.value: value_of(quad.object)
                for quad in self.store.quads(graphs.record(iri), None, None, graphs.provenance)}

    def resource(self, iri: str) -> list[ox.Triple]:
        return self.merged.resource_triples(iri)

    @staticmethod
    def _platform_filter(platform: str | None) -> str:
        return f"FILTER(?platform = {_ref(platform)})" if platform else ""
