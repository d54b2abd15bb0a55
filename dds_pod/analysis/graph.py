"""The analysis as linked data: one named graph of the merged store, written whole, read back whole.

Everything an :class:`~dds_pod.analysis.Analysis` holds becomes a resource under ``{base_url}analysis/`` so that a
reader can dereference it and query it by SPARQL beside the contributions it is about:

- themes are ``skos:Concept`` of the ``skos:ConceptScheme`` ``analysis/themes/``, labelled per language, their
  members by ``dds:themeMember`` (and, in their order, the list ``dds:themeMembers``), the platforms' own topics
  they coincide with by ``skos:closeMatch`` and ``dds:coincidesWith``;
- similarity links, stance aggregates, opinion groups, bridges, summaries (sentences citing contributions), the
  detected languages and the steps that had not enough data are resources of their own;
- every result is ``prov:wasGeneratedBy`` the ``prov:Activity`` of its step: method, parameters, software, input
  snapshot (each feed's sequence number), start and end.

Resources never state anything of a contribution itself (no triple has a contribution as subject): the merged
graph's views and index read the union of the graphs, and an analysis must not change what a contribution says.
Nodes inside a resource are hash IRIs of it (``theme#members-3``), no blank nodes, so a resource is exactly the
statements whose subject is its IRI or starts with its IRI and ``#``.

:func:`publish` replaces the graph in one transaction; :func:`load_analysis` reads it back into the same
:class:`Analysis` (every field round-trips) and keeps what it read until the graph's stamp changes.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

import pyoxigraph as ox
from rdflib import Graph, URIRef

from .. import rdfio
from ..store import Change, Store
from ..terms import XSD_DATE_TIME, integer, named, value_of
from ..vocab import DCTERMS, DDS, PROV, RDF, SKOS, XSD
from . import Analysis, Bridge, NotEnoughData, OpinionGroup, Run, Sentence, Similar, Stances, Summary, Theme
from .runs import (
    STEP_LANGUAGES,
    STEP_LLM_SUMMARIES,
    STEP_LLM_THEMES,
    STEP_OPINION,
    STEP_SIMILAR,
    STEP_STANCES,
    STEP_SUMMARIES,
    STEP_THEMES,
)

# The parts of the analysis graph: each a container of resources of one kind.
PARTS = ("themes", "runs", "similar", "stances", "groups", "bridges", "summaries", "not-enough")
Parameter = str | int | float | bool
Term = ox.NamedNode | ox.Literal | URIRef  # what the writer states: pyoxigraph terms, or the vocabulary's constants
XSD_BOOLEAN, XSD_DOUBLE = ox.NamedNode(str(XSD.boolean)), ox.NamedNode(str(XSD.double))


def analysis_graph(base_url: str) -> str:
    """The named graph holding the node's analysis (also the IRI of its root container)."""
    return f"{base_url}analysis/"


def part_iri(base_url: str, part: str) -> str:
    """The container of one kind of result: ``analysis/themes/``, ``analysis/runs/`` ..."""
    return f"{analysis_graph(base_url)}{part}/"


def theme_iri(base_url: str, key: str) -> str:
    return f"{base_url}analysis/themes/{quote(key, safe='')}"


def run_iri(base_url: str, step: str, run: Run) -> str:
    """A run's IRI: the same run (same step, method, parameters, software, snapshot and times) keeps its IRI."""
    return f"{base_url}analysis/runs/{quote(step, safe='')}-{_hash(step, _run_fields(run))}"


def group_iri(base_url: str, key: str) -> str:
    return f"{part_iri(base_url, 'groups')}{quote(key, safe='')}"


def similar_iri(base_url: str, link: Similar) -> str:
    return f"{part_iri(base_url, 'similar')}{_hash(link.source, link.target)}"


def stances_iri(base_url: str, stances: Stances) -> str:
    return f"{part_iri(base_url, 'stances')}{_hash(stances.subject)}"


def bridge_iri(base_url: str, bridge: Bridge) -> str:
    return f"{part_iri(base_url, 'bridges')}{_hash(bridge.contribution)}"


def summary_iri(base_url: str, summary: Summary) -> str:
    return f"{part_iri(base_url, 'summaries')}{_hash(summary.subject, summary.language, str(summary.abstractive))}"


