"""The analysis as linked data: every field survives publication, the graph conforms to the shapes, runs keep their
IRIs, a publication replaces the previous one whole and readers see a new one at once."""

from __future__ import annotations

import threading
import time

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from dds_pod.analysis import (
    Analysis,
    Bridge,
    NotEnoughData,
    OpinionGroup,
    Run,
    Sentence,
    Similar,
    Stances,
    Summary,
    Theme,
)
from dds_pod.analysis.graph import (
    analysis_graph,
    analysis_stamp,
    load_analysis,
    publish,
    published_graph,
    run_iri,
    theme_iri,
    to_graph,
)
from dds_pod.store import Change
from dds_pod.store.oxigraph import OxigraphStore
from dds_pod.validation import default_validator
from dds_pod.vocab import DDS, PROV, RDF, SKOS

BASE = "https://node.example/"
POD = "https://pod.example/"
SNAPSHOT = {f"{POD}barcelona/": 42, f"{POD}paris/": 7}


def contribution(name: str) -> str:
    return f"{POD}proposals/{name}"


def run(method: str, **parameters: str | int | float | bool) -> Run:
    return Run(method=method, parameters=parameters, software="dds-pod 0.1.0; scikit-learn 1.5.0", snapshot=SNAPSHOT,
               started="2026-12-04T10:00:00Z", ended="2026-12-04T10:00:03Z")


def full_analysis() -> Analysis:
    """One of every kind of result, with the values that could be lost on the way: orders, a float parameter, a
    boolean one, a key needing escapes, labels in several languages, an abstractive summary."""
    members = tuple(contribution(name) for name in ("z", "a", "m"))
    return Analysis(
        runs={"languages": run("py3langid"), "themes": run("tfidf-nmf", components=4, seed=0, alpha=0.25),
              "llm-themes": run("llm", model="tiny", temperature=0.0), "similar": run("apertium-pivot", top=5,
                                                                                       pivot=True),
              "stances": run("count"), "opinion": run("pca-kmeans", groups=2),
              "summaries": run("extractive", sentences=3), "llm-summaries": run("llm", model="tiny")},
        languages={contribution("z"): "ca", contribution("a"): "es"},
        themes=[Theme(key="t/1 é", terms=("parc", "arbres", "verd"), labels={"ca": "parc, arbres", "es": "parque",
                                                                              "en": "park, trees"},
                      members=members, platforms={f"{POD}barcelona/platform": 2, f"{POD}paris/platform": 1},
                      topics=("https://decidim.example/topics/1",), labelled_by="llm", label_cites=members[:2]),
                Theme(key="t2", terms=("bici",), labels={"en": "bike"}, members=(contribution("b"),),
                      platforms={f"{POD}paris/platform": 1})],
        similar=[Similar(contribution("z"), contribution("a"), 0.8125, near_duplicate=True, cross_language=True),
                 Similar(contribution("a"), contribution("z"), 0.1)],
        stances=[Stances(contribution("a"), in_favour=3, against=1), Stances("t2", neutral=2)],
        groups=[OpinionGroup("g1", 5, (contribution("m"), contribution("a"))), OpinionGroup("g0", 3, ())],
        bridges=[Bridge(contribution("a"), {"g1": 0.75, "g0": 0.5})],
        summaries=[Summary("t/1 é", "ca", (Sentence("Més arbres al parc.", (contribution("z"), contribution("a"))),
                                           Sentence("Un altre.", (contribution("m"),)))),
                   Summary(contribution("a"), "es", (Sentence("Resumen.", (contribution("a"),)),), abstractive=True)],
        not_enough=[NotEnoughData("opinion", "only 2 participants reacted")],
    )


@pytest.fixture
def store() -> OxigraphStore:
    return OxigraphStore()


def test_every_field_round_trips_through_the_store(store):
    analysis = full_analysis()
    publish(store, analysis, BASE)
    assert load_analysis(store, BASE) == analysis


def test_an_empty_analysis_round_trips_and_a_node_never_analysed_has_none(store):
    assert load_analysis(store, BASE) is None
    publish(store, Analysis(), BASE)
    assert load_analysis(store, BASE) == Analysis()


def test_the_published_graph_conforms_to_the_shapes():
    report = default_validator().validate(to_graph(full_analysis(), BASE))
    assert report.conforms, [result.message() for result in report.results]


def test_the_shapes_catch_a_result_without_its_run():
    analysis = full_analysis()
    analysis.runs.pop("similar")
    report = default_validator().validate(to_graph(analysis, BASE))
    assert not report.conforms
    assert any("wasGeneratedBy" in result.message() for result in report.results)