def languages_iri(base_url: str) -> str:
    return f"{analysis_graph(base_url)}languages"


def not_enough_iri(base_url: str, missing: NotEnoughData) -> str:
    return f"{part_iri(base_url, 'not-enough')}{quote(missing.step, safe='')}-{_hash(missing.step, missing.reason)}"


# ---------------------------------------------------------------------------------------------------- writing


def to_graph(analysis: Analysis, base_url: str) -> Graph:
    """The analysis as RDF: see the module's docstring for the vocabulary."""
    graph = rdfio.to_rdflib(_Writer(analysis, base_url).triples())
    for prefix, namespace in (("dds", DDS), ("skos", SKOS), ("prov", PROV), ("dcterms", DCTERMS)):
        graph.bind(prefix, namespace)
    return graph


def publish(store: Store, analysis: Analysis, base_url: str) -> None:
    """Replace the analysis graph by this analysis, in one transaction: readers see the old one or the new one."""
    triples = _Writer(analysis, base_url).triples()
    triples.append(ox.Triple(ox.NamedNode(analysis_graph(base_url)), named(DDS.analysisStamp),
                             ox.Literal(uuid.uuid4().hex)))
    change = Change()
    change.replace_graph(analysis_graph(base_url), triples)
    store.commit(change)


class _Writer:
    """Builds the graph of one analysis; each method writes one kind of result."""

    def __init__(self, analysis: Analysis, base_url: str) -> None:
        self.analysis, self.base = analysis, base_url
        self.theme_keys = {theme.key for theme in analysis.themes}
        self.statements: list[ox.Triple] = []

    def triples(self) -> list[ox.Triple]:
        root = ox.NamedNode(analysis_graph(self.base))
        self._add(root, RDF.type, DDS.Analysis)
        for part in PARTS:
            self._add(root, DDS.analysisPart, ox.NamedNode(part_iri(self.base, part)))
        self._add(ox.NamedNode(part_iri(self.base, "themes")), RDF.type, SKOS.ConceptScheme)
        for step, run in sorted(self.analysis.runs.items()):
            self._run(step, run)
        self._languages()
        a = self.analysis
        nodes = [[self._theme(theme) for theme in a.themes], [self._similar(link) for link in a.similar],
                 [self._stances(stances) for stances in a.stances], [self._group(group) for group in a.groups],
                 [self._bridge(bridge) for bridge in a.bridges], [self._summary(summary) for summary in a.summaries],
                 [self._not_enough(missing) for missing in a.not_enough]]
        for listed in nodes:  # each kind's results keep the analysis's order
            for position, node in enumerate(listed):
                self._add(node, DDS.position, integer(position))
        return self.statements

    def _add(self, subject: ox.NamedNode | URIRef, predicate: URIRef, obj: Term) -> None:
        """One statement; the vocabulary's rdflib constants become pyoxigraph terms (cached)."""
        self.statements.append(ox.Triple(named(subject) if isinstance(subject, URIRef) else subject, named(predicate),
                                named(obj) if isinstance(obj, URIRef) else obj))

    def _generated_by(self, resource: ox.NamedNode, *steps: str) -> None:
        for step in steps:
            run = self.analysis.runs.get(step)
            if run is not None:
                self._add(resource, PROV.wasGeneratedBy, ox.NamedNode(run_iri(self.base, step, run)))

    def _list(self, owner: ox.NamedNode, predicate: URIRef, name: str, items: Sequence[Term]) -> None:
        """An rdf:List of ``items`` whose nodes are hash IRIs of ``owner`` (``owner#name-0`` ...)."""
        if not items:
            self._add(owner, predicate, RDF.nil)
            return
        nodes = [ox.NamedNode(_inner(owner.value, f"{name}-{index}")) for index in range(len(items))]
        self._add(owner, predicate, nodes[0])
        for index, (node, item) in enumerate(zip(nodes, items, strict=True)):
            self._add(node, RDF.first, item)
            self._add(node, RDF.rest, nodes[index + 1] if index + 1 < len(nodes) else RDF.nil)

    def _run(self, step: str, run: Run) -> None:
        node = ox.NamedNode(run_iri(self.base, step, run))
        self._add(node, RDF.type, PROV.Activity)
        self._add(node, DDS.analysisStep, ox.Literal(step))
        self._add(node, DDS.method, ox.Literal(run.method))
        self._add(node, DDS.softwareVersion, ox.Literal(run.software))
        self._add(node, PROV.startedAtTime, ox.Literal(run.started, datatype=XSD_DATE_TIME))
        self._add(node, PROV.endedAtTime, ox.Literal(run.ended, datatype=XSD_DATE_TIME))
        for name, value in sorted(run.parameters.items()):
            parameter = ox.NamedNode(f"{node.value}#parameter-{quote(name, safe='')}")
            self._add(node, DDS.parameter, parameter)
            self._add(parameter, DDS.parameterName, ox.Literal(name))
            self._add(parameter, DDS.parameterValue, _typed(value))
        for member, sequence in sorted(run.snapshot.items()):
            entry = ox.NamedNode(f"{node.value}#input-{_hash(member)}")
            self._add(node, PROV.used, ox.NamedNode(member))
            self._add(node, DDS.inputSnapshot, entry)
            self._add(entry, DDS.feed, ox.NamedNode(member))
            self._add(entry, DDS.sequence, integer(sequence))

    def _languages(self) -> None:
        if not self.analysis.languages:
            return
        node = ox.NamedNode(languages_iri(self.base))
        self._add(ox.NamedNode(analysis_graph(self.base)), DDS.analysisPart, node)
        self._add(node, RDF.type, DDS.LanguageDetection)
        self._generated_by(node, STEP_LANGUAGES)
        for iri, language in sorted(self.analysis.languages.items()):
            entry = ox.NamedNode(f"{node.value}#{_hash(iri)}")
            self._add(node, DDS.detected, entry)
            self._add(entry, DDS.contribution, ox.NamedNode(iri))
            self._add(entry, DCTERMS.language, ox.Literal(language))

    def _theme(self, theme: Theme) -> ox.NamedNode:
        node, scheme = ox.NamedNode(theme_iri(self.base, theme.key)), ox.NamedNode(part_iri(self.base, "themes"))
        self._add(node, RDF.type, SKOS.Concept)
        self._add(node, RDF.type, DDS.Theme)
        self._add(node, SKOS.inScheme, scheme)
        self._add(scheme, SKOS.hasTopConcept, node)
        self._add(node, SKOS.notation, ox.Literal(theme.key))
        self._add(node, DDS.labelledBy, ox.Literal(theme.labelled_by))
        for language, label in sorted(theme.labels.items()):
            self._add(node, SKOS.prefLabel, ox.Literal(label, language=language))
        self._list(node, DDS.keyTerms, "terms", [ox.Literal(term) for term in theme.terms])
        for member in theme.members:
            self._add(node, DDS.themeMember, ox.NamedNode(member))
        self._list(node, DDS.themeMembers, "members", [ox.NamedNode(member) for member in theme.members])
        for index, (platform, count) in enumerate(theme.platforms.items()):
            entry = ox.NamedNode(f"{node.value}#platform-{index}")
            self._add(node, DDS.platformCount, entry)
            self._add(entry, DDS.sourcePlatform, ox.NamedNode(platform))
            self._add(entry, DDS.memberCount, integer(count))
        for topic in theme.topics:
            self._add(node, SKOS.closeMatch, ox.NamedNode(topic))
            self._add(node, DDS.coincidesWith, ox.NamedNode(topic))
        self._list(node, DDS.labelCites, "label-cites", [ox.NamedNode(cited) for cited in theme.label_cites])
        self._generated_by(node, STEP_THEMES, *([STEP_LLM_THEMES] if theme.labelled_by == "llm" else []))
        return node

    def _similar(self, link: Similar) -> ox.NamedNode:
        node = ox.NamedNode(similar_iri(self.base, link))
        self._add(node, RDF.type, DDS.Similarity)
        self._add(node, DDS.similarSource, ox.NamedNode(link.source))
        self._add(node, DDS.similarTarget, ox.NamedNode(link.target))
        self._add(node, DDS.score, _double(link.score))
        self._add(node, DDS.nearDuplicate, _boolean(link.near_duplicate))
        self._add(node, DDS.crossLanguage, _boolean(link.cross_language))
        self._generated_by(node, STEP_SIMILAR)
        return node

    def _stances(self, stances: Stances) -> ox.NamedNode:
        node = ox.NamedNode(stances_iri(self.base, stances))
        self._add(node, RDF.type, DDS.StanceAggregate)
        self._add(node, DDS.about, ox.NamedNode(self._subject(stances.subject)))
        self._add(node, DDS.inFavourCount, integer(stances.in_favour))
        self._add(node, DDS.againstCount, integer(stances.against))
        self._add(node, DDS.neutralCount, integer(stances.neutral))
        self._generated_by(node, STEP_STANCES)
        return node

    def _group(self, group: OpinionGroup) -> ox.NamedNode:
        node = ox.NamedNode(group_iri(self.base, group.key))
        self._add(node, RDF.type, DDS.OpinionGroup)
        self._add(node, SKOS.notation, ox.Literal(group.key))
        self._add(node, DDS.groupSize, integer(group.size))
        for agreed in group.agrees_with:
            self._add(node, DDS.agreesWith, ox.NamedNode(agreed))
        self._list(node, DDS.agreesWithList, "agrees", [ox.NamedNode(agreed) for agreed in group.agrees_with])
        self._generated_by(node, STEP_OPINION)
        return node

    def _bridge(self, bridge: Bridge) -> ox.NamedNode:
        node = ox.NamedNode(bridge_iri(self.base, bridge))
        self._add(node, RDF.type, DDS.Bridge)
        self._add(node, DDS.contribution, ox.NamedNode(bridge.contribution))
        for key, share in sorted(bridge.agreement.items()):
            entry = ox.NamedNode(f"{node.value}#group-{quote(key, safe='')}")
            self._add(node, DDS.groupAgreement, entry)
            self._add(entry, DDS.group, ox.NamedNode(group_iri(self.base, key)))
            self._add(entry, DDS.share, _double(share))
        self._generated_by(node, STEP_OPINION)
        return node

    def _summary(self, summary: Summary) -> ox.NamedNode:
        node = ox.NamedNode(summary_iri(self.base, summary))
        self._add(node, RDF.type, DDS.Summary)
        self._add(node, DDS.about, ox.NamedNode(self._subject(summary.subject)))
        self._add(node, DCTERMS.language, ox.Literal(summary.language))
        self._add(node, DDS.abstractive, _boolean(summary.abstractive))
        sentences = [ox.NamedNode(f"{node.value}#sentence-{index}") for index in range(len(summary.sentences))]
        for sentence_node, sentence in zip(sentences, summary.sentences, strict=True):
            self._add(sentence_node, RDF.type, DDS.SummarySentence)
            self._add(sentence_node, RDF.value, ox.Literal(sentence.text))
            for cited in sentence.cites:
                self._add(sentence_node, DDS.cites, ox.NamedNode(cited))
            self._list(sentence_node, DDS.citesList, "cites", [ox.NamedNode(cited) for cited in sentence.cites])
        self._list(node, DDS.sentences, "sentences", sentences)
        self._generated_by(node, STEP_LLM_SUMMARIES if summary.abstractive else STEP_SUMMARIES)
        return node

    def _not_enough(self, missing: NotEnoughData) -> ox.NamedNode:
        node = ox.NamedNode(not_enough_iri(self.base, missing))
        self._add(node, RDF.type, DDS.NotEnoughData)
        self._add(node, DDS.analysisStep, ox.Literal(missing.step))
        self._add(node, DDS.reason, ox.Literal(missing.reason))
        self._generated_by(node, missing.step)
        return node

    def _subject(self, subject: str) -> str:
        """What a stance aggregate or summary is about: a theme's IRI for a theme's key, else the IRI itself."""
        return theme_iri(self.base, subject) if subject in self.theme_keys else subject


def _inner(owner: str, name: str) -> str:
    """A node inside a resource: its hash IRI, or, inside a node that is one already, a longer fragment."""
    return f"{owner}-{name}" if "#" in owner else f"{owner}#{name}"


def _typed(value: Parameter) -> ox.Literal:
    """A parameter as a literal whose datatype gives its Python type back (bool before int: a bool is an int)."""
    if isinstance(value, bool):
        return _boolean(value)
    if isinstance(value, int):
        return integer(value)
    if isinstance(value, float):
        return _double(value)
    return ox.Literal(str(value))


def _boolean(value: bool) -> ox.Literal:
    return ox.Literal("true" if value else "false", datatype=XSD_BOOLEAN)


def _double(value: float) -> ox.Literal:
    return ox.Literal(repr(float(value)), datatype=XSD_DOUBLE)


def _run_fields(run: Run) -> str:
    return json.dumps([run.method, dict(run.parameters), run.software, dict(run.snapshot), run.started, run.ended],
                      sort_keys=True, default=str)


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------------- reading

_cache: weakref.WeakKeyDictionary[Store, dict[str, tuple[str, Analysis]]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()
# Held while a publication is read (one lock per reading): the requests arriving just after a publication wait for
# the one reading it, rather than each reading the whole graph again (seconds of CPU and a copy of the graph each,
# on a large corpus).
_analysis_reading = threading.Lock()
_resources_reading = threading.Lock()


def load_analysis(store: Store, base_url: str) -> Analysis | None:
    """The published analysis, None when the node never published one. Read whole once per publication (its stamp,
    ``dds:analysisStamp`` of the root, is one lookup): callers share the returned object and must not change it."""
    stamp = analysis_stamp(store, base_url)
    if stamp is None:
        return None
    with _cache_lock:
        cached = _cache.get(store, {}).get(base_url)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _analysis_reading:
        with _cache_lock:
            cached = _cache.get(store, {}).get(base_url)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        analysis = _Reader(store.triples(analysis_graph(base_url)), base_url).analysis()
        with _cache_lock:
            _cache.setdefault(store, {})[base_url] = (stamp, analysis)
        return analysis


def analysis_stamp(store: Store, base_url: str) -> str | None:
    """The stamp of the published analysis (new on every publication), None before the first: an ETag for pages."""
    graph = analysis_graph(base_url)
    for quad in store.quads(ox.NamedNode(graph), ox.NamedNode(str(DDS.analysisStamp)), None, graph):
        return value_of(quad.object)
    return None


class _Strings:
    """A namespace's IRIs as strings, each made once: rdflib's namespaces make them again at every access, which
    costs seconds over the hundreds of thousands of lookups of a large analysis."""

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> str:
        value = self._namespace + name
        setattr(self, name, value)
        return value


_DDS, _PROV, _SKOS, _RDF, _DCTERMS = (_Strings(str(namespace)) for namespace in (DDS, PROV, SKOS, RDF, DCTERMS))


class _Reader:
    """Reads an analysis back from the triples :class:`_Writer` made, indexed by subject and predicate."""

    def __init__(self, triples: Iterable[ox.Triple], base_url: str) -> None:
        self.base = base_url
        self.index: dict[str, dict[str, list[ox.NamedNode | ox.Literal]]] = defaultdict(lambda: defaultdict(list))
        self.typed: dict[str, list[str]] = defaultdict(list)
        for triple in triples:
            obj = triple.object
            if isinstance(triple.subject, ox.NamedNode) and isinstance(obj, ox.NamedNode | ox.Literal):
                self.index[triple.subject.value][triple.predicate.value].append(obj)
                if triple.predicate.value == _RDF.type:
                    self.typed[obj.value].append(triple.subject.value)
        self.theme_prefix = part_iri(base_url, "themes")

    def analysis(self) -> Analysis:
        return Analysis(
            runs=dict(self._run(node) for node in self._of(_PROV.Activity)),
            languages=self._languages(),
            themes=self._ordered(self._theme(node) for node in self._of(_DDS.Theme)),
            similar=self._ordered(self._similar(node) for node in self._of(_DDS.Similarity)),
            stances=self._ordered(self._stances(node) for node in self._of(_DDS.StanceAggregate)),
            groups=self._ordered(self._group(node) for node in self._of(_DDS.OpinionGroup)),
            bridges=self._ordered(self._bridge(node) for node in self._of(_DDS.Bridge)),
            summaries=self._ordered(self._summary(node) for node in self._of(_DDS.Summary)),
            not_enough=self._ordered(self._not_enough(node) for node in self._of(_DDS.NotEnoughData)),
        )

    def _of(self, cls: str) -> list[str]:
        return self.typed.get(cls, [])

    @staticmethod
    def _ordered(results: Iterable[tuple[int, object]]) -> list:
        """Results in the order the analysis listed them (each reads its position back)."""
        return [result for _, result in sorted(results, key=lambda pair: pair[0])]

    def _values(self, node: str, predicate: str) -> list[ox.NamedNode | ox.Literal]:
        return self.index.get(node, {}).get(predicate, [])

    def _one(self, node: str, predicate: str) -> str:
        values = self._values(node, predicate)
        return values[0].value if values else ""

    def _list(self, node: str, predicate: str) -> list[str]:
        found, current = [], self._one(node, predicate)
        while current and current != str(_RDF.nil):
            found.append(self._one(current, _RDF.first))
            current = self._one(current, _RDF.rest)
        return found

    def _run(self, node: str) -> tuple[str, Run]:
        parameters = {self._one(p.value, _DDS.parameterName): _python(self._values(p.value, _DDS.parameterValue)[0])
                      for p in self._values(node, _DDS.parameter)}
        snapshot = {self._one(entry.value, _DDS.feed): int(self._one(entry.value, _DDS.sequence))
                    for entry in self._values(node, _DDS.inputSnapshot)}
        return self._one(node, _DDS.analysisStep), Run(
            method=self._one(node, _DDS.method), parameters=parameters, software=self._one(node, _DDS.softwareVersion),
            snapshot=snapshot, started=self._one(node, _PROV.startedAtTime), ended=self._one(node, _PROV.endedAtTime))

    def _languages(self) -> dict[str, str]:
        node = languages_iri(self.base)
        pairs = [(self._one(entry.value, _DDS.contribution), self._one(entry.value, _DCTERMS.language))
                 for entry in self._values(node, _DDS.detected)]
        return dict(sorted(pairs))

    def _position(self, node: str) -> int:
        return int(self._one(node, _DDS.position) or 0)

    def _theme(self, node: str) -> tuple[int, Theme]:
        labels = {label.language or "": label.value for label in self._values(node, _SKOS.prefLabel)
                  if isinstance(label, ox.Literal)}
        entries = sorted((entry.value for entry in self._values(node, _DDS.platformCount)),
                         key=lambda entry: int(entry.rsplit("-", 1)[1]))
        platforms = {self._one(entry, _DDS.sourcePlatform): int(self._one(entry, _DDS.memberCount))
                     for entry in entries}
        return self._position(node), Theme(
            key=self._one(node, _SKOS.notation), terms=tuple(self._list(node, _DDS.keyTerms)), labels=labels,
            members=tuple(self._list(node, _DDS.themeMembers)), platforms=platforms,
            topics=tuple(topic.value for topic in self._values(node, _DDS.coincidesWith)),
            labelled_by=self._one(node, _DDS.labelledBy), label_cites=tuple(self._list(node, _DDS.labelCites)))

    def _similar(self, node: str) -> tuple[int, Similar]:
        return self._position(node), Similar(
            source=self._one(node, _DDS.similarSource), target=self._one(node, _DDS.similarTarget),
            score=float(self._one(node, _DDS.score)), near_duplicate=self._flag(node, _DDS.nearDuplicate),
            cross_language=self._flag(node, _DDS.crossLanguage))

    def _flag(self, node: str, predicate: str) -> bool:
        return self._one(node, predicate) in {"true", "1"}

    def _subject(self, node: str) -> str:
        about = self._one(node, _DDS.about)
        return unquote(about[len(self.theme_prefix):]) if about.startswith(self.theme_prefix) else about

    def _stances(self, node: str) -> tuple[int, Stances]:
        return self._position(node), Stances(
            subject=self._subject(node), in_favour=int(self._one(node, _DDS.inFavourCount)),
            against=int(self._one(node, _DDS.againstCount)), neutral=int(self._one(node, _DDS.neutralCount)))

    def _group(self, node: str) -> tuple[int, OpinionGroup]:
        return self._position(node), OpinionGroup(
            key=self._one(node, _SKOS.notation), size=int(self._one(node, _DDS.groupSize)),
            agrees_with=tuple(self._list(node, _DDS.agreesWithList)))

    def _bridge(self, node: str) -> tuple[int, Bridge]:
        group_prefix = part_iri(self.base, "groups")
        agreement = {unquote(self._one(entry.value, _DDS.group)[len(group_prefix):]):
                     float(self._one(entry.value, _DDS.share)) for entry in self._values(node, _DDS.groupAgreement)}
        return self._position(node), Bridge(contribution=self._one(node, _DDS.contribution),
                                            agreement=dict(sorted(agreement.items())))

    def _summary(self, node: str) -> tuple[int, Summary]:
        sentences = tuple(Sentence(text=self._one(sentence, _RDF.value),
                                   cites=tuple(self._list(sentence, _DDS.citesList)))
                          for sentence in self._list(node, _DDS.sentences))
        return self._position(node), Summary(
            subject=self._subject(node), language=self._one(node, _DCTERMS.language), sentences=sentences,
            abstractive=self._flag(node, _DDS.abstractive))

    def _not_enough(self, node: str) -> tuple[int, NotEnoughData]:
        return self._position(node), NotEnoughData(step=self._one(node, _DDS.analysisStep),
                                                   reason=self._one(node, _DDS.reason))


def _python(term: ox.NamedNode | ox.Literal) -> Parameter:
    """A parameter's value back as the Python type :func:`_typed` wrote."""
    datatype = term.datatype.value if isinstance(term, ox.Literal) else ""
    if datatype == str(XSD.boolean):
        return term.value in {"true", "1"}
    if datatype == str(XSD.integer):
        return int(term.value)
    if datatype == str(XSD.double):
        return float(term.value)
    return term.value


__all__ = ["analysis_graph", "load_analysis", "publish", "run_iri", "theme_iri", "to_graph"]



# ---------------------------------------------------------------------------------------------------- serving


@dataclass(frozen=True)
class Published:
    """The published graph cut into its resources, for serving each one: a resource is the statements whose
    subject is its IRI or one of its hash IRIs; each part's container lists its resources in the analysis's order."""

    stamp: str
    resources: Mapping[str, list[ox.Triple]]
    containers: Mapping[str, list[str]]

    def resource(self, iri: str) -> list[ox.Triple]:
        return self.resources.get(iri, [])

    def members(self, container: str) -> list[str]:
        """The resources directly in a part's container (``analysis/themes/`` ...), in the analysis's order."""
        return self.containers.get(container, [])


_published: weakref.WeakKeyDictionary[Store, dict[str, Published]] = weakref.WeakKeyDictionary()


def published_graph(store: Store, base_url: str) -> Published | None:
    """The published graph by resource, None before the first publication; read once per publication."""
    stamp = analysis_stamp(store, base_url)
    if stamp is None:
        return None
    with _cache_lock:
        cached = _published.get(store, {}).get(base_url)
    if cached is not None and cached.stamp == stamp:
        return cached
    with _resources_reading:
        with _cache_lock:
            cached = _published.get(store, {}).get(base_url)
        if cached is not None and cached.stamp == stamp:
            return cached
        return _cut_into_resources(store, base_url, stamp)


def _cut_into_resources(store: Store, base_url: str, stamp: str) -> Published:
    resources: dict[str, list[ox.Triple]] = defaultdict(list)
    positions: dict[str, int] = {}
    position = str(DDS.position)
    for triple in store.triples(analysis_graph(base_url)):
        subject = triple.subject.value if isinstance(triple.subject, ox.NamedNode) else ""
        resources[subject.split("#", 1)[0]].append(triple)
        if triple.predicate.value == position and isinstance(triple.object, ox.Literal):
            positions[subject] = int(triple.object.value)
    containers: dict[str, list[str]] = defaultdict(list)
    for iri in resources:
        container, _, name = iri.rpartition("/")
        if name:
            containers[container + "/"].append(iri)
    for members in containers.values():
        members.sort(key=lambda iri: (positions.get(iri, 0), iri))
    found = Published(stamp, dict(resources), dict(containers))
    with _cache_lock:
        _published.setdefault(store, {})[base_url] = found
    return found