def test_every_result_is_generated_by_a_described_activity():
    graph = to_graph(full_analysis(), BASE)
    theme = URIRef(theme_iri(BASE, "t/1 é"))
    activities = set(graph.objects(theme, PROV.wasGeneratedBy))
    assert activities == {URIRef(run_iri(BASE, "themes", full_analysis().runs["themes"])),
                          URIRef(run_iri(BASE, "llm-themes", full_analysis().runs["llm-themes"]))}
    for activity in activities:
        assert (activity, RDF.type, PROV.Activity) in graph
        assert graph.value(activity, PROV.startedAtTime) is not None
        snapshot = {(graph.value(entry, DDS.feed), graph.value(entry, DDS.sequence).toPython())
                    for entry in graph.objects(activity, DDS.inputSnapshot)}
        assert snapshot == {(URIRef(member), sequence) for member, sequence in SNAPSHOT.items()}
    assert (theme, RDF.type, SKOS.Concept) in graph
    assert (theme, SKOS.closeMatch, URIRef("https://decidim.example/topics/1")) in graph
    assert {label.language for label in graph.objects(theme, SKOS.prefLabel)} == {"ca", "es", "en"}


def test_no_statement_has_a_contribution_as_subject():
    """The merged views read the union of the graphs: the analysis must not add to what a contribution says."""
    subjects = {str(subject) for subject in to_graph(full_analysis(), BASE).subjects()}
    assert subjects and all(subject.startswith(analysis_graph(BASE)) for subject in subjects)


def test_theme_and_run_iris():
    assert analysis_graph(BASE) == "https://node.example/analysis/"
    assert theme_iri(BASE, "t/1 é") == "https://node.example/analysis/themes/t%2F1%20%C3%A9"
    first = run("tfidf-nmf", seed=0)
    assert run_iri(BASE, "themes", first) == run_iri(BASE, "themes", run("tfidf-nmf", seed=0))
    assert run_iri(BASE, "themes", first).startswith("https://node.example/analysis/runs/themes-")
    assert run_iri(BASE, "themes", first) != run_iri(BASE, "themes", run("tfidf-nmf", seed=1))
    assert run_iri(BASE, "themes", first) != run_iri(BASE, "similar", first)


def test_a_publication_replaces_the_previous_one_whole(store):
    publish(store, full_analysis(), BASE)
    smaller = Analysis(runs={"themes": run("tfidf-nmf")}, themes=[Theme("t9", ("x",), {"en": "x"}, (), {})])
    publish(store, smaller, BASE)
    assert load_analysis(store, BASE) == smaller
    assert not list(store.quads(ox.NamedNode(theme_iri(BASE, "t2")), None, None, analysis_graph(BASE)))


def test_a_publication_leaves_the_other_graphs_alone(store):
    change = Change()
    change.replace_graph(contribution("a"), [ox.Triple(ox.NamedNode(contribution("a")), ox.NamedNode(str(RDF.type)),
                                                       ox.NamedNode(str(DDS.Proposal)))])
    store.commit(change)
    publish(store, full_analysis(), BASE)
    publish(store, Analysis(), BASE)
    assert len(store.triples(contribution("a"))) == 1


def test_readers_share_one_read_until_the_next_publication(store):
    publish(store, full_analysis(), BASE)
    stamp = analysis_stamp(store, BASE)
    first = load_analysis(store, BASE)
    assert load_analysis(store, BASE) is first
    publish(store, full_analysis(), BASE)
    assert analysis_stamp(store, BASE) != stamp
    again = load_analysis(store, BASE)
    assert again is not first and again == first


class CountingStore(OxigraphStore):
    """A store that counts the reads of the analysis graph, each slow enough for concurrent readers to overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def triples(self, graph):
        if graph == analysis_graph(BASE):
            self.reads += 1
            time.sleep(0.05)
        return super().triples(graph)


@pytest.mark.parametrize("read", [load_analysis, published_graph])
def test_requests_arriving_just_after_a_publication_read_it_once(read):
    """Every page and analysis resource reads the publication: the ones arriving together after a new one wait
    for the first to read it rather than each reading the whole graph (seconds of CPU each on a large corpus)."""
    store = CountingStore()
    publish(store, full_analysis(), BASE)
    start, found = threading.Barrier(6), []
    def reader() -> None:
        start.wait()
        found.append(read(store, BASE))
    threads = [threading.Thread(target=reader) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.reads == 1 and len(found) == 6 and all(value is found[0] for value in found)


def test_two_nodes_in_one_store_keep_their_own_analysis(store):
    other = "https://other.example/"
    publish(store, full_analysis(), BASE)
    publish(store, Analysis(not_enough=[NotEnoughData("themes", "no texts")]), other)
    assert load_analysis(store, BASE) == full_analysis()
    assert load_analysis(store, other) == Analysis(not_enough=[NotEnoughData("themes", "no texts")])
